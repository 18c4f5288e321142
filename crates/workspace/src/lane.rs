//! `ferry lane`: named lines of work with their own head per component.
//!
//! A lane's head of a component is the ref `lane:LANE:COMPONENT`. Until a
//! component is snapped on a lane, the lane uses the component's main
//! head. A new lane starts from the current one: it gets a copy of every
//! lane head of the lane it was created on, so creating it changes no
//! file.

use ferry_core::{ComponentId, LaneId, ObjectId, RefName, ScopeName};
use ferry_store::refs::sqlite::{list_refs_in, update_refs_in};
use ferry_store::RefEdit;
use serde::Serialize;

use crate::checkout::{reject_local_changes, CheckoutReport};
use crate::error::{Error, Result};
use crate::meta::{self, CURRENT_LANE};
use crate::resolve::resolve_lane;
use crate::workspace::{head_in, now_ms, Workspace, LOCAL_NAMESPACE};

/// Name that `lane switch` and `lane show` accept for main.
pub const MAIN: &str = "main";

/// A lane in a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LaneSummary {
    /// The lane.
    pub id: LaneId,
    /// Whether the workspace is on it.
    pub current: bool,
    /// Number of components snapped on it.
    pub components: usize,
}

/// The heads of one lane, or of main.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LaneHeads {
    /// The lane, or `None` for main.
    pub lane: Option<LaneId>,
    /// Each tracked component's head there.
    pub components: Vec<LaneHead>,
}

/// A component's head on a lane.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LaneHead {
    /// The component.
    pub id: ComponentId,
    /// The head: the lane's own, else main's.
    pub head: Option<ObjectId>,
    /// Whether the lane has its own head for the component.
    pub on_lane: bool,
}

/// The result of `lane switch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SwitchReport {
    /// The lane left, or `None` for main.
    pub from: Option<LaneId>,
    /// The lane now current, or `None` for main.
    pub to: Option<LaneId>,
    /// Components whose directory was checked out to the new head.
    pub checkouts: Vec<CheckoutReport>,
}

impl Workspace {
    /// Creates lane `name` in `scope` (else the default scope), starting
    /// from the current lane's heads, and switches to it.
    pub fn lane_create(&self, name: &str, scope: Option<&ScopeName>) -> Result<LaneId> {
        let scope = match scope {
            Some(scope) => scope.clone(),
            None => self.default_scope()?.ok_or(Error::NoScope)?,
        };
        let lane = LaneId::new(&scope, name)?;
        if self.known_lanes()?.contains(&lane) {
            return Err(Error::LaneExists(lane));
        }
        let from = self.current_lane()?;
        self.write(|tx| {
            meta::insert_lane(tx, &lane, now_ms())?;
            if let Some(from) = &from {
                let prefix = format!("lane:{from}:");
                let edits: Vec<RefEdit> = list_refs_in(tx, LOCAL_NAMESPACE, &prefix)?
                    .into_iter()
                    .map(|(name, id)| RefEdit {
                        name: RefName::Lane(lane.clone(), name.component().clone()),
                        expected: None,
                        new: Some(id),
                    })
                    .collect();
                update_refs_in(tx, LOCAL_NAMESPACE, &edits)?;
            }
            meta::set_setting(tx, CURRENT_LANE, Some(lane.as_str()))
        })?;
        Ok(lane)
    }

    /// Returns every lane created here or holding a lane head, sorted.
    pub fn known_lanes(&self) -> Result<Vec<LaneId>> {
        let mut lanes = self.read(meta::list_lanes)?;
        for (name, _) in self.list_refs()? {
            if let RefName::Lane(lane, _) = name {
                lanes.push(lane);
            }
        }
        lanes.sort();
        lanes.dedup();
        Ok(lanes)
    }

    /// Lists every lane with the number of components snapped on it.
    pub fn lane_list(&self) -> Result<Vec<LaneSummary>> {
        let current = self.current_lane()?;
        let refs = self.list_refs()?;
        let lanes = self.known_lanes()?;
        let summaries = lanes
            .into_iter()
            .map(|lane| {
                let components = refs
                    .iter()
                    .filter(|(name, _)| matches!(name, RefName::Lane(l, _) if *l == lane))
                    .count();
                LaneSummary {
                    current: current.as_ref() == Some(&lane),
                    id: lane,
                    components,
                }
            })
            .collect();
        Ok(summaries)
    }

    /// Returns the heads of every tracked component on `lane` (`main`, a
    /// lane name, or `None` for the current lane).
    pub fn lane_show(&self, lane: Option<&str>) -> Result<LaneHeads> {
        let lane = match lane {
            Some(text) => self.resolve_lane_or_main(text)?,
            None => self.current_lane()?,
        };
        let components = self.components()?;
        let heads = self.read(|connection| {
            let mut heads = Vec::with_capacity(components.len());
            for component in &components {
                let head = head_in(connection, &component.id, lane.as_ref())?;
                heads.push(LaneHead {
                    id: component.id.clone(),
                    head: head.parent,
                    on_lane: lane.is_some() && head.current.is_some(),
                });
            }
            Ok(heads)
        })?;
        Ok(LaneHeads {
            lane,
            components: heads,
        })
    }

    /// Switches to `target` (`main` or a lane) and checks out each
    /// component whose head there differs from its directory. Fails before
    /// changing anything when a component has unsnapped changes, unless
    /// `force` is set.
    pub fn lane_switch(&self, target: &str, force: bool) -> Result<SwitchReport> {
        let to = self.resolve_lane_or_main(target)?;
        let from = self.current_lane()?;
        let examined = self.examine(self.components()?, None)?;
        if !force {
            examined.iter().try_for_each(reject_local_changes)?;
        }
        let mut checkouts = Vec::new();
        for item in &examined {
            let head = self.head(&item.component.id, to.as_ref())?.parent;
            if let Some(head) = head.filter(|head| Some(*head) != item.component.base) {
                checkouts.push(self.checkout_examined(item, head)?);
            }
        }
        let setting = to.as_ref().map(LaneId::as_str);
        self.write(|tx| meta::set_setting(tx, CURRENT_LANE, setting))?;
        Ok(SwitchReport {
            from,
            to,
            checkouts,
        })
    }

    fn resolve_lane_or_main(&self, text: &str) -> Result<Option<LaneId>> {
        if text == MAIN {
            return Ok(None);
        }
        let lanes = self.known_lanes()?;
        resolve_lane(&lanes, self.default_scope()?.as_ref(), text).map(Some)
    }
}

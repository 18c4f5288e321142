//! `ferry import`: bringing components or a lane from a remote into the
//! workspace.
//!
//! The objects arrive and are made durable before any ref changes. Local
//! refs are then created or fast-forwarded, never moved backwards: a local
//! head with snaps the remote lacks stays as it is and is reported as
//! diverged. Components new to the workspace are tracked and checked out
//! into a fresh directory. A tracked component whose directory was clean
//! at the old head is checked out at the new one. A directory with
//! unsnapped changes is left alone and reported.
//!
//! Checkouts follow the ref changes, so a failed checkout leaves the refs
//! imported; running the import again repeats only the checkout.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use ferry_client::{FetchRequest, ImportReport, ImportStatus, Progress, RefSelection};
use ferry_core::protocol::RefList;
use ferry_core::{ComponentId, FilePath, LaneId, ObjectId, RefName, ScopeName};
use serde::Serialize;

use super::{connect, scope_error};
use crate::checkout::fresh_cache_entries;
use crate::error::{Error, Result};
use crate::meta::{self, TrackedComponent};
use crate::remote::Remote;
use crate::resolve::{match_id, Match};
use crate::scan::FERRY_DIR;
use crate::stat_cache;
use crate::status::Examined;
use crate::workspace::Workspace;

/// Options of an import: the components or lane, the remote, and the
/// directory for a new component.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Components as typed: a tracked component, a full `scope/name` id,
    /// or a name in the default scope.
    pub components: Vec<String>,
    /// A lane whose heads to import, instead of components.
    pub lane: Option<String>,
    /// The remote's name; `None` chooses the only remote or `origin`.
    pub remote: Option<String>,
    /// The directory for a single new component, in place of its name
    /// under the workspace root.
    pub path: Option<PathBuf>,
}

/// The result of `ferry import`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    /// The remote's name.
    pub remote: String,
    /// The scope imported from.
    pub scope: ScopeName,
    /// Objects received from the server.
    pub objects_received: u64,
    /// Objects the workspace did not hold before.
    pub objects_written: u64,
    /// Each imported ref and what happened to its local value.
    pub refs: Vec<ImportedRef>,
    /// Component directories written.
    pub checkouts: Vec<ImportCheckout>,
    /// Tracked components whose head moved but whose directory was kept
    /// because it has unsnapped changes.
    pub kept: Vec<ComponentId>,
}

/// One imported ref.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportedRef {
    /// The ref.
    pub name: RefName,
    /// The remote's value.
    pub id: ObjectId,
    /// The effect on the local ref.
    pub status: ImportStatus,
}

/// A component directory written by an import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportCheckout {
    /// The component.
    pub component: ComponentId,
    /// Its directory relative to the workspace root.
    pub dir: FilePath,
    /// The snap now in the directory.
    pub snap: ObjectId,
    /// Whether the component was new to the workspace.
    pub new: bool,
    /// Files written.
    pub written: usize,
}

/// A component new to the workspace and the directory it goes to.
struct NewComponent {
    id: ComponentId,
    dir: PathBuf,
    /// Whether the component is tracked already, by an import that
    /// stopped before its checkout.
    tracked: bool,
}

impl Workspace {
    /// Imports the refs `options` select from a remote, then checks out
    /// new components and clean components whose head moved.
    pub fn import(
        &self,
        options: &ImportOptions,
        progress: &dyn Progress,
    ) -> Result<ImportOutcome> {
        let remote = self.select_remote(options.remote.as_deref())?;
        let (scope, selection) = self.import_selection(options)?;
        let client = connect(&remote)?;
        let listed = client
            .list_refs(&scope)
            .map_err(|error| scope_error(&remote, &scope, error))?;
        let heads = selected_heads(&listed, &selection, &remote, &scope)?;
        let mut new = self.plan_new_components(&heads, options.path.as_deref())?;

        let request = FetchRequest {
            remote_name: remote.name.clone(),
            scope: scope.clone(),
            selection,
        };
        let report = ferry_client::import(
            self.object_store(),
            self.ref_store(),
            &client,
            &request,
            progress,
        )
        .map_err(|error| super::fetch::fetch_error(&remote, &scope, error))?;

        new.extend(self.unfinished_components(&heads)?);
        let mut checkouts = self.check_out_new(&new, &heads)?;
        let fresh: HashSet<&ComponentId> = new.iter().map(|component| &component.id).collect();
        let (updated, kept) = self.update_tracked(&report.refs, &fresh)?;
        checkouts.extend(updated);
        Ok(ImportOutcome {
            remote: remote.name,
            scope,
            objects_received: report.fetch.objects_received,
            objects_written: report.fetch.objects_written,
            refs: imported_refs(&report),
            checkouts,
            kept,
        })
    }

    /// Resolves the typed components or lane into a scope and a selection.
    fn import_selection(&self, options: &ImportOptions) -> Result<(ScopeName, RefSelection)> {
        if let Some(text) = &options.lane {
            let lane = self.resolve_remote_lane(text)?;
            return Ok((lane.scope(), RefSelection::Lane(lane)));
        }
        let components = options
            .components
            .iter()
            .map(|text| self.resolve_remote_component(text))
            .collect::<Result<Vec<_>>>()?;
        let names: Vec<RefName> = components.iter().cloned().map(RefName::Main).collect();
        let scope = super::single_scope(names.iter())?;
        Ok((scope, RefSelection::Components(components)))
    }

    /// Resolves `text` to a component that may not be tracked yet: a
    /// tracked component first, then a full id, then a name in the default
    /// scope.
    fn resolve_remote_component(&self, text: &str) -> Result<ComponentId> {
        let tracked: Vec<ComponentId> = self.components()?.into_iter().map(|c| c.id).collect();
        let default_scope = self.default_scope()?;
        if let Match::One(id) = match_id(&tracked, default_scope.as_ref(), text) {
            return Ok(id);
        }
        let as_full_id = text.parse::<ComponentId>();
        if let Ok(id) = as_full_id {
            return Ok(id);
        }
        let scope = default_scope.ok_or(Error::NoScope)?;
        match (ComponentId::new(&scope, text), as_full_id) {
            (Ok(id), _) => Ok(id),
            // Text with a slash reads as a full id, so its own error names
            // the text as typed rather than the default scope prefixed to it.
            (Err(_), Err(error)) if text.contains('/') => Err(error.into()),
            (Err(error), _) => Err(error.into()),
        }
    }

    /// Resolves `text` to a lane the same way as a component.
    fn resolve_remote_lane(&self, text: &str) -> Result<LaneId> {
        let known = self.known_lanes()?;
        let default_scope = self.default_scope()?;
        if let Match::One(id) = match_id(&known, default_scope.as_ref(), text) {
            return Ok(id);
        }
        if let Ok(id) = text.parse() {
            return Ok(id);
        }
        let scope = default_scope.ok_or(Error::NoScope)?;
        Ok(LaneId::new(&scope, text)?)
    }

    /// Lists the selected components that are tracked but were never
    /// checked out, and whose directory contains only files of their head,
    /// as an interrupted import leaves them: completing the checkout
    /// overwrites nothing else. The heads must be stored.
    fn unfinished_components(
        &self,
        heads: &HashMap<ComponentId, ObjectId>,
    ) -> Result<Vec<NewComponent>> {
        let never_checked_out: Vec<TrackedComponent> = self
            .components()?
            .into_iter()
            .filter(|component| component.base.is_none() && heads.contains_key(&component.id))
            .collect();
        let mut unfinished = Vec::new();
        for examined in self.examine(never_checked_out, None)? {
            let id = &examined.component.id;
            let head = self.read_snap(&heads[id])?;
            let only_head_files = examined.work.tree.unsupported.is_empty()
                && examined
                    .entries
                    .iter()
                    .all(|entry| head.files.contains(entry));
            if only_head_files {
                unfinished.push(NewComponent {
                    id: id.clone(),
                    dir: examined.work.dir,
                    tracked: true,
                });
            }
        }
        Ok(unfinished)
    }

    /// Lists the selected components that the workspace does not track,
    /// with their directories, after checking that each directory is free.
    fn plan_new_components(
        &self,
        heads: &HashMap<ComponentId, ObjectId>,
        path: Option<&Path>,
    ) -> Result<Vec<NewComponent>> {
        let tracked: HashMap<ComponentId, TrackedComponent> = self
            .components()?
            .into_iter()
            .map(|component| (component.id.clone(), component))
            .collect();
        let mut ids: Vec<&ComponentId> = heads
            .keys()
            .filter(|id| !tracked.contains_key(*id))
            .collect();
        ids.sort();
        if path.is_some() && ids.len() > 1 {
            return Err(Error::PathWithSeveralComponents { count: ids.len() });
        }
        let mut new = Vec::with_capacity(ids.len());
        for id in ids {
            let dir = match path {
                Some(path) => self.dir_below_root(path)?,
                None => FilePath::from_native(Path::new(id.name()))?.under(self.root()),
            };
            if !is_free(&dir) {
                return Err(Error::CheckoutTargetExists {
                    component: id.clone(),
                    path: dir,
                });
            }
            new.push(NewComponent {
                id: id.clone(),
                dir,
                tracked: false,
            });
        }
        Ok(new)
    }

    /// Returns `path` if it lies strictly below the workspace root, without
    /// `..` segments and outside every `.ferry` directory, so no directory
    /// is created elsewhere.
    fn dir_below_root(&self, path: &Path) -> Result<PathBuf> {
        let below = path
            .strip_prefix(self.root())
            .ok()
            .and_then(|relative| FilePath::from_native(relative).ok())
            .filter(|relative| !relative.as_str().split('/').any(|part| part == FERRY_DIR));
        match below {
            Some(relative) => Ok(relative.under(self.root())),
            None => Err(Error::NotAComponentDirectory {
                path: path.to_path_buf(),
                root: self.root().to_path_buf(),
            }),
        }
    }

    /// Tracks each new component in its directory and checks out its head
    /// from `heads`. The tracking rows go in one transaction, and so do
    /// the checked-out snaps with their stat caches.
    fn check_out_new(
        &self,
        new: &[NewComponent],
        heads: &HashMap<ComponentId, ObjectId>,
    ) -> Result<Vec<ImportCheckout>> {
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let mut dirs = Vec::with_capacity(new.len());
        for component in new {
            fs::create_dir_all(&component.dir).map_err(Error::io(&component.dir))?;
            if !component.tracked {
                dirs.push((component.id.clone(), component.dir.clone()));
            }
        }
        self.track_dirs(&dirs)?;

        let ids: HashSet<&ComponentId> = new.iter().map(|component| &component.id).collect();
        let rows = self
            .components()?
            .into_iter()
            .filter(|component| ids.contains(&component.id))
            .collect();
        let targets = self.examine(rows, None)?.into_iter().map(|examined| {
            let head = heads[&examined.component.id];
            (examined, head)
        });
        self.check_out_all(targets.collect(), true)
    }

    /// Writes each target snap into its examined directory, then records
    /// the finished checkouts in one transaction, even when one failed. A
    /// failed checkout into an empty directory leaves it empty, and a
    /// failed staged one leaves it as it was, so a repeated import checks
    /// it out again.
    fn check_out_all(
        &self,
        targets: Vec<(Examined, ObjectId)>,
        new: bool,
    ) -> Result<Vec<ImportCheckout>> {
        let mut checkouts = Vec::with_capacity(targets.len());
        let mut caches = Vec::with_capacity(targets.len());
        let mut failure = None;
        for (examined, head) in targets {
            let id = examined.component.id.clone();
            let written = self
                .read_snap(&head)
                .and_then(|snap| Ok((self.write_files(&examined, head, &snap.files)?, snap)));
            let (report, snap) = match written {
                Ok(written) => written,
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            };
            // The stat cache only saves rehashing, so a failed scan leaves
            // it empty rather than failing a checkout that is done.
            let entries = fresh_cache_entries(&examined.work.dir, &snap).unwrap_or_default();
            caches.push((id.clone(), head, entries));
            checkouts.push(ImportCheckout {
                component: id,
                dir: examined.component.dir,
                snap: head,
                new,
                written: report.written,
            });
        }
        self.write(|tx| {
            for (id, head, entries) in &caches {
                meta::set_base(tx, id, *head)?;
                stat_cache::replace(tx, id, entries)?;
            }
            Ok(())
        })?;
        match failure {
            Some(error) => Err(error),
            None => Ok(checkouts),
        }
    }

    /// Checks out the head of every tracked component whose head ref this
    /// import selected and whose clean directory is at another snap: the
    /// head moved, or an earlier import stopped before checking it out.
    /// Components in `fresh`, just checked out, are skipped. Returns the
    /// checkouts and the components kept because of unsnapped changes.
    fn update_tracked(
        &self,
        refs: &[(RefName, ImportStatus)],
        fresh: &HashSet<&ComponentId>,
    ) -> Result<(Vec<ImportCheckout>, Vec<ComponentId>)> {
        let lane = self.current_lane()?;
        let selected: HashSet<&RefName> = refs.iter().map(|(name, _)| name).collect();
        let mut behind = Vec::new();
        let mut heads = HashMap::new();
        for component in self.components()? {
            if fresh.contains(&component.id) || component.base.is_none() {
                continue;
            }
            let head = self.head(&component.id, lane.as_ref())?;
            let Some(target) = head.parent else {
                continue;
            };
            if selected.contains(&head.name) && component.base != Some(target) {
                heads.insert(component.id.clone(), target);
                behind.push(component);
            }
        }
        let mut kept = Vec::new();
        let mut targets = Vec::new();
        for examined in self.examine(behind, None)? {
            if examined.changes.len() + examined.work.tree.unsupported.len() > 0 {
                kept.push(examined.component.id.clone());
            } else {
                let head = heads[&examined.component.id];
                targets.push((examined, head));
            }
        }
        Ok((self.check_out_all(targets, false)?, kept))
    }
}

/// Returns the head of each component the selection names on the remote,
/// failing when the remote lacks a named component or the lane.
fn selected_heads(
    listed: &RefList,
    selection: &RefSelection,
    remote: &Remote,
    scope: &ScopeName,
) -> Result<HashMap<ComponentId, ObjectId>> {
    let not_on_remote = |what: String| Error::NotOnRemote {
        what,
        scope: scope.clone(),
        remote: remote.name.clone(),
    };
    let mut heads = HashMap::new();
    for value in &listed.refs {
        let is_head = matches!(
            (&value.name, selection),
            (RefName::Main(_), RefSelection::Components(_))
                | (RefName::Lane(..), RefSelection::Lane(_))
        );
        if is_head && selection.matches(&value.name) {
            heads.insert(value.name.component().clone(), value.id);
        }
    }
    match selection {
        RefSelection::Components(components) => {
            if let Some(missing) = components.iter().find(|c| !heads.contains_key(*c)) {
                return Err(not_on_remote(format!("component {missing}")));
            }
        }
        RefSelection::Lane(lane) if heads.is_empty() => {
            return Err(not_on_remote(format!("lane {lane}")));
        }
        _ => {}
    }
    Ok(heads)
}

/// Pairs each ref of an import report with its remote value and status.
fn imported_refs(report: &ImportReport) -> Vec<ImportedRef> {
    report
        .refs
        .iter()
        .zip(&report.fetch.refs)
        .map(|((name, status), value)| ImportedRef {
            name: name.clone(),
            id: value.id,
            status: *status,
        })
        .collect()
}

/// Reports whether `dir` is missing or an empty directory.
fn is_free(dir: &Path) -> bool {
    match fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(error) => error.kind() == std::io::ErrorKind::NotFound,
    }
}

//! `ferry merge` and `ferry rebase`: combining local snaps with the snaps
//! a remote was last seen to hold.
//!
//! Both compare each selected component's local head (on the current lane,
//! else on main) with the value of the same ref in `remote/NAME`, which a
//! fetch or an export recorded together with its objects. When the remote
//! head descends from the local one, the local head fast-forwards. When the
//! two diverged, a merge builds one snap with both heads as parents, and a
//! rebase replays the local snaps onto the remote head one by one.
//!
//! The work runs in two phases. First every component is combined in
//! memory, which reads objects but writes nothing. If any component
//! conflicts, nothing is applied: no object, no ref and no file changes.
//! The one exception is a merge asked to write conflicts, which writes the
//! merged files with conflict markers and records a pending merge
//! ([`crate::pending`]).
//! Otherwise the new objects are written in one batch and made durable, and
//! each component directory is rewritten to its new head. Then one SQLite
//! transaction moves every head, records the bases and replaces the stat
//! caches. Each head move is a compare-and-swap against the value read at
//! the start, so a head moved meanwhile by another ferry process fails the
//! whole transaction and no ref changes.

mod apply;
mod combine;
mod land;
mod overlay;
mod plan;

use ferry_core::{ComponentId, LaneId, ObjectId, RefName};
use serde::Serialize;

pub use combine::ReplayedSnap;
pub use land::{LandOptions, LandOutcome};

use crate::error::{Error, Result};
use crate::pending::PendingConflict;
use crate::workspace::Workspace;

/// The way local and remote snaps are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// One merge snap whose parents are the local and the remote head.
    Merge,
    /// The local snaps replayed onto the remote head.
    Rebase,
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Strategy::Merge => "merge",
            Strategy::Rebase => "rebase",
        })
    }
}

/// The settings of a merge or rebase.
#[derive(Clone, Debug)]
pub struct ReconcileOptions {
    /// The remote whose recorded heads are combined with the local ones;
    /// `None` picks the only remote, else `origin`.
    pub remote: Option<String>,
    /// Merge or rebase.
    pub strategy: Strategy,
    /// For a rebase: merge instead when the local snaps include a merge
    /// snap, which a rebase cannot replay. When unset, such a rebase fails
    /// with [`Error::NonLinearRebase`].
    pub merge_non_linear: bool,
    /// For a merge that conflicts: write the merged files with conflict
    /// markers into the component directories and record a pending merge.
    pub write_conflicts: bool,
    /// The message of merge snaps; a default names the remote.
    pub message: Option<String>,
}

impl ReconcileOptions {
    /// Returns options for `strategy` with every other setting off.
    pub fn new(strategy: Strategy) -> Self {
        Self {
            remote: None,
            strategy,
            merge_non_linear: false,
            write_conflicts: false,
            message: None,
        }
    }
}

/// The result of a merge or rebase.
#[derive(Clone, Debug, Serialize)]
pub struct ReconcileReport {
    /// The remote compared with.
    pub remote: String,
    /// The lane the workspace is on, or `None` for main.
    pub lane: Option<LaneId>,
    /// The strategy requested.
    pub strategy: Strategy,
    /// Whether the new heads were applied; false when a component
    /// conflicted, since then nothing is.
    pub applied: bool,
    /// One entry per selected component, sorted by component.
    pub components: Vec<ComponentReconcile>,
}

/// The effect of a merge or rebase on one component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComponentReconcile {
    /// The component.
    pub component: ComponentId,
    /// The head ref compared and moved.
    pub head: RefName,
    /// The local head before, falling back to main on a lane.
    pub local: Option<ObjectId>,
    /// The remote's recorded value of `head`.
    pub remote_head: Option<ObjectId>,
    /// The result.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The result for one component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The remote has no value for the head ref.
    NotOnRemote,
    /// Local and remote head are the same snap.
    UpToDate,
    /// The remote head is an ancestor of the local one: nothing to do.
    Ahead {
        /// Local snaps the remote lacks.
        ahead: u64,
    },
    /// The local head moved forward to the remote head.
    FastForwarded {
        /// The new head.
        head: ObjectId,
    },
    /// A merge snap with both heads as parents became the head.
    Merged {
        /// The merge snap.
        snap: ObjectId,
        /// The merge base the files were merged against.
        merge_base: Option<ObjectId>,
    },
    /// A rebase replayed the local snaps onto the remote head.
    Rebased {
        /// The new head.
        head: ObjectId,
        /// Each local snap and its replacement, oldest first.
        replayed: Vec<ReplayedSnap>,
        /// Set when the local snaps include merge snap `merged_instead`
        /// and the component was merged rather than rebased.
        #[serde(skip_serializing_if = "Option::is_none")]
        merged_instead: Option<ObjectId>,
    },
    /// The component conflicts; nothing was applied.
    Conflicted {
        /// For a rebase, the local snap whose replay conflicted.
        replaying: Option<ObjectId>,
        /// The conflicting paths, sorted.
        conflicts: Vec<PendingConflict>,
        /// Whether conflict markers were written into the directory.
        markers_written: bool,
    },
    /// The component would have changed, but another one conflicted, so
    /// nothing was applied.
    NotApplied,
}

impl ReconcileReport {
    /// Returns each conflicted component with its conflicts.
    pub fn conflicts(&self) -> Vec<(ComponentId, Vec<PendingConflict>)> {
        self.components
            .iter()
            .filter_map(|c| match &c.outcome {
                Outcome::Conflicted { conflicts, .. } => {
                    Some((c.component.clone(), conflicts.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// Returns [`Error::Conflicts`] when a component conflicted.
    pub fn conflict_error(&self) -> Option<Error> {
        let components = self.conflicts();
        if components.is_empty() {
            return None;
        }
        let markers_written = self.components.iter().any(|c| {
            matches!(
                c.outcome,
                Outcome::Conflicted {
                    markers_written: true,
                    ..
                }
            )
        });
        Some(Error::Conflicts {
            strategy: self.strategy,
            components,
            markers_written,
        })
    }

    /// Returns the components whose head changed.
    pub fn changed(&self) -> Vec<ComponentId> {
        self.components
            .iter()
            .filter(|c| {
                matches!(
                    c.outcome,
                    Outcome::FastForwarded { .. }
                        | Outcome::Merged { .. }
                        | Outcome::Rebased { .. }
                )
            })
            .map(|c| c.component.clone())
            .collect()
    }
}

impl Workspace {
    /// Merges the remote head of each component in `names` into its local
    /// head; with no names, every component whose local and remote heads
    /// diverged.
    pub fn merge(&self, names: &[String], options: &ReconcileOptions) -> Result<ReconcileReport> {
        let options = ReconcileOptions {
            strategy: Strategy::Merge,
            ..options.clone()
        };
        self.reconcile(names, &options)
    }

    /// Replays the local snaps of each component in `names` onto its remote
    /// head; with no names, of every component whose local and remote heads
    /// diverged.
    pub fn rebase(&self, names: &[String], options: &ReconcileOptions) -> Result<ReconcileReport> {
        let options = ReconcileOptions {
            strategy: Strategy::Rebase,
            write_conflicts: false,
            ..options.clone()
        };
        self.reconcile(names, &options)
    }

    /// Combines local and remote heads with the strategy of `options`.
    pub fn reconcile(
        &self,
        names: &[String],
        options: &ReconcileOptions,
    ) -> Result<ReconcileReport> {
        let remote = self.select_remote(options.remote.as_deref())?.name;
        let lane = self.current_lane()?;
        let targets = self.select_targets(names, &remote, lane.as_ref())?;
        let (components, plan) = self.combine_all(&targets, &remote, options)?;
        let conflicted = components
            .iter()
            .any(|c| matches!(c.outcome, Outcome::Conflicted { .. }));
        let mut report = ReconcileReport {
            remote,
            lane,
            strategy: options.strategy,
            applied: !conflicted,
            components,
        };
        if conflicted {
            self.hold_back(&mut report, plan, &targets, options.write_conflicts)?;
        } else {
            self.apply(plan, &targets)?;
        }
        Ok(report)
    }
}

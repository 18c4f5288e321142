//! Choosing the components to combine and combining them in memory.

use ferry_core::merge::ConflictedMerge;
use ferry_core::{LaneId, ObjectId};
use ferry_store::refs::sqlite::get_ref_in;

use super::combine::{merge_heads, rebase_onto, Combined, Stamp};
use super::overlay::Overlay;
use super::{ComponentReconcile, Outcome, ReconcileOptions, Strategy};
use crate::error::{Error, Result};
use crate::pending::{self, PendingConflict};
use crate::status::{compare_heads, Examined, Sync};
use crate::workspace::{now_ms, remote_namespace, Head, Workspace};

/// A selected component with its local and remote heads.
pub(super) struct Target {
    pub item: Examined,
    pub head: Head,
    pub remote_head: Option<ObjectId>,
    pub sync: Option<Sync>,
}

/// The in-memory result of combining every target.
pub(super) struct Plan<'a> {
    pub overlay: Overlay<'a>,
    /// Per target, in order: the new head, when the head moves.
    pub new_heads: Vec<Option<ObjectId>>,
    /// Per target, in order: the conflicted merge, when it conflicted.
    pub conflicts: Vec<Option<ConflictedMerge>>,
}

impl Workspace {
    /// Returns the components named in `names`, or with no names every
    /// component whose head diverged from the remote's, with their heads
    /// and examined directories.
    pub(super) fn select_targets(
        &self,
        names: &[String],
        remote: &str,
        lane: Option<&LaneId>,
    ) -> Result<Vec<Target>> {
        let namespace = remote_namespace(remote);
        let mut chosen = Vec::new();
        for component in self.select_components(names)? {
            let head = self.head(&component.id, lane)?;
            let remote_head = self.read(|c| Ok(get_ref_in(c, &namespace, &head.name)?))?;
            let sync = match remote_head {
                Some(remote_head) => Some(self.sync_of(&head, remote_head, remote)?),
                None => None,
            };
            let diverged = matches!(sync, Some(Sync::Diverged { .. }));
            if !names.is_empty() || diverged {
                chosen.push((component, head, remote_head, sync));
            }
        }
        let components = chosen.iter().map(|(c, ..)| c.clone()).collect();
        let examined = self.examine(components, None)?;
        Ok(chosen
            .into_iter()
            .zip(examined)
            .map(|((_, head, remote_head, sync), item)| Target {
                item,
                head,
                remote_head,
                sync,
            })
            .collect())
    }

    fn sync_of(&self, head: &Head, remote_head: ObjectId, remote: &str) -> Result<Sync> {
        match compare_heads(&self.graph(), head.parent, remote_head)? {
            Sync::Unknown => Err(Error::RemoteNotFetched {
                name: head.name.key(),
                remote: remote.to_owned(),
                snap: remote_head,
            }),
            sync => Ok(sync),
        }
    }

    /// Combines every target in memory and returns the report entries and
    /// the plan to apply. Fails before combining anything when a component
    /// that would change has unsnapped changes or a pending merge.
    pub(super) fn combine_all(
        &self,
        targets: &[Target],
        remote: &str,
        options: &ReconcileOptions,
    ) -> Result<(Vec<ComponentReconcile>, Plan<'_>)> {
        for target in targets.iter().filter(|t| would_change(t)) {
            self.reject_unready(target)?;
        }
        let mut plan = Plan {
            overlay: Overlay::new(self.object_store()),
            new_heads: Vec::with_capacity(targets.len()),
            conflicts: Vec::with_capacity(targets.len()),
        };
        let mut entries = Vec::with_capacity(targets.len());
        for target in targets {
            let outcome = self.combine_one(target, remote, options, &mut plan)?;
            entries.push(ComponentReconcile {
                component: target.item.component.id.clone(),
                head: target.head.name.clone(),
                local: target.head.parent,
                remote_head: target.remote_head,
                outcome,
            });
        }
        Ok((entries, plan))
    }

    fn reject_unready(&self, target: &Target) -> Result<()> {
        let component = &target.item.component.id;
        if self.read(|c| pending::get(c, component))?.is_some() {
            return Err(Error::MergePending {
                component: component.clone(),
            });
        }
        crate::checkout::reject_local_changes(&target.item)
    }

    fn combine_one(
        &self,
        target: &Target,
        remote_name: &str,
        options: &ReconcileOptions,
        plan: &mut Plan<'_>,
    ) -> Result<Outcome> {
        let (outcome, new_head, conflict) = match (target.sync, target.remote_head) {
            (None, _) | (_, None) => (Outcome::NotOnRemote, None, None),
            (Some(Sync::UpToDate), _) => (Outcome::UpToDate, None, None),
            (Some(Sync::Ahead { ahead }), _) => (Outcome::Ahead { ahead }, None, None),
            (Some(Sync::Behind { .. }), Some(remote)) => {
                (Outcome::FastForwarded { head: remote }, Some(remote), None)
            }
            (Some(_), Some(remote)) => {
                let local = target.head.parent.expect("a diverged head exists locally");
                let combined = self.combine(plan, (local, remote), remote_name, options)?;
                outcome_of(combined, options.strategy)
            }
        };
        plan.new_heads.push(new_head);
        plan.conflicts.push(conflict);
        Ok(outcome)
    }

    /// Combines the `(local, remote)` heads, where `remote` is the head
    /// of remote `remote_name`.
    fn combine(
        &self,
        plan: &mut Plan<'_>,
        (local, remote): (ObjectId, ObjectId),
        remote_name: &str,
        options: &ReconcileOptions,
    ) -> Result<Combined> {
        let graph = self.graph();
        if options.strategy == Strategy::Merge {
            let stamp = self.merge_stamp(remote_name, options)?;
            return merge_heads(&mut plan.overlay, &graph, local, remote, &stamp);
        }
        match rebase_onto(&mut plan.overlay, &graph, local, remote)? {
            Combined::NonLinear { merge_snap } if options.merge_non_linear => {
                let stamp = self.merge_stamp(remote_name, options)?;
                let merged = merge_heads(&mut plan.overlay, &graph, local, remote, &stamp)?;
                Ok(match merged {
                    Combined::Merged { snap, .. } => Combined::Rebased {
                        head: snap,
                        replayed: Vec::new(),
                        merged_instead: Some(merge_snap),
                    },
                    other => other,
                })
            }
            Combined::NonLinear { merge_snap } => Err(Error::NonLinearRebase {
                snap: merge_snap,
                local,
            }),
            other => Ok(other),
        }
    }
}

impl Workspace {
    /// Returns the author, time and message of a merge snap.
    fn merge_stamp(&self, remote: &str, options: &ReconcileOptions) -> Result<Stamp> {
        let message = match &options.message {
            Some(message) => message.clone(),
            None => format!("Merge the head of remote {remote}"),
        };
        Ok(Stamp {
            author: self.author()?,
            timestamp: now_ms(),
            message,
        })
    }
}

fn would_change(target: &Target) -> bool {
    matches!(
        target.sync,
        Some(Sync::Behind { .. } | Sync::Diverged { .. })
    )
}

type Step = (Outcome, Option<ObjectId>, Option<ConflictedMerge>);

fn outcome_of(combined: Combined, strategy: Strategy) -> Step {
    match combined {
        Combined::Merged { snap, base } => (
            Outcome::Merged {
                snap,
                merge_base: base,
            },
            Some(snap),
            None,
        ),
        Combined::Rebased {
            head,
            replayed,
            merged_instead,
        } => (
            Outcome::Rebased {
                head,
                replayed,
                merged_instead,
            },
            Some(head),
            None,
        ),
        Combined::Conflicted { replaying, merge } => {
            let conflicts = merge
                .conflicts
                .iter()
                .map(|c| PendingConflict {
                    path: c.path.clone(),
                    kind: c.kind,
                })
                .collect();
            let outcome = Outcome::Conflicted {
                replaying: replaying.filter(|_| strategy == Strategy::Rebase),
                conflicts,
                markers_written: false,
            };
            (outcome, None, Some(merge))
        }
        Combined::NonLinear { .. } => unreachable!("BUG: combine turns NonLinear into a result"),
    }
}

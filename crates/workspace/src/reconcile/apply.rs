//! Applying a combined plan, or holding it back after a conflict.

use ferry_core::merge::{Conflict, ConflictKind, ConflictedMerge};
use ferry_core::{FileEntry, FilePath, ObjectId, RefName};
use ferry_store::refs::sqlite::{get_ref_in, update_refs_in};
use ferry_store::RefEdit;

use super::overlay::Overlay;
use super::plan::{Plan, Target};
use super::{Outcome, ReconcileReport, Strategy};
use crate::checkout::fresh_cache_entries;
use crate::error::{Error, Result};
use crate::meta;
use crate::pending::{self, PendingConflict, PendingMerge};
use crate::stat_cache::{self, CacheEntry};
use crate::workspace::{Workspace, LOCAL_NAMESPACE};

/// A component whose directory now contains its new head's files.
struct Moved<'t> {
    target: &'t Target,
    new: ObjectId,
    cache: Vec<(FilePath, CacheEntry)>,
}

impl Workspace {
    /// Writes the plan's objects, rewrites each changed component
    /// directory, then moves every head in one transaction.
    pub(super) fn apply(&self, plan: Plan<'_>, targets: &[Target]) -> Result<()> {
        let Plan {
            overlay, new_heads, ..
        } = plan;
        if new_heads.iter().all(Option::is_none) {
            return Ok(());
        }
        // Objects become durable before any ref or base names them.
        overlay.commit()?;

        let mut moved = Vec::new();
        for (target, new) in targets.iter().zip(new_heads) {
            let Some(new) = new else { continue };
            self.reject_moved(&target.head.name, target.head.current)?;
            let snap = self.read_snap(&new)?;
            self.write_files(&target.item, new, &snap.files)?;
            let cache = fresh_cache_entries(&target.item.work.dir, &snap)?;
            moved.push(Moved { target, new, cache });
        }
        // NOTE: if another ferry process moves a head between the check
        // above and this transaction, the transaction fails and no ref
        // moves. The directories then contain the new files already, and
        // `ferry checkout COMPONENT --force` restores them.
        self.write(|tx| {
            let edits: Vec<RefEdit> = moved
                .iter()
                .map(|m| RefEdit {
                    name: m.target.head.name.clone(),
                    expected: m.target.head.current,
                    new: Some(m.new),
                })
                .collect();
            update_refs_in(tx, LOCAL_NAMESPACE, &edits)?;
            for m in &moved {
                let component = &m.target.item.component.id;
                meta::set_base(tx, component, m.new)?;
                stat_cache::replace(tx, component, &m.cache)?;
            }
            Ok(())
        })
    }

    fn reject_moved(&self, name: &RefName, expected: Option<ObjectId>) -> Result<()> {
        let current = self.read(|c| Ok(get_ref_in(c, LOCAL_NAMESPACE, name)?))?;
        if current != expected {
            return Err(Error::RefMoved { name: name.clone() });
        }
        Ok(())
    }

    /// Marks every change of `report` as not applied and, for a merge
    /// asked to, writes the conflicted components' files with markers and
    /// records their pending merges. No ref changes.
    pub(super) fn hold_back(
        &self,
        report: &mut ReconcileReport,
        plan: Plan<'_>,
        targets: &[Target],
        write_conflicts: bool,
    ) -> Result<()> {
        for entry in &mut report.components {
            let changes = matches!(
                entry.outcome,
                Outcome::FastForwarded { .. } | Outcome::Merged { .. } | Outcome::Rebased { .. }
            );
            if changes {
                entry.outcome = Outcome::NotApplied;
            }
        }
        if !write_conflicts || report.strategy != Strategy::Merge {
            return Ok(());
        }
        let Plan {
            mut overlay,
            conflicts,
            ..
        } = plan;
        let trees: Vec<ConflictTree<'_>> = targets
            .iter()
            .zip(conflicts)
            .filter_map(|(target, merge)| Some((target, merge?)))
            .map(|(target, merge)| conflict_tree(&mut overlay, target, merge))
            .collect();
        overlay.commit()?;
        self.write_conflict_trees(&trees, &report.remote)?;
        for entry in &mut report.components {
            if let Outcome::Conflicted {
                markers_written, ..
            } = &mut entry.outcome
            {
                *markers_written = true;
            }
        }
        Ok(())
    }

    /// Writes each conflict tree into its directory, then records the
    /// pending merges in one transaction.
    fn write_conflict_trees(&self, trees: &[ConflictTree<'_>], remote: &str) -> Result<()> {
        let mut records = Vec::with_capacity(trees.len());
        for tree in trees {
            let head = &tree.target.head;
            let ours = head.parent.expect("a conflicted head exists locally");
            self.reject_moved(&head.name, head.current)?;
            self.write_files(&tree.target.item, ours, &tree.files)?;
            records.push(PendingMerge {
                component: tree.target.item.component.id.clone(),
                head: head.name.clone(),
                ours,
                theirs: tree
                    .target
                    .remote_head
                    .expect("a conflicted head exists remotely"),
                remote: remote.to_owned(),
                conflicts: tree.conflicts.clone(),
            });
        }
        self.write(|tx| {
            for record in &records {
                pending::insert(tx, record)?;
            }
            Ok(())
        })
    }
}

/// The files a person resolves for one conflicted component.
struct ConflictTree<'t> {
    target: &'t Target,
    files: Vec<FileEntry>,
    conflicts: Vec<PendingConflict>,
}

/// Builds the files a person resolves: every cleanly merged file, a
/// content conflict with its markers, and for any other conflict our
/// side's file, or theirs where we deleted it.
fn conflict_tree<'t>(
    overlay: &mut Overlay<'_>,
    target: &'t Target,
    merge: ConflictedMerge,
) -> ConflictTree<'t> {
    let mut files = overlay.add_files(merge.merged);
    let mut conflicts = Vec::with_capacity(merge.conflicts.len());
    for conflict in merge.conflicts {
        conflicts.push(PendingConflict {
            path: conflict.path.clone(),
            kind: conflict.kind,
        });
        if let Some(entry) = conflict_file(overlay, conflict) {
            files.push(entry);
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    ConflictTree {
        target,
        files,
        conflicts,
    }
}

fn conflict_file(overlay: &mut Overlay<'_>, conflict: Conflict) -> Option<FileEntry> {
    match (conflict.kind, conflict.marked, &conflict.ours) {
        (ConflictKind::Content, Some(marked), Some(ours)) => {
            Some(overlay.add_blob(&conflict.path, ours.mode, marked))
        }
        _ => conflict.ours.or(conflict.theirs),
    }
}

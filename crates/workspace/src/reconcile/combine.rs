//! Combining a local head with a remote head: a merge snap, or the local
//! snaps replayed onto the remote head.
//!
//! Both work only on objects, through an [`Overlay`], and touch neither
//! refs nor files; the caller applies the result or drops it.

use ferry_core::ancestry::{merge_base, only_in};
use ferry_core::merge::{merge_files, ConflictedMerge, TreeMerge};
use ferry_core::{FileEntry, ObjectId, Snap};
use serde::Serialize;

use super::overlay::Overlay;
use crate::error::Result;
use crate::workspace::StoreGraph;

/// The author, time and message of a merge snap.
pub(crate) struct Stamp {
    pub author: String,
    pub timestamp: i64,
    pub message: String,
}

/// A local snap and the snap that replaced it in a rebase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplayedSnap {
    /// The local snap replayed.
    pub from: ObjectId,
    /// The new snap: same files change, message, author and time, new
    /// parent.
    pub to: ObjectId,
}

/// The result of combining two heads.
pub(crate) enum Combined {
    /// A merge snap with both heads as parents.
    Merged {
        snap: ObjectId,
        base: Option<ObjectId>,
    },
    /// The local snaps replayed onto the remote head, oldest first.
    Rebased {
        head: ObjectId,
        replayed: Vec<ReplayedSnap>,
        /// Set when a merge snap among the local snaps made the caller
        /// merge instead.
        merged_instead: Option<ObjectId>,
    },
    /// The local snaps include a merge snap, which a rebase cannot replay.
    NonLinear { merge_snap: ObjectId },
    /// A path conflicts; `replaying` is the local snap being replayed when
    /// a rebase stopped.
    Conflicted {
        replaying: Option<ObjectId>,
        merge: ConflictedMerge,
    },
}

/// Merges `local` and `remote` against their merge base into a new snap
/// whose parents are `local` and then `remote`. The merge snap keeps the
/// dependencies of `local`.
pub(crate) fn merge_heads(
    overlay: &mut Overlay<'_>,
    graph: &StoreGraph<'_>,
    local: ObjectId,
    remote: ObjectId,
    stamp: &Stamp,
) -> Result<Combined> {
    let base = merge_base(graph, local, remote)?;
    let base_files = match base {
        Some(base) => overlay.snap(&base)?.files,
        None => Vec::new(),
    };
    let ours = overlay.snap(&local)?;
    let theirs = overlay.snap(&remote)?;
    let files = match three_way(overlay, &base_files, &ours.files, &theirs.files)? {
        TreeMerge::Clean(files) => overlay.add_files(files),
        TreeMerge::Conflicted(merge) => {
            return Ok(Combined::Conflicted {
                replaying: None,
                merge,
            })
        }
    };
    let snap = Snap {
        component: ours.component.clone(),
        generation: Snap::generation_after([ours.generation, theirs.generation]),
        parents: vec![local, remote],
        files,
        author: stamp.author.clone(),
        timestamp: stamp.timestamp,
        message: stamp.message.clone(),
        dependencies: ours.dependencies,
    };
    let snap = overlay.add_snap(snap)?;
    Ok(Combined::Merged { snap, base })
}

/// Replays the snaps that `local` has and `remote` lacks onto `remote`,
/// oldest first. Each replayed snap keeps its message, author, timestamp
/// and dependencies; its files are a three-way merge of the new parent's
/// files with the change the snap made to its old parent.
pub(crate) fn rebase_onto(
    overlay: &mut Overlay<'_>,
    graph: &StoreGraph<'_>,
    local: ObjectId,
    remote: ObjectId,
) -> Result<Combined> {
    let range = only_in(graph, local, remote)?;
    let mut snaps = Vec::with_capacity(range.len());
    for id in range {
        let snap = overlay.snap(&id)?;
        if snap.parents.len() > 1 {
            return Ok(Combined::NonLinear { merge_snap: id });
        }
        snaps.push((id, snap));
    }

    let mut tip = overlay.snap(&remote)?;
    let mut tip_id = remote;
    let mut replayed = Vec::with_capacity(snaps.len());
    for (id, snap) in snaps {
        let old_parent_files = match snap.parents.first() {
            Some(parent) => overlay.snap(parent)?.files,
            None => Vec::new(),
        };
        let files = match three_way(overlay, &old_parent_files, &tip.files, &snap.files)? {
            TreeMerge::Clean(files) => overlay.add_files(files),
            TreeMerge::Conflicted(merge) => {
                return Ok(Combined::Conflicted {
                    replaying: Some(id),
                    merge,
                })
            }
        };
        let new = replay_snap(snap, &tip, tip_id, files);
        tip_id = overlay.add_snap(new.clone())?;
        tip = new;
        replayed.push(ReplayedSnap {
            from: id,
            to: tip_id,
        });
    }
    Ok(Combined::Rebased {
        head: tip_id,
        replayed,
        merged_instead: None,
    })
}

/// Returns `snap` moved onto `parent`, with `files`.
fn replay_snap(snap: Snap, parent: &Snap, parent_id: ObjectId, files: Vec<FileEntry>) -> Snap {
    Snap {
        generation: Snap::generation_after([parent.generation]),
        parents: vec![parent_id],
        files,
        ..snap
    }
}

fn three_way(
    overlay: &Overlay<'_>,
    base: &[FileEntry],
    ours: &[FileEntry],
    theirs: &[FileEntry],
) -> Result<TreeMerge> {
    merge_files(base, ours, theirs, |id| overlay.blob(id))
}

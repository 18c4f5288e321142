//! `ferry status`: what changed in each component directory, and how each
//! head compares with what remotes were last seen to hold.

use std::collections::{HashMap, HashSet};

use ferry_core::ancestry::{divergence, SnapGraph};
use ferry_core::{ComponentId, FileEntry, FilePath, LaneId, ObjectId, RefName};
use serde::Serialize;

use crate::diff::{diff, Changes};
use crate::error::{Error, Result};
use crate::hashing::{cacheable_entries, hash_directories, BlobSink, DirectoryWork};
use crate::meta::TrackedComponent;
use crate::pending::{self, PendingMerge};
use crate::scan::{scan_dir, Unsupported};
use crate::stat_cache::{self, now_ns, CacheEntry};
use crate::workspace::{remote_namespace, StoreGraph, Workspace};

/// The state of the whole workspace.
#[derive(Clone, Debug, Serialize)]
pub struct StatusReport {
    /// The lane the workspace is on, or `None` for main.
    pub lane: Option<LaneId>,
    /// Every tracked component, sorted by id.
    pub components: Vec<ComponentStatus>,
}

/// The state of one component.
#[derive(Clone, Debug, Serialize)]
pub struct ComponentStatus {
    /// The component.
    pub id: ComponentId,
    /// Its directory relative to the workspace root.
    pub dir: FilePath,
    /// The snap the directory was last snapped at or checked out to.
    pub base: Option<ObjectId>,
    /// The head on the current lane, falling back to main.
    pub head: Option<ObjectId>,
    /// Files changed since `base`.
    pub changes: Changes,
    /// Entries a snap cannot hold, such as symlinks.
    pub unsupported: Vec<Unsupported>,
    /// The comparison with each remote that has this ref.
    pub remotes: Vec<RemoteTracking>,
    /// A merge that stopped on conflicts and waits for `ferry snap`.
    pub pending_merge: Option<PendingMerge>,
}

impl ComponentStatus {
    /// Reports whether the directory differs from its base snap.
    pub fn is_dirty(&self) -> bool {
        !self.changes.is_empty() || !self.unsupported.is_empty()
    }
}

/// The comparison of a local head with the same ref on a remote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RemoteTracking {
    /// The remote's name.
    pub remote: String,
    /// The ref compared.
    pub name: RefName,
    /// The remote's value of the ref.
    pub remote_head: ObjectId,
    /// The comparison.
    pub sync: Sync,
}

/// The relation between a local and a remote head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Sync {
    /// Both point at the same snap.
    UpToDate,
    /// The local head has snaps the remote lacks.
    Ahead {
        /// Local snaps missing on the remote.
        ahead: u64,
    },
    /// The remote has snaps the local head lacks.
    Behind {
        /// Remote snaps missing locally.
        behind: u64,
    },
    /// Each side has snaps the other lacks.
    Diverged {
        /// Local snaps missing on the remote.
        ahead: u64,
        /// Remote snaps missing locally.
        behind: u64,
    },
    /// A snap needed for the comparison is not in the local object store.
    Unknown,
}

/// A component together with its scanned and hashed directory.
pub(crate) struct Examined {
    pub component: TrackedComponent,
    pub work: DirectoryWork,
    pub entries: Vec<FileEntry>,
    pub base_files: Vec<FileEntry>,
    pub changes: Changes,
}

impl Workspace {
    /// Reports the changes and remote state of every tracked component.
    pub fn status(&self) -> Result<StatusReport> {
        let lane = self.current_lane()?;
        let components = self.components()?;
        let read_at = now_ns();
        let examined = self.examine(components, None)?;
        self.refresh_cache(&examined, read_at)?;
        let remotes = self.remote_names()?;

        let mut statuses = Vec::with_capacity(examined.len());
        for item in examined {
            let head = self.head(&item.component.id, lane.as_ref())?;
            let tracking = self.remote_tracking(&remotes, &head.name, head.current)?;
            let pending_merge = self.read(|c| pending::get(c, &item.component.id))?;
            statuses.push(ComponentStatus {
                id: item.component.id,
                dir: item.component.dir,
                base: item.component.base,
                head: head.parent,
                changes: item.changes,
                unsupported: item.work.tree.unsupported,
                remotes: tracking,
                pending_merge,
            });
        }
        Ok(StatusReport {
            lane,
            components: statuses,
        })
    }

    /// Scans and hashes the directories of `components` and compares them
    /// with their base snaps. Hashed blobs go to `sink` when one is given.
    pub(crate) fn examine(
        &self,
        components: Vec<TrackedComponent>,
        sink: Option<BlobSink<'_>>,
    ) -> Result<Vec<Examined>> {
        let mut work = Vec::with_capacity(components.len());
        for component in &components {
            let dir = component.dir.under(self.root());
            let tree = scan_dir(&dir)?;
            let cache = self.read(|connection| stat_cache::load(connection, &component.id))?;
            work.push(DirectoryWork { dir, tree, cache });
        }
        let hashed = hash_directories(&work, sink)?;

        let mut examined = Vec::with_capacity(components.len());
        for ((component, work), entries) in components.into_iter().zip(work).zip(hashed) {
            let base_files = match component.base {
                Some(base) => self.read_snap(&base)?.files,
                None => Vec::new(),
            };
            let changes = diff(&base_files, &entries);
            examined.push(Examined {
                component,
                work,
                entries,
                base_files,
                changes,
            });
        }
        Ok(examined)
    }

    /// Records cache entries for files whose content equals their base
    /// snap's, since those blobs are known to be stored.
    fn refresh_cache(&self, examined: &[Examined], read_at: i64) -> Result<()> {
        let mut updates: Vec<(&ComponentId, Vec<(FilePath, CacheEntry)>)> = Vec::new();
        for item in examined {
            let stored: HashSet<(&FilePath, ObjectId)> =
                item.base_files.iter().map(|f| (&f.path, f.blob)).collect();
            let fresh: Vec<_> = cacheable_entries(&item.work, &item.entries, read_at)
                .into_iter()
                .filter(|(path, entry)| stored.contains(&(path, entry.blob)))
                .filter(|(path, entry)| item.work.cache.get(path) != Some(entry))
                .collect();
            if !fresh.is_empty() {
                updates.push((&item.component.id, fresh));
            }
        }
        if updates.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            for (component, entries) in &updates {
                stat_cache::upsert(tx, component, entries)?;
            }
            Ok(())
        })
    }

    /// Compares `local` with the value of `name` on each remote that has it.
    fn remote_tracking(
        &self,
        remotes: &[String],
        name: &RefName,
        local: Option<ObjectId>,
    ) -> Result<Vec<RemoteTracking>> {
        let mut tracking = Vec::new();
        for remote in remotes {
            let namespace = remote_namespace(remote);
            let value = self.read(|connection| {
                Ok(ferry_store::refs::sqlite::get_ref_in(
                    connection, &namespace, name,
                )?)
            })?;
            let Some(remote_head) = value else { continue };
            tracking.push(RemoteTracking {
                remote: remote.clone(),
                name: name.clone(),
                remote_head,
                sync: compare_heads(&self.graph(), local, remote_head)?,
            });
        }
        Ok(tracking)
    }
}

/// Compares a local head with a remote one. A missing snap makes the
/// result [`Sync::Unknown`] rather than an error, since remote-tracking refs
/// may name snaps that were never fetched.
pub fn compare_heads(
    graph: &StoreGraph<'_>,
    local: Option<ObjectId>,
    remote: ObjectId,
) -> Result<Sync> {
    let counted = match local {
        Some(local) => divergence(graph, local, remote).map(|d| (d.ahead, d.behind)),
        None => count_ancestry(graph, remote).map(|count| (0, count)),
    };
    let (ahead, behind) = match counted {
        Ok(counts) => counts,
        Err(Error::Objects(ferry_store::ObjectStoreError::NotFound(_))) => {
            return Ok(Sync::Unknown)
        }
        Err(other) => return Err(other),
    };
    Ok(match (ahead, behind) {
        (0, 0) => Sync::UpToDate,
        (ahead, 0) => Sync::Ahead { ahead },
        (0, behind) => Sync::Behind { behind },
        (ahead, behind) => Sync::Diverged { ahead, behind },
    })
}

/// Counts `head` and all its ancestors.
fn count_ancestry<G: SnapGraph>(graph: &G, head: ObjectId) -> Result<u64, G::Error> {
    let mut seen: HashMap<ObjectId, ()> = HashMap::new();
    let mut stack = vec![head];
    while let Some(id) = stack.pop() {
        if seen.insert(id, ()).is_some() {
            continue;
        }
        stack.extend(graph.node(&id)?.parents);
    }
    Ok(seen.len() as u64)
}

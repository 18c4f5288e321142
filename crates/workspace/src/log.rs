//! `ferry log`: the history of a component, newest first.

use std::collections::{BinaryHeap, HashMap, HashSet};

use ferry_core::{ComponentId, ObjectId, RefName, Snap};
use semver::Version;
use serde::Serialize;

use crate::error::Result;
use crate::workspace::{remote_namespace, Workspace};

/// The history of one component.
#[derive(Clone, Debug, Serialize)]
pub struct LogReport {
    /// The component.
    pub component: ComponentId,
    /// The head the walk started from: the current lane's, else main's.
    pub head: Option<ObjectId>,
    /// Snaps reachable from `head`, newest first.
    pub entries: Vec<LogEntry>,
}

/// One snap in a log.
#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    /// The snap id.
    pub id: ObjectId,
    /// Its parents.
    pub parents: Vec<ObjectId>,
    /// Its generation.
    pub generation: u64,
    /// The author.
    pub author: String,
    /// When, in milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The snap message.
    pub message: String,
    /// Number of files.
    pub files: usize,
    /// Tags pointing at it, sorted.
    pub tags: Vec<Version>,
    /// Local heads pointing at it: `main` or `lane:LANE`.
    pub heads: Vec<String>,
}

/// The tags and head labels of one snap.
type Labels = (Vec<Version>, Vec<String>);

impl Workspace {
    /// Lists the history of `component` from its head on the current lane
    /// (else main), newest first, at most `limit` snaps when given.
    pub fn log(&self, component: &str, limit: Option<usize>) -> Result<LogReport> {
        let component = self.resolve_component(component)?;
        let lane = self.current_lane()?;
        let head = self.head(&component, lane.as_ref())?.parent;
        let labels = self.labels(&component)?;

        let mut entries = Vec::new();
        if let Some(head) = head {
            for (id, snap) in self.walk_history(&[head], limit)? {
                let (tags, heads) = labels.get(&id).cloned().unwrap_or_default();
                entries.push(LogEntry {
                    id,
                    parents: snap.parents,
                    generation: snap.generation,
                    author: snap.author,
                    timestamp: snap.timestamp,
                    message: snap.message,
                    files: snap.files.len(),
                    tags,
                    heads,
                });
            }
        }
        Ok(LogReport {
            component,
            head,
            entries,
        })
    }

    /// Returns the snaps reachable from `starts`, in decreasing generation
    /// and then timestamp, stopping after `limit` snaps when given.
    pub fn walk_history(
        &self,
        starts: &[ObjectId],
        limit: Option<usize>,
    ) -> Result<Vec<(ObjectId, Snap)>> {
        let mut queue = BinaryHeap::new();
        let mut pending: HashMap<ObjectId, Snap> = HashMap::new();
        for start in starts {
            if !pending.contains_key(start) {
                let snap = self.read_snap(start)?;
                queue.push((snap.generation, snap.timestamp, *start));
                pending.insert(*start, snap);
            }
        }
        let mut seen: HashSet<ObjectId> = pending.keys().copied().collect();
        let mut walked = Vec::new();
        while let Some((_, _, id)) = queue.pop() {
            if limit.is_some_and(|limit| walked.len() >= limit) {
                break;
            }
            let snap = pending.remove(&id).expect("queued snaps are pending");
            for parent in &snap.parents {
                if seen.insert(*parent) {
                    let parent_snap = self.read_snap(parent)?;
                    queue.push((parent_snap.generation, parent_snap.timestamp, *parent));
                    pending.insert(*parent, parent_snap);
                }
            }
            walked.push((id, snap));
        }
        Ok(walked)
    }

    /// Returns every snap of `component` reachable from any local or
    /// remote-tracking ref, including tags.
    pub fn known_snaps(&self, component: &ComponentId) -> Result<Vec<ObjectId>> {
        let mut starts: Vec<ObjectId> = Vec::new();
        let mut namespaces = vec![String::new()];
        namespaces.extend(
            self.remote_names()?
                .iter()
                .map(|name| remote_namespace(name)),
        );
        for namespace in namespaces {
            let refs = self.read(|connection| {
                Ok(ferry_store::refs::sqlite::list_refs_in(
                    connection, &namespace, "",
                )?)
            })?;
            starts.extend(
                refs.into_iter()
                    .filter(|(name, _)| name.component() == component)
                    .map(|(_, id)| id),
            );
        }
        let walked = self.walk_history(&starts, None)?;
        Ok(walked.into_iter().map(|(id, _)| id).collect())
    }

    /// Maps each snap of `component` that a local ref points at to its tags
    /// and head labels.
    fn labels(&self, component: &ComponentId) -> Result<HashMap<ObjectId, Labels>> {
        let mut labels: HashMap<ObjectId, Labels> = HashMap::new();
        for (name, id) in self.list_refs()? {
            if name.component() != component {
                continue;
            }
            let entry = labels.entry(id).or_default();
            match name {
                RefName::Tag(_, version) => entry.0.push(version),
                RefName::Main(_) => entry.1.push("main".to_owned()),
                RefName::Lane(lane, _) => entry.1.push(format!("lane:{lane}")),
            }
        }
        for (tags, _) in labels.values_mut() {
            tags.sort();
        }
        Ok(labels)
    }
}

//! `ferry snap`: recording new versions of changed components.
//!
//! Order of effects: blobs and snaps are added to one object batch, the
//! batch is committed (which makes them durable), and then one SQLite transaction moves every head,
//! records each component's new base snap and replaces its stat cache. A
//! crash before the transaction commits leaves only unreferenced objects.
//! If another process moved a head in the meantime, the compare-and-swap
//! fails and the whole transaction rolls back.
//!
//! A component with a pending merge gets a snap even when its files equal
//! the base snap's, with the merged remote head as second parent; the same
//! transaction removes the pending merge.

use ferry_core::{ComponentId, LaneId, Object, ObjectId, RefName, Snap};
use ferry_store::refs::sqlite::update_refs_in;
use ferry_store::{ObjectStore, RefEdit};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::hashing::{cacheable_entries, BlobSink};
use crate::meta;
use crate::pending::{self, PendingMerge};
use crate::resolve::resolve_component;
use crate::stat_cache::{self, now_ns};
use crate::status::Examined;
use crate::workspace::{now_ms, Head, Workspace, LOCAL_NAMESPACE};

/// The result of `snap`.
#[derive(Clone, Debug, Serialize)]
pub struct SnapReport {
    /// The lane the snaps were made on, or `None` for main.
    pub lane: Option<LaneId>,
    /// The new snaps, sorted by component.
    pub snapped: Vec<NewSnap>,
    /// Components examined that had no changes.
    pub unchanged: Vec<ComponentId>,
}

/// One new snap.
#[derive(Clone, Debug, Serialize)]
pub struct NewSnap {
    /// The component.
    pub component: ComponentId,
    /// The new snap's id.
    pub snap: ObjectId,
    /// Its parent, if any.
    pub parent: Option<ObjectId>,
    /// The second parent, when the snap completes a pending merge.
    pub merged: Option<ObjectId>,
    /// The head ref that now points at it.
    pub head: RefName,
    /// Number of files added since the base snap.
    pub added: usize,
    /// Number of files modified since the base snap.
    pub modified: usize,
    /// Number of files deleted since the base snap.
    pub deleted: usize,
}

/// A snap that is written but not yet referenced.
struct Pending {
    report: NewSnap,
    head: Head,
}

impl Workspace {
    /// Snaps every component in `names` (all tracked components when
    /// empty) whose files differ from its base snap, with `message`.
    pub fn snap(&self, message: &str, names: &[String]) -> Result<SnapReport> {
        let lane = self.current_lane()?;
        let selected = self.select_components(names)?;
        let author = self.author()?;
        let timestamp = now_ms();

        let read_at = now_ns();
        let store = self.object_store();
        let batch = store.batch();
        let sink = BlobSink {
            batch: batch.as_ref(),
        };
        let examined = self.examine(selected, Some(sink))?;
        reject_unsupported(&examined)?;

        let mut pending = Vec::new();
        let mut unchanged = Vec::new();
        for item in &examined {
            let head = self.head(&item.component.id, lane.as_ref())?;
            let merged = self.pending_merge(item, &head)?.map(|m| m.theirs);
            if item.changes.is_empty() && merged.is_none() {
                unchanged.push(item.component.id.clone());
                continue;
            }
            reject_off_head(item, &head)?;
            let stamp = (author.as_str(), timestamp, message);
            let snap = self.build_snap(item, &head, merged, stamp)?;
            let encoded = Object::Snap(snap).encode();
            let id = ObjectId::digest(&encoded);
            batch.add_encoded(&id, &encoded)?;
            pending.push(Pending {
                report: NewSnap {
                    component: item.component.id.clone(),
                    snap: id,
                    parent: head.parent,
                    merged,
                    head: head.name.clone(),
                    added: item.changes.added.len(),
                    modified: item.changes.modified.len(),
                    deleted: item.changes.deleted.len(),
                },
                head,
            });
        }
        // The batch makes every blob and snap durable before any ref can
        // point at them.
        batch.commit()?;
        self.commit_snaps(&pending, &examined, read_at)?;

        Ok(SnapReport {
            lane,
            snapped: pending.into_iter().map(|p| p.report).collect(),
            unchanged,
        })
    }

    /// Returns the components named in `names`, or all when it is empty.
    pub(crate) fn select_components(
        &self,
        names: &[String],
    ) -> Result<Vec<meta::TrackedComponent>> {
        let tracked = self.components()?;
        if names.is_empty() {
            return Ok(tracked);
        }
        let ids: Vec<ComponentId> = tracked.iter().map(|c| c.id.clone()).collect();
        let scope = self.default_scope()?;
        let mut selected: Vec<meta::TrackedComponent> = Vec::new();
        for name in names {
            let id = resolve_component(&ids, scope.as_ref(), name)?;
            if !selected.iter().any(|c| c.id == id) {
                let component = tracked.iter().find(|c| c.id == id);
                selected.push(component.expect("resolved ids are tracked").clone());
            }
        }
        selected.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(selected)
    }

    /// Returns the pending merge of an examined component, after checking
    /// that it still applies to `head` and that its content conflicts are
    /// resolved.
    fn pending_merge(&self, item: &Examined, head: &Head) -> Result<Option<PendingMerge>> {
        let component = &item.component.id;
        let Some(merge) = self.read(|c| pending::get(c, component))? else {
            return Ok(None);
        };
        if merge.head != head.name || head.parent != Some(merge.ours) {
            return Err(Error::PendingMergeStale {
                component: component.clone(),
                ours: merge.ours,
                head: head.parent,
            });
        }
        pending::reject_markers(&merge, &item.work.dir)?;
        Ok(Some(merge))
    }

    /// Builds the snap of `item` on `head`, with `merged` as second parent
    /// when it completes a merge. `stamp` is the author, the timestamp and
    /// the message.
    fn build_snap(
        &self,
        item: &Examined,
        head: &Head,
        merged: Option<ObjectId>,
        (author, timestamp, message): (&str, i64, &str),
    ) -> Result<Snap> {
        let parents: Vec<ObjectId> = head.parent.into_iter().chain(merged).collect();
        let mut generations = Vec::with_capacity(parents.len());
        for parent in &parents {
            generations.push(self.read_snap(parent)?.generation);
        }
        let snap = Snap {
            component: item.component.id.clone(),
            generation: Snap::generation_after(generations),
            parents,
            files: item.entries.clone(),
            author: author.to_owned(),
            timestamp,
            message: message.to_owned(),
            dependencies: Vec::new(),
        };
        snap.validate().map_err(|source| Error::BadObject {
            id: snap.id(),
            source,
        })?;
        Ok(snap)
    }

    /// Moves the heads, records bases and replaces the stat caches of every
    /// examined component in one transaction.
    fn commit_snaps(&self, pending: &[Pending], examined: &[Examined], read_at: i64) -> Result<()> {
        let edits: Vec<RefEdit> = pending
            .iter()
            .map(|p| RefEdit {
                name: p.head.name.clone(),
                expected: p.head.current,
                new: Some(p.report.snap),
            })
            .collect();
        self.write(|tx| {
            update_refs_in(tx, LOCAL_NAMESPACE, &edits)?;
            for item in pending {
                meta::set_base(tx, &item.report.component, item.report.snap)?;
                if item.report.merged.is_some() {
                    crate::pending::delete(tx, &item.report.component)?;
                }
            }
            // Every blob hashed here was written to the store, so every
            // entry may be cached.
            for item in examined {
                let entries = cacheable_entries(&item.work, &item.entries, read_at);
                stat_cache::replace(tx, &item.component.id, &entries)?;
            }
            Ok(())
        })
    }
}

fn reject_unsupported(examined: &[Examined]) -> Result<()> {
    for item in examined {
        if let Some(entry) = item.work.tree.unsupported.first() {
            return Err(Error::UnsupportedFile {
                component: item.component.id.clone(),
                path: entry.path.clone(),
                kind: entry.kind,
            });
        }
    }
    Ok(())
}

/// Fails when the directory of `item` is not checked out at `head`: its
/// files would replace the head's, undoing every change made since the
/// snap the directory is at.
fn reject_off_head(item: &Examined, head: &Head) -> Result<()> {
    match head.parent {
        Some(parent) if item.component.base != Some(parent) => Err(Error::SnapNotOnHead {
            component: item.component.id.clone(),
            base: item.component.base,
            head: parent,
        }),
        _ => Ok(()),
    }
}

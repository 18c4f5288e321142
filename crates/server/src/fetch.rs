//! Fetch: stream the objects behind some heads that a client lacks.
//!
//! The walk visits snaps in decreasing generation, painting each as wanted
//! (reachable from a requested head) or had (reachable from a snap the
//! client has). A snap is taken from the queue only after every snap that
//! can reach it, so its paint is final then: a had snap is never sent, and
//! the walk ends once only had snaps are queued. Blobs of had snaps that
//! border the sent ones are skipped too, so an unchanged file is not sent
//! again. A client may receive an object it already has, never miss one.

use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::io::Write;

use ferry_core::ancestry::SnapGraph;
use ferry_core::protocol::pack::PackWriter;
use ferry_core::protocol::{FetchRequest, RejectionCode};
use ferry_core::{ObjectId, ScopeName};

use crate::error::ApiError;
use crate::export::check_item_count;
use crate::graph::{GraphError, StoreGraph};
use crate::state::AppState;

/// Checks `request` against `scope` and returns the ids to send, snaps
/// before the blobs they name.
pub fn plan(
    app: &AppState,
    scope: &ScopeName,
    request: &FetchRequest,
) -> Result<Vec<ObjectId>, ApiError> {
    check_item_count(app, "object ids", request.wants.len() + request.haves.len())?;
    if !app.stores.exports.scope_exists(scope)? {
        return Err(ferry_store::ExportStoreError::UnknownScope(scope.clone()).into());
    }
    // Only committed snaps are served, never an upload of a live export.
    let reachable: HashSet<_> = app
        .stores
        .exports
        .reachable_among(&request.wants)?
        .into_iter()
        .collect();
    if let Some(unknown) = request.wants.iter().find(|id| !reachable.contains(id)) {
        return Err(ApiError::new(
            RejectionCode::IncompleteClosure,
            format!("snap {unknown} is not reachable from any ref of this server"),
        )
        .with_hint("list the refs of the scope and request their values"));
    }
    let haves: Vec<_> = app.stores.exports.reachable_among(&request.haves)?;
    walk(app, &request.wants, &haves).map_err(|error| ApiError::internal(&error))
}

const WANTED: u8 = 1;
const HAD: u8 = 2;

fn walk(
    app: &AppState,
    wants: &[ObjectId],
    haves: &[ObjectId],
) -> Result<Vec<ObjectId>, GraphError> {
    let graph = StoreGraph::new(app.stores.objects.as_ref());
    let mut paint: HashMap<ObjectId, u8> = HashMap::new();
    let mut queue = BinaryHeap::new();
    // Number of queued snaps painted wanted and not had.
    let mut pending = 0usize;
    for (ids, colour) in [(haves, HAD), (wants, WANTED)] {
        for id in ids {
            if let Entry::Vacant(entry) = paint.entry(*id) {
                entry.insert(colour);
                queue.push((graph.node(id)?.generation, *id));
                pending += usize::from(colour == WANTED);
            }
        }
    }

    let mut snaps = Vec::new();
    let mut blobs = Vec::new();
    let mut had_blobs = HashSet::new();
    while pending > 0 {
        let Some((_, id)) = queue.pop() else { break };
        let colour = paint[&id];
        let snap = graph.snap(&id)?;
        if colour == WANTED {
            pending -= 1;
            snaps.push(id);
            blobs.extend(snap.files.iter().map(|file| file.blob));
        } else {
            had_blobs.extend(snap.files.iter().map(|file| file.blob));
        }
        for parent in &snap.parents {
            match paint.entry(*parent) {
                // Parents have a lower generation, so a painted parent is
                // still queued.
                Entry::Occupied(mut entry) => {
                    let before = *entry.get();
                    *entry.get_mut() |= colour;
                    if before == WANTED && colour & HAD != 0 {
                        pending -= 1;
                    }
                }
                Entry::Vacant(entry) => {
                    entry.insert(colour);
                    queue.push((graph.node(parent)?.generation, *parent));
                    pending += usize::from(colour == WANTED);
                }
            }
        }
    }

    // The had snaps that border the sent ones may still be queued.
    let mut boundary: HashSet<ObjectId> = haves.iter().copied().collect();
    for id in &snaps {
        let parents = graph.node(id)?.parents;
        boundary.extend(parents.into_iter().filter(|p| paint[p] & HAD != 0));
    }
    for id in &boundary {
        had_blobs.extend(graph.snap(id)?.files.iter().map(|file| file.blob));
    }

    let mut seen = HashSet::new();
    let blobs = blobs
        .into_iter()
        .filter(|blob| !had_blobs.contains(blob) && seen.insert(*blob));
    snaps.extend(blobs);
    Ok(snaps)
}

/// Writes the objects `ids` as a pack to `out`.
pub fn write_pack(app: &AppState, ids: &[ObjectId], out: impl Write) -> Result<u64, PackSendError> {
    let mut pack = PackWriter::new(out).map_err(PackSendError::Write)?;
    for id in ids {
        let compressed = app.stores.objects.read_compressed(id)?;
        pack.write_compressed(id, &compressed)
            .map_err(PackSendError::Write)?;
    }
    let count = pack.count();
    pack.finish().map_err(PackSendError::Write)?;
    Ok(count)
}

/// A failure while streaming a pack to a client.
#[derive(Debug, thiserror::Error)]
pub enum PackSendError {
    /// Reading an object failed.
    #[error(transparent)]
    Store(#[from] ferry_store::ObjectStoreError),
    /// The client went away or the stream broke.
    #[error("writing the pack to the client failed")]
    Write(#[source] std::io::Error),
}

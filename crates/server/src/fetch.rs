//! Fetch: stream the objects behind some heads that a client lacks.
//!
//! Only snaps that a committed export made reachable are served, never an
//! upload of a live export. The objects to send are chosen by
//! [`objects_to_send`]: the snaps reachable from the wanted heads and not
//! from the client's snaps, and their blobs minus those of the bordering
//! snaps the client has. A client may receive an object it already has,
//! never miss one.

use std::collections::HashSet;
use std::io::Write;

use ferry_core::protocol::pack::PackWriter;
use ferry_core::protocol::walk::objects_to_send;
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

fn walk(
    app: &AppState,
    wants: &[ObjectId],
    haves: &[ObjectId],
) -> Result<Vec<ObjectId>, GraphError> {
    let graph = StoreGraph::new(app.stores.objects.as_ref());
    objects_to_send(|id| graph.snap(id), wants, haves)
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

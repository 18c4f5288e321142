//! Negotiation: the client offers ids and the server returns those it
//! lacks.
//!
//! The offered ids are recorded for the export before the store is
//! consulted, so garbage collection, which never removes an object a live
//! export recorded, cannot remove an object after it was reported present.
//! An object collection has already marked is reported missing, so the
//! client uploads it again.

use std::collections::HashSet;

use ferry_core::protocol::{ExportId, NegotiateRequest, NegotiateResponse};

use super::{check_item_count, load_live};
use crate::error::ApiError;
use crate::state::{now_ms, AppState};

/// Records the offered ids for export `id` and returns those to upload.
pub fn negotiate(
    app: &AppState,
    id: &ExportId,
    request: &NegotiateRequest,
) -> Result<NegotiateResponse, ApiError> {
    check_item_count(app, "object ids", request.offered.len())?;
    load_live(app, id)?;
    let collecting: HashSet<_> = app
        .stores
        .exports
        .record_objects(id, &request.offered, now_ms(), app.lease_ms())?
        .into_iter()
        .collect();

    let mut missing = Vec::new();
    let mut seen = HashSet::new();
    for object in &request.offered {
        if !seen.insert(*object) {
            continue;
        }
        if collecting.contains(object) || !app.stores.objects.contains(object)? {
            missing.push(*object);
        }
    }
    Ok(NegotiateResponse { missing })
}

//! Negotiation: the client offers ids and the server returns those it
//! lacks.
//!
//! The offered ids are recorded for the export before the store is
//! consulted, so garbage collection, which never marks an object a live
//! export recorded, cannot remove an object after it was reported present.
//!
//! An offered object that a collection has already marked is rejected with
//! `object_collected`. Reporting it missing instead would not help: the
//! upload finds the file still present and skips it, and the collection
//! then removes it, so prepare would reject the export's closure as
//! incomplete although the client uploaded everything. Once the collection
//! has finished, the object is unmarked and absent, and a rerun of the
//! export uploads it anew.

use std::collections::HashSet;

use ferry_core::protocol::{ExportId, NegotiateRequest, NegotiateResponse};

use super::prepare::collected;
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
    let collecting =
        app.stores
            .exports
            .record_objects(id, &request.offered, now_ms(), app.lease_ms())?;
    if let Some(object) = collecting.first() {
        return Err(collected(*object));
    }

    let mut missing = Vec::new();
    let mut seen = HashSet::new();
    for object in &request.offered {
        if !seen.insert(*object) {
            continue;
        }
        if !app.stores.objects.contains(object)? {
            missing.push(*object);
        }
    }
    Ok(NegotiateResponse { missing })
}

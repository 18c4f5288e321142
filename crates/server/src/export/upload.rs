//! Upload: a pack of objects streamed into the object store.
//!
//! Each entry is copied from the request body into a spool file, verified
//! from there by [`verify_object_from`], which streams the decompressed
//! bytes through the hasher, and streamed again into an object batch.
//! Memory per upload is therefore a few buffers, plus one decoded snap when
//! the entry is a snap, whatever the size of the pack or of its blobs. The
//! batch commits once at the end, so a pack that fails half way leaves no
//! object behind, and a whole pack costs two file-system syncs.
//!
//! Only ids offered in negotiation are accepted, so every object written
//! was recorded for the export first, and garbage collection can find it if
//! the export is abandoned.

use std::collections::HashSet;
use std::io::{BufReader, Read, Seek};

use ferry_core::protocol::pack::{verify_object_from, PackReader};
use ferry_core::protocol::{ExportId, RejectionCode, UploadResponse};
use ferry_core::ObjectId;

use super::load_live;
use crate::error::ApiError;
use crate::failpoints;
use crate::state::{now_ms, AppState};

/// Reads a pack from `body` into the object store for export `id`.
pub fn upload(app: &AppState, id: &ExportId, body: impl Read) -> Result<UploadResponse, ApiError> {
    let offered: HashSet<_> = app
        .stores
        .exports
        .recorded_objects(id)?
        .into_iter()
        .collect();
    // Checked after reading the records: collection deletes the records of
    // an export that expired more than the grace window ago, and such an
    // export must be rejected as ended, not have every object rejected as
    // never offered.
    load_live(app, id)?;
    let limits = app.config.limits.pack();
    let mut pack = PackReader::new(body, limits)?;
    let mut spool = tempfile::tempfile_in(&app.config.data_dir).map_err(spool_error)?;
    let batch = app.stores.objects.batch();
    let mut written = 0;

    loop {
        spool.set_len(0).map_err(spool_error)?;
        spool.rewind().map_err(spool_error)?;
        let Some(claimed) = pack.next_entry_to(&mut spool)? else {
            break;
        };
        check_offered(id, &offered, claimed)?;
        spool.rewind().map_err(spool_error)?;
        verify_object_from(claimed, BufReader::new(&spool), limits.max_object_bytes)?;
        failpoints::hit("upload.before_write");
        if !app.stores.objects.contains(&claimed)? {
            spool.rewind().map_err(spool_error)?;
            batch.add_reader(&claimed, &mut BufReader::new(&spool))?;
            written += 1;
        }
    }
    batch.commit()?;
    failpoints::hit("upload.after_flush");

    // Renews the lease, since a large upload may take a while.
    app.stores
        .exports
        .record_objects(id, &[], now_ms(), app.lease_ms())?;
    Ok(UploadResponse {
        received: pack.entries(),
        written,
    })
}

fn check_offered(
    id: &ExportId,
    offered: &HashSet<ObjectId>,
    claimed: ObjectId,
) -> Result<(), ApiError> {
    if offered.contains(&claimed) {
        return Ok(());
    }
    Err(ApiError::new(
        RejectionCode::UnexpectedObject,
        format!("the pack contains object {claimed}, which export {id} did not offer"),
    )
    .with_hint("offer every object in negotiation before uploading it"))
}

fn spool_error(error: std::io::Error) -> ApiError {
    ApiError::internal(&error)
}

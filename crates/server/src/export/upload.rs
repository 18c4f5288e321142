//! Upload: a pack of objects streamed into the object store.
//!
//! An entry of up to [`MAX_BUFFERED`] compressed bytes is read into memory,
//! verified and added to an object batch. A larger one is copied from the
//! request body into a spool file, verified from there by
//! [`verify_object_from`], which streams the decompressed bytes through
//! the hasher, and streamed again into the batch. Memory per upload is
//! therefore a few buffers, plus one decoded snap when the entry is a
//! snap, whatever the size of the pack or of its blobs. The
//! batch commits once at the end, so a pack that fails half way leaves no
//! object behind, and a whole pack costs two file-system syncs.
//!
//! Only ids offered in negotiation are accepted, so every object written
//! was recorded for the export first, and garbage collection can find it if
//! the export is abandoned.

use std::collections::HashSet;
use std::io::{BufReader, Read, Seek};

use ferry_core::protocol::pack::{verify_object, verify_object_from, EntryPlace, PackReader};
use ferry_core::protocol::{ExportId, RejectionCode, UploadResponse};
use ferry_core::ObjectId;

use super::load_live;
use crate::error::ApiError;
use crate::failpoints;
use crate::state::{now_ms, AppState};

/// Largest compressed entry kept in memory; larger ones go through the
/// spool file.
const MAX_BUFFERED: u64 = 1 << 20;

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
    let mut buffer = Vec::new();
    let batch = app.stores.objects.batch();

    loop {
        let next = pack.next_entry_or_spool(&mut buffer, MAX_BUFFERED, &mut spool)?;
        let Some((claimed, place)) = next else {
            break;
        };
        check_offered(id, &offered, claimed)?;
        match place {
            EntryPlace::Buffer => {
                verify_object(claimed, &buffer, limits.max_object_bytes)?;
                failpoints::hit("upload.before_write");
                // The batch skips objects the store has already.
                batch.add_compressed(&claimed, &buffer)?;
            }
            EntryPlace::Spool => {
                spool.rewind().map_err(spool_error)?;
                verify_object_from(claimed, BufReader::new(&spool), limits.max_object_bytes)?;
                failpoints::hit("upload.before_write");
                spool.rewind().map_err(spool_error)?;
                batch.add_reader(&claimed, &mut BufReader::new(&spool))?;
                spool.set_len(0).map_err(spool_error)?;
                spool.rewind().map_err(spool_error)?;
            }
        }
    }
    let written = batch.commit()? as u64;
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

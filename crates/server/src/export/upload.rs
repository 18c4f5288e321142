//! Upload: a pack of objects streamed into the object store.
//!
//! Each entry is read into one buffer (at most the object size limit),
//! verified by [`verify_object`], which streams the decompressed bytes
//! through the hasher, and written create-only. Memory per upload is
//! therefore one compressed object, whatever the size of the pack. Only
//! ids offered in negotiation are accepted, so every object written is
//! recorded for the export before it reaches the store, and garbage
//! collection can find it if the export is abandoned.
//!
//! NOTE: the buffer exists because `ObjectStore::write_compressed` takes a
//! slice; a streaming write in the store would remove it.

use std::collections::HashSet;
use std::io::Read;

use ferry_core::protocol::pack::{verify_object, PackReader};
use ferry_core::protocol::{ExportId, RejectionCode, UploadResponse};

use super::load_live;
use crate::error::ApiError;
use crate::failpoints;
use crate::state::{now_ms, AppState};

/// Reads a pack from `body` into the object store for export `id`.
pub fn upload(app: &AppState, id: &ExportId, body: impl Read) -> Result<UploadResponse, ApiError> {
    load_live(app, id)?;
    let offered: HashSet<_> = app
        .stores
        .exports
        .recorded_objects(id)?
        .into_iter()
        .collect();
    let limits = app.config.limits.pack();
    let mut pack = PackReader::new(body, limits)?;
    let mut buffer = Vec::new();
    let mut written = 0;

    while let Some(claimed) = pack.next_entry(&mut buffer)? {
        if !offered.contains(&claimed) {
            return Err(ApiError::new(
                RejectionCode::UnexpectedObject,
                format!("the pack contains object {claimed}, which export {id} did not offer"),
            )
            .with_hint("offer every object in negotiation before uploading it"));
        }
        verify_object(claimed, &buffer, limits.max_object_bytes)?;
        failpoints::hit("upload.before_write");
        if !app.stores.objects.contains(&claimed)? {
            app.stores.objects.write_compressed(&claimed, &buffer)?;
            written += 1;
        }
    }
    app.stores.objects.flush()?;
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

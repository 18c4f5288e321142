//! Opening an export, and reading or aborting one.

use ferry_core::protocol::{ExportId, ExportInfo, OpenExportRequest};

use super::{info, load};
use crate::error::ApiError;
use crate::state::{now_ms, AppState};

/// Opens an export, or returns the one opened before with the same
/// idempotency key. The flag is true when a new export was created.
pub fn open(app: &AppState, request: &OpenExportRequest) -> Result<(ExportInfo, bool), ApiError> {
    let (record, created) = app.stores.exports.open_export(
        &request.scope,
        request.idempotency_key.as_ref(),
        now_ms(),
        app.lease_ms(),
    )?;
    Ok((info(&record)?, created))
}

/// Returns the state of export `id`.
pub fn get(app: &AppState, id: &ExportId) -> Result<ExportInfo, ApiError> {
    info(&load(app, id)?)
}

/// Aborts export `id` if it is live and returns its state.
pub fn abort(app: &AppState, id: &ExportId) -> Result<ExportInfo, ApiError> {
    load(app, id)?;
    let record = app.stores.exports.finish_aborted(id, None, now_ms())?;
    info(&record)
}

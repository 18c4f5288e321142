//! The export protocol, one module per step: open, negotiate, upload,
//! prepare (with its closure check) and commit.
//!
//! Each step is a blocking function over the stores; the HTTP handlers
//! run them on tokio's blocking pool. No step holds a lock between
//! requests: the only serialization point is the metadata transaction
//! each store call runs in, so exports of different refs proceed in
//! parallel and exports of the same ref race on its compare-and-swap.

pub mod closure;
pub mod commit;
pub mod negotiate;
pub mod open;
pub mod prepare;
pub mod upload;

use ferry_core::protocol::{ExportId, ExportInfo, RefResult, RejectionCode};
use ferry_store::{ExportRecord, ExportStoreError, RefEdit};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::state::{now_ms, AppState};

/// The ref updates recorded at prepare and applied at commit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    /// Each ref's value at prepare, its new value and the action.
    pub refs: Vec<RefResult>,
}

impl Plan {
    /// Returns the compare-and-swap edits that apply the plan. An unchanged
    /// ref is checked to still hold its value.
    pub fn edits(&self) -> Vec<RefEdit> {
        self.refs
            .iter()
            .map(|planned| RefEdit {
                name: planned.name.clone(),
                expected: planned.old,
                new: Some(planned.new),
            })
            .collect()
    }
}

/// Parses an export id from a URL, treating text that is not an id like an
/// id that was never minted.
pub fn parse_export_id(text: &str) -> Result<ExportId, ApiError> {
    let id: ExportId = text.parse().map_err(|error| {
        ApiError::new(RejectionCode::UnknownExport, format!("{error}"))
            .with_hint("use the export id returned when the export was opened")
    })?;
    tracing::Span::current().record("export_id", id.to_string());
    Ok(id)
}

/// Returns the record of export `id`, or a 404 rejection.
pub fn load(app: &AppState, id: &ExportId) -> Result<ExportRecord, ApiError> {
    let record = app
        .stores
        .exports
        .get_export(id)?
        .ok_or(ExportStoreError::UnknownExport(*id))?;
    tracing::Span::current().record("scope", record.scope.as_str());
    Ok(record)
}

/// Returns the record of export `id` if it is open or prepared. An export
/// whose lease ran out is aborted here and rejected as expired.
pub fn load_live(app: &AppState, id: &ExportId) -> Result<ExportRecord, ApiError> {
    let record = load(app, id)?;
    let now = now_ms();
    if record.is_expired_at(now) {
        app.stores.exports.finish_aborted(id, None, now)?;
        return Err(ExportStoreError::Expired(*id).into());
    }
    if !record.state.is_live() {
        return Err(ApiError::new(
            RejectionCode::InvalidState,
            format!(
                "export {id} is {}, so it accepts no more changes",
                record.state.as_str()
            ),
        )
        .with_hint("open a new export"));
    }
    Ok(record)
}

/// Converts a stored record into its wire form.
pub fn info(record: &ExportRecord) -> Result<ExportInfo, ApiError> {
    let outcome = record
        .outcome
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|error| ApiError::internal(&error))?;
    Ok(ExportInfo {
        id: record.id,
        scope: record.scope.clone(),
        state: record.state,
        created_at_ms: record.created_at,
        expires_at_ms: record.expires_at,
        outcome,
    })
}

/// Rejects a request listing more than the configured number of items.
pub fn check_item_count(app: &AppState, what: &str, count: usize) -> Result<(), ApiError> {
    let max = app.config.limits.max_items;
    if count > max {
        return Err(ApiError::new(
            RejectionCode::TooManyItems,
            format!("the request lists {count} {what}, over the limit of {max}"),
        )
        .with_hint("split the export into smaller ones"));
    }
    Ok(())
}

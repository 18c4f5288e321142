//! Expiry of abandoned exports and collection of the objects only they
//! uploaded.
//!
//! A run first aborts every live export whose lease ran out, then has the
//! export store mark the objects recorded only by exports that ended
//! more than the grace window ago. The store never marks an object that a
//! committed export made reachable or that a live export recorded, and a
//! commit fails instead of pointing a ref at a marked object. The marked
//! objects are removed, then unmarked; a run cut short by a crash leaves
//! marks that the next run finishes.

use ferry_core::protocol::CollectReport;

use crate::error::ApiError;
use crate::state::{millis, now_ms, AppState};

/// Runs expiry and collection once.
pub fn run(app: &AppState) -> Result<CollectReport, ApiError> {
    let now = now_ms();
    let expired = app.stores.exports.expire(now)?;
    for id in &expired {
        tracing::info!(export_id = %id, "export expired");
    }
    let cutoff = now - millis(app.config.grace);
    let marked = app.stores.exports.begin_collection(cutoff)?;
    for id in &marked {
        app.stores.objects.remove(id)?;
    }
    app.stores.exports.end_collection(&marked)?;
    Ok(CollectReport {
        expired: expired.len() as u64,
        removed: marked.len() as u64,
    })
}

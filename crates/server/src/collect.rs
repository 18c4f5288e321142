//! Expiry of abandoned exports and collection of the objects only they
//! uploaded.
//!
//! A run first aborts every live export whose lease ran out, then has the
//! export store mark the objects recorded only by exports that ended
//! more than the grace window ago. The store never marks an object that a
//! committed export made reachable or that a live export recorded, and a
//! commit fails instead of pointing a ref at a marked object. The marked
//! objects are removed and unmarked in small transactions that check each
//! mark first. A run cut short by a crash leaves marks that the next run
//! finishes. Two runs that overlap never remove an object after the other
//! one unmarked it, since an export may have uploaded it anew.

use ferry_core::protocol::CollectReport;
use ferry_core::ObjectId;

use crate::error::ApiError;
use crate::state::{millis, now_ms, AppState};

/// Objects removed per metadata transaction.
const REMOVAL_CHUNK: usize = 16;

/// Runs expiry and collection once.
pub fn run(app: &AppState) -> Result<CollectReport, ApiError> {
    let now = now_ms();
    let expired = app.stores.exports.expire(now)?;
    for id in &expired {
        tracing::info!(export_id = %id, "export expired");
    }
    let cutoff = now - millis(app.config.grace);
    let marked = app.stores.exports.begin_collection(cutoff)?;
    let mut removed = 0;
    let mut remove = |id: &ObjectId| app.stores.objects.remove(id);
    // Each chunk holds the metadata write lock while it removes files, so
    // chunks stay small to let exports run in between.
    for chunk in marked.chunks(REMOVAL_CHUNK) {
        removed += app.stores.exports.remove_collected(chunk, &mut remove)?;
    }
    Ok(CollectReport {
        expired: expired.len() as u64,
        removed: removed as u64,
    })
}

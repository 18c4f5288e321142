//! Commit: apply the plan of a prepared export in one metadata
//! transaction.
//!
//! [`ExportStore::commit`] runs every compare-and-swap, marks the export's
//! objects reachable and stores the outcome together, so a crash leaves
//! either all of it or none. A failed compare-and-swap changes nothing; the
//! export is then aborted with the rejection as its outcome. Either way the
//! outcome is stored with the export, and committing again returns it
//! unchanged: a client whose connection dropped after the commit retries
//! and receives the first outcome.
//!
//! [`ExportStore::commit`]: ferry_store::ExportStore::commit

use ferry_core::protocol::{CommitOutcome, CommitReport, ExportId, Rejection, RejectionCode};
use ferry_store::{CommitAttempt, ExportRecord};

use super::prepare::{collected, problem, ref_rejection};
use super::{load, Plan};
use crate::error::ApiError;
use crate::failpoints;
use crate::graph::StoreGraph;
use crate::state::{now_ms, AppState};

/// Commits export `id` and returns its outcome, or the outcome stored by an
/// earlier commit.
pub fn commit(app: &AppState, id: &ExportId) -> Result<CommitOutcome, ApiError> {
    let record = load(app, id)?;
    if let Some(outcome) = stored_outcome(&record)? {
        return Ok(outcome);
    }
    let plan = read_plan(&record)?;
    let report = CommitReport {
        export_id: *id,
        refs: plan.refs.clone(),
    };
    let outcome = CommitOutcome::Committed(report);
    let text = serde_json::to_string(&outcome).map_err(|error| ApiError::internal(&error))?;

    // Objects must be durable before a ref can point at them.
    app.stores.objects.flush()?;
    failpoints::hit("commit.before_transaction");
    let attempt = app
        .stores
        .exports
        .commit(id, &plan.edits(), &text, now_ms())?;
    failpoints::hit("commit.after_transaction");
    match attempt {
        CommitAttempt::Applied => Ok(outcome),
        CommitAttempt::Finished(record) => finished(&record),
        CommitAttempt::Mismatch { .. } => reject(app, id, conflict(app, &plan)?),
        CommitAttempt::Collected(objects) => {
            let rejection = collected(objects[0]).rejection;
            reject(app, id, rejection)
        }
    }
}

/// Returns the outcome an earlier commit stored, or the rejection for an
/// export that cannot be committed.
fn stored_outcome(record: &ExportRecord) -> Result<Option<CommitOutcome>, ApiError> {
    if let Some(text) = &record.outcome {
        let outcome = serde_json::from_str(text).map_err(|error| ApiError::internal(&error))?;
        return Ok(Some(outcome));
    }
    match record.state {
        ferry_core::protocol::ExportState::Prepared => Ok(None),
        _ => finished(record).map(Some),
    }
}

fn finished(record: &ExportRecord) -> Result<CommitOutcome, ApiError> {
    if let Some(text) = &record.outcome {
        return serde_json::from_str(text).map_err(|error| ApiError::internal(&error));
    }
    let id = record.id;
    let error = match record.state {
        ferry_core::protocol::ExportState::Aborted => ApiError::new(
            RejectionCode::ExportExpired,
            format!("export {id} was aborted or expired before it was committed"),
        )
        .with_hint("run the export again; objects already uploaded are reused"),
        state => ApiError::new(
            RejectionCode::InvalidState,
            format!(
                "export {id} is {}; prepare it before commit",
                state.as_str()
            ),
        ),
    };
    Err(error)
}

fn read_plan(record: &ExportRecord) -> Result<Plan, ApiError> {
    let text = record.plan.as_deref().ok_or_else(|| {
        ApiError::new(
            RejectionCode::InvalidState,
            format!("export {} has no prepared plan", record.id),
        )
    })?;
    serde_json::from_str(text).map_err(|error| ApiError::internal(&error))
}

/// Builds the rejection for a plan whose compare-and-swap failed, naming
/// every ref that moved since prepare.
fn conflict(app: &AppState, plan: &Plan) -> Result<Rejection, ApiError> {
    let graph = StoreGraph::new(app.stores.objects.as_ref());
    let mut problems = Vec::new();
    for planned in &plan.refs {
        let actual = app.stores.refs.get_ref("", &planned.name)?;
        if actual == planned.old {
            continue;
        }
        let code = if planned.name.is_head() {
            RejectionCode::Diverged
        } else {
            RejectionCode::TagExists
        };
        problems.push(problem(
            &graph,
            code,
            &planned.name,
            planned.old,
            actual,
            planned.new,
        )?);
    }
    if problems.is_empty() {
        // The ref moved and moved back between the attempt and this read.
        return Ok(Rejection::new(
            RejectionCode::Diverged,
            "a ref changed while the export was committed",
        )
        .with_hint("fetch and export again"));
    }
    Ok(ref_rejection(problems))
}

/// Stores `rejection` as the outcome of export `id` and returns the stored
/// outcome, which is an earlier one if another commit finished first.
fn reject(app: &AppState, id: &ExportId, rejection: Rejection) -> Result<CommitOutcome, ApiError> {
    let outcome = CommitOutcome::Rejected(rejection);
    let text = serde_json::to_string(&outcome).map_err(|error| ApiError::internal(&error))?;
    let record = app
        .stores
        .exports
        .finish_aborted(id, Some(&text), now_ms())?;
    finished(&record)
}

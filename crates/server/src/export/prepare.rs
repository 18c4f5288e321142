//! Prepare: check the ref updates of an export and record the plan.
//!
//! For each update: the ref belongs to the export's scope; the closure of
//! its new value is complete; the ref still contains the value the client
//! expected; a head only moves to a descendant, and a tag is only created.
//! A ref that already holds the new value is unchanged, so re-creating a
//! lane with identical content is a no-op. Nothing is written to refs
//! here: the plan's compare-and-swaps run at commit, so a ref that moves
//! between prepare and commit is still caught.

use std::collections::HashSet;

use ferry_core::ancestry::{is_ancestor, merge_base};
use ferry_core::protocol::{
    ExportId, PrepareRequest, PrepareResponse, RefAction, RefProblem, RefResult, RefUpdate,
    Rejection, RejectionCode,
};
use ferry_core::{ObjectId, RefName};

use super::{check_item_count, closure, load_live, Plan};
use crate::error::ApiError;
use crate::failpoints;
use crate::graph::StoreGraph;
use crate::state::{now_ms, AppState};

/// Checks `request` for export `id` and records its plan.
pub fn prepare(
    app: &AppState,
    id: &ExportId,
    request: &PrepareRequest,
) -> Result<PrepareResponse, ApiError> {
    check_item_count(app, "ref updates", request.updates.len())?;
    check_unique(&request.updates)?;
    let record = load_live(app, id)?;
    check_scope(&record.scope, &request.updates)?;

    let graph = StoreGraph::new(app.stores.objects.as_ref());
    let heads: Vec<_> = request
        .updates
        .iter()
        .map(|update| (update.new, update.name.component().clone()))
        .collect();
    let closure = closure::walk(app, &graph, &heads).map_err(|error| ended_or(app, id, error))?;
    let collecting =
        app.stores
            .exports
            .record_objects(id, &closure.objects, now_ms(), app.lease_ms())?;
    failpoints::hit("prepare.after_record");
    if let Some(object) = collecting.first() {
        return Err(collected(*object));
    }
    closure.check_blobs_present(app)?;

    let refs = plan_refs(app, &graph, &request.updates)?;
    let plan = Plan { refs };
    let text = serde_json::to_string(&plan).map_err(|error| ApiError::internal(&error))?;
    failpoints::hit("prepare.before_store");
    app.stores
        .exports
        .set_prepared(id, &text, now_ms(), app.lease_ms())?;
    Ok(PrepareResponse {
        refs: plan.refs,
        new_objects: closure.objects.len() as u64,
    })
}

/// Returns the rejection of export `id` if it is no longer live, else
/// `error`. A long closure walk can outlast the export's lease, and once
/// the export has expired a collection may remove the objects it uploaded,
/// so a snap the walk finds missing is then no fault of the client.
fn ended_or(app: &AppState, id: &ExportId, error: ApiError) -> ApiError {
    match load_live(app, id) {
        Ok(_) => error,
        Err(ended) => ended,
    }
}

/// Returns the rejection for an object that garbage collection is
/// removing.
pub fn collected(object: ObjectId) -> ApiError {
    ApiError::new(
        RejectionCode::ObjectCollected,
        format!("object {object} is being removed by garbage collection"),
    )
    .with_hint("run the export again; it uploads the object anew")
}

fn check_unique(updates: &[RefUpdate]) -> Result<(), ApiError> {
    let mut seen = HashSet::new();
    for update in updates {
        if !seen.insert(&update.name) {
            return Err(ApiError::new(
                RejectionCode::InvalidRequest,
                format!("ref {} is listed twice", update.name),
            ));
        }
    }
    Ok(())
}

fn check_scope(scope: &ferry_core::ScopeName, updates: &[RefUpdate]) -> Result<(), ApiError> {
    for update in updates {
        let owner = update.name.owning_scope();
        if owner != *scope {
            return Err(ApiError::new(
                RejectionCode::WrongScope,
                format!(
                    "ref {} belongs to scope {owner}, not to {scope}",
                    update.name
                ),
            )
            .with_hint(format!("export refs of {owner} in an export into {owner}")));
        }
    }
    Ok(())
}

fn plan_refs(
    app: &AppState,
    graph: &StoreGraph<'_>,
    updates: &[RefUpdate],
) -> Result<Vec<RefResult>, ApiError> {
    let mut planned = Vec::new();
    let mut problems = Vec::new();
    for update in updates {
        let actual = app.stores.refs.get_ref("", &update.name)?;
        match plan_ref(graph, update, actual)? {
            Ok(result) => planned.push(result),
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::from_rejection(ref_rejection(problems)));
    }
    Ok(planned)
}

/// Decides the effect of an update on a ref whose value is `actual`.
fn plan_ref(
    graph: &StoreGraph<'_>,
    update: &RefUpdate,
    actual: Option<ObjectId>,
) -> Result<Result<RefResult, RefProblem>, ApiError> {
    let result = |action| RefResult {
        name: update.name.clone(),
        old: actual,
        new: update.new,
        action,
    };
    if actual == Some(update.new) {
        return Ok(Ok(result(RefAction::Unchanged)));
    }
    let code = match (actual, update.name.is_head()) {
        (Some(_), false) => RejectionCode::TagExists,
        _ if actual != update.expected => RejectionCode::Diverged,
        (None, _) => return Ok(Ok(result(RefAction::Created))),
        (Some(old), true) => {
            let forward = is_ancestor(graph, old, update.new).map_err(graph_fault)?;
            if forward {
                return Ok(Ok(result(RefAction::FastForwarded)));
            }
            RejectionCode::NonFastForward
        }
    };
    problem(
        graph,
        code,
        &update.name,
        update.expected,
        actual,
        update.new,
    )
    .map(Err)
}

/// Describes a rejected update, with the merge base of the ref's value and
/// the requested one.
pub fn problem(
    graph: &StoreGraph<'_>,
    code: RejectionCode,
    name: &RefName,
    expected: Option<ObjectId>,
    actual: Option<ObjectId>,
    new: ObjectId,
) -> Result<RefProblem, ApiError> {
    let base = match actual {
        Some(actual) if name.is_head() => merge_base(graph, actual, new).map_err(graph_fault)?,
        _ => None,
    };
    Ok(RefProblem {
        name: name.clone(),
        code,
        expected,
        actual,
        new,
        merge_base: base,
    })
}

fn graph_fault(error: crate::graph::GraphError) -> ApiError {
    ApiError::internal(&error)
}

fn show(value: Option<ObjectId>) -> String {
    value.map_or_else(|| "no ref".to_owned(), |id| id.to_string())
}

/// Builds one rejection listing every rejected ref.
pub fn ref_rejection(problems: Vec<RefProblem>) -> Rejection {
    let diverged = problems.iter().any(|p| p.code == RejectionCode::Diverged);
    let code = if diverged {
        RejectionCode::Diverged
    } else {
        problems[0].code
    };
    let lines: Vec<String> = problems.iter().map(describe).collect();
    let hint = match code {
        RejectionCode::TagExists => "a tag never moves; tag the snap with a new version",
        _ => "fetch the remote heads, rebase the local snaps onto them and export again",
    };
    Rejection {
        code,
        message: lines.join("; "),
        hint: Some(hint.to_owned()),
        refs: problems,
    }
}

fn describe(problem: &RefProblem) -> String {
    let base = problem
        .merge_base
        .map_or_else(|| "none".to_owned(), |id| id.to_string());
    match problem.code {
        RejectionCode::TagExists => format!(
            "tag {} exists already at {}, cannot set it to {}",
            problem.name,
            show(problem.actual),
            problem.new
        ),
        RejectionCode::NonFastForward => format!(
            "{} at {} is not an ancestor of {} (merge base {base})",
            problem.name,
            show(problem.actual),
            problem.new
        ),
        _ => format!(
            "{} moved: expected {}, found {} (merge base {base})",
            problem.name,
            show(problem.expected),
            show(problem.actual)
        ),
    }
}

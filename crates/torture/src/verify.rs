//! The checks run once the clients have stopped and the server is quiet.
//!
//! Unknown outcomes are resolved twice, by reopening the export with its
//! idempotency key and by reading it by id, and the two results must
//! agree.
//! The run resolves them only after every export of the run has outlived
//! its lease and the server's sweep has run, so every export is final and
//! the answers cannot change afterwards.

use std::collections::{HashMap, HashSet};

use ferry_client::{export, ExportRequest, NoProgress, RefPush, RemoteClient, RemoteError};
use ferry_core::ancestry::{SnapGraph, SnapNode};
use ferry_core::protocol::{CommitOutcome, ExportInfo, ExportState, IdempotencyKey, RejectionCode};
use ferry_core::{ObjectId, RefName, ScopeName};
use ferry_store::{MemoryRefStore, ObjectStore, ObjectStoreError};
use serde::Serialize;

use crate::client::{attempt_key, error_chain};
use crate::history::{Attempt, Outcome};
use crate::workload::{Author, Names, Payload, SnapBuilder};

/// Snap ancestry read from an object store.
pub struct StoreGraph<'a>(pub &'a dyn ObjectStore);

impl SnapGraph for StoreGraph<'_> {
    type Error = ObjectStoreError;

    fn node(&self, id: &ObjectId) -> Result<SnapNode, ObjectStoreError> {
        let snap = self.0.read_snap(id)?;
        Ok(SnapNode {
            generation: snap.generation,
            parents: snap.parents,
        })
    }
}

/// Figures of the checks that ask the server about exports.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ExportChecks {
    /// Unknown outcomes resolved to committed.
    pub resolved_committed: usize,
    /// Unknown outcomes resolved to not committed.
    pub resolved_not_committed: usize,
    /// Unknown outcomes whose two readings (by key and by id) were compared.
    pub resolutions_compared: usize,
    /// Acknowledged and rejected exports whose state on the server was
    /// checked to match what the client saw.
    pub decided_checked: usize,
    /// Exports of the run found still open or prepared after their lease.
    pub left_live: usize,
    /// Everything wrong.
    pub violations: Vec<String>,
}

/// Resolves every unknown outcome in `attempts` by asking the server.
/// Exports created at or after `resolving_since_ms` (milliseconds since
/// the Unix epoch) were opened by the resolution itself, not by the run.
pub fn resolve_unknowns(
    remote: &RemoteClient,
    scope: &ScopeName,
    run_tag: &str,
    attempts: &mut [Attempt],
    resolving_since_ms: i64,
    checks: &mut ExportChecks,
) -> Result<(), RemoteError> {
    for attempt in attempts.iter_mut() {
        let Outcome::Unknown { error, .. } = &attempt.outcome else {
            continue;
        };
        let error = error.clone();
        let key = attempt_key(run_tag, attempt.client, attempt.seq);
        let committed = resolve_one(remote, scope, &key, attempt, resolving_since_ms, checks)?;
        if committed {
            checks.resolved_committed += 1;
        } else {
            checks.resolved_not_committed += 1;
        }
        attempt.outcome = Outcome::Unknown {
            error,
            resolved: Some(committed),
        };
    }
    Ok(())
}

fn resolve_one(
    remote: &RemoteClient,
    scope: &ScopeName,
    key: &IdempotencyKey,
    attempt: &mut Attempt,
    resolving_since_ms: i64,
    checks: &mut ExportChecks,
) -> Result<bool, RemoteError> {
    let label = format!("client {} attempt {}", attempt.client, attempt.seq);
    let by_key = remote.open_export(scope, Some(key))?;
    let by_id = remote.get_export(&by_key.id)?;
    checks.resolutions_compared += 1;
    if by_key.state != by_id.state || by_key.outcome != by_id.outcome {
        checks.violations.push(format!(
            "{label}: the export read by key is {} but by id {}",
            by_key.state.as_str(),
            by_id.state.as_str()
        ));
    }
    if let Some(recorded) = &attempt.export_id {
        if *recorded != by_id.id.to_string() {
            checks.violations.push(format!(
                "{label}: the key names export {}, not the recorded {recorded}",
                by_id.id
            ));
        }
    }
    attempt.export_id = Some(by_id.id.to_string());
    if by_id.state.is_live() {
        // An export the resolution opened just now never reached the
        // server during the run; any other live export outlived its lease.
        if by_id.created_at_ms < resolving_since_ms {
            checks.left_live += 1;
            checks.violations.push(format!(
                "{label}: export {} is still {} after its lease",
                by_id.id,
                by_id.state.as_str()
            ));
        }
        remote.abort(&by_id.id)?;
        return Ok(false);
    }
    Ok(committed_as_planned(&by_id, attempt, &label, checks))
}

/// Reports whether `info` is committed, checking that a committed export
/// applied exactly the attempt's updates.
fn committed_as_planned(
    info: &ExportInfo,
    attempt: &Attempt,
    label: &str,
    checks: &mut ExportChecks,
) -> bool {
    let Some(CommitOutcome::Committed(report)) = &info.outcome else {
        if info.state == ExportState::Committed {
            checks.violations.push(format!(
                "{label}: export {} is committed without an outcome",
                info.id
            ));
        }
        return false;
    };
    let applied: HashSet<(RefName, ObjectId)> = report
        .refs
        .iter()
        .map(|r| (r.name.clone(), r.new))
        .collect();
    let planned: HashSet<(RefName, ObjectId)> = attempt
        .updates
        .iter()
        .map(|u| (u.name.clone(), u.new))
        .collect();
    if applied != planned {
        checks.violations.push(format!(
            "{label}: export {} applied other updates than the attempt requested",
            info.id
        ));
    }
    true
}

/// Checks that every acknowledged export is committed on the server, with
/// the attempt's updates, and that no export rejected after it was opened
/// is committed.
pub fn check_decided(
    remote: &RemoteClient,
    attempts: &[Attempt],
    checks: &mut ExportChecks,
) -> Result<(), RemoteError> {
    for attempt in attempts {
        let acknowledged = match attempt.outcome {
            Outcome::Committed => true,
            Outcome::Rejected { .. } => false,
            Outcome::Unknown { .. } => continue,
        };
        let label = format!("client {} attempt {}", attempt.client, attempt.seq);
        let Some(id) = attempt.export_id.as_deref() else {
            if acknowledged {
                checks
                    .violations
                    .push(format!("{label}: acknowledged without an export id"));
            }
            continue;
        };
        let id = id
            .parse()
            .expect("export ids were recorded from the server");
        let info = remote.get_export(&id)?;
        checks.decided_checked += 1;
        let committed = committed_as_planned(&info, attempt, &label, checks);
        if committed != acknowledged {
            checks.violations.push(format!(
                "{label}: the client saw {}, but the server has export {id} {}",
                if acknowledged {
                    "a commit"
                } else {
                    "a rejection"
                },
                info.state.as_str()
            ));
        }
    }
    Ok(())
}

/// The export run at the end to show that nothing blocks new exports.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FreshExport {
    /// Refs the export moved or created.
    pub refs: usize,
    /// Whether the server committed it.
    pub committed: bool,
    /// The failure or rejection, when it did not commit.
    pub error: Option<String>,
}

/// Moves every main and lane head in `heads` forward and creates one new
/// component, all in one export.
pub fn fresh_export(
    remote: &RemoteClient,
    names: &Names,
    objects: &dyn ObjectStore,
    heads: &HashMap<RefName, ObjectId>,
) -> FreshExport {
    let Ok(pushes) = fresh_pushes(names, objects, heads) else {
        return failed(0, "cannot write the snaps of the fresh export");
    };
    let request = ExportRequest {
        remote_name: "origin".into(),
        scope: names.scope().clone(),
        updates: pushes,
        idempotency_key: None,
    };

    let refs = MemoryRefStore::new();
    let mut tries = 0;
    loop {
        tries += 1;
        let result = export(objects, &refs, remote, &request, &NoProgress);
        // An export over every head can outlast a very short lease; that
        // is the lease, not something blocking exports, so it is retried.
        let expired = matches!(&result, Ok(report) if report.rejection.as_ref()
            .is_some_and(|r| r.code == RejectionCode::ExportExpired));
        if expired && tries < FRESH_TRIES {
            continue;
        }
        return match result {
            Ok(report) if report.is_committed() => FreshExport {
                refs: report.refs.len(),
                committed: true,
                error: None,
            },
            Ok(report) => failed(report.refs.len(), &format!("{:?}", report.rejection)),
            Err(error) => failed(request.updates.len(), &error_chain(&error)),
        };
    }
}

/// Tries of the fresh export when its lease runs out before the commit.
const FRESH_TRIES: u32 = 3;

/// Writes a new snap on every head in `heads` and a first snap of a new
/// component, and returns the pushes.
fn fresh_pushes(
    names: &Names,
    objects: &dyn ObjectStore,
    heads: &HashMap<RefName, ObjectId>,
) -> Result<Vec<RefPush>, ObjectStoreError> {
    let builder = SnapBuilder::new(objects);
    let author = Author {
        client: u32::MAX,
        seq: 0,
    };
    let payload = Payload { seed: 7, len: 4096 };
    let mut sorted: Vec<_> = heads.iter().filter(|(name, _)| name.is_head()).collect();
    sorted.sort();
    let fresh = names.component("fresh-after-run");
    let targets = sorted
        .into_iter()
        .map(|(name, head)| (name.clone(), Some(*head)))
        .chain([(names.main(&fresh), None)]);

    let mut pushes = Vec::new();
    for (name, head) in targets {
        let snap = builder.snap(name.component(), head, author, "fresh", payload)?;
        pushes.push(RefPush {
            name,
            local: snap,
            expected_remote: head,
        });
    }
    Ok(pushes)
}

fn failed(refs: usize, error: &str) -> FreshExport {
    FreshExport {
        refs,
        committed: false,
        error: Some(error.to_owned()),
    }
}

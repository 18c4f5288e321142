//! Export: push snaps, tags and lane heads from a local scope to a server.
//!
//! The workflow opens an export with an idempotency key, offers the objects
//! the remote may lack, uploads those it reports missing as one pack,
//! prepares the ref updates and commits them. Every step may be repeated
//! safely, so [`RemoteClient`] retries dropped connections, and running
//! [`export`] again with the same key after a failure continues the same
//! export, or returns its outcome if it was already committed. After a
//! commit the local ref namespace `remote/NAME` records the new values.

use std::io::BufWriter;
use std::time::Duration;

use ferry_core::protocol::pack::PackWriter;
use ferry_core::protocol::walk::objects_to_send;
use ferry_core::protocol::{
    CommitReport, ExportId, ExportInfo, IdempotencyKey, RefAction, RefUpdate, Rejection,
    RejectionCode,
};
use ferry_core::{ObjectId, RefName, ScopeName};
use ferry_store::{ObjectStore, ObjectStoreError, RefStore};
use serde::Serialize;

use crate::progress::{Phase, Progress};
use crate::refs::{record_remote_refs, remote_namespace};
use crate::remote::{RemoteClient, RemoteError};

/// One ref to push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefPush {
    /// The ref.
    pub name: RefName,
    /// The local snap the remote ref should point at.
    pub local: ObjectId,
    /// The value the client believes the remote holds, usually read from
    /// `remote/NAME`; `None` when it believes the ref does not exist.
    pub expected_remote: Option<ObjectId>,
}

/// An export request: the remote, the scope and the refs.
#[derive(Clone, Debug)]
pub struct ExportRequest {
    /// The remote's local name, used for the `remote/NAME` ref namespace.
    pub remote_name: String,
    /// The scope whose refs are updated.
    pub scope: ScopeName,
    /// The refs to push.
    pub updates: Vec<RefPush>,
    /// The key that makes a repeated export continue the same one; a fresh
    /// key is made when `None`.
    pub idempotency_key: Option<IdempotencyKey>,
}

/// The result for one ref.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RefStatus {
    /// The ref did not exist and was created.
    Created,
    /// The head moved forward to the new snap.
    FastForwarded,
    /// The ref already held the new snap.
    Unchanged,
    /// The ref was rejected for its own reason.
    Rejected {
        /// The stable reason.
        code: RejectionCode,
        /// The value the client expected.
        expected: Option<ObjectId>,
        /// The value the remote holds.
        actual: Option<ObjectId>,
        /// Their best common ancestor, for heads.
        merge_base: Option<ObjectId>,
    },
    /// The ref was fine, but the export was rejected for another ref or
    /// reason, so nothing was applied.
    NotApplied,
}

/// The result for one ref.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RefReport {
    /// The ref.
    pub name: RefName,
    /// The snap pushed.
    pub new: ObjectId,
    /// The outcome.
    #[serde(flatten)]
    pub status: RefStatus,
}

/// The result of an export.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExportReport {
    /// The export id minted by the server.
    pub export_id: ExportId,
    /// Objects offered in negotiation.
    pub objects_offered: u64,
    /// Objects the remote lacked and that were uploaded.
    pub objects_uploaded: u64,
    /// One entry per pushed ref, in request order.
    pub refs: Vec<RefReport>,
    /// The server's rejection, when nothing was applied.
    pub rejection: Option<Rejection>,
}

impl ExportReport {
    /// Reports whether every ref update was applied.
    pub fn is_committed(&self) -> bool {
        self.rejection.is_none()
    }
}

/// Failures that stop an export before the server decided it.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A request to the server failed or was rejected.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// The local object store failed, or lacks an object of a pushed snap.
    #[error("cannot read the local objects to export")]
    LocalObjects(#[from] ObjectStoreError),
    /// Recording the new remote values in the local ref store failed.
    #[error("the export committed, but recording it in the local refs failed")]
    LocalRefs(#[source] ferry_store::RefUpdateError),
    /// Writing the temporary pack file failed.
    #[error("cannot write the pack to upload")]
    Pack(#[source] std::io::Error),
}

/// Runs an export of `request` from the local stores to `remote`.
pub fn export(
    local_objects: &dyn ObjectStore,
    local_refs: &dyn RefStore,
    remote: &RemoteClient,
    request: &ExportRequest,
    progress: &dyn Progress,
) -> Result<ExportReport, ExportError> {
    progress.start(Phase::Counting, None);
    let offered = offered_objects(local_objects, &request.updates)?;
    progress.finish();

    let key = request
        .idempotency_key
        .clone()
        .unwrap_or_else(IdempotencyKey::random);
    let info = remote.open_export(&request.scope, Some(&key))?;
    tracing::debug!(export_id = %info.id, scope = %request.scope, "export opened");
    let mut report = ExportReport {
        export_id: info.id,
        objects_offered: offered.len() as u64,
        objects_uploaded: 0,
        refs: Vec::new(),
        rejection: None,
    };
    if info.state.is_live() {
        match upload_missing(local_objects, remote, &info, &offered, progress) {
            Ok(uploaded) => report.objects_uploaded = uploaded,
            // An earlier run of this export, still in flight, decided it
            // after the open; the commit below returns that decision.
            Err(ExportError::Remote(error))
                if error.code() == Some(RejectionCode::InvalidState) =>
            {
                tracing::debug!(export_id = %info.id, "export decided during upload");
            }
            Err(error) => return Err(error),
        }
    }

    progress.start(Phase::Committing, Some(request.updates.len() as u64));
    let decided = decide(remote, &info, request);
    progress.finish();
    match decided? {
        Ok(commit) => {
            report.refs = committed_refs(&commit, request);
            let values: Vec<_> = commit
                .refs
                .iter()
                .map(|r| (r.name.clone(), r.new))
                .collect();
            let namespace = remote_namespace(&request.remote_name);
            record_remote_refs(local_refs, &namespace, &values).map_err(ExportError::LocalRefs)?;
        }
        Err(rejection) => {
            report.refs = rejected_refs(&rejection, request);
            report.rejection = Some(rejection);
        }
    }
    Ok(report)
}

/// Returns the objects of the pushed snaps that the remote may lack: all
/// snaps not behind the expected remote values, and their blobs.
fn offered_objects(
    objects: &dyn ObjectStore,
    updates: &[RefPush],
) -> Result<Vec<ObjectId>, ObjectStoreError> {
    let wants: Vec<_> = updates.iter().map(|update| update.local).collect();
    let mut haves = Vec::new();
    for expected in updates.iter().filter_map(|update| update.expected_remote) {
        if objects.contains(&expected)? {
            haves.push(expected);
        }
    }
    objects_to_send(|id| objects.read_snap(id), &wants, &haves)
}

/// Negotiates and uploads the objects the remote lacks; returns how many.
fn upload_missing(
    objects: &dyn ObjectStore,
    remote: &RemoteClient,
    info: &ExportInfo,
    offered: &[ObjectId],
    progress: &dyn Progress,
) -> Result<u64, ExportError> {
    let missing = negotiate(remote, &info.id, offered)?;
    if missing.is_empty() {
        return Ok(0);
    }
    progress.start(Phase::Uploading, Some(missing.len() as u64));
    let file = tempfile::NamedTempFile::new().map_err(ExportError::Pack)?;
    let mut pack = PackWriter::new(BufWriter::new(file.as_file())).map_err(ExportError::Pack)?;
    for id in &missing {
        let compressed = objects.read_compressed(id)?;
        pack.write_compressed(id, &compressed)
            .map_err(ExportError::Pack)?;
        progress.advance(1);
    }
    pack.finish().map_err(ExportError::Pack)?;
    remote.upload(&info.id, file.path())?;
    progress.finish();
    Ok(missing.len() as u64)
}

/// How often an offer is repeated while garbage collection removes one of
/// the offered objects, and the wait before the first repeat, doubled for
/// each later one: about three seconds in all.
const COLLECTION_RETRIES: u32 = 5;
const COLLECTION_FIRST_DELAY: Duration = Duration::from_millis(100);

/// Offers `offered` for export `id` and returns the ids to upload. The
/// server rejects an offer with `object_collected` while a collection
/// removes one of the objects. A collection ends within moments, and then
/// the object is absent and can be uploaded, so the offer is repeated a
/// few times before the rejection is passed on.
fn negotiate(
    remote: &RemoteClient,
    id: &ExportId,
    offered: &[ObjectId],
) -> Result<Vec<ObjectId>, RemoteError> {
    let mut delay = COLLECTION_FIRST_DELAY;
    for _ in 0..COLLECTION_RETRIES {
        match remote.negotiate(id, offered) {
            Err(error) if error.code() == Some(RejectionCode::ObjectCollected) => {
                tracing::debug!(export_id = %id, "an offered object is being collected; waiting");
                std::thread::sleep(delay);
                delay *= 2;
            }
            other => return other,
        }
    }
    remote.negotiate(id, offered)
}

/// Prepares and commits, returning the commit report or the rejection that
/// decided the export. A prepare repeated after the export was committed
/// is rejected as in an invalid state; the commit then returns the stored
/// outcome.
fn decide(
    remote: &RemoteClient,
    info: &ExportInfo,
    request: &ExportRequest,
) -> Result<Result<CommitReport, Rejection>, ExportError> {
    if info.state.is_live() {
        let updates: Vec<RefUpdate> = request
            .updates
            .iter()
            .map(|update| RefUpdate {
                name: update.name.clone(),
                expected: update.expected_remote,
                new: update.local,
            })
            .collect();
        match remote.prepare(&info.id, &updates) {
            Ok(_) => {}
            Err(error) if error.code() == Some(RejectionCode::InvalidState) => {}
            Err(RemoteError::Rejected { rejection, .. }) => {
                abort_quietly(remote, &info.id);
                return Ok(Err(rejection));
            }
            Err(error) => return Err(error.into()),
        }
    }
    match remote.commit(&info.id) {
        Ok(report) => Ok(Ok(report)),
        Err(RemoteError::Rejected { rejection, .. }) => Ok(Err(rejection)),
        Err(error) => Err(error.into()),
    }
}

/// Aborts a rejected export so its objects become collectable; a failure
/// only delays that until the lease runs out.
fn abort_quietly(remote: &RemoteClient, id: &ExportId) {
    if let Err(error) = remote.abort(id) {
        tracing::warn!(export_id = %id, error = %error, "aborting a rejected export failed");
    }
}

fn committed_refs(commit: &CommitReport, request: &ExportRequest) -> Vec<RefReport> {
    request
        .updates
        .iter()
        .map(|update| {
            let action = commit
                .refs
                .iter()
                .find(|result| result.name == update.name)
                .map(|result| result.action);
            let status = match action {
                Some(RefAction::Created) => RefStatus::Created,
                Some(RefAction::FastForwarded) => RefStatus::FastForwarded,
                Some(RefAction::Unchanged) => RefStatus::Unchanged,
                None => RefStatus::NotApplied,
            };
            RefReport {
                name: update.name.clone(),
                new: update.local,
                status,
            }
        })
        .collect()
}

fn rejected_refs(rejection: &Rejection, request: &ExportRequest) -> Vec<RefReport> {
    request
        .updates
        .iter()
        .map(|update| {
            let problem = rejection.refs.iter().find(|p| p.name == update.name);
            let status = match problem {
                Some(problem) => RefStatus::Rejected {
                    code: problem.code,
                    expected: problem.expected,
                    actual: problem.actual,
                    merge_base: problem.merge_base,
                },
                None => RefStatus::NotApplied,
            };
            RefReport {
                name: update.name.clone(),
                new: update.local,
                status,
            }
        })
        .collect()
}

//! Fetch and import: bring snaps, tags and lane heads from a server into a
//! local scope.
//!
//! [`fetch`] lists the remote refs of a scope and requests the objects
//! behind the selected ones that the local store lacks. It verifies each
//! object's digest while it streams in and makes the objects durable. Only
//! then does it record the remote values in `remote/NAME`, so a recorded
//! ref never points at a missing object. [`import`] also creates or fast-forwards the
//! local refs.

use std::collections::HashSet;
use std::io::Read;

use ferry_core::ancestry::{is_ancestor, SnapGraph, SnapNode};
use ferry_core::protocol::pack::{verify_object, PackError, PackLimits, PackReader, VerifyError};
use ferry_core::protocol::RefValue;
use ferry_core::{ComponentId, LaneId, ObjectId, RefName, ScopeName};
use ferry_store::{ObjectStore, ObjectStoreError, RefEdit, RefStore, RefUpdateError};
use serde::Serialize;

use crate::progress::{Phase, Progress};
use crate::refs::{record_remote_refs, remote_namespace};
use crate::remote::{RemoteClient, RemoteError};

/// Size limits for packs received from a server.
pub const RECEIVE_LIMITS: PackLimits = PackLimits {
    max_object_bytes: 1 << 30,
    max_pack_bytes: u64::MAX,
};

/// The remote refs to bring in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefSelection {
    /// Every ref of the scope.
    All,
    /// The main heads and tags of these components.
    Components(Vec<ComponentId>),
    /// The heads of this lane.
    Lane(LaneId),
}

impl RefSelection {
    /// Reports whether `name` is selected.
    pub fn matches(&self, name: &RefName) -> bool {
        match (self, name) {
            (RefSelection::All, _) => true,
            (RefSelection::Components(components), RefName::Main(c) | RefName::Tag(c, _)) => {
                components.contains(c)
            }
            (RefSelection::Lane(lane), RefName::Lane(l, _)) => lane == l,
            _ => false,
        }
    }
}

/// A fetch request: the remote, the scope and the refs.
#[derive(Clone, Debug)]
pub struct FetchRequest {
    /// The remote's local name, used for the `remote/NAME` ref namespace.
    pub remote_name: String,
    /// The scope to fetch from.
    pub scope: ScopeName,
    /// The refs to bring in.
    pub selection: RefSelection,
}

/// The result of a fetch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FetchReport {
    /// The selected remote refs and their values, now recorded locally.
    pub refs: Vec<RefValue>,
    /// Objects received.
    pub objects_received: u64,
    /// Objects the local store did not hold before.
    pub objects_written: u64,
}

/// The effect of an import on one local ref.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// The local ref did not exist and was created.
    Created,
    /// The local head moved forward to the remote value.
    FastForwarded,
    /// The local ref already held the remote value.
    Unchanged,
    /// The local head already contains the remote value and has more
    /// snaps on top. It was left alone.
    Ahead,
    /// The local ref and the remote value each have snaps the other
    /// lacks, or a tag differs. It was left alone.
    Diverged,
}

/// The result of an import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The fetch that brought the objects.
    pub fetch: FetchReport,
    /// Each selected ref and what happened to its local value.
    pub refs: Vec<(RefName, ImportStatus)>,
}

/// Failures of a fetch or an import.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A request to the server failed or was rejected.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// The pack from the server is malformed or truncated.
    #[error("the server sent an invalid pack")]
    Pack(#[from] PackError),
    /// An object from the server is not what it claims to be.
    #[error("the server sent an invalid object")]
    Object(#[from] VerifyError),
    /// The local object store failed.
    #[error("the local object store failed")]
    LocalObjects(#[from] ObjectStoreError),
    /// Updating local refs failed.
    #[error("updating the local refs failed")]
    LocalRefs(#[from] RefUpdateError),
    /// After the fetch, a selected head is still missing locally.
    #[error("the server did not send snap {0}")]
    Incomplete(ObjectId),
}

/// Fetches the selected refs of a scope into the local stores and records
/// their remote values in `remote/NAME`.
pub fn fetch(
    local_objects: &dyn ObjectStore,
    local_refs: &dyn RefStore,
    remote: &RemoteClient,
    request: &FetchRequest,
    progress: &dyn Progress,
) -> Result<FetchReport, FetchError> {
    let namespace = remote_namespace(&request.remote_name);
    let listed = remote.list_refs(&request.scope)?;
    let selected: Vec<RefValue> = listed
        .refs
        .into_iter()
        .filter(|value| request.selection.matches(&value.name))
        .collect();

    let mut wants = Vec::new();
    let mut seen = HashSet::new();
    for value in &selected {
        if seen.insert(value.id) && !local_objects.contains(&value.id)? {
            wants.push(value.id);
        }
    }
    let haves = local_haves(local_objects, local_refs, &namespace, &selected)?;

    let mut report = FetchReport {
        refs: selected,
        objects_received: 0,
        objects_written: 0,
    };
    if !wants.is_empty() {
        progress.start(Phase::Receiving, None);
        let body = remote.fetch(&request.scope, &wants, &haves)?;
        let (received, written) = receive_pack(local_objects, body, progress)?;
        progress.finish();
        report.objects_received = received;
        report.objects_written = written;
    }
    for id in &wants {
        if !local_objects.contains(id)? {
            return Err(FetchError::Incomplete(*id));
        }
    }
    local_objects.flush()?;

    let values: Vec<_> = report.refs.iter().map(|v| (v.name.clone(), v.id)).collect();
    record_remote_refs(local_refs, &namespace, &values)?;
    Ok(report)
}

/// Returns local snaps, recorded for the remote or in the local scope, of
/// the selected refs; their closures are complete locally.
fn local_haves(
    objects: &dyn ObjectStore,
    refs: &dyn RefStore,
    namespace: &str,
    selected: &[RefValue],
) -> Result<Vec<ObjectId>, FetchError> {
    let mut haves = HashSet::new();
    for value in selected {
        for space in [namespace, ""] {
            if let Some(id) = refs
                .get_ref(space, &value.name)
                .map_err(RefUpdateError::from)?
            {
                if objects.contains(&id)? {
                    haves.insert(id);
                }
            }
        }
    }
    Ok(haves.into_iter().collect())
}

/// Verifies every object of the pack in `body` and stores them in one
/// batch; returns the counts received and written.
fn receive_pack(
    objects: &dyn ObjectStore,
    body: impl Read,
    progress: &dyn Progress,
) -> Result<(u64, u64), FetchError> {
    let mut pack = PackReader::new(body, RECEIVE_LIMITS)?;
    let batch = objects.batch();
    let mut buffer = Vec::new();
    while let Some(claimed) = pack.next_entry(&mut buffer)? {
        verify_object(claimed, &buffer, RECEIVE_LIMITS.max_object_bytes)?;
        // The batch skips objects the store has already.
        batch.add_compressed(&claimed, &buffer)?;
        progress.advance(1);
    }
    let written = batch.commit()?;
    Ok((pack.entries(), written as u64))
}

/// Fetches like [`fetch`], then creates each selected local ref that does
/// not exist and fast-forwards each local head the remote value descends
/// from.
pub fn import(
    local_objects: &dyn ObjectStore,
    local_refs: &dyn RefStore,
    remote: &RemoteClient,
    request: &FetchRequest,
    progress: &dyn Progress,
) -> Result<ImportReport, FetchError> {
    let fetched = fetch(local_objects, local_refs, remote, request, progress)?;
    let graph = LocalGraph(local_objects);
    let mut refs = Vec::new();
    let mut edits = Vec::new();
    for value in &fetched.refs {
        let (status, edit) = plan_ref(&graph, local_refs, value)?;
        refs.push((value.name.clone(), status));
        edits.extend(edit);
    }
    // One transaction for every ref: a local ref that changed meanwhile
    // fails the whole update, and nothing moves.
    if !edits.is_empty() {
        local_refs.update_refs("", &edits)?;
    }
    Ok(ImportReport {
        fetch: fetched,
        refs,
    })
}

/// Returns what importing `value` does to its local ref, and the edit
/// that does it, if any.
fn plan_ref(
    graph: &LocalGraph<'_>,
    refs: &dyn RefStore,
    value: &RefValue,
) -> Result<(ImportStatus, Option<RefEdit>), FetchError> {
    let local = refs
        .get_ref("", &value.name)
        .map_err(RefUpdateError::from)?;
    let status = match local {
        None => ImportStatus::Created,
        Some(local) if local == value.id => return Ok((ImportStatus::Unchanged, None)),
        Some(local) if value.name.is_head() && is_ancestor(graph, local, value.id)? => {
            ImportStatus::FastForwarded
        }
        Some(local) if value.name.is_head() && is_ancestor(graph, value.id, local)? => {
            return Ok((ImportStatus::Ahead, None))
        }
        Some(_) => return Ok((ImportStatus::Diverged, None)),
    };
    let edit = RefEdit {
        name: value.name.clone(),
        expected: local,
        new: Some(value.id),
    };
    Ok((status, Some(edit)))
}

/// Snap ancestry read from the local object store.
struct LocalGraph<'a>(&'a dyn ObjectStore);

impl SnapGraph for LocalGraph<'_> {
    type Error = ObjectStoreError;

    fn node(&self, id: &ObjectId) -> Result<SnapNode, ObjectStoreError> {
        let snap = self.0.read_snap(id)?;
        Ok(SnapNode {
            generation: snap.generation,
            parents: snap.parents,
        })
    }
}

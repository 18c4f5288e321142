//! The wire protocol between a ferry client and a scope server.
//!
//! Requests and responses are JSON, except object transfers, which use the
//! streaming pack format of [`pack`]. Every id and name in these types is a
//! validated type, so deserializing a request also validates it. A handler
//! never receives a raw string where an id, a ref or a scope belongs.
//!
//! An export moves through [`ExportState`]s on the server:
//! open, then prepared once its ref updates are checked, then committed when
//! they are applied, or aborted when it is given up or its lease runs out.

mod ids;
pub mod pack;
mod rejection;
pub mod walk;

use serde::{Deserialize, Serialize};

use crate::id::ObjectId;
use crate::name::ScopeName;
use crate::refname::RefName;

pub use ids::{ExportId, ExportIdError, IdempotencyKey, IdempotencyKeyError};
pub use rejection::{RefProblem, Rejection, RejectionCode};

/// Version prefix of every endpoint path.
pub const API_PREFIX: &str = "/v1";

/// Request to create a scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateScopeRequest {
    /// The scope to create.
    pub name: ScopeName,
}

/// The scopes a server hosts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeList {
    /// Scope names, sorted.
    pub scopes: Vec<ScopeName>,
}

/// One ref and the snap it points at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefValue {
    /// The ref.
    pub name: RefName,
    /// The snap it points at.
    pub id: ObjectId,
}

/// The refs of a scope, sorted by key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefList {
    /// Refs and their values.
    pub refs: Vec<RefValue>,
}

/// Request to open an export into a scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenExportRequest {
    /// The scope whose refs the export updates.
    pub scope: ScopeName,
    /// A client-chosen key: opening again with the same key returns the
    /// same export instead of a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<IdempotencyKey>,
}

/// The states of an export on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportState {
    /// Accepting negotiation and uploads.
    Open,
    /// Ref updates checked and recorded; waiting for commit.
    Prepared,
    /// Ref updates applied. Final.
    Committed,
    /// Given up: aborted by the client, expired, or rejected at commit.
    /// Final.
    Aborted,
}

impl ExportState {
    /// Returns the state's name as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportState::Open => "open",
            ExportState::Prepared => "prepared",
            ExportState::Committed => "committed",
            ExportState::Aborted => "aborted",
        }
    }

    /// Reports whether the export can still change state.
    pub fn is_live(self) -> bool {
        matches!(self, ExportState::Open | ExportState::Prepared)
    }
}

impl std::str::FromStr for ExportState {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "open" => Ok(ExportState::Open),
            "prepared" => Ok(ExportState::Prepared),
            "committed" => Ok(ExportState::Committed),
            "aborted" => Ok(ExportState::Aborted),
            other => Err(format!("unknown export state {other:?}")),
        }
    }
}

/// The server-side record of one export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportInfo {
    /// The export id minted by the server.
    pub id: ExportId,
    /// The scope the export updates.
    pub scope: ScopeName,
    /// The current state.
    pub state: ExportState,
    /// When the export was opened, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// When the lease ends unless the client keeps using the export, in
    /// milliseconds since the Unix epoch.
    pub expires_at_ms: i64,
    /// The outcome once the export is committed or was rejected at commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<CommitOutcome>,
}

/// The ids a client intends to upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NegotiateRequest {
    /// Ids of every object the export needs that the client does not know
    /// the server to hold.
    pub offered: Vec<ObjectId>,
}

/// The offered ids the server lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NegotiateResponse {
    /// Ids to upload, in the order they were offered.
    pub missing: Vec<ObjectId>,
}

/// Result of one pack upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadResponse {
    /// Objects in the pack.
    pub received: u64,
    /// Objects the store did not hold before.
    pub written: u64,
}

/// One ref change an export requests.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RefUpdate {
    /// The ref to set.
    pub name: RefName,
    /// The value the client believes the server holds; `None` when it
    /// believes the ref does not exist yet.
    pub expected: Option<ObjectId>,
    /// The snap the ref should point at.
    pub new: ObjectId,
}

/// Request to check and record the ref updates of an export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepareRequest {
    /// Updates to apply at commit. The server rejects a ref listed twice.
    pub updates: Vec<RefUpdate>,
}

/// The effect of a ref update, as planned at prepare and applied at commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefAction {
    /// The ref did not exist and is created.
    Created,
    /// The head moves to a descendant of its current value.
    FastForwarded,
    /// The ref already contains the new value.
    Unchanged,
}

/// The planned or applied effect on one ref.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefResult {
    /// The ref.
    pub name: RefName,
    /// Its value before the export.
    pub old: Option<ObjectId>,
    /// Its value after the export.
    pub new: ObjectId,
    /// The effect.
    pub action: RefAction,
}

/// Response to a successful prepare.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepareResponse {
    /// The planned effect on each ref.
    pub refs: Vec<RefResult>,
    /// Objects in the closure of the new heads that no ref reached before.
    pub new_objects: u64,
}

/// The applied effect of a committed export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitReport {
    /// The export.
    pub export_id: ExportId,
    /// The effect on each ref.
    pub refs: Vec<RefResult>,
}

/// The final outcome of a commit, stored with the export so that a repeated
/// commit returns it unchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CommitOutcome {
    /// Every ref update applied.
    Committed(CommitReport),
    /// No ref update applied.
    Rejected(Rejection),
}

/// Request for the objects behind some heads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchRequest {
    /// Snaps whose closure the client wants.
    pub wants: Vec<ObjectId>,
    /// Snaps the client has with their whole closure. The server skips
    /// them, their ancestors, and the blobs they share with wanted snaps.
    #[serde(default)]
    pub haves: Vec<ObjectId>,
}

/// Counts of a garbage collection run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectReport {
    /// Live exports whose lease had run out and that are now aborted.
    pub expired: u64,
    /// Objects removed from the object store.
    pub removed: u64,
}

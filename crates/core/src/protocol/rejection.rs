//! Typed rejections: the JSON body of every failed request.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::id::ObjectId;
use crate::refname::RefName;

/// A stable, machine-readable reason for a rejection. The text form is part
/// of the protocol and never changes meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionCode {
    /// The request body or a path parameter does not parse.
    InvalidRequest,
    /// No scope of that name exists on the server.
    UnknownScope,
    /// The scope to create exists already.
    ScopeExists,
    /// The export id was never minted by this server.
    UnknownExport,
    /// The idempotency key belongs to an export into another scope.
    IdempotencyKeyReused,
    /// The export is in a state that does not allow the request.
    InvalidState,
    /// The export's lease ran out; it is aborted.
    ExportExpired,
    /// A pack entry hashes to a different id than it claims.
    DigestMismatch,
    /// The pack is malformed or truncated.
    InvalidPack,
    /// An object in the pack is not a valid encoding.
    InvalidObject,
    /// An object is larger than the server accepts.
    ObjectTooLarge,
    /// A pack is larger than the server accepts.
    PackTooLarge,
    /// A request lists more ids or refs than the server accepts.
    TooManyItems,
    /// The pack contains an object the export did not offer in negotiation.
    UnexpectedObject,
    /// An object that the closure of a new head needs is missing.
    IncompleteClosure,
    /// A snap is not of the component its ref names, or has a wrong
    /// generation.
    InvalidSnap,
    /// A ref belongs to another scope than the export's.
    WrongScope,
    /// A head moved on since the client last read it.
    Diverged,
    /// The new head does not descend from the current head.
    NonFastForward,
    /// A tag exists already with another value.
    TagExists,
    /// An object the export relies on is being removed by garbage
    /// collection; retrying the export uploads it again.
    ObjectCollected,
    /// The server failed; the cause is in its log.
    Internal,
}

impl RejectionCode {
    /// Returns the code's wire form.
    pub fn as_str(self) -> &'static str {
        use RejectionCode::*;
        match self {
            InvalidRequest => "invalid_request",
            UnknownScope => "unknown_scope",
            ScopeExists => "scope_exists",
            UnknownExport => "unknown_export",
            IdempotencyKeyReused => "idempotency_key_reused",
            InvalidState => "invalid_state",
            ExportExpired => "export_expired",
            DigestMismatch => "digest_mismatch",
            InvalidPack => "invalid_pack",
            InvalidObject => "invalid_object",
            ObjectTooLarge => "object_too_large",
            PackTooLarge => "pack_too_large",
            TooManyItems => "too_many_items",
            UnexpectedObject => "unexpected_object",
            IncompleteClosure => "incomplete_closure",
            InvalidSnap => "invalid_snap",
            WrongScope => "wrong_scope",
            Diverged => "diverged",
            NonFastForward => "non_fast_forward",
            TagExists => "tag_exists",
            ObjectCollected => "object_collected",
            Internal => "internal",
        }
    }
}

impl fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rejection of one ref update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefProblem {
    /// The ref.
    pub name: RefName,
    /// The reason.
    pub code: RejectionCode,
    /// The value the client expected the ref to hold.
    pub expected: Option<ObjectId>,
    /// The value the ref holds.
    pub actual: Option<ObjectId>,
    /// The value the client asked for.
    pub new: ObjectId,
    /// The best common ancestor of `actual` and `new`, when both exist and
    /// share history.
    pub merge_base: Option<ObjectId>,
}

/// The JSON body of a rejected request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    /// The stable reason.
    pub code: RejectionCode,
    /// A description of the failure, naming the values involved.
    pub message: String,
    /// The next step for the user, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Each rejected ref, for rejections of ref updates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<RefProblem>,
}

impl Rejection {
    /// Builds a rejection without a hint or refs.
    pub fn new(code: RejectionCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: None,
            refs: Vec::new(),
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_wire_form_matches_name() {
        for code in [
            RejectionCode::Diverged,
            RejectionCode::UnknownExport,
            RejectionCode::IdempotencyKeyReused,
        ] {
            let json = serde_json::to_string(&code).expect("serializes");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}

//! Rejections as HTTP responses.
//!
//! Client errors go back as written: a status, and a JSON [`Rejection`]
//! with a stable code, a message naming the values and a hint. Server
//! faults go back as a generic 500 whose cause is logged once, here, at the
//! point where it is turned into a response body.

use std::error::Error as StdError;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferry_core::protocol::pack::{PackError, VerifyError};
use ferry_core::protocol::{Rejection, RejectionCode};
use ferry_store::{ExportStoreError, ObjectStoreError, StoreError};

/// A rejected request.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body.
    pub rejection: Rejection,
}

/// Returns the HTTP status that goes with `code`.
pub fn status_of(code: RejectionCode) -> StatusCode {
    use RejectionCode::*;
    match code {
        InvalidRequest | DigestMismatch | InvalidPack | InvalidObject | UnexpectedObject => {
            StatusCode::BAD_REQUEST
        }
        UnknownScope | UnknownExport => StatusCode::NOT_FOUND,
        ScopeExists | IdempotencyKeyReused | InvalidState | Diverged | NonFastForward
        | TagExists | ObjectCollected => StatusCode::CONFLICT,
        ExportExpired => StatusCode::GONE,
        ObjectTooLarge | PackTooLarge | TooManyItems => StatusCode::PAYLOAD_TOO_LARGE,
        IncompleteClosure | InvalidSnap | WrongScope => StatusCode::UNPROCESSABLE_ENTITY,
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// Builds a rejection with the status that goes with `code`.
    pub fn new(code: RejectionCode, message: impl Into<String>) -> Self {
        Self::from_rejection(Rejection::new(code, message))
    }

    /// Wraps a complete rejection.
    pub fn from_rejection(rejection: Rejection) -> Self {
        Self {
            status: status_of(rejection.code),
            rejection,
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.rejection.hint = Some(hint.into());
        self
    }

    /// Logs `error` with its causes and returns a generic 500.
    pub fn internal(error: &(dyn StdError + 'static)) -> Self {
        tracing::error!(error = %error_chain(error), "request failed on a server fault");
        Self::new(
            RejectionCode::Internal,
            "the server failed to handle the request; the cause is in its log",
        )
    }

    /// Returns the stable code.
    pub fn code(&self) -> RejectionCode {
        self.rejection.code
    }
}

/// Joins an error and its sources into one line.
pub fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.rejection.clone())).into_response();
        // Read by the request logger, which states the outcome.
        response.extensions_mut().insert(self.rejection);
        response
    }
}

impl From<ExportStoreError> for ApiError {
    fn from(error: ExportStoreError) -> Self {
        use RejectionCode::*;
        let message = error.to_string();
        match error {
            ExportStoreError::UnknownExport(_) => ApiError::new(UnknownExport, message)
                .with_hint("open a new export; export ids come only from this server"),
            ExportStoreError::UnknownScope(scope) => ApiError::new(UnknownScope, message)
                .with_hint(format!("create it first with `ferry scope create {scope}`")),
            ExportStoreError::ScopeExists(_) => ApiError::new(ScopeExists, message),
            ExportStoreError::KeyReused { .. } => ApiError::new(IdempotencyKeyReused, message)
                .with_hint("use a fresh idempotency key for each export"),
            ExportStoreError::InvalidState { .. } => ApiError::new(InvalidState, message),
            ExportStoreError::Expired(_) => ApiError::new(ExportExpired, message)
                .with_hint("run the export again; objects already uploaded are reused"),
            ExportStoreError::Store(ref source) => ApiError::internal(source),
            ExportStoreError::Removal { .. } => ApiError::internal(&error),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::internal(&error)
    }
}

impl From<ObjectStoreError> for ApiError {
    fn from(error: ObjectStoreError) -> Self {
        ApiError::internal(&error)
    }
}

impl From<PackError> for ApiError {
    fn from(error: PackError) -> Self {
        let code = match error {
            PackError::ObjectTooLarge { .. } => RejectionCode::ObjectTooLarge,
            PackError::PackTooLarge { .. } => RejectionCode::PackTooLarge,
            _ => RejectionCode::InvalidPack,
        };
        ApiError::new(code, error_chain(&error))
    }
}

impl From<VerifyError> for ApiError {
    fn from(error: VerifyError) -> Self {
        let code = match error {
            VerifyError::DigestMismatch { .. } => RejectionCode::DigestMismatch,
            VerifyError::TooLarge { .. } => RejectionCode::ObjectTooLarge,
            VerifyError::Decompress { .. } | VerifyError::Invalid { .. } => {
                RejectionCode::InvalidObject
            }
        };
        ApiError::new(code, error_chain(&error))
    }
}

//! HTTP routes: parse, run one library step on the blocking pool, respond.
//!
//! Every request runs inside a `request` span carrying the path, export
//! id, scope and object count, and ends with one event stating its outcome.
//! Store calls block, so they run in `spawn_blocking`, never on the async
//! workers.

use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use ferry_core::protocol::pack;
use ferry_core::protocol::Rejection;
use ferry_core::protocol::{
    CommitOutcome, CreateScopeRequest, FetchRequest, NegotiateRequest, OpenExportRequest,
    PrepareRequest, RefList, RefValue, RejectionCode, ScopeList,
};
use ferry_core::ScopeName;
use futures::TryStreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio_util::io::{StreamReader, SyncIoBridge};
use tracing::{field, Instrument, Span};

use crate::error::{error_chain, ApiError};
use crate::export::{self, parse_export_id};
use crate::state::{now_ms, AppState};
use crate::{collect, fetch};

type Shared = Arc<AppState>;

/// Builds the router over `state`.
pub fn router(state: Shared) -> Router {
    let json_limit = state.config.limits.max_json_bytes;
    Router::new()
        .route("/v1/scopes", get(list_scopes).post(create_scope))
        .route("/v1/scopes/{scope}/refs", get(list_refs))
        .route("/v1/scopes/{scope}/fetch", post(fetch_objects))
        .route("/v1/exports", post(open_export))
        .route("/v1/exports/{id}", get(get_export))
        .route("/v1/exports/{id}/negotiate", post(negotiate))
        .route("/v1/exports/{id}/pack", put(upload))
        .route("/v1/exports/{id}/prepare", post(prepare))
        .route("/v1/exports/{id}/commit", post(commit))
        .route("/v1/exports/{id}/abort", post(abort))
        .route("/v1/admin/collect", post(run_collect))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(json_limit))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// Wraps every request in a `request` span and ends it with one event
/// stating the status and, for a rejection, its code and message. Handlers
/// record the export id, scope and object count on the span as they learn
/// them.
async fn log_request(request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        export_id = field::Empty,
        scope = field::Empty,
        objects = field::Empty,
    );
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let _entered = span.enter();
    match response.extensions().get::<Rejection>() {
        None => tracing::info!(status, elapsed_ms, outcome = "ok", "request finished"),
        Some(rejection) => tracing::info!(
            status,
            elapsed_ms,
            outcome = rejection.code.as_str(),
            reason = %rejection.message,
            "request rejected"
        ),
    }
    response
}

/// Runs `step` on the blocking pool, inside the current request span.
async fn blocking<T, F>(app: &Shared, step: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
{
    let app = app.clone();
    let span = Span::current();
    let joined = tokio::task::spawn_blocking(move || span.in_scope(|| step(&app))).await;
    joined.unwrap_or_else(|error| Err(ApiError::internal(&error)))
}

/// Records the scope and object count on the current request span.
pub fn record_request(scope: &ScopeName, objects: usize) {
    let span = Span::current();
    span.record("scope", scope.as_str());
    span.record("objects", objects);
}

fn json_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| {
        let code = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => RejectionCode::TooManyItems,
            _ => RejectionCode::InvalidRequest,
        };
        ApiError::new(
            code,
            format!("failed to read the request body: {rejection}"),
        )
    })?;
    serde_json::from_slice(&bytes).map_err(|error| {
        ApiError::new(
            RejectionCode::InvalidRequest,
            format!("invalid request body: {error}"),
        )
    })
}

fn parse_scope(text: &str) -> Result<ScopeName, ApiError> {
    text.parse()
        .map_err(|error| ApiError::new(RejectionCode::InvalidRequest, format!("{error}")))
}

fn ok<T: Serialize>(status: StatusCode, value: T) -> Response {
    (status, Json(value)).into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(RejectionCode::InvalidRequest, "no such endpoint")
        .with_hint("the API lives under /v1; check the client and server versions")
}

async fn list_scopes(State(app): State<Shared>) -> Result<Response, ApiError> {
    let scopes = blocking(&app, |app| Ok(app.stores.exports.list_scopes()?)).await?;
    Ok(ok(StatusCode::OK, ScopeList { scopes }))
}

async fn create_scope(
    State(app): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: CreateScopeRequest = json_body(body)?;
    blocking(&app, move |app| {
        record_request(&request.name, 0);
        app.stores.exports.create_scope(&request.name, now_ms())?;
        tracing::info!(scope = %request.name, "scope created");
        Ok(())
    })
    .await?;
    Ok(StatusCode::CREATED.into_response())
}

async fn list_refs(
    State(app): State<Shared>,
    Path(scope): Path<String>,
) -> Result<Response, ApiError> {
    let scope = parse_scope(&scope)?;
    let refs = blocking(&app, move |app| {
        if !app.stores.exports.scope_exists(&scope)? {
            return Err(ferry_store::ExportStoreError::UnknownScope(scope).into());
        }
        let mut refs = Vec::new();
        for kind in ["main", "tag", "lane"] {
            let prefix = format!("{kind}:{scope}/");
            for (name, id) in app.stores.refs.list_refs("", &prefix)? {
                refs.push(RefValue { name, id });
            }
        }
        record_request(&scope, refs.len());
        Ok(refs)
    })
    .await?;
    Ok(ok(StatusCode::OK, RefList { refs }))
}

async fn open_export(
    State(app): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: OpenExportRequest = json_body(body)?;
    let (info, created) = blocking(&app, move |app| {
        record_request(&request.scope, 0);
        export::open::open(app, &request)
    })
    .await?;
    Span::current().record("export_id", info.id.to_string());
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(ok(status, info))
}

async fn get_export(
    State(app): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_export_id(&id)?;
    let info = blocking(&app, move |app| export::open::get(app, &id)).await?;
    Ok(ok(StatusCode::OK, info))
}

async fn abort(State(app): State<Shared>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = parse_export_id(&id)?;
    let info = blocking(&app, move |app| export::open::abort(app, &id)).await?;
    Ok(ok(StatusCode::OK, info))
}

async fn negotiate(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = parse_export_id(&id)?;
    let request: NegotiateRequest = json_body(body)?;
    let response = blocking(&app, move |app| {
        Span::current().record("objects", request.offered.len());
        export::negotiate::negotiate(app, &id, &request)
    })
    .await?;
    Ok(ok(StatusCode::OK, response))
}

/// Bytes of a rejected upload's body read and discarded before the
/// rejection is sent.
const REJECTED_BODY_DRAIN: u64 = 8 << 20;

async fn upload(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let id = parse_export_id(&id)?;
    let stream = body.into_data_stream().map_err(io::Error::other);
    let mut reader = SyncIoBridge::new(StreamReader::new(stream));
    let response = blocking(&app, move |app| {
        let result = export::upload::upload(app, &id, &mut reader);
        if result.is_err() {
            // A rejection can come while the client is still sending, and
            // closing the connection then shows the client a broken pipe
            // instead of the rejection. Reading on lets it get the response,
            // up to a bound, so an oversized body is never read whole.
            let _ = io::copy(
                &mut io::Read::take(&mut reader, REJECTED_BODY_DRAIN),
                &mut io::sink(),
            );
        }
        let response = result?;
        Span::current().record("objects", response.received);
        Ok(response)
    })
    .await?;
    Ok(ok(StatusCode::OK, response))
}

async fn prepare(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = parse_export_id(&id)?;
    let request: PrepareRequest = json_body(body)?;
    let response = blocking(&app, move |app| {
        let response = export::prepare::prepare(app, &id, &request)?;
        Span::current().record("objects", response.new_objects);
        Ok(response)
    })
    .await?;
    Ok(ok(StatusCode::OK, response))
}

async fn commit(State(app): State<Shared>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = parse_export_id(&id)?;
    let report = blocking(&app, move |app| match export::commit::commit(app, &id)? {
        CommitOutcome::Committed(report) => {
            Span::current().record("objects", report.refs.len());
            Ok(report)
        }
        CommitOutcome::Rejected(rejection) => Err(ApiError::from_rejection(rejection)),
    })
    .await?;
    Ok(ok(StatusCode::OK, report))
}

async fn run_collect(State(app): State<Shared>) -> Result<Response, ApiError> {
    let report = blocking(&app, collect::run).await?;
    Ok(ok(StatusCode::OK, report))
}

async fn fetch_objects(
    State(app): State<Shared>,
    Path(scope): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let scope = parse_scope(&scope)?;
    let request: FetchRequest = json_body(body)?;
    let ids = blocking(&app, move |app| {
        let ids = fetch::plan(app, &scope, &request)?;
        record_request(&scope, ids.len());
        Ok(ids)
    })
    .await?;

    let (sender, receiver) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(16);
    let writer_app = app.clone();
    let task = async move {
        let result = tokio::task::spawn_blocking(move || {
            let out = BufWriter::with_capacity(64 * 1024, ChannelWriter { sender });
            fetch::write_pack(&writer_app, &ids, out)
        })
        .await;
        match result {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::warn!(error = %error_chain(&error), "fetch stream ended early")
            }
            Err(error) => tracing::error!(error = %error, "fetch stream task failed"),
        }
    };
    tokio::spawn(task.instrument(Span::current()));
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, pack::CONTENT_TYPE)
        .body(Body::from_stream(stream))
        .map_err(|error| ApiError::internal(&error))
}

/// A writer that sends its bytes to an HTTP response body.
struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<io::Result<Bytes>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sender
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

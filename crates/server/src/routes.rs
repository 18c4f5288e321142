//! HTTP routes: parse, run one library step on the blocking pool, respond.
//!
//! Every request runs inside a `request` span carrying the route, export
//! id, scope and object count, and ends with one event stating its outcome.
//! Store calls block, so they run in `spawn_blocking`, never on the async
//! workers.

use std::io::{self, BufWriter, Write};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use ferry_core::protocol::pack;
use ferry_core::protocol::{
    CommitOutcome, CreateScopeRequest, ExportId, FetchRequest, NegotiateRequest, OpenExportRequest,
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
        .with_state(state)
}

fn request_span(route: &'static str, export: Option<&ExportId>) -> Span {
    let export_id = export.map(|id| id.to_string());
    tracing::info_span!(
        "request",
        route,
        export_id = export_id.as_deref().unwrap_or(""),
        scope = field::Empty,
        objects = field::Empty,
    )
}

/// Runs `step` on the blocking pool inside `span` and logs its outcome.
async fn blocking<T, F>(app: &Shared, span: Span, step: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
{
    let app = app.clone();
    let inner = span.clone();
    let joined = tokio::task::spawn_blocking(move || inner.in_scope(|| step(&app))).await;
    let result = joined.unwrap_or_else(|error| Err(ApiError::internal(&error)));
    span.in_scope(|| log_outcome(&result));
    result
}

fn log_outcome<T>(result: &Result<T, ApiError>) {
    match result {
        Ok(_) => tracing::info!(outcome = "ok", "request finished"),
        Err(error) => tracing::info!(
            outcome = error.code().as_str(),
            status = error.status.as_u16(),
            message = %error.rejection.message,
            "request rejected"
        ),
    }
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
    let scopes = blocking(&app, request_span("list_scopes", None), |app| {
        Ok(app.stores.exports.list_scopes()?)
    })
    .await?;
    Ok(ok(StatusCode::OK, ScopeList { scopes }))
}

async fn create_scope(
    State(app): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: CreateScopeRequest = json_body(body)?;
    let span = request_span("create_scope", None);
    blocking(&app, span, move |app| {
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
    let refs = blocking(&app, request_span("list_refs", None), move |app| {
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
    let span = request_span("open_export", None);
    let (info, created) = blocking(&app, span.clone(), move |app| {
        record_request(&request.scope, 0);
        export::open::open(app, &request)
    })
    .await?;
    span.record("export_id", info.id.to_string());
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
    let info = blocking(&app, request_span("get_export", Some(&id)), move |app| {
        export::open::get(app, &id)
    })
    .await?;
    Ok(ok(StatusCode::OK, info))
}

async fn abort(State(app): State<Shared>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = parse_export_id(&id)?;
    let info = blocking(&app, request_span("abort", Some(&id)), move |app| {
        export::open::abort(app, &id)
    })
    .await?;
    Ok(ok(StatusCode::OK, info))
}

async fn negotiate(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = parse_export_id(&id)?;
    let request: NegotiateRequest = json_body(body)?;
    let span = request_span("negotiate", Some(&id));
    let response = blocking(&app, span, move |app| {
        Span::current().record("objects", request.offered.len());
        export::negotiate::negotiate(app, &id, &request)
    })
    .await?;
    Ok(ok(StatusCode::OK, response))
}

async fn upload(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let id = parse_export_id(&id)?;
    let stream = body.into_data_stream().map_err(io::Error::other);
    let reader = SyncIoBridge::new(StreamReader::new(stream));
    let span = request_span("upload", Some(&id));
    let response = blocking(&app, span, move |app| {
        let response = export::upload::upload(app, &id, reader)?;
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
    let span = request_span("prepare", Some(&id));
    let response = blocking(&app, span, move |app| {
        let response = export::prepare::prepare(app, &id, &request)?;
        Span::current().record("objects", response.new_objects);
        Ok(response)
    })
    .await?;
    Ok(ok(StatusCode::OK, response))
}

async fn commit(State(app): State<Shared>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = parse_export_id(&id)?;
    let span = request_span("commit", Some(&id));
    let report = blocking(&app, span, move |app| {
        match export::commit::commit(app, &id)? {
            CommitOutcome::Committed(report) => {
                Span::current().record("objects", report.refs.len());
                Ok(report)
            }
            CommitOutcome::Rejected(rejection) => Err(ApiError::from_rejection(rejection)),
        }
    })
    .await?;
    Ok(ok(StatusCode::OK, report))
}

async fn run_collect(State(app): State<Shared>) -> Result<Response, ApiError> {
    let report = blocking(&app, request_span("collect", None), collect::run).await?;
    Ok(ok(StatusCode::OK, report))
}

async fn fetch_objects(
    State(app): State<Shared>,
    Path(scope): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let scope = parse_scope(&scope)?;
    let request: FetchRequest = json_body(body)?;
    let span = request_span("fetch", None);
    let ids = blocking(&app, span.clone(), move |app| {
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
    tokio::spawn(task.instrument(span));
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

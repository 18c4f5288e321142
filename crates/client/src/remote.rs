//! Calls to a scope server, one method per endpoint.
//!
//! Every endpoint of the export protocol is idempotent. Opening with the
//! same idempotency key returns the same export, and negotiation and upload
//! only add objects. Prepare may be repeated while the export is live, and
//! commit returns the stored outcome once there is one. [`RemoteClient`]
//! therefore retries a request whose connection failed, a bounded number of
//! times, and a dropped connection after the server committed yields the
//! original outcome, not a second export or a false failure. Rejections
//! (4xx with a JSON body) are never retried.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use ferry_core::protocol::{
    CollectReport, CommitReport, CreateScopeRequest, ExportId, ExportInfo, FetchRequest,
    IdempotencyKey, NegotiateRequest, NegotiateResponse, OpenExportRequest, PrepareRequest,
    PrepareResponse, RefList, RefUpdate, Rejection, RejectionCode, ScopeList, UploadResponse,
};
use ferry_core::{ObjectId, ScopeName};
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Failures of a call to a server.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The server could not be reached, or the connection broke, on every
    /// attempt.
    #[error("request to {url} failed after {attempts} attempts")]
    Transport {
        /// The URL requested.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        #[source]
        source: reqwest::Error,
    },
    /// The server rejected the request.
    #[error("{url} rejected the request with status {status}: {rejection}")]
    Rejected {
        /// The URL requested.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's JSON rejection.
        rejection: Rejection,
    },
    /// The server sent something that is not the expected JSON.
    #[error("invalid response from {url} with status {status}: {detail}")]
    InvalidResponse {
        /// The URL requested.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The problem found.
        detail: String,
    },
    /// A local file for the request failed.
    #[error("cannot read {path}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl RemoteError {
    /// Returns the server's rejection, if the server rejected the request.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            RemoteError::Rejected { rejection, .. } => Some(rejection),
            _ => None,
        }
    }

    /// Returns the rejection code, if the server rejected the request.
    pub fn code(&self) -> Option<RejectionCode> {
        self.rejection().map(|rejection| rejection.code)
    }
}

/// The retry rules for requests whose connection failed.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts per request, including the first.
    pub attempts: u32,
    /// Wait before the first retry; doubled for each later one.
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            first_delay: Duration::from_millis(200),
        }
    }
}

/// A blocking HTTP client for one server.
#[derive(Clone, Debug)]
pub struct RemoteClient {
    base: String,
    http: Client,
    retry: RetryPolicy,
}

impl RemoteClient {
    /// Returns a client for the server at `base_url`, such as
    /// `http://127.0.0.1:7400`.
    pub fn new(base_url: &str) -> Result<Self, RemoteError> {
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(None)
            .build()
            .map_err(|source| RemoteError::Transport {
                url: base_url.to_owned(),
                attempts: 0,
                source,
            })?;
        Ok(Self {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
            retry: RetryPolicy::default(),
        })
    }

    /// Returns a client for the server at `base_url` that sends requests
    /// through `http`, for callers that configure TLS, proxies or
    /// connection pooling themselves.
    pub fn with_http_client(base_url: &str, http: Client) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
            retry: RetryPolicy::default(),
        }
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Returns the server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1{path}", self.base)
    }

    /// Sends the request built by `build` and passes the response to
    /// `read`, retrying the whole exchange when the connection fails before
    /// `read` is done.
    fn call<T>(
        &self,
        path: &str,
        build: impl Fn(&Client, &str) -> RequestBuilder,
        read: impl Fn(Response) -> Result<T, RemoteError>,
    ) -> Result<T, RemoteError> {
        let url = self.url(path);
        let mut delay = self.retry.first_delay;
        let mut attempt = 1;
        loop {
            let result = build(&self.http, &url)
                .send()
                .map_err(|source| transport(&url, attempt, source))
                .and_then(|response| check_status(&url, response))
                .and_then(&read);
            match result {
                Err(RemoteError::Transport { source, .. }) if attempt < self.retry.attempts => {
                    tracing::warn!(%url, attempt, error = %source, "request failed; retrying");
                    std::thread::sleep(delay);
                    delay *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn send(
        &self,
        path: &str,
        build: impl Fn(&Client, &str) -> RequestBuilder,
    ) -> Result<Response, RemoteError> {
        self.call(path, build, Ok)
    }

    fn json<T: DeserializeOwned>(
        &self,
        path: &str,
        build: impl Fn(&Client, &str) -> RequestBuilder,
    ) -> Result<T, RemoteError> {
        self.call(path, build, read_json)
    }

    fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, RemoteError> {
        self.json(path, |http, url| http.post(url).json(body))
    }

    /// Creates scope `name`.
    pub fn create_scope(&self, name: &ScopeName) -> Result<(), RemoteError> {
        let body = CreateScopeRequest { name: name.clone() };
        self.send("/scopes", |http, url| http.post(url).json(&body))?;
        Ok(())
    }

    /// Lists the scopes the server hosts.
    pub fn list_scopes(&self) -> Result<Vec<ScopeName>, RemoteError> {
        let list: ScopeList = self.json("/scopes", |http, url| http.get(url))?;
        Ok(list.scopes)
    }

    /// Lists the refs of `scope`: main heads, tags and lane heads.
    pub fn list_refs(&self, scope: &ScopeName) -> Result<RefList, RemoteError> {
        self.json(&format!("/scopes/{scope}/refs"), |http, url| http.get(url))
    }

    /// Opens an export into `scope`, or returns the one opened with `key`.
    pub fn open_export(
        &self,
        scope: &ScopeName,
        key: Option<&IdempotencyKey>,
    ) -> Result<ExportInfo, RemoteError> {
        let body = OpenExportRequest {
            scope: scope.clone(),
            idempotency_key: key.cloned(),
        };
        self.post("/exports", &body)
    }

    /// Returns the state of export `id`.
    pub fn get_export(&self, id: &ExportId) -> Result<ExportInfo, RemoteError> {
        self.json(&format!("/exports/{id}"), |http, url| http.get(url))
    }

    /// Offers `offered` for export `id` and returns the ids to upload.
    pub fn negotiate(
        &self,
        id: &ExportId,
        offered: &[ObjectId],
    ) -> Result<Vec<ObjectId>, RemoteError> {
        let body = NegotiateRequest {
            offered: offered.to_vec(),
        };
        let response: NegotiateResponse = self.post(&format!("/exports/{id}/negotiate"), &body)?;
        Ok(response.missing)
    }

    /// Uploads the pack in file `pack` for export `id`, streaming it from
    /// disk; a retry sends the file again.
    pub fn upload(&self, id: &ExportId, pack: &Path) -> Result<UploadResponse, RemoteError> {
        let len = std::fs::metadata(pack)
            .map_err(|source| file_error(pack, source))?
            .len();
        let open = || std::fs::File::open(pack).map_err(|source| file_error(pack, source));
        // Opened once up front so a missing file is reported as such.
        open()?;
        self.json(&format!("/exports/{id}/pack"), |http, url| {
            let body = match open() {
                Ok(file) => reqwest::blocking::Body::sized(file, len),
                Err(_) => reqwest::blocking::Body::from(Vec::new()),
            };
            http.put(url)
                .header("content-type", ferry_core::protocol::pack::CONTENT_TYPE)
                .body(body)
        })
    }

    /// Uploads a pack read from `body`, without retrying, since the reader
    /// is consumed. Tests use it to send hand-made packs.
    pub fn upload_reader(
        &self,
        id: &ExportId,
        body: impl Read + Send + 'static,
    ) -> Result<UploadResponse, RemoteError> {
        let url = self.url(&format!("/exports/{id}/pack"));
        let response = self
            .http
            .put(&url)
            .body(reqwest::blocking::Body::new(body))
            .send()
            .map_err(|source| transport(&url, 1, source))?;
        read_json(check_status(&url, response)?)
    }

    /// Checks and records the ref updates of export `id`.
    pub fn prepare(
        &self,
        id: &ExportId,
        updates: &[RefUpdate],
    ) -> Result<PrepareResponse, RemoteError> {
        let body = PrepareRequest {
            updates: updates.to_vec(),
        };
        self.post(&format!("/exports/{id}/prepare"), &body)
    }

    /// Commits export `id`, or returns the outcome of an earlier commit.
    pub fn commit(&self, id: &ExportId) -> Result<CommitReport, RemoteError> {
        self.json(&format!("/exports/{id}/commit"), |http, url| http.post(url))
    }

    /// Aborts export `id`.
    pub fn abort(&self, id: &ExportId) -> Result<ExportInfo, RemoteError> {
        self.json(&format!("/exports/{id}/abort"), |http, url| http.post(url))
    }

    /// Requests the objects behind `wants` that are not behind `haves`, and
    /// returns the response body: a pack.
    pub fn fetch(
        &self,
        scope: &ScopeName,
        wants: &[ObjectId],
        haves: &[ObjectId],
    ) -> Result<Response, RemoteError> {
        let body = FetchRequest {
            wants: wants.to_vec(),
            haves: haves.to_vec(),
        };
        self.send(&format!("/scopes/{scope}/fetch"), |http, url| {
            http.post(url).json(&body)
        })
    }

    /// Runs expiry and garbage collection on the server now.
    pub fn collect(&self) -> Result<CollectReport, RemoteError> {
        self.json("/admin/collect", |http, url| http.post(url))
    }
}

fn transport(url: &str, attempts: u32, source: reqwest::Error) -> RemoteError {
    RemoteError::Transport {
        url: url.to_owned(),
        attempts,
        source,
    }
}

fn file_error(path: &Path, source: std::io::Error) -> RemoteError {
    RemoteError::File {
        path: path.to_path_buf(),
        source,
    }
}

fn invalid(url: &str, status: u16, detail: impl Into<String>) -> RemoteError {
    RemoteError::InvalidResponse {
        url: url.to_owned(),
        status,
        detail: detail.into(),
    }
}

/// Turns a non-success status into [`RemoteError::Rejected`].
fn check_status(url: &str, response: Response) -> Result<Response, RemoteError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().unwrap_or_default();
    match serde_json::from_str::<Rejection>(&text) {
        Ok(rejection) => Err(RemoteError::Rejected {
            url: url.to_owned(),
            status: status.as_u16(),
            rejection,
        }),
        Err(_) => Err(invalid(url, status.as_u16(), truncate(&text))),
    }
}

fn read_json<T: DeserializeOwned>(response: Response) -> Result<T, RemoteError> {
    let url = response.url().to_string();
    let status = response.status();
    let bytes = response
        .bytes()
        .map_err(|source| transport(&url, 1, source))?;
    if status == StatusCode::CREATED && bytes.is_empty() {
        return serde_json::from_str("null").map_err(|error| invalid(&url, 201, error.to_string()));
    }
    serde_json::from_slice(&bytes).map_err(|error| {
        invalid(
            &url,
            status.as_u16(),
            format!("{error}: {}", truncate(&String::from_utf8_lossy(&bytes))),
        )
    })
}

fn truncate(text: &str) -> String {
    text.chars().take(200).collect()
}

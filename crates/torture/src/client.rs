//! One torture client: a thread that runs export attempts and records each
//! one.
//!
//! An attempt reads the remote heads, writes its snaps, and exports them
//! with an idempotency key derived from the run, the client and the
//! attempt. A request can fail on the transport: the server was killed,
//! the connection dropped, or a timeout ran out. The client then waits for
//! the server and runs the same export again with the same key, which
//! continues the same export or returns its outcome. Each attempt has a random budget of such
//! retries, from none to three; an attempt that runs out of retries is
//! recorded with an unknown outcome, which the run resolves afterwards.

use std::collections::HashMap;
use std::io::BufWriter;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use ferry_client::{
    export, ExportError, ExportReport, ExportRequest, NoProgress, RemoteClient, RemoteError,
    RetryPolicy,
};
use ferry_core::protocol::pack::PackWriter;
use ferry_core::protocol::walk::objects_to_send;
use ferry_core::protocol::{IdempotencyKey, RefUpdate, Rejection, RejectionCode};
use ferry_core::{ComponentId, ObjectId, RefName};
use ferry_store::{MemoryRefStore, ObjectStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::history::{Attempt, NamedRef, Outcome, Update, EXPECTED_CODES};
use crate::workload::{self, Author, Names, Payload, Plan, PlanInput, Scenario, SnapBuilder};

/// How long a client waits for a killed server to come back before it
/// gives up on an attempt.
const SERVER_WAIT: Duration = Duration::from_secs(60);

/// State shared by every client of a run.
pub struct Shared {
    /// The base URL of each server instance; each stays the same across
    /// restarts. Client `i` uses instance `i` modulo their number.
    pub urls: Vec<String>,
    /// Names of the run's components and refs.
    pub names: Names,
    /// The local object store every client writes its snaps into.
    pub objects: Arc<dyn ObjectStore>,
    /// A tag that makes this run's idempotency keys unique.
    pub run_tag: String,
    /// When the run began; attempt times are measured from here.
    pub started: Instant,
    /// Attempts to run in all, across clients.
    pub total: u32,
    /// Attempts handed out so far.
    pub handed_out: AtomicU32,
    /// Size of the shared tag pool.
    pub tag_pool: u32,
    /// The channel that takes finished attempts to the recorder.
    pub records: Sender<Attempt>,
}

impl Shared {
    /// Returns the milliseconds since the run began.
    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn take_attempt(&self) -> bool {
        self.handed_out.fetch_add(1, Ordering::SeqCst) < self.total
    }
}

/// Returns the idempotency key of attempt `seq` of `client` in the run
/// tagged `run_tag`.
pub fn attempt_key(run_tag: &str, client: u32, seq: u32) -> IdempotencyKey {
    format!("{run_tag}-c{client}-a{seq}")
        .parse()
        .expect("run tags are made of key characters")
}

/// One client thread's state.
pub struct Client {
    id: u32,
    shared: Arc<Shared>,
    url: String,
    remote: RemoteClient,
    refs: MemoryRefStore,
    rng: StdRng,
    rebase_of: Option<(ComponentId, Payload)>,
}

impl Client {
    /// Returns client `id` with its own random stream from `seed`. A third
    /// of the clients give up on a request at the first connection error,
    /// the rest retry it as the client library does by default.
    pub fn new(id: u32, shared: Arc<Shared>, seed: u64) -> Result<Self, RemoteError> {
        let retry = if id.is_multiple_of(3) {
            RetryPolicy {
                attempts: 1,
                first_delay: Duration::from_millis(50),
            }
        } else {
            RetryPolicy {
                attempts: 4,
                first_delay: Duration::from_millis(100),
            }
        };
        let url = shared.urls[id as usize % shared.urls.len()].clone();
        let remote = remote_client(&url, Duration::from_secs(60))?.with_retry(retry);
        Ok(Self {
            id,
            shared,
            url,
            remote,
            refs: MemoryRefStore::new(),
            rng: StdRng::seed_from_u64(seed),
            rebase_of: None,
        })
    }

    /// Runs attempts until the run has handed out all of them.
    pub fn run(mut self) {
        let mut seq = 0;
        while self.shared.take_attempt() {
            let attempt = self.attempt(seq);
            if self.shared.records.send(attempt).is_err() {
                return;
            }
            seq += 1;
        }
    }

    fn attempt(&mut self, seq: u32) -> Attempt {
        let (scenario, rebase_of) = match self.rebase_of.take() {
            Some(rejected) => {
                // A runner rebases after a pause of its own, so the rejected
                // export's objects may meanwhile be up for collection.
                thread::sleep(Duration::from_millis(self.rng.random_range(0..400)));
                (Scenario::Rebase, Some(rejected))
            }
            None => (Scenario::pick(&mut self.rng), None),
        };
        let plan = self.plan(scenario, seq, rebase_of);
        let key = attempt_key(&self.shared.run_tag, self.id, seq);
        let started_ms = self.shared.elapsed_ms();
        let (export_id, outcome) = self.execute(&plan, &key);
        let finished_ms = self.shared.elapsed_ms();
        if let (Outcome::Rejected { code, .. }, Some(component)) = (&outcome, &plan.component) {
            // Half the losers of a race retry on the new head with the same
            // files, as `ferry export --rebase` does.
            if code == RejectionCode::Diverged.as_str() && self.rng.random_bool(0.5) {
                self.rebase_of = Some((component.clone(), plan.payload));
            }
        }
        Attempt {
            client: self.id,
            seq,
            scenario: scenario.as_str().to_owned(),
            export_id,
            started_ms,
            finished_ms,
            updates: plan
                .pushes
                .iter()
                .map(|push| Update {
                    name: push.name.clone(),
                    expected: push.expected_remote,
                    new: push.local,
                })
                .collect(),
            outcome,
        }
    }

    /// Reads the heads and writes the attempt's snaps. Reading waits for
    /// the server, since no export has started yet.
    fn plan(
        &mut self,
        scenario: Scenario,
        seq: u32,
        rebase_of: Option<(ComponentId, Payload)>,
    ) -> Plan {
        let heads = self.read_heads();
        let builder = SnapBuilder::new(self.shared.objects.as_ref());
        let input = PlanInput {
            scenario,
            author: Author {
                client: self.id,
                seq,
            },
            heads: &heads,
            tag_pool: self.shared.tag_pool,
            rebase_of,
        };
        workload::plan(&builder, &self.shared.names, &input, &mut self.rng)
            .expect("the in-memory object store does not fail")
    }

    fn read_heads(&self) -> HashMap<RefName, ObjectId> {
        loop {
            match self.remote.list_refs(self.shared.names.scope()) {
                Ok(list) => return list.refs.into_iter().map(|r| (r.name, r.id)).collect(),
                Err(error) => {
                    tracing::debug!(client = self.id, error = %error, "reading heads failed; waiting");
                    self.wait_for_server();
                }
            }
        }
    }

    /// Runs the export of `plan`, retrying after transport failures within
    /// the attempt's budget, and returns the export id and outcome.
    fn execute(&mut self, plan: &Plan, key: &IdempotencyKey) -> (Option<String>, Outcome) {
        let mut retries = self.rng.random_range(0..=3u32);
        let mut result = match plan.scenario {
            Scenario::Timeout => self.first_try_impatient(plan, key),
            Scenario::Resume => {
                self.start_and_abandon(plan, key);
                self.export(&self.remote, plan, key)
            }
            _ => self.export(&self.remote, plan, key),
        };
        loop {
            match result {
                Ok(report) => return (Some(report.export_id.to_string()), outcome_of(&report)),
                Err(error) if is_transport(&error) && retries > 0 => {
                    retries -= 1;
                    self.wait_for_server();
                    result = self.export(&self.remote, plan, key);
                }
                Err(error) => return (None, failure_outcome(&error)),
            }
        }
    }

    fn export(
        &self,
        remote: &RemoteClient,
        plan: &Plan,
        key: &IdempotencyKey,
    ) -> Result<ExportReport, ExportError> {
        let request = ExportRequest {
            remote_name: "origin".into(),
            scope: self.shared.names.scope().clone(),
            updates: plan.pushes.clone(),
            idempotency_key: Some(key.clone()),
        };
        export(
            self.shared.objects.as_ref(),
            &self.refs,
            remote,
            &request,
            &NoProgress,
        )
    }

    /// Sends the export with a timeout of 5 to 80 ms and no retries, so the
    /// client often gives up while the server goes on with the request.
    fn first_try_impatient(
        &mut self,
        plan: &Plan,
        key: &IdempotencyKey,
    ) -> Result<ExportReport, ExportError> {
        let timeout = Duration::from_millis(self.rng.random_range(5..=80));
        let impatient = remote_client(&self.url, timeout)?.with_retry(RetryPolicy {
            attempts: 1,
            first_delay: Duration::from_millis(1),
        });
        self.export(&impatient, plan, key)
    }

    /// Opens the export and takes it through a random number of steps (open,
    /// negotiate, upload, prepare), then drops it, as a client that crashed
    /// there would. Failures are ignored: the rerun finds its own way.
    fn start_and_abandon(&mut self, plan: &Plan, key: &IdempotencyKey) {
        let steps = self.rng.random_range(1..=4u32);
        let remote = &self.remote;
        let Ok(info) = remote.open_export(self.shared.names.scope(), Some(key)) else {
            return;
        };
        if steps < 2 || !info.state.is_live() {
            return;
        }
        let offered = match offered_objects(self.shared.objects.as_ref(), plan) {
            Ok(offered) => offered,
            Err(_) => return,
        };
        let Ok(missing) = remote.negotiate(&info.id, &offered) else {
            return;
        };
        if steps < 3 || upload(self.shared.objects.as_ref(), remote, &info.id, &missing).is_err() {
            return;
        }
        if steps < 4 {
            return;
        }
        let updates: Vec<RefUpdate> = plan
            .pushes
            .iter()
            .map(|push| RefUpdate {
                name: push.name.clone(),
                expected: push.expected_remote,
                new: push.local,
            })
            .collect();
        let _ = remote.prepare(&info.id, &updates);
    }

    fn wait_for_server(&self) {
        let deadline = Instant::now() + SERVER_WAIT;
        while Instant::now() < deadline {
            if self.remote.list_scopes().is_ok() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        tracing::warn!(client = self.id, "the server did not come back in time");
    }
}

/// Returns a client for `url` whose requests time out after `timeout`.
pub fn remote_client(url: &str, timeout: Duration) -> Result<RemoteClient, RemoteError> {
    let http = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(timeout)
        .build()
        .map_err(|source| RemoteError::Transport {
            url: url.to_owned(),
            attempts: 0,
            source,
        })?;
    Ok(RemoteClient::with_http_client(url, http))
}

fn offered_objects(
    objects: &dyn ObjectStore,
    plan: &Plan,
) -> Result<Vec<ObjectId>, ferry_store::ObjectStoreError> {
    let wants: Vec<_> = plan.pushes.iter().map(|push| push.local).collect();
    let haves: Vec<_> = plan
        .pushes
        .iter()
        .filter_map(|push| push.expected_remote)
        .collect();
    objects_to_send(|id| objects.read_snap(id), &wants, &haves)
}

/// Uploads `missing` as one pack.
fn upload(
    objects: &dyn ObjectStore,
    remote: &RemoteClient,
    id: &ferry_core::protocol::ExportId,
    missing: &[ObjectId],
) -> Result<(), Box<dyn std::error::Error>> {
    let file = tempfile::NamedTempFile::new()?;
    let mut pack = PackWriter::new(BufWriter::new(file.as_file()))?;
    for object in missing {
        pack.write_compressed(object, &objects.read_compressed(object)?)?;
    }
    pack.finish()?;
    remote.upload(id, file.path())?;
    Ok(())
}

fn is_transport(error: &ExportError) -> bool {
    matches!(error, ExportError::Remote(RemoteError::Transport { .. }))
}

/// Logs a rejection whose code a correct client should not get, with the
/// server's message, since the attempt records keep only the code.
fn log_unexpected(rejection: &Rejection) {
    if !EXPECTED_CODES.contains(&rejection.code.as_str()) {
        tracing::warn!(code = %rejection.code, message = %rejection.message, "unexpected rejection");
    }
}

fn outcome_of(report: &ExportReport) -> Outcome {
    match &report.rejection {
        None => Outcome::Committed,
        Some(rejection) => {
            log_unexpected(rejection);
            rejected(rejection)
        }
    }
}

fn rejected(rejection: &Rejection) -> Outcome {
    Outcome::Rejected {
        code: rejection.code.as_str().to_owned(),
        refs: rejection
            .refs
            .iter()
            .map(|problem| NamedRef {
                name: problem.name.clone(),
                actual: problem.actual,
            })
            .collect(),
    }
}

/// Turns an export that ended without a decision into an outcome: a
/// rejection of one of the steps, or unknown.
fn failure_outcome(error: &ExportError) -> Outcome {
    if let ExportError::Remote(RemoteError::Rejected { rejection, .. }) = error {
        log_unexpected(rejection);
        return Outcome::Rejected {
            code: rejection.code.as_str().to_owned(),
            refs: Vec::new(),
        };
    }
    Outcome::Unknown {
        error: error_chain(error),
        resolved: None,
    }
}

/// Joins an error and its sources into one line.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

//! One torture run, from the first server start to the verdict.
//!
//! 1. Start the server as a child process on a fresh data directory and
//!    create the scope.
//! 2. Run the clients and, beside them, the chaos thread that kills and
//!    restarts the server. Every attempt goes to `attempts.jsonl` as it
//!    ends.
//! 3. Let the server run quietly until the sweep has expired every export
//!    of the run. Then resolve the unknown outcomes and compare each
//!    decided export with the server's record.
//! 4. Stop the server; read the final refs from its data directory and
//!    check the history against them and the stored snaps.
//! 5. Restart the server and run one export that moves every head, then
//!    stop it and check the data directory: every object against its id,
//!    every head's closure, and no export live past its lease.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use ferry_client::RemoteError;
use ferry_core::{ObjectId, RefName};
use ferry_server::fsck::{check_data_dir, DataDirError, DataDirReport};
use ferry_server::state::now_ms;
use ferry_store::{
    ExportStore, FsObjectStore, MemoryObjectStore, ObjectStore, RefStore, SqliteExportStore,
    SqliteStore,
};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;

use crate::chaos::{ChaosConfig, ChaosReport, Supervisor};
use crate::client::{remote_client, Client, Shared};
use crate::history::{self, Attempt, Outcome, Verdict};
use crate::sabotage::{self, Sabotage};
use crate::server::{LogCounts, ProcessError, ServerSettings, SharedLogCounts};
use crate::verify::{self, ExportChecks, FreshExport, StoreGraph};
use crate::workload::Names;

/// Everything a run needs.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Concurrent clients.
    pub clients: u32,
    /// Export attempts in all, across clients.
    pub attempts: u32,
    /// Server instances on the one data directory; clients are spread
    /// over them.
    pub servers: u32,
    /// Interval at which a thread requests expiry and collection from the
    /// instances in turn, beside their sweeps; `None` requests none.
    pub collect_every: Option<Duration>,
    /// Seed of every random choice; the timing still varies between runs.
    pub seed: u64,
    /// Directory for the server's data, its log and the attempt records.
    /// It must not exist yet, or be empty.
    pub out_dir: PathBuf,
    /// The executable providing the `serve` subcommand, normally the
    /// torture binary itself.
    pub server_exe: PathBuf,
    /// Kills and failpoint rounds; `None` runs without crashes.
    pub chaos: Option<ChaosConfig>,
    /// The export lease the server runs with.
    pub lease: Duration,
    /// The collection grace window the server runs with.
    pub grace: Duration,
    /// The server's sweep interval.
    pub sweep: Duration,
    /// Damage done to the data directory before the checks, to show that
    /// they catch it.
    pub sabotage: Option<Sabotage>,
}

/// Failures that stop a run before it reaches a verdict.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The output directory exists and is not empty.
    #[error("output directory {0} is not empty; choose a new one")]
    OutDirNotEmpty(PathBuf),
    /// A file of the run could not be written.
    #[error("cannot write {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server process could not be started or stopped.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// A request of the setup or the final checks failed.
    #[error("a request to the quiet server failed")]
    Remote(#[from] RemoteError),
    /// The data directory could not be read after the run.
    #[error("cannot read the server data directory")]
    DataDir(#[from] DataDirError),
    /// The data directory could not be damaged as requested.
    #[error("cannot apply the sabotage")]
    Sabotage(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A client or chaos thread panicked.
    #[error("the {0} thread panicked")]
    Panicked(&'static str),
}

/// The figures of a run and everything found wrong.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// Concurrent clients.
    pub clients: u32,
    /// Attempts recorded.
    pub attempts: usize,
    /// The seed.
    pub seed: u64,
    /// Wall time of the client phase, in milliseconds.
    pub client_phase_ms: u64,
    /// Attempts by scenario.
    pub scenarios: BTreeMap<String, usize>,
    /// Rejections by code.
    pub rejection_codes: BTreeMap<String, usize>,
    /// Kills, restarts and failpoint rounds.
    pub chaos: ChaosReport,
    /// Failpoint hits by point and action, as the server logs reported.
    pub failpoint_hits: BTreeMap<String, u32>,
    /// Lines the servers logged at error level.
    pub server_errors: u32,
    /// The history check.
    pub verdict: Verdict,
    /// How long the sweep took to expire the run's exports.
    pub expiry: ExpiryWait,
    /// Resolution and server-side export checks.
    pub exports: ExportChecks,
    /// The export run after the checks.
    pub fresh: FreshExport,
    /// The data directory check.
    pub fsck: DataDirReport,
    /// Every violation of every check.
    pub violations: Vec<String>,
    /// The directory with the records, the server log and the data.
    pub out_dir: PathBuf,
}

impl RunReport {
    /// Reports whether no check found anything wrong.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Results of the client phase.
struct ClientPhase {
    attempts: Vec<Attempt>,
    chaos: ChaosReport,
    elapsed: Duration,
}

/// Runs the whole torture test of `config`.
pub fn run(config: &RunConfig) -> Result<RunReport, RunError> {
    prepare_out_dir(&config.out_dir)?;
    let data_dir = config.out_dir.join("data");
    let settings = ServerSettings {
        exe: config.server_exe.clone(),
        data_dir: data_dir.clone(),
        log: config.out_dir.join("server.log"),
        lease: config.lease,
        grace: config.grace,
        sweep: config.sweep,
    };
    let counts = SharedLogCounts::default();
    let supervisor = Arc::new(Supervisor::start(
        settings,
        counts.clone(),
        config.servers as usize,
    )?);
    let urls = supervisor.urls();
    let remote = remote_client(&urls[0], Duration::from_secs(60))?;
    let names = Names::new("acme".parse().expect("valid scope"));
    remote.create_scope(names.scope())?;

    let objects: Arc<dyn ObjectStore> = Arc::new(MemoryObjectStore::new());
    let run_tag = format!("run{}", config.seed);
    let mut phase = run_clients(config, &supervisor, &urls, &names, &objects, &run_tag)?;
    let mut attempts = std::mem::take(&mut phase.attempts);

    supervisor.ensure_running()?;
    let expiry = wait_for_expiry(&data_dir, config.lease)?;
    let mut exports = ExportChecks::default();
    let since = now_ms();
    verify::resolve_unknowns(
        &remote,
        names.scope(),
        &run_tag,
        &mut attempts,
        since,
        &mut exports,
    )?;
    verify::check_decided(&remote, &attempts, &mut exports)?;
    write_attempts(&config.out_dir.join("attempts.jsonl"), &attempts)?;

    supervisor.stop()?;
    if let Some(sabotage) = config.sabotage {
        sabotage::apply(sabotage, &data_dir).map_err(RunError::Sabotage)?;
    }
    let final_refs = read_refs(&data_dir)?;
    let verdict = check_history(&data_dir, &attempts, &final_refs)?;

    supervisor.ensure_running()?;
    let fresh = verify::fresh_export(&remote, &names, objects.as_ref(), &final_refs);
    supervisor.stop()?;
    let fsck = check_data_dir(&data_dir, now_ms())?;

    let log = counts.lock().clone();
    let checks = Checks {
        verdict,
        expiry,
        exports,
        fresh,
        fsck,
    };
    Ok(report(config, phase, attempts, log, checks))
}

fn prepare_out_dir(dir: &Path) -> Result<(), RunError> {
    let io = |source| RunError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if dir.exists() && std::fs::read_dir(dir).map_err(io)?.next().is_some() {
        return Err(RunError::OutDirNotEmpty(dir.to_path_buf()));
    }
    std::fs::create_dir_all(dir).map_err(io)
}

/// Runs the clients beside the chaos thread and collects every attempt.
fn run_clients(
    config: &RunConfig,
    supervisor: &Arc<Supervisor>,
    urls: &[String],
    names: &Names,
    objects: &Arc<dyn ObjectStore>,
    run_tag: &str,
) -> Result<ClientPhase, RunError> {
    let records_path = config.out_dir.join("attempts.jsonl");
    let (sender, receiver) = mpsc::channel::<Attempt>();
    let recorder = thread::spawn(move || record(&records_path, receiver));
    let shared = Arc::new(Shared {
        urls: urls.to_vec(),
        names: names.clone(),
        objects: objects.clone(),
        run_tag: run_tag.to_owned(),
        started: Instant::now(),
        total: config.attempts,
        handed_out: AtomicU32::new(0),
        tag_pool: (config.attempts / 20).max(4),
        records: sender,
    });

    let done = Arc::new(AtomicBool::new(false));
    let chaos = config.chaos.map(|chaos| {
        let (supervisor, done) = (supervisor.clone(), done.clone());
        let mut rng = StdRng::seed_from_u64(config.seed ^ 0xc4a0_5eed);
        thread::spawn(move || supervisor.run_chaos(chaos, &done, &mut rng))
    });
    let collector = config.collect_every.map(|every| {
        let (urls, done) = (urls.to_vec(), done.clone());
        thread::spawn(move || collect_until(&urls, every, &done))
    });
    let mut clients = Vec::new();
    for id in 0..config.clients {
        let client = Client::new(id, shared.clone(), config.seed.wrapping_add(u64::from(id)))?;
        clients.push(thread::spawn(move || client.run()));
    }
    drop(shared);

    let started = Instant::now();
    let mut panicked = false;
    for client in clients {
        panicked |= client.join().is_err();
    }
    let elapsed = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    if let Some(chaos) = chaos {
        chaos.join().map_err(|_| RunError::Panicked("chaos"))??;
    }
    if let Some(collector) = collector {
        collector
            .join()
            .map_err(|_| RunError::Panicked("collector"))?;
    }
    let attempts = recorder
        .join()
        .map_err(|_| RunError::Panicked("recorder"))??;
    if panicked {
        return Err(RunError::Panicked("client"));
    }
    Ok(ClientPhase {
        attempts,
        chaos: supervisor.report(),
        elapsed,
    })
}

/// Asks the instances in turn to run expiry and collection every `every`
/// until `done` is set, so that collections overlap with the sweeps and
/// with each other. Failures, such as a killed instance, are ignored.
fn collect_until(urls: &[String], every: Duration, done: &AtomicBool) {
    let clients: Vec<_> = urls
        .iter()
        .filter_map(|url| remote_client(url, Duration::from_secs(60)).ok())
        .collect();
    for client in clients.iter().cycle() {
        if done.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        if let Err(error) = client.collect() {
            tracing::debug!(error = %error, "an admin collection failed");
        }
        thread::sleep(every);
    }
}

/// Writes each attempt as a JSON line as it arrives and returns them all.
fn record(path: &Path, receiver: mpsc::Receiver<Attempt>) -> Result<Vec<Attempt>, RunError> {
    let io = |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut out = BufWriter::new(File::create(path).map_err(io)?);
    let mut attempts = Vec::new();
    for attempt in receiver {
        let line = serde_json::to_string(&attempt).expect("attempts serialize");
        writeln!(out, "{line}").map_err(io)?;
        out.flush().map_err(io)?;
        attempts.push(attempt);
    }
    Ok(attempts)
}

/// Replaces the records with the attempts as resolved.
fn write_attempts(path: &Path, attempts: &[Attempt]) -> Result<(), RunError> {
    let io = |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    };
    let temp = path.with_extension("jsonl.tmp");
    let mut out = BufWriter::new(File::create(&temp).map_err(io)?);
    for attempt in attempts {
        let line = serde_json::to_string(attempt).expect("attempts serialize");
        writeln!(out, "{line}").map_err(io)?;
    }
    out.into_inner()
        .map_err(|error| io(error.into_error()))?
        .sync_all()
        .map_err(io)?;
    std::fs::rename(&temp, path).map_err(io)
}

/// How long the server's sweep took to expire every export of the run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ExpiryWait {
    /// Time from the end of the client phase until no export was live.
    pub waited_ms: u64,
    /// Exports still live when the wait gave up.
    pub still_live: usize,
}

/// Maximum time the quiet phase waits, beyond one lease, for the sweep to
/// expire the run's exports.
const EXPIRY_WAIT: Duration = Duration::from_secs(60);

/// Waits until the running server has expired every export of the run,
/// reading the export records beside it, which SQLite's WAL mode allows.
fn wait_for_expiry(data_dir: &Path, lease: Duration) -> Result<ExpiryWait, RunError> {
    let db = Arc::new(SqliteStore::open(&data_dir.join("ferry.db")).map_err(DataDirError::from)?);
    let exports = SqliteExportStore::new(db).map_err(DataDirError::from)?;
    let started = Instant::now();
    let mut wait = ExpiryWait::default();
    loop {
        let live = exports.live_exports().map_err(DataDirError::from)?;
        wait.still_live = live.len();
        wait.waited_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if live.is_empty() || started.elapsed() > lease + EXPIRY_WAIT {
            return Ok(wait);
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Reads every ref from the stopped server's database.
fn read_refs(data_dir: &Path) -> Result<HashMap<RefName, ObjectId>, RunError> {
    let db = SqliteStore::open(&data_dir.join("ferry.db")).map_err(DataDirError::from)?;
    let refs = db.list_refs("", "").map_err(DataDirError::from)?;
    Ok(refs.into_iter().collect())
}

/// Checks the history against the final refs, with ancestry read from the
/// stopped server's object store.
fn check_history(
    data_dir: &Path,
    attempts: &[Attempt],
    final_refs: &HashMap<RefName, ObjectId>,
) -> Result<Verdict, RunError> {
    let objects = FsObjectStore::open(data_dir.join("objects")).map_err(DataDirError::from)?;
    let graph = StoreGraph(&objects);
    let mut verdict = history::check(attempts, final_refs, &graph);
    history::check_codes(attempts, &history::EXPECTED_CODES, &mut verdict);
    Ok(verdict)
}

/// The results of every check after the client phase.
struct Checks {
    verdict: Verdict,
    expiry: ExpiryWait,
    exports: ExportChecks,
    fresh: FreshExport,
    fsck: DataDirReport,
}

fn report(
    config: &RunConfig,
    phase: ClientPhase,
    attempts: Vec<Attempt>,
    log: LogCounts,
    checks: Checks,
) -> RunReport {
    let mut scenarios = BTreeMap::new();
    let mut rejection_codes = BTreeMap::new();
    for attempt in &attempts {
        *scenarios.entry(attempt.scenario.clone()).or_default() += 1;
        if let Outcome::Rejected { code, .. } = &attempt.outcome {
            *rejection_codes.entry(code.clone()).or_default() += 1;
        }
    }
    let failpoint_hits = log
        .failpoint_hits
        .iter()
        .map(|((point, action), count)| (format!("{point}={action}"), *count))
        .collect();
    let violations = collect_violations(&checks, &log);
    RunReport {
        clients: config.clients,
        attempts: attempts.len(),
        seed: config.seed,
        client_phase_ms: u64::try_from(phase.elapsed.as_millis()).unwrap_or(u64::MAX),
        scenarios,
        rejection_codes,
        chaos: phase.chaos,
        failpoint_hits,
        server_errors: log.errors,
        verdict: checks.verdict,
        expiry: checks.expiry,
        exports: checks.exports,
        fresh: checks.fresh,
        fsck: checks.fsck,
        violations,
        out_dir: config.out_dir.clone(),
    }
}

fn collect_violations(checks: &Checks, log: &LogCounts) -> Vec<String> {
    let Checks {
        verdict,
        expiry,
        exports,
        fresh,
        fsck,
    } = checks;
    let mut violations = verdict.violations.clone();
    if expiry.still_live > 0 {
        violations.push(format!(
            "{} exports were still live {} ms after the client phase ended",
            expiry.still_live, expiry.waited_ms
        ));
    }
    violations.extend(exports.violations.iter().cloned());
    if !fresh.committed {
        violations.push(format!(
            "the fresh export after the run did not commit: {}",
            fresh.error.as_deref().unwrap_or("no reason given")
        ));
    }
    for problem in &fsck.store.problems {
        violations.push(format!("fsck: {problem:?}"));
    }
    for export in &fsck.overdue_exports {
        violations.push(format!(
            "export {} is still {} after its lease",
            export.id,
            export.state.as_str()
        ));
    }
    for line in &log.error_samples {
        violations.push(format!("the server logged an error: {line}"));
    }
    if log.errors as usize > log.error_samples.len() {
        violations.push(format!("the server logged {} errors in all", log.errors));
    }
    violations
}

//! The server under test, run as a child process that can be killed.
//!
//! The torture binary starts itself with the `serve` subcommand, which runs
//! the real [`ferry_server::Server`] over the embedded stores of a data
//! directory, built with the `failpoints` feature. A [`ServerProcess`] is
//! one such child: it learns the address from the first line the child
//! prints, copies the child's log to a file, and counts the failpoints the
//! log reports as hit. Killing uses SIGKILL, so the server gets no chance
//! to clean up, as in a power cut.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use ferry_server::{Server, ServerConfig, ServerError};

/// Failures to start or stop the server process.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The child process could not be started.
    #[error("cannot start the server process {exe}")]
    Spawn {
        /// The executable.
        exe: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The child never printed its address.
    #[error("the server process exited before listening on {listen} ({attempts} attempts)")]
    NoAddress {
        /// The requested address.
        listen: SocketAddr,
        /// Start attempts made.
        attempts: u32,
    },
    /// Waiting for or killing the child failed.
    #[error("cannot stop the server process")]
    Stop(#[source] std::io::Error),
    /// The server log file could not be opened.
    #[error("cannot open the server log {path}")]
    Log {
        /// The log file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Settings every server process of a run starts with.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// The executable that provides the `serve` subcommand.
    pub exe: PathBuf,
    /// The data directory, the same for every restart.
    pub data_dir: PathBuf,
    /// The file that collects the log of every server process.
    pub log: PathBuf,
    /// The export lease.
    pub lease: Duration,
    /// How long objects of ended exports are kept from collection.
    pub grace: Duration,
    /// How often the server expires exports and collects objects.
    pub sweep: Duration,
}

/// Counts taken from the logs of every server process of a run.
#[derive(Clone, Debug, Default)]
pub struct LogCounts {
    /// Failpoint hits by point and action, such as
    /// `commit.after_transaction` and `pause`.
    pub failpoint_hits: BTreeMap<(String, String), u32>,
    /// Lines logged at error level.
    pub errors: u32,
    /// The first few error lines, for the report.
    pub error_samples: Vec<String>,
}

/// Log counts shared between the log readers and the run.
#[derive(Clone, Debug, Default)]
pub struct SharedLogCounts(Arc<Mutex<LogCounts>>);

impl SharedLogCounts {
    /// Returns the counts, tolerating a reader that panicked.
    pub fn lock(&self) -> MutexGuard<'_, LogCounts> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Returns the hits of `point`, with any action, so far.
    pub fn hits_of(&self, point: &str) -> u32 {
        self.lock()
            .failpoint_hits
            .iter()
            .filter(|((name, _), _)| name == point)
            .map(|(_, count)| count)
            .sum()
    }

    fn record_line(&self, line: &str) {
        let mut counts = self.lock();
        if let Some(point) = field(line, "failpoint=") {
            let action = if line.contains("pausing") {
                "pause"
            } else {
                "abort"
            };
            *counts
                .failpoint_hits
                .entry((point, action.to_owned()))
                .or_default() += 1;
        }
        if line.contains(" ERROR ") {
            counts.errors += 1;
            if counts.error_samples.len() < 5 {
                counts.error_samples.push(line.to_owned());
            }
        }
    }
}

/// Returns the log filter of the server processes: `warn`, which shows
/// failpoint hits and errors, unless `FERRY_TORTURE_SERVER_LOG` sets
/// another, such as `info` to log every request.
fn log_filter() -> String {
    std::env::var("FERRY_TORTURE_SERVER_LOG").unwrap_or_else(|_| "warn".to_owned())
}

/// Returns the value after `key` in a log line, up to the next space, with
/// quotes removed.
fn field(line: &str, key: &str) -> Option<String> {
    let start = line.find(key)? + key.len();
    let rest = &line[start..];
    let end = rest.find(' ').unwrap_or(rest.len());
    Some(rest[..end].trim_matches('"').to_owned())
}

/// One running server process.
pub struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    log_reader: Option<JoinHandle<()>>,
}

impl ServerProcess {
    /// Starts a server on `listen` with `FERRY_FAILPOINTS` set to
    /// `failpoints`. A port still held by the previous process is retried
    /// for a few seconds.
    pub fn start(
        settings: &ServerSettings,
        listen: SocketAddr,
        failpoints: &str,
        counts: &SharedLogCounts,
    ) -> Result<Self, ProcessError> {
        const ATTEMPTS: u32 = 50;
        for _ in 0..ATTEMPTS {
            if let Some(process) = Self::try_start(settings, listen, failpoints, counts)? {
                return Ok(process);
            }
            thread::sleep(Duration::from_millis(100));
        }
        Err(ProcessError::NoAddress {
            listen,
            attempts: ATTEMPTS,
        })
    }

    fn try_start(
        settings: &ServerSettings,
        listen: SocketAddr,
        failpoints: &str,
        counts: &SharedLogCounts,
    ) -> Result<Option<Self>, ProcessError> {
        let mut child = Command::new(&settings.exe)
            .arg("serve")
            .arg("--data")
            .arg(&settings.data_dir)
            .arg("--listen")
            .arg(listen.to_string())
            .arg("--lease-ms")
            .arg(settings.lease.as_millis().to_string())
            .arg("--grace-ms")
            .arg(settings.grace.as_millis().to_string())
            .arg("--sweep-ms")
            .arg(settings.sweep.as_millis().to_string())
            .env("FERRY_FAILPOINTS", failpoints)
            .env("RUST_LOG", log_filter())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| ProcessError::Spawn {
                exe: settings.exe.clone(),
                source,
            })?;
        let log_reader = copy_log(&mut child, &settings.log, counts)?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|text| text.parse().ok());
        match (read, addr) {
            (Ok(_), Some(addr)) => Ok(Some(Self {
                child,
                addr,
                log_reader: Some(log_reader),
            })),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = log_reader.join();
                Ok(None)
            }
        }
    }

    /// Returns the address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits up to `timeout` for the process to exit by itself and returns
    /// its status if it did.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<Option<ExitStatus>, ProcessError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().map_err(ProcessError::Stop)? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGKILL, unless the process has exited already, and waits for
    /// it and for its log to be copied.
    pub fn kill(mut self) -> Result<ExitStatus, ProcessError> {
        self.kill_and_wait()
    }

    fn kill_and_wait(&mut self) -> Result<ExitStatus, ProcessError> {
        if self.child.try_wait().map_err(ProcessError::Stop)?.is_none() {
            self.child.kill().map_err(ProcessError::Stop)?;
        }
        let status = self.child.wait().map_err(ProcessError::Stop)?;
        if let Some(reader) = self.log_reader.take() {
            let _ = reader.join();
        }
        Ok(status)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.kill_and_wait();
    }
}

/// Starts a thread that appends the child's log to `path` and counts what
/// it reports.
fn copy_log(
    child: &mut Child,
    path: &Path,
    counts: &SharedLogCounts,
) -> Result<JoinHandle<()>, ProcessError> {
    let mut file = File::options()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| ProcessError::Log {
            path: path.to_path_buf(),
            source,
        })?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let counts = counts.clone();
    let pid = child.id();
    Ok(thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            counts.record_line(&line);
            // The log is for reading after a failure; losing it is no reason
            // to stop the run.
            let _ = writeln!(file, "[pid {pid}] {line}");
        }
    }))
}

/// Options of the `serve` subcommand.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The export lease.
    pub lease: Duration,
    /// The grace window of collection.
    pub grace: Duration,
    /// The sweep interval.
    pub sweep: Duration,
}

/// Runs the server in this process until it is killed, after printing
/// `listening on ADDR` on standard output.
pub fn serve(options: ServeOptions) -> Result<(), ServerError> {
    let runtime = tokio::runtime::Runtime::new().map_err(ServerError::Serve)?;
    runtime.block_on(async {
        let mut config = ServerConfig::new(&options.data_dir, options.listen);
        config.lease = options.lease;
        config.grace = options.grace;
        config.sweep_interval = options.sweep;
        let server = Server::bind(config).await?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening on {}", server.local_addr()?).map_err(ServerError::Serve)?;
        stdout.flush().map_err(ServerError::Serve)?;
        server.run_until(std::future::pending()).await
    })
}

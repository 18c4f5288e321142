//! The chaos thread: kills the server and restarts it on the same data.
//!
//! Events alternate between a SIGKILL at a random moment and, when
//! failpoints are enabled, a failpoint round. In a round the server
//! restarts with one failpoint armed. The first request that reaches that
//! point either aborts the process there (`abort`) or blocks there until
//! the chaos thread sends SIGKILL (`pause`). The rounds go through every point of
//! upload, prepare and commit with both actions, then start over. After
//! each event the server restarts at once, unarmed, on the same address.
//! With several server instances on one data directory, as behind a load
//! balancer, each event hits one instance drawn at random while the others
//! keep serving.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::Rng;
use serde::Serialize;

use crate::server::{ProcessError, ServerProcess, ServerSettings, SharedLogCounts};

/// Every failpoint of upload, prepare and commit, in protocol order.
pub const FAILPOINTS: [&str; 6] = [
    "upload.before_write",
    "upload.after_flush",
    "prepare.after_record",
    "prepare.before_store",
    "commit.before_transaction",
    "commit.after_transaction",
];

/// How long an armed server waits for a request to reach its failpoint
/// before the round gives up on it.
const ARMED_WAIT: Duration = Duration::from_secs(5);

/// Settings of the chaos thread.
#[derive(Clone, Copy, Debug)]
pub struct ChaosConfig {
    /// Mean time between events; each wait is drawn from half to one and a
    /// half times this.
    pub interval: Duration,
    /// Whether failpoint rounds alternate with plain kills.
    pub failpoints: bool,
}

/// One failpoint round.
#[derive(Clone, Debug, Serialize)]
pub struct FailpointRound {
    /// The armed point.
    pub point: &'static str,
    /// `abort` or `pause`.
    pub action: &'static str,
    /// Whether a request reached the point before the round ended.
    pub hit: bool,
}

/// Counts of the chaos thread's kills, restarts and failpoint rounds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ChaosReport {
    /// SIGKILLs sent, at random moments and at paused failpoints.
    pub kills: u32,
    /// Of those, kills at random moments.
    pub random_kills: u32,
    /// Server processes that ended themselves at an `abort` failpoint.
    pub aborts: u32,
    /// Server starts, the first one included.
    pub starts: u32,
    /// Every failpoint round in order.
    pub rounds: Vec<FailpointRound>,
}

/// One server instance: an address and the process serving it, if any.
struct Instance {
    addr: SocketAddr,
    process: Mutex<Option<ServerProcess>>,
}

/// Owns the server processes, one per instance, all on the same data
/// directory, and restarts them.
pub struct Supervisor {
    settings: ServerSettings,
    counts: SharedLogCounts,
    instances: Vec<Instance>,
    report: Mutex<ChaosReport>,
}

impl Supervisor {
    /// Starts `instances` servers, each on a free loopback port.
    pub fn start(
        settings: ServerSettings,
        counts: SharedLogCounts,
        instances: usize,
    ) -> Result<Self, ProcessError> {
        let any_port: SocketAddr = "127.0.0.1:0".parse().expect("valid address");
        let mut started = Vec::new();
        for _ in 0..instances.max(1) {
            let process = ServerProcess::start(&settings, any_port, "", &counts)?;
            started.push(Instance {
                addr: process.addr(),
                process: Mutex::new(Some(process)),
            });
        }
        let report = ChaosReport {
            starts: started.len() as u32,
            ..ChaosReport::default()
        };
        Ok(Self {
            settings,
            counts,
            instances: started,
            report: Mutex::new(report),
        })
    }

    /// Returns the base URL of every instance; each stays the same across
    /// restarts.
    pub fn urls(&self) -> Vec<String> {
        self.instances
            .iter()
            .map(|instance| format!("http://{}", instance.addr))
            .collect()
    }

    /// Returns what the chaos thread did so far.
    pub fn report(&self) -> ChaosReport {
        lock(&self.report).clone()
    }

    /// Runs events, each on a randomly chosen instance, until `done` is
    /// set, then leaves an unarmed server running on every instance.
    pub fn run_chaos(
        &self,
        config: ChaosConfig,
        done: &AtomicBool,
        rng: &mut StdRng,
    ) -> Result<(), ProcessError> {
        let mut event = 0usize;
        let mut round = 0usize;
        loop {
            let wait = config.interval.mul_f64(rng.random_range(0.5..1.5));
            if sleep_unless(done, wait) {
                return self.ensure_running();
            }
            let instance = rng.random_range(0..self.instances.len());
            if config.failpoints && event % 2 == 1 {
                let point = FAILPOINTS[round % FAILPOINTS.len()];
                let action = if (round / FAILPOINTS.len()).is_multiple_of(2) {
                    "abort"
                } else {
                    "pause"
                };
                self.failpoint_round(instance, point, action, done, rng)?;
                round += 1;
            } else {
                self.kill_now(instance, true)?;
                self.restart(instance, "")?;
            }
            event += 1;
        }
    }

    /// Kills every running server and leaves none running.
    pub fn stop(&self) -> Result<(), ProcessError> {
        for instance in &self.instances {
            if let Some(process) = lock(&instance.process).take() {
                process.kill()?;
            }
        }
        Ok(())
    }

    /// Starts an unarmed server on every instance that has none.
    pub fn ensure_running(&self) -> Result<(), ProcessError> {
        for index in 0..self.instances.len() {
            if lock(&self.instances[index].process).is_none() {
                self.restart(index, "")?;
            }
        }
        Ok(())
    }

    fn kill_now(&self, instance: usize, random: bool) -> Result<(), ProcessError> {
        if let Some(process) = lock(&self.instances[instance].process).take() {
            process.kill()?;
            let mut report = lock(&self.report);
            report.kills += 1;
            report.random_kills += u32::from(random);
        }
        Ok(())
    }

    fn restart(&self, instance: usize, failpoints: &str) -> Result<(), ProcessError> {
        let addr = self.instances[instance].addr;
        let process = ServerProcess::start(&self.settings, addr, failpoints, &self.counts)?;
        *lock(&self.instances[instance].process) = Some(process);
        lock(&self.report).starts += 1;
        Ok(())
    }

    /// Restarts `instance` with `point` armed, waits for a request to reach
    /// it, and makes sure the process dies there.
    fn failpoint_round(
        &self,
        instance: usize,
        point: &'static str,
        action: &'static str,
        done: &AtomicBool,
        rng: &mut StdRng,
    ) -> Result<(), ProcessError> {
        self.kill_now(instance, true)?;
        let hits_before = self.counts.hits_of(point);
        self.restart(instance, &format!("{point}={action}"))?;
        let hit = match action {
            "abort" => self.wait_for_abort(instance, done)?,
            _ => {
                let hit = self.wait_for_hit(point, hits_before, done);
                // Lets other requests run on or pile up at the point.
                thread::sleep(Duration::from_millis(rng.random_range(0..300)));
                self.kill_now(instance, false)?;
                hit
            }
        };
        lock(&self.report)
            .rounds
            .push(FailpointRound { point, action, hit });
        self.kill_now(instance, false)?;
        self.restart(instance, "")
    }

    /// Waits for the armed process to abort itself; returns whether it did.
    fn wait_for_abort(&self, instance: usize, done: &AtomicBool) -> Result<bool, ProcessError> {
        let deadline = Instant::now() + ARMED_WAIT;
        while Instant::now() < deadline && !done.load(Ordering::SeqCst) {
            let mut current = lock(&self.instances[instance].process);
            let exited = match current.as_mut() {
                Some(process) => process.wait_exit(Duration::from_millis(20))?,
                None => return Ok(false),
            };
            if exited.is_some() {
                current.take();
                lock(&self.report).aborts += 1;
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn wait_for_hit(&self, point: &str, hits_before: u32, done: &AtomicBool) -> bool {
        let deadline = Instant::now() + ARMED_WAIT;
        while Instant::now() < deadline && !done.load(Ordering::SeqCst) {
            if self.counts.hits_of(point) > hits_before {
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

/// Sleeps for `wait` in short steps; returns true as soon as `done` is set.
fn sleep_unless(done: &AtomicBool, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if done.load(Ordering::SeqCst) {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    done.load(Ordering::SeqCst)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

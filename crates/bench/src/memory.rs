//! Peak resident memory of processes, read from `/proc` (Linux only).
//!
//! `VmHWM` in `/proc/PID/status` is the process's peak resident set size
//! so far. For a process the benchmark owns until the end, such as the
//! ferry server, one read before it stops is exact. git's receiving side
//! (`receive-pack` and the `index-pack` or `unpack-objects` it starts) are
//! short-lived grandchildren, so [`PeakWatch`] samples them every few
//! milliseconds while they live and keeps each one's last value. Growth in
//! the last interval before a process exits can be missed.

use std::collections::BTreeMap;
use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Time between two samples of a [`PeakWatch`].
const SAMPLE_INTERVAL: Duration = Duration::from_millis(20);

/// Returns the peak resident set size of process `pid` in bytes, or `None`
/// when it is gone or `/proc` is unavailable.
pub fn peak_of(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_hwm(&status)
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A thread that samples the peaks of the descendants of one process whose
/// command line contains one of a set of words.
pub struct PeakWatch {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<BTreeMap<u32, u64>>,
}

impl PeakWatch {
    /// Starts sampling the descendants of `root` whose command line
    /// contains one of `words`.
    pub fn start(root: u32, words: &'static [&'static str]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peaks = BTreeMap::new();
            while !stopped.load(Ordering::Relaxed) {
                sample(root, words, &mut peaks);
                std::thread::sleep(SAMPLE_INTERVAL);
            }
            peaks
        });
        Self { stop, thread }
    }

    /// Stops sampling and returns the sum of the peaks of every matching
    /// process seen, in bytes: an upper bound of their joint peak.
    pub fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let peaks = self.thread.join().unwrap_or_default();
        peaks.values().sum()
    }
}

/// Records the current peak of every matching descendant of `root`.
fn sample(root: u32, words: &[&str], peaks: &mut BTreeMap<u32, u64>) {
    for pid in descendants(root) {
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline);
        if !words.iter().any(|word| cmdline.contains(word)) {
            continue;
        }
        if let Some(peak) = peak_of(pid) {
            let seen = peaks.entry(pid).or_default();
            *seen = (*seen).max(peak);
        }
    }
}

/// Returns the processes below `root` in the process tree.
fn descendants(root: u32) -> Vec<u32> {
    let parents = parent_map();
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (&pid, _) in parents.iter().filter(|(_, &ppid)| ppid == parent) {
            found.push(pid);
            frontier.push(pid);
        }
    }
    found
}

/// Returns the parent of every process in `/proc`.
fn parent_map() -> BTreeMap<u32, u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return BTreeMap::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            Some((pid, parse_parent(&stat)?))
        })
        .collect()
}

/// Returns the parent pid from the text of `/proc/PID/stat`. The command
/// name in brackets may hold spaces, so parsing starts after its `)`.
fn parse_parent(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_read_in_bytes() {
        let status = "Name:\tferry\nVmPeak:\t  9000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(2048 * 1024));
    }

    #[test]
    fn parent_read_after_command_name() {
        let stat = "4242 (git receive) pack) S 4200 4242 4200 0 -1";
        assert_eq!(parse_parent(stat), Some(4200));
    }

    #[test]
    fn own_peak_is_readable() {
        let peak = peak_of(std::process::id()).expect("own status");
        assert!(peak > 0);
    }
}

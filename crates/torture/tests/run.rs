//! Torture runs against the real server in child processes: a bounded run
//! with kills and failpoints comes out clean, and damage done to the data
//! directory before the checks is caught.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use ferry_store::fsck::Problem;
use ferry_torture::chaos::{ChaosConfig, FAILPOINTS};
use ferry_torture::run::{run, RunConfig, RunReport};
use ferry_torture::sabotage::Sabotage;

fn config(out: &tempfile::TempDir, clients: u32, attempts: u32) -> RunConfig {
    RunConfig {
        clients,
        attempts,
        servers: 1,
        collect_every: None,
        seed: 7,
        out_dir: out.path().join("run"),
        server_exe: PathBuf::from(env!("CARGO_BIN_EXE_ferry-torture")),
        chaos: None,
        lease: Duration::from_millis(1500),
        grace: Duration::from_millis(500),
        sweep: Duration::from_millis(250),
        sabotage: None,
    }
}

fn run_clean(config: &RunConfig) -> RunReport {
    let report = run(config).expect("the run reaches a verdict");
    eprintln!("{report}");
    report
}

#[test]
fn bounded_run_with_kills_is_clean() {
    let out = tempfile::TempDir::new().expect("temporary directory");
    let mut config = config(&out, 8, 1000);
    config.chaos = Some(ChaosConfig {
        interval: Duration::from_millis(250),
        failpoints: true,
    });
    let report = run_clean(&config);

    assert!(report.is_clean(), "{report}");
    assert_eq!(report.attempts, 1000);
    assert_eq!(report.verdict.lost, 0);
    assert!(report.verdict.committed > 100, "{report}");
    assert!(report.verdict.rejected > 10, "{report}");
    assert!(report.verdict.chains_checked > 10, "{report}");
    assert!(report.chaos.random_kills >= 5, "{report}");
    assert!(report.chaos.rounds.len() >= FAILPOINTS.len(), "{report}");
    for point in FAILPOINTS {
        let hit = report
            .failpoint_hits
            .keys()
            .any(|key| key.starts_with(&format!("{point}=")));
        assert!(hit, "failpoint {point} was never reached\n{report}");
    }
    assert!(report.fresh.committed, "{report}");
    assert!(report.fsck.store.objects > 1000, "{report}");
    assert!(report.fsck.overdue_exports.is_empty(), "{report}");
}

#[test]
fn rewound_head_is_reported_as_lost() {
    let out = tempfile::TempDir::new().expect("temporary directory");
    let mut config = config(&out, 4, 80);
    config.sabotage = Some(Sabotage::RewindHead);
    let report = run_clean(&config);

    assert!(!report.is_clean());
    assert!(report.verdict.lost >= 1, "{report}");
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.contains("is not reachable")),
        "{report}"
    );
    assert!(report.fsck.store.is_clean(), "{report}");
}

#[test]
fn dropped_object_is_reported_by_fsck() {
    let out = tempfile::TempDir::new().expect("temporary directory");
    let mut config = config(&out, 4, 80);
    config.sabotage = Some(Sabotage::DropObject);
    let report = run_clean(&config);

    assert!(!report.is_clean());
    assert_eq!(report.verdict.lost, 0, "{report}");
    assert!(
        report
            .fsck
            .store
            .problems
            .iter()
            .any(|p| matches!(p, Problem::Missing { .. })),
        "{report}"
    );
}

#[test]
fn binary_prints_figures_and_exits_zero() {
    let out = tempfile::TempDir::new().expect("temporary directory");
    let output = Command::new(env!("CARGO_BIN_EXE_ferry-torture"))
        .args(["run", "--clients", "2", "--attempts", "20", "--no-kills"])
        .args(["--lease-ms", "500", "--sweep-ms", "100", "--out"])
        .arg(out.path().join("run"))
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("attempts 20: committed"), "{stdout}");
    assert!(stdout.contains("result: clean, 0 lost"), "{stdout}");
    let records = std::fs::read_to_string(out.path().join("run/attempts.jsonl"))
        .expect("attempts are recorded");
    assert_eq!(records.lines().count(), 20);
}

#[test]
fn binary_rejects_used_output_directory() {
    let out = tempfile::TempDir::new().expect("temporary directory");
    std::fs::write(out.path().join("leftover"), b"x").expect("write a file");
    let output = Command::new(env!("CARGO_BIN_EXE_ferry-torture"))
        .args(["run", "--attempts", "1", "--no-kills", "--out"])
        .arg(out.path())
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not empty"), "{stderr}");
}

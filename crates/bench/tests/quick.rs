//! Runs `ferry-bench --quick` with a dev build of ferry and checks that it
//! finishes and prints a table row for every case. Timings are not
//! checked: the quick input is too small for them to mean anything.

use std::process::Command;

#[test]
fn quick_run_prints_row_per_case() {
    let work = tempfile::tempdir().expect("create a work directory");
    let output = Command::new(env!("CARGO_BIN_EXE_ferry-bench"))
        .args(["--quick", "--profile", "dev", "--work-dir"])
        .arg(work.path())
        .output()
        .expect("start ferry-bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "ferry-bench failed with {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );

    for number in 1..=8 {
        let prefix = format!("| {number}. ");
        assert!(
            stdout.lines().any(|line| line.starts_with(&prefix)),
            "no row for case {number} in:\n{stdout}"
        );
    }
}

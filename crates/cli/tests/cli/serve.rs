//! `ferry serve` as a process: its address line, its logs and its start
//! failures.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::Sandbox;

#[test]
fn serve_logs_json_lines() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--data")
        .arg(data.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ferry serve");

    let mut address = String::new();
    let stdout = child.stdout.take().expect("stdout is piped");
    BufReader::new(stdout)
        .read_line(&mut address)
        .expect("read the address");
    let mut log = String::new();
    let stderr = child.stderr.take().expect("stderr is piped");
    BufReader::new(stderr)
        .read_line(&mut log)
        .expect("read the first log line");
    child.kill().expect("kill ferry serve");
    child.wait().expect("wait for ferry serve");

    assert!(
        address.starts_with("listening on http://127.0.0.1:"),
        "{address}"
    );
    let event: serde_json::Value = serde_json::from_str(&log).expect("the log line is JSON");
    assert_eq!(event["level"], "INFO", "{log}");
    assert_eq!(event["fields"]["message"], "server started", "{log}");
    assert!(data.path().join("ferry.db").exists());
}

#[test]
fn serve_on_taken_port_fails_with_hint() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = taken.local_addr().expect("local address").to_string();
    let sandbox = Sandbox::empty();
    let stderr = sandbox.user_error(&["serve", "--listen", &addr, "--data", "data"]);
    assert!(
        stderr.contains(&format!("error: cannot listen on {addr}")),
        "{stderr}"
    );
    assert!(stderr.contains("--listen"), "{stderr}");
}

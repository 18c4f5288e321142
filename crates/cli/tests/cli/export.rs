//! `ferry export`, `ferry scope` and `ferry fetch` against a real
//! `ferry serve` on a loopback port.

use serde_json::Value;

use crate::server::{closed_port_url, Serve};
use crate::support::Sandbox;

const JOURNAL: &str = ".ferry/export-journal.json";

/// Returns the `refs` of an export report as (name, status) pairs.
fn ref_statuses(report: &Value) -> Vec<(String, String)> {
    report["refs"]
        .as_array()
        .expect("refs is a list")
        .iter()
        .map(|r| {
            let name = r["name"].as_str().expect("name").to_owned();
            (name, r["status"].as_str().expect("status").to_owned())
        })
        .collect()
}

/// Returns how `component` compares with `origin` in `ferry status`.
fn sync_state(sandbox: &Sandbox, component: &str) -> Option<String> {
    let status = sandbox.json(&["status"]);
    let entry = status["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["id"] == component)
        .expect("component in status")
        .clone();
    let remotes = entry["remotes"].as_array().expect("remotes").clone();
    let origin = remotes.iter().find(|r| r["remote"] == "origin")?;
    Some(origin["sync"]["state"].as_str().expect("state").to_owned())
}

/// Returns a workspace with remote `origin` at `serve`, whose scope
/// `acme` exists there, with component `acme/button` snapped once.
fn exporter(serve: &Serve) -> Sandbox {
    let sandbox = Sandbox::with_remote(serve.url());
    sandbox.ok(&["scope", "create", "acme"]);
    sandbox.write("ui/button/index.js", "export const size = 1;\n");
    sandbox.ok(&["add", "ui/button"]);
    sandbox.snap_one("first", "acme/button");
    sandbox
}

#[test]
fn scope_create_and_list() {
    let serve = Serve::start();
    let sandbox = Sandbox::empty();
    let created = sandbox.json(&["scope", "create", "acme.ui", "--remote", serve.url()]);
    assert_eq!(created["scope"], "acme.ui");
    sandbox.ok(&["scope", "create", "beta", "--remote", serve.url()]);
    let listed = sandbox.json(&["scope", "list", "--remote", serve.url()]);
    assert_eq!(listed, serde_json::json!(["acme.ui", "beta"]));

    let stderr = sandbox.user_error(&["scope", "create", "beta", "--remote", serve.url()]);
    assert!(stderr.contains("scope beta already exists"), "{stderr}");
    let stderr = sandbox.user_error(&["scope", "create", "a..b", "--remote", serve.url()]);
    assert!(stderr.contains("a..b"), "{stderr}");
}

#[test]
fn export_creates_then_fast_forwards() {
    let serve = Serve::start();
    let sandbox = exporter(&serve);
    sandbox.write("ui/card/index.js", "export const card = 1;\n");
    sandbox.ok(&["add", "ui/card"]);
    sandbox.ok(&["snap", "-m", "card"]);
    sandbox.ok(&["tag", "button", "1.0.0"]);

    let first = sandbox.json(&["export"]);
    let mut statuses = ref_statuses(&first);
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("main:acme/button".to_owned(), "created".to_owned()),
            ("main:acme/card".to_owned(), "created".to_owned()),
            ("tag:acme/button:1.0.0".to_owned(), "created".to_owned()),
        ]
    );
    assert_eq!(first["objects_uploaded"], 4, "two snaps and two blobs");
    assert_eq!(
        sync_state(&sandbox, "acme/button").as_deref(),
        Some("up_to_date")
    );

    sandbox.write("ui/button/index.js", "export const size = 2;\n");
    sandbox.snap_one("second", "acme/button");
    assert_eq!(
        sync_state(&sandbox, "acme/button").as_deref(),
        Some("ahead")
    );
    let second = sandbox.json(&["export"]);
    assert_eq!(
        ref_statuses(&second),
        [("main:acme/button".to_owned(), "fast_forwarded".to_owned())]
    );
    assert_eq!(second["objects_uploaded"], 2, "one snap and one blob");
    assert_eq!(
        sync_state(&sandbox, "acme/button").as_deref(),
        Some("up_to_date")
    );

    let third = sandbox.json(&["export"]);
    assert_eq!(third["refs"], serde_json::json!([]));
    assert!(sandbox.ok(&["export"]).contains("Nothing to export"));

    let named = sandbox.json(&["export", "card"]);
    assert_eq!(
        ref_statuses(&named),
        [("main:acme/card".to_owned(), "unchanged".to_owned())]
    );
    assert!(!sandbox.join(JOURNAL).exists());
}

#[test]
fn racing_export_is_rejected_as_diverged() {
    let serve = Serve::start();
    let first = exporter(&serve);
    let base = first.json(&["export"])["refs"][0]["new"]
        .as_str()
        .expect("snap id")
        .to_owned();

    let second = Sandbox::with_remote(serve.url());
    second.ok(&["import", "acme/button"]);
    assert_eq!(second.read("button/index.js"), "export const size = 1;\n");

    first.write("ui/button/index.js", "export const size = 2;\n");
    let winner = first.snap_one("from first", "acme/button");
    first.ok(&["export"]);

    second.write("button/index.js", "export const size = 3;\n");
    let loser = second.snap_one("from second", "acme/button");
    let (report, stderr) = second.json_failure(&["export"]);
    let rejected = &report["refs"][0];
    assert_eq!(rejected["name"], "main:acme/button");
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["code"], "diverged");
    assert_eq!(rejected["expected"], base.as_str());
    assert_eq!(rejected["actual"], winner.as_str());
    assert_eq!(rejected["merge_base"], base.as_str());
    assert_eq!(rejected["new"], loser.as_str());
    assert_eq!(report["rejection"]["code"], "diverged");
    assert!(
        stderr.contains("main:acme/button was rejected as diverged"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
    assert!(stderr.contains("ferry import acme/button"), "{stderr}");

    let text = second.run(&["export"]);
    assert_eq!(text.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains(&winner[..12]),
        "the remote head is shown: {stdout}"
    );
    assert!(
        stdout.contains(&base[..12]),
        "the merge base is shown: {stdout}"
    );

    // The winner's head is what a third workspace imports.
    let third = Sandbox::with_remote(serve.url());
    third.ok(&["import", "acme/button"]);
    assert_eq!(third.read("button/index.js"), "export const size = 2;\n");

    let fetched = second.json(&["fetch"]);
    assert_eq!(fetched["updated"][0]["new"], winner.as_str());
    assert_eq!(
        sync_state(&second, "acme/button").as_deref(),
        Some("diverged")
    );
    assert!(!second.join(JOURNAL).exists());
}

#[test]
fn export_without_remote_changes_nothing() {
    let sandbox = Sandbox::workspace();
    sandbox.write("ui/button/index.js", "1");
    sandbox.ok(&["add", "ui/button"]);
    sandbox.ok(&["snap", "-m", "first"]);

    let stderr = sandbox.user_error(&["export"]);
    assert!(stderr.contains("error: no remote configured\n"), "{stderr}");
    assert!(stderr.contains("ferry remote add origin URL"), "{stderr}");

    sandbox.ok(&["remote", "add", "origin", &closed_port_url()]);
    let stderr = sandbox.user_error(&["export", "--remote", "backup"]);
    assert!(stderr.contains("unknown remote \"backup\""), "{stderr}");
    assert!(!sandbox.join(JOURNAL).exists());
    assert_eq!(sync_state(&sandbox, "acme/button"), None);
}

#[test]
fn export_to_unknown_scope_hints_scope_create() {
    let serve = Serve::start();
    let sandbox = Sandbox::with_remote(serve.url());
    sandbox.write("ui/button/index.js", "1");
    sandbox.ok(&["add", "ui/button"]);
    sandbox.ok(&["snap", "-m", "first"]);

    let stderr = sandbox.user_error(&["export"]);
    assert!(
        stderr.contains("error: scope acme does not exist on remote origin\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: run `ferry scope create acme --remote origin`"),
        "{stderr}"
    );
    assert!(!sandbox.join(JOURNAL).exists());
    assert_eq!(sync_state(&sandbox, "acme/button"), None);
    let scopes = sandbox.json(&["scope", "list"]);
    assert_eq!(scopes, serde_json::json!([]));
}

#[test]
fn export_to_stopped_server_changes_nothing() {
    let sandbox = Sandbox::with_remote(&closed_port_url());
    sandbox.write("ui/button/index.js", "1");
    sandbox.ok(&["add", "ui/button"]);
    sandbox.ok(&["snap", "-m", "first"]);

    let stderr = sandbox.user_error(&["export"]);
    let first_line = stderr.lines().next().expect("an error line");
    assert!(
        first_line.starts_with("error: cannot reach remote origin at http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("ferry serve"), "{stderr}");
    assert!(!sandbox.join(JOURNAL).exists());
    assert_eq!(sync_state(&sandbox, "acme/button"), None);
}

#[test]
fn export_rejects_components_of_several_scopes() {
    let serve = Serve::start();
    let sandbox = exporter(&serve);
    sandbox.write("lib/util/index.js", "1");
    sandbox.ok(&["add", "lib/util", "--scope", "tools"]);
    sandbox.ok(&["snap", "-m", "util"]);

    let stderr = sandbox.user_error(&["export"]);
    assert!(stderr.contains("acme (acme/button)"), "{stderr}");
    assert!(stderr.contains("tools (tools/util)"), "{stderr}");
    assert!(!sandbox.join(JOURNAL).exists());

    let report = sandbox.json(&["export", "button"]);
    assert_eq!(report["refs"][0]["status"], "created");
}

#[test]
fn export_of_lane_heads_imports_as_lane() {
    let serve = Serve::start();
    let first = exporter(&serve);
    first.ok(&["export"]);
    first.ok(&["lane", "create", "theme"]);
    first.write("ui/button/index.js", "export const dark = true;\n");
    first.snap_one("dark", "acme/button");

    let report = first.json(&["export", "--lane"]);
    assert_eq!(
        ref_statuses(&report),
        [(
            "lane:acme/theme:acme/button".to_owned(),
            "created".to_owned()
        )]
    );

    let second = Sandbox::with_remote(serve.url());
    let imported = second.json(&["import", "--lane", "theme"]);
    assert_eq!(imported["refs"][0]["name"], "lane:acme/theme:acme/button");
    assert_eq!(imported["refs"][0]["status"], "created");
    assert_eq!(
        second.read("button/index.js"),
        "export const dark = true;\n"
    );
    let lanes = second.json(&["lane", "list"]);
    assert_eq!(lanes[0]["id"], "acme/theme");
}

#[test]
fn export_lane_on_main_is_rejected() {
    let serve = Serve::start();
    let sandbox = exporter(&serve);
    let stderr = sandbox.user_error(&["export", "--lane"]);
    assert!(stderr.contains("the workspace is on main"), "{stderr}");
}

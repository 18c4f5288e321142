use ferry_core::{ObjectId, RefName};
use ferry_workspace::Workspace;
use serde_json::Value;

use crate::support::Sandbox;

#[test]
fn status_lists_new_modified_deleted() {
    let sandbox = Sandbox::workspace();
    sandbox.write("c/button/keep.js", "keep");
    sandbox.write("c/button/edit.js", "edit");
    sandbox.write("c/button/gone.js", "gone");
    sandbox.ok(&["add", "c/button"]);
    let before = sandbox.json(&["status"]);
    let added = &before["components"][0]["changes"]["added"];
    assert_eq!(
        added.as_array().map(Vec::len),
        Some(3),
        "unsnapped files are new"
    );

    sandbox.ok(&["snap"]);
    sandbox.write("c/button/edit.js", "edited");
    sandbox.write("c/button/sub/new.js", "new");
    std::fs::remove_file(sandbox.join("c/button/gone.js")).expect("remove");
    let status = sandbox.json(&["status"]);
    let changes = &status["components"][0]["changes"];
    assert_eq!(changes["added"], serde_json::json!(["sub/new.js"]));
    assert_eq!(changes["modified"], serde_json::json!(["edit.js"]));
    assert_eq!(changes["deleted"], serde_json::json!(["gone.js"]));

    let text = sandbox.ok(&["status"]);
    assert!(text.contains("modified: edit.js"), "{text}");
    assert!(text.contains("1 with unsnapped changes"), "{text}");
}

fn sync_of(status: &Value) -> Value {
    status["components"][0]["remotes"][0]["sync"].clone()
}

fn record(sandbox: &Sandbox, name: RefName, id: &str) {
    let workspace = Workspace::open(sandbox.path()).expect("open workspace");
    let id: ObjectId = id.parse().expect("snap id");
    workspace
        .record_remote_refs("origin", &[(name, id)])
        .expect("record remote refs");
}

#[test]
fn status_compares_with_remote_heads() {
    let sandbox = Sandbox::workspace();
    sandbox.write("c/button/a.js", "1");
    sandbox.ok(&["add", "c/button"]);
    sandbox.ok(&["remote", "add", "origin", "http://127.0.0.1:9"]);
    let main_ref: RefName = "main:acme/button".parse().expect("ref");

    let first = sandbox.snap_one("1", "acme/button");
    record(&sandbox, main_ref.clone(), &first);
    assert_eq!(sync_of(&sandbox.json(&["status"]))["state"], "up_to_date");

    sandbox.write("c/button/a.js", "2");
    let second = sandbox.snap_one("2", "acme/button");
    let sync = sync_of(&sandbox.json(&["status"]));
    assert_eq!(sync["state"], "ahead");
    assert_eq!(sync["ahead"], 1);

    // A lane snap is a descendant of main that main does not have.
    sandbox.ok(&["lane", "create", "l"]);
    sandbox.write("c/button/a.js", "lane");
    let lane_snap = sandbox.snap_one("lane", "acme/button");
    sandbox.ok(&["lane", "switch", "main"]);
    record(&sandbox, main_ref.clone(), &lane_snap);
    let sync = sync_of(&sandbox.json(&["status"]));
    assert_eq!(sync["state"], "behind");
    assert_eq!(sync["behind"], 1);

    sandbox.write("c/button/a.js", "3");
    let third = sandbox.snap_one("3", "acme/button");
    assert_ne!(third, second);
    let sync = sync_of(&sandbox.json(&["status"]));
    assert_eq!(sync["state"], "diverged");
    assert_eq!(sync["ahead"], 1);
    assert_eq!(sync["behind"], 1);
    let text = sandbox.ok(&["status"]);
    assert!(
        text.contains("diverged from origin: 1 ahead, 1 behind"),
        "{text}"
    );
}

#[test]
fn status_reports_unfetched_remote_snap() {
    let sandbox = Sandbox::workspace();
    sandbox.write("c/button/a.js", "1");
    sandbox.ok(&["add", "c/button"]);
    sandbox.ok(&["snap"]);
    sandbox.ok(&["remote", "add", "origin", "http://127.0.0.1:9"]);
    let unknown = ObjectId::digest(b"never fetched").to_hex();
    record(&sandbox, "main:acme/button".parse().expect("ref"), &unknown);
    assert_eq!(sync_of(&sandbox.json(&["status"]))["state"], "unknown");
}

#[test]
fn closed_stdout_ends_quietly() {
    use std::process::Stdio;

    let sandbox = Sandbox::workspace();
    let mut names = Vec::new();
    for n in 0..300 {
        let name = format!("c{n}");
        sandbox.write(&format!("{name}/f.js"), "x");
        names.push(name);
    }
    let mut args = vec!["add"];
    args.extend(names.iter().map(String::as_str));
    sandbox.ok(&args);
    sandbox.ok(&["snap", "-m", "many"]);

    // The reading end is closed before ferry writes its first line.
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
        .current_dir(sandbox.path())
        .args(["status", "--all"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let std::process::Child { stdout, stderr, .. } = child;
    drop(stdout);
    let mut stderr_text = String::new();
    std::io::Read::read_to_string(&mut stderr.expect("stderr"), &mut stderr_text).expect("read");

    assert!(!stderr_text.contains("panicked"), "{stderr_text}");
}

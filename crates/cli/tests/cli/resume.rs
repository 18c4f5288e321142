//! An export whose process stopped after the server opened it, or after
//! the server committed it, is resolved by the next `ferry export` to its
//! original outcome.
//!
//! These tests play the stopped process themselves: they open (and maybe
//! commit) an export through the client library with the workspace's
//! objects, leave the journal a `ferry export` would have left, and never
//! record the result in the workspace's refs.

use ferry_client::{export, NoProgress, RefPush, RemoteClient};
use ferry_core::protocol::{ExportId, IdempotencyKey};
use ferry_core::RefName;
use ferry_store::{MemoryRefStore, RefStore};
use ferry_workspace::sync::journal::{self, Journal};
use ferry_workspace::Workspace;

use crate::server::Serve;
use crate::support::Sandbox;

/// Returns a workspace with `acme/button` snapped once, remote `origin`
/// at `serve`, and scope `acme` created there.
fn workspace(serve: &Serve) -> Sandbox {
    let sandbox = Sandbox::with_remote(serve.url());
    sandbox.ok(&["scope", "create", "acme"]);
    sandbox.write("ui/button/index.js", "export const size = 1;\n");
    sandbox.ok(&["add", "ui/button"]);
    sandbox.ok(&["snap", "-m", "first"]);
    sandbox
}

/// Opens an export of the main head of `acme/button` under a fresh key,
/// commits it through a throwaway ref store when `commit` is set, and
/// leaves the journal behind. Returns the export id.
fn interrupted_export(sandbox: &Sandbox, serve: &Serve, commit: bool) -> ExportId {
    let workspace = Workspace::open(sandbox.path()).expect("open workspace");
    let name = RefName::Main("acme/button".parse().expect("valid"));
    let local = workspace
        .ref_store()
        .get_ref("", &name)
        .expect("read the head")
        .expect("the component has a head");

    let update = RefPush {
        name,
        local,
        expected_remote: None,
    };
    let scope = "acme".parse().expect("valid");
    let key = IdempotencyKey::random();
    let client = RemoteClient::new(serve.url()).expect("client");
    let info = client.open_export(&scope, Some(&key)).expect("open");

    let journal = Journal::new("origin", scope, key, info.id, std::slice::from_ref(&update));
    journal::create(&journal::path_in(&workspace.ferry_dir()), &journal).expect("journal");

    if commit {
        let report = export(
            workspace.object_store(),
            &MemoryRefStore::new(),
            &client,
            &journal.request(),
            &NoProgress,
        )
        .expect("export");
        assert!(report.is_committed());
    }
    info.id
}

#[test]
fn export_committed_before_interruption_resolves() {
    let serve = Serve::start();
    let sandbox = workspace(&serve);
    let id = interrupted_export(&sandbox, &serve, true);
    let status = sandbox.json(&["status"]);
    assert_eq!(status["components"][0]["remotes"], serde_json::json!([]));

    let report = sandbox.json(&["export"]);
    assert_eq!(report["resumed"], true);
    assert_eq!(report["export_id"], id.to_string());
    assert_eq!(report["refs"][0]["status"], "created");
    assert_eq!(report["objects_uploaded"], 0, "nothing is sent twice");
    assert!(!sandbox.join(".ferry/export-journal.json").exists());

    let status = sandbox.json(&["status"]);
    assert_eq!(
        status["components"][0]["remotes"][0]["sync"]["state"],
        "up_to_date"
    );
    let again = sandbox.json(&["export"]);
    assert_eq!(again["refs"], serde_json::json!([]));
    let stderr = sandbox.user_error(&["export", "--resume"]);
    assert!(stderr.contains("no interrupted export"), "{stderr}");
}

#[test]
fn export_opened_before_interruption_finishes() {
    let serve = Serve::start();
    let sandbox = workspace(&serve);
    let id = interrupted_export(&sandbox, &serve, false);

    let report = sandbox.json(&["export", "--resume"]);
    assert_eq!(report["resumed"], true);
    assert_eq!(report["export_id"], id.to_string());
    assert_eq!(report["refs"][0]["status"], "created");
    assert_eq!(report["objects_uploaded"], 2, "the snap and its blob");
    assert!(!sandbox.join(".ferry/export-journal.json").exists());

    let other = Sandbox::with_remote(serve.url());
    other.ok(&["import", "button"]);
    assert_eq!(other.read("button/index.js"), "export const size = 1;\n");
}

//! A server that dies right after committing an export, before the client
//! hears back: the next `ferry export` reports the original outcome.
//!
//! Needs the `failpoints` feature, which builds `ferry serve` with the
//! server's failpoints.

use serde_json::Value;

use crate::server::Serve;
use crate::support::Sandbox;

const JOURNAL: &str = ".ferry/export-journal.json";

#[test]
fn export_killed_after_commit_resolves_on_restart() {
    let data = tempfile::tempdir().expect("tempdir");
    let failpoint = [("FERRY_FAILPOINTS", "commit.after_transaction=abort")];
    let mut serve = Serve::start_on(data.path(), "127.0.0.1:0", &failpoint);
    let addr = serve.addr().to_owned();
    let sandbox = Sandbox::with_remote(serve.url());
    sandbox.ok(&["scope", "create", "acme"]);
    sandbox.write("ui/button/index.js", "export const size = 1;\n");
    sandbox.ok(&["add", "ui/button"]);
    let snap = sandbox.snap_one("first", "acme/button");

    let stderr = sandbox.user_error(&["export"]);
    assert!(stderr.contains("was interrupted"), "{stderr}");
    assert!(stderr.contains("ferry export --resume"), "{stderr}");
    assert!(
        !serve.wait().success(),
        "the server aborted at the failpoint"
    );
    let journal: Value = serde_json::from_str(&sandbox.read(JOURNAL)).expect("the journal is JSON");
    let status = sandbox.json(&["status"]);
    assert_eq!(status["components"][0]["remotes"], serde_json::json!([]));
    drop(serve);

    let _serve = Serve::start_on(data.path(), &addr, &[]);
    let report = sandbox.json(&["export"]);
    assert_eq!(report["resumed"], true);
    assert_eq!(report["export_id"], journal["export_id"]);
    assert_eq!(report["refs"][0]["status"], "created");
    assert_eq!(report["refs"][0]["new"], snap.as_str());
    assert!(!sandbox.join(JOURNAL).exists());

    let status = sandbox.json(&["status"]);
    assert_eq!(
        status["components"][0]["remotes"][0]["sync"]["state"],
        "up_to_date"
    );
    let again = sandbox.json(&["export"]);
    assert_eq!(again["refs"], serde_json::json!([]));
}

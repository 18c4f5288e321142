//! `ferry fsck` on a workspace and on a server data directory.

use std::fs;
use std::path::{Path, PathBuf};

use crate::server::Serve;
use crate::support::Sandbox;

/// Returns every object file under `objects`, skipping the staging area.
fn object_files(objects: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for fan_out in fs::read_dir(objects).expect("objects dir") {
        let fan_out = fan_out.expect("entry").path();
        if fan_out.file_name().is_some_and(|name| name.len() == 2) {
            for file in fs::read_dir(&fan_out).expect("fan-out dir") {
                files.push(file.expect("entry").path());
            }
        }
    }
    files.sort();
    files
}

fn snapped_workspace() -> Sandbox {
    let sandbox = Sandbox::workspace();
    sandbox.write("ui/button/index.js", "export const size = 1;\n");
    sandbox.ok(&["add", "ui/button"]);
    sandbox.snap_one("first", "acme/button");
    sandbox
}

#[test]
fn fsck_passes_sound_workspace() {
    let sandbox = snapped_workspace();
    let report = sandbox.json(&["fsck"]);
    assert_eq!(report["objects"], 2);
    assert_eq!(report["refs"], 1);
    assert_eq!(report["problems"].as_array().map(Vec::len), Some(0));
    assert!(sandbox.ok(&["fsck"]).contains("no problems found"));
}

#[test]
fn fsck_reports_damaged_workspace_object() {
    let sandbox = snapped_workspace();
    for file in object_files(&sandbox.join(".ferry/objects")) {
        fs::write(&file, b"not zstd").expect("damage object");
    }
    let (report, stderr) = sandbox.json_failure(&["fsck"]);
    let problems = report["problems"].as_array().expect("problems");
    assert!(
        problems.iter().any(|p| p["problem"] == "corrupt"),
        "{report}"
    );
    assert!(stderr.contains("integrity check found"), "{stderr}");
}

#[test]
fn fsck_checks_server_data_directory() {
    let data = tempfile::tempdir().expect("tempdir");
    let serve = Serve::start_on(data.path(), "127.0.0.1:0", &[]);
    let sandbox = Sandbox::with_remote(serve.url());
    sandbox.ok(&["scope", "create", "acme"]);
    sandbox.write("ui/button/index.js", "export const size = 1;\n");
    sandbox.ok(&["add", "ui/button"]);
    sandbox.snap_one("first", "acme/button");
    sandbox.ok(&["export"]);

    let data_arg = data.path().to_str().expect("UTF-8 path");
    let report = sandbox.json(&["fsck", "--data", data_arg]);
    assert_eq!(report["store"]["refs"], 1, "{report}");
    assert_eq!(
        report["store"]["problems"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(report["overdue_exports"].as_array().map(Vec::len), Some(0));
    drop(serve);

    let object = object_files(&data.path().join("objects"))
        .into_iter()
        .next()
        .expect("the server stored objects");
    fs::remove_file(object).expect("remove an object");
    let (report, _) = sandbox.json_failure(&["fsck", "--data", data_arg]);
    let problems = report["store"]["problems"].as_array().expect("problems");
    assert!(
        problems.iter().any(|p| p["problem"] == "missing"),
        "{report}"
    );
}

#[test]
fn fsck_of_non_server_dir_is_user_error() {
    let sandbox = Sandbox::empty();
    std::fs::create_dir(sandbox.join("plain")).expect("mkdir");

    for dir in ["plain", "missing"] {
        let stderr = sandbox.user_error(&["fsck", "--data", dir]);
        assert!(
            stderr.contains("is not a server data directory"),
            "{stderr}"
        );
        assert!(stderr.contains("ferry.db is missing"), "{stderr}");
        assert!(stderr.contains("ferry serve --data"), "{stderr}");
    }
}

use crate::support::Sandbox;

#[test]
fn init_creates_ferry_dir() {
    let sandbox = Sandbox::empty();
    let report = sandbox.json(&["init", "--scope", "acme.ui"]);
    assert_eq!(report["scope"], "acme.ui");
    assert!(sandbox.join(".ferry/ferry.db").is_file());
    assert!(sandbox.join(".ferry/objects").is_dir());
    let leftovers: Vec<_> = std::fs::read_dir(sandbox.path())
        .expect("list")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers, [".ferry"], "init left staging files behind");
}

#[test]
fn init_twice_is_rejected() {
    let sandbox = Sandbox::workspace();
    let stderr = sandbox.user_error(&["init"]);
    assert!(stderr.contains("is already a ferry workspace"), "{stderr}");
}

#[test]
fn init_rejects_invalid_scope() {
    let sandbox = Sandbox::empty();
    let output = sandbox
        .ferry()
        .args(["init", "--scope", "Bad/Scope"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2), "clap rejects the value");
    assert!(!sandbox.join(".ferry").exists());
}

#[test]
fn commands_outside_workspace_fail_with_hint() {
    let sandbox = Sandbox::empty();
    for args in [&["status"][..], &["snap"], &["log", "x"], &["lane", "list"]] {
        let stderr = sandbox.user_error(args);
        assert!(
            stderr.contains("is not inside a ferry workspace"),
            "{stderr}"
        );
        assert!(stderr.contains("ferry init"), "{stderr}");
    }
}

#[test]
fn subdirectory_finds_workspace() {
    let sandbox = Sandbox::workspace();
    sandbox.write("comps/button/a.txt", "a");
    sandbox.ok(&["add", "comps/button"]);
    let output = sandbox
        .ferry()
        .current_dir(sandbox.join("comps/button"))
        .args(["status", "--json"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["components"][0]["id"], "acme/button");
}

#[test]
fn missing_directory_is_user_error() {
    let sandbox = Sandbox::empty();
    let stderr = sandbox.user_error(&["-C", "does/not/exist", "status"]);
    assert!(
        stderr.contains("is not inside a ferry workspace"),
        "{stderr}"
    );
}

#[test]
fn damaged_database_is_internal_fault() {
    let sandbox = Sandbox::workspace();
    std::fs::write(sandbox.join(".ferry/ferry.db"), b"not a database at all").expect("damage");
    let output = sandbox.ferry().args(["status"]).output().expect("run");
    assert_eq!(output.status.code(), Some(70));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("internal error: "), "{stderr}");
    assert!(!stderr.contains("hint: "), "{stderr}");
}

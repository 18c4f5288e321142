use crate::support::{snapped_components, snapped_id, Sandbox};

fn two_components() -> Sandbox {
    let sandbox = Sandbox::workspace();
    sandbox.write("c/button/index.js", "button");
    sandbox.write("c/card/index.js", "card");
    sandbox.ok(&["add", "c/button", "c/card"]);
    sandbox
}

#[test]
fn snap_records_only_changed_components() {
    let sandbox = two_components();
    let first = sandbox.json(&["snap", "-m", "first"]);
    assert_eq!(snapped_components(&first), ["acme/button", "acme/card"]);

    let again = sandbox.json(&["snap", "-m", "nothing"]);
    assert!(snapped_components(&again).is_empty());
    assert_eq!(again["unchanged"].as_array().map(Vec::len), Some(2));

    sandbox.write("c/card/index.js", "card v2");
    let second = sandbox.json(&["snap", "-m", "second"]);
    assert_eq!(snapped_components(&second), ["acme/card"]);
    assert_eq!(second["snapped"][0]["modified"], 1);
    assert_eq!(
        second["snapped"][0]["parent"].as_str(),
        snapped_id(&first, "acme/card").as_deref()
    );
}

#[test]
fn snap_limits_to_named_components() {
    let sandbox = two_components();
    let report = sandbox.json(&["snap", "card"]);
    assert_eq!(snapped_components(&report), ["acme/card"]);
    let stderr = sandbox.user_error(&["snap", "nope"]);
    assert!(stderr.contains("unknown component \"nope\""), "{stderr}");
}

#[test]
fn snap_detects_same_size_rewrite() {
    let sandbox = two_components();
    sandbox.ok(&["snap"]);
    // Same length, written right after the snap: the stat cache must not
    // hide the change.
    sandbox.write("c/button/index.js", "BUTTON");
    let report = sandbox.json(&["snap"]);
    assert_eq!(snapped_components(&report), ["acme/button"]);
}

#[test]
fn snap_on_lane_moves_lane_head_only() {
    let sandbox = two_components();
    let main_head = sandbox.snap_one("main", "acme/button");
    sandbox.ok(&["lane", "create", "theme"]);
    sandbox.write("c/button/index.js", "themed");
    let lane_snap = sandbox.json(&["snap", "-m", "on lane"]);
    assert_eq!(lane_snap["lane"], "acme/theme");
    assert_eq!(
        lane_snap["snapped"][0]["head"],
        "lane:acme/theme:acme/button"
    );
    assert_eq!(
        lane_snap["snapped"][0]["parent"].as_str(),
        Some(main_head.as_str())
    );

    let main = sandbox.json(&["lane", "show", "main"]);
    assert_eq!(
        main["components"][0]["head"].as_str(),
        Some(main_head.as_str())
    );
}

#[cfg(unix)]
#[test]
fn snap_rejects_symlink() {
    let sandbox = two_components();
    std::os::unix::fs::symlink("/etc/passwd", sandbox.join("c/card/link")).expect("symlink");
    let stderr = sandbox.user_error(&["snap"]);
    assert!(
        stderr.contains("cannot snap link in component acme/card"),
        "{stderr}"
    );
    assert!(stderr.contains("symlink"), "{stderr}");
    let log = sandbox.json(&["log", "button"]);
    assert_eq!(
        log["entries"].as_array().map(Vec::len),
        Some(0),
        "nothing was snapped"
    );
}

#[cfg(unix)]
#[test]
fn snap_keeps_executable_bit() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = two_components();
    sandbox.ok(&["snap"]);
    let script = sandbox.join("c/button/index.js");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let status = sandbox.json(&["status"]);
    assert_eq!(
        status["components"][0]["changes"]["modified"][0],
        "index.js"
    );
    sandbox.ok(&["snap"]);
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    sandbox.ok(&["checkout", "button", "--force"]);
    let mode = std::fs::metadata(&script)
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "checkout restores the executable bit");
}

#[test]
fn snap_without_author_fails() {
    let sandbox = two_components();
    let output = sandbox
        .ferry()
        .env_remove("FERRY_AUTHOR")
        .args(["snap"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no author configured"), "{stderr}");
}

use crate::support::Sandbox;

fn snapped() -> Sandbox {
    let sandbox = Sandbox::workspace();
    sandbox.write("c/button/a.js", "1");
    sandbox.ok(&["add", "c/button"]);
    sandbox.ok(&["snap"]);
    sandbox
}

#[test]
fn tag_bumps_from_highest() {
    let sandbox = snapped();
    assert_eq!(sandbox.json(&["tag", "button"])["version"], "0.0.1");
    assert_eq!(
        sandbox.json(&["tag", "button", "--minor"])["version"],
        "0.1.0"
    );
    assert_eq!(
        sandbox.json(&["tag", "button", "2.3.4"])["version"],
        "2.3.4"
    );
    assert_eq!(
        sandbox.json(&["tag", "button", "--patch"])["version"],
        "2.3.5"
    );
    assert_eq!(
        sandbox.json(&["tag", "button", "--major"])["version"],
        "3.0.0"
    );
}

#[test]
fn tag_is_never_moved() {
    let sandbox = snapped();
    let first = sandbox.json(&["tag", "button", "1.0.0"]);
    sandbox.write("c/button/a.js", "2");
    sandbox.ok(&["snap"]);
    let stderr = sandbox.user_error(&["tag", "button", "1.0.0"]);
    assert!(
        stderr.contains("tag 1.0.0 of acme/button already exists"),
        "{stderr}"
    );
    let log = sandbox.json(&["log", "button"]);
    let tagged: Vec<&str> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|entry| entry["tags"].as_array().is_some_and(|t| !t.is_empty()))
        .map(|entry| entry["id"].as_str().expect("id"))
        .collect();
    assert_eq!(tagged, [first["snap"].as_str().expect("snap")]);
}

#[test]
fn tag_needs_a_snap_and_valid_version() {
    let sandbox = Sandbox::workspace();
    sandbox.write("c/button/a.js", "1");
    sandbox.ok(&["add", "c/button"]);
    let stderr = sandbox.user_error(&["tag", "button"]);
    assert!(stderr.contains("has no snaps on main"), "{stderr}");
    let output = sandbox
        .ferry()
        .args(["tag", "button", "1.0"])
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(2),
        "clap rejects a non-semver version"
    );
    let output = sandbox
        .ferry()
        .args(["tag", "button", "1.0.0", "--minor"])
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(2),
        "VERSION and --minor conflict"
    );
}

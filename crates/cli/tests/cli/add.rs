use crate::support::Sandbox;

#[test]
fn add_names_component_after_directory() {
    let sandbox = Sandbox::workspace();
    sandbox.write("lib/forms/text-field/index.js", "x");
    let added = sandbox.json(&["add", "lib/forms/text-field"]);
    assert_eq!(added[0]["id"], "acme/text-field");
    assert_eq!(added[0]["dir"], "lib/forms/text-field");
}

#[test]
fn add_takes_name_and_scope() {
    let sandbox = Sandbox::workspace();
    sandbox.write("lib/b/index.js", "x");
    let added = sandbox.json(&["add", "lib/b", "--name", "forms/button", "--scope", "other"]);
    assert_eq!(added[0]["id"], "other/forms/button");
}

#[test]
fn add_rejects_name_with_dotdot() {
    let sandbox = Sandbox::workspace();
    sandbox.write("lib/b/index.js", "x");
    let stderr = sandbox.user_error(&["add", "lib/b", "--name", "../escape"]);
    assert!(stderr.contains("\"acme/../escape\""), "{stderr}");
    assert!(stderr.contains("'..'"), "{stderr}");
    let listed = sandbox.json(&["status"]);
    assert_eq!(listed["components"].as_array().map(Vec::len), Some(0));
}

#[test]
fn add_rejects_nested_and_duplicate() {
    let sandbox = Sandbox::workspace();
    sandbox.write("lib/b/inner/index.js", "x");
    sandbox.write("other/b/index.js", "x");
    sandbox.ok(&["add", "lib/b"]);
    let stderr = sandbox.user_error(&["add", "lib/b/inner"]);
    assert!(stderr.contains("overlaps lib/b"), "{stderr}");
    let stderr = sandbox.user_error(&["add", "lib"]);
    assert!(stderr.contains("overlaps lib/b"), "{stderr}");
    let stderr = sandbox.user_error(&["add", "other/b"]);
    assert!(stderr.contains("acme/b is already tracked"), "{stderr}");
}

#[test]
fn add_rejects_root_outside_and_missing() {
    let sandbox = Sandbox::workspace();
    for dir in [".", "..", "missing", ".ferry/objects"] {
        let stderr = sandbox.user_error(&["add", dir]);
        assert!(
            stderr.contains("is not a directory below"),
            "{dir}: {stderr}"
        );
    }
}

#[test]
fn add_several_is_all_or_nothing() {
    let sandbox = Sandbox::workspace();
    sandbox.write("a/x", "1");
    sandbox.write("b/a/x", "1");
    // The second directory's default name collides with the first's.
    sandbox.user_error(&["add", "a", "b/a"]);
    let status = sandbox.json(&["status"]);
    assert_eq!(status["components"].as_array().map(Vec::len), Some(0));
}

#[test]
fn add_without_scope_needs_one() {
    let sandbox = Sandbox::empty();
    sandbox.ok(&["init"]);
    sandbox.write("a/x", "1");
    let stderr = sandbox.user_error(&["add", "a"]);
    assert!(stderr.contains("no scope"), "{stderr}");
    assert!(stderr.contains("--scope"), "{stderr}");
}

use crate::support::{Sandbox, AUTHOR};

#[test]
fn log_lists_newest_first_with_labels() {
    let sandbox = Sandbox::workspace();
    sandbox.write("c/button/a.js", "1");
    sandbox.ok(&["add", "c/button"]);
    let first = sandbox.snap_one("first snap", "acme/button");
    sandbox.ok(&["tag", "button", "1.0.0"]);
    sandbox.write("c/button/a.js", "2");
    let second = sandbox.snap_one("second snap", "acme/button");

    let log = sandbox.json(&["log", "button"]);
    let entries = log["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["id"].as_str(), Some(second.as_str()));
    assert_eq!(entries[0]["heads"], serde_json::json!(["main"]));
    assert_eq!(entries[0]["parents"], serde_json::json!([first]));
    assert_eq!(entries[1]["id"].as_str(), Some(first.as_str()));
    assert_eq!(entries[1]["tags"], serde_json::json!(["1.0.0"]));
    assert_eq!(entries[1]["author"], AUTHOR);
    assert_eq!(entries[1]["message"], "first snap");

    let text = sandbox.ok(&["log", "acme/button", "-n", "1"]);
    assert!(text.contains(&format!("snap {second} (main)")), "{text}");
    assert!(!text.contains(&first), "-n 1 shows one snap: {text}");
}

#[test]
fn log_of_unknown_component_fails() {
    let sandbox = Sandbox::workspace();
    let stderr = sandbox.user_error(&["log", "nope"]);
    assert!(stderr.contains("unknown component \"nope\""), "{stderr}");
}

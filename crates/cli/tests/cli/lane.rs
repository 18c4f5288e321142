use crate::support::Sandbox;

#[test]
fn lane_create_switch_list() {
    let sandbox = Sandbox::workspace();
    sandbox.write("c/button/a.js", "main");
    sandbox.ok(&["add", "c/button"]);
    sandbox.ok(&["snap"]);

    assert_eq!(sandbox.json(&["lane", "create", "theme"]), "acme/theme");
    sandbox.write("c/button/a.js", "lane");
    sandbox.ok(&["snap"]);

    let lanes = sandbox.json(&["lane", "list"]);
    assert_eq!(lanes[0]["id"], "acme/theme");
    assert_eq!(lanes[0]["current"], true);
    assert_eq!(lanes[0]["components"], 1);

    let switched = sandbox.json(&["lane", "switch", "main"]);
    assert_eq!(switched["to"], serde_json::Value::Null);
    assert_eq!(switched["checkouts"].as_array().map(Vec::len), Some(1));
    assert_eq!(sandbox.read("c/button/a.js"), "main");

    sandbox.ok(&["lane", "switch", "theme"]);
    assert_eq!(sandbox.read("c/button/a.js"), "lane");
    let shown = sandbox.json(&["lane", "show"]);
    assert_eq!(shown["lane"], "acme/theme");
    assert_eq!(shown["components"][0]["on_lane"], true);
}

#[test]
fn lane_created_from_lane_keeps_its_heads() {
    let sandbox = Sandbox::workspace();
    sandbox.write("c/button/a.js", "main");
    sandbox.ok(&["add", "c/button"]);
    sandbox.ok(&["snap"]);
    sandbox.ok(&["lane", "create", "first"]);
    sandbox.write("c/button/a.js", "first lane");
    sandbox.ok(&["snap"]);
    sandbox.ok(&["lane", "create", "second"]);
    assert_eq!(sandbox.read("c/button/a.js"), "first lane");
    let first = sandbox.json(&["lane", "show", "first"]);
    let second = sandbox.json(&["lane", "show", "second"]);
    assert_eq!(
        first["components"][0]["head"],
        second["components"][0]["head"]
    );
}

#[test]
fn lane_errors() {
    let sandbox = Sandbox::workspace();
    sandbox.write("c/button/a.js", "main");
    sandbox.ok(&["add", "c/button"]);
    sandbox.ok(&["snap"]);
    let stderr = sandbox.user_error(&["lane", "switch", "nope"]);
    assert!(stderr.contains("unknown lane \"nope\""), "{stderr}");
    sandbox.ok(&["lane", "create", "theme"]);
    let stderr = sandbox.user_error(&["lane", "create", "theme"]);
    assert!(
        stderr.contains("lane acme/theme already exists"),
        "{stderr}"
    );
    let stderr = sandbox.user_error(&["lane", "create", "a/../b"]);
    assert!(stderr.contains("'..'"), "{stderr}");

    sandbox.write("c/button/a.js", "lane");
    sandbox.ok(&["snap"]);
    sandbox.write("c/button/a.js", "unsnapped");
    let stderr = sandbox.user_error(&["lane", "switch", "main"]);
    assert!(stderr.contains("unsnapped change"), "{stderr}");
    assert_eq!(sandbox.read("c/button/a.js"), "unsnapped");
    let lanes = sandbox.json(&["lane", "list"]);
    assert_eq!(lanes[0]["current"], true, "a refused switch keeps the lane");
}

use crate::support::Sandbox;

#[test]
fn config_sets_author_of_snaps() {
    let sandbox = Sandbox::workspace();
    sandbox.ok(&["config", "user.name", "Ada Lovelace"]);
    sandbox.ok(&["config", "user.email", "ada@example.com"]);
    assert_eq!(sandbox.ok(&["config", "user.name"]), "Ada Lovelace\n");
    sandbox.write("c/button/a.js", "1");
    sandbox.ok(&["add", "c/button"]);
    let output = sandbox
        .ferry()
        .env_remove("FERRY_AUTHOR")
        .args(["snap"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let log = sandbox.json(&["log", "button"]);
    assert_eq!(
        log["entries"][0]["author"],
        "Ada Lovelace <ada@example.com>"
    );
}

#[test]
fn config_list_unset_and_unknown_key() {
    let sandbox = Sandbox::workspace();
    sandbox.ok(&["config", "user.name", "Ada"]);
    let listed = sandbox.json(&["config", "--list"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    sandbox.ok(&["config", "user.name", "--unset"]);
    assert_eq!(
        sandbox.json(&["config", "user.name"])["value"],
        serde_json::Value::Null
    );
    let stderr = sandbox.user_error(&["config", "colour", "blue"]);
    assert!(stderr.contains("unknown config key \"colour\""), "{stderr}");
    let stderr = sandbox.user_error(&["config", "default.scope", "Not Valid"]);
    assert!(stderr.contains("invalid scope"), "{stderr}");
}

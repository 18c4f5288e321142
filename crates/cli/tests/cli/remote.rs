use crate::support::Sandbox;

#[test]
fn remote_add_list_remove() {
    let sandbox = Sandbox::workspace();
    let added = sandbox.json(&["remote", "add", "origin", "http://127.0.0.1:8080"]);
    assert_eq!(added["url"], "http://127.0.0.1:8080/");
    sandbox.ok(&["remote", "add", "backup", "https://ferry.example/scopes"]);
    let listed = sandbox.json(&["remote", "list"]);
    let names: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|remote| remote["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["backup", "origin"]);

    sandbox.ok(&["remote", "remove", "origin"]);
    let listed = sandbox.json(&["remote", "list"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let stderr = sandbox.user_error(&["remote", "remove", "origin"]);
    assert!(stderr.contains("unknown remote \"origin\""), "{stderr}");
}

#[test]
fn remote_rejects_bad_input() {
    let sandbox = Sandbox::workspace();
    let stderr = sandbox.user_error(&["remote", "add", "../x", "http://127.0.0.1"]);
    assert!(stderr.contains("invalid remote name \"../x\""), "{stderr}");
    let stderr = sandbox.user_error(&["remote", "add", "origin", "ftp://127.0.0.1"]);
    assert!(stderr.contains("invalid remote URL"), "{stderr}");
    sandbox.ok(&["remote", "add", "origin", "http://127.0.0.1"]);
    let stderr = sandbox.user_error(&["remote", "add", "origin", "http://127.0.0.2"]);
    assert!(stderr.contains("remote origin already exists"), "{stderr}");
}

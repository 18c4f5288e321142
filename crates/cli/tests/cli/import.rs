//! `ferry import` against a real `ferry serve` on a loopback port.

use crate::server::Serve;
use crate::support::Sandbox;

/// Returns a workspace that exported `acme/button` and `acme/forms/input`
/// to a scope `acme` on `serve`.
fn exported(serve: &Serve) -> Sandbox {
    let sandbox = Sandbox::with_remote(serve.url());
    sandbox.ok(&["scope", "create", "acme"]);
    sandbox.write("ui/button/index.js", "button v1\n");
    sandbox.write("ui/button/styles/base.css", "a {}\n");
    sandbox.write("ui/input/index.js", "input v1\n");
    sandbox.ok(&["add", "ui/button"]);
    sandbox.ok(&["add", "ui/input", "--name", "forms/input"]);
    sandbox.ok(&["snap", "-m", "first"]);
    sandbox.ok(&["tag", "button", "1.0.0"]);
    sandbox.ok(&["export"]);
    sandbox
}

#[test]
fn import_checks_out_new_components() {
    let serve = Serve::start();
    let _first = exported(&serve);
    let second = Sandbox::with_remote(serve.url());

    let report = second.json(&["import", "button", "acme/forms/input"]);
    assert_eq!(report["checkouts"].as_array().map(Vec::len), Some(2));
    assert_eq!(second.read("button/index.js"), "button v1\n");
    assert_eq!(second.read("button/styles/base.css"), "a {}\n");
    assert_eq!(second.read("forms/input/index.js"), "input v1\n");
    let names: Vec<&str> = report["refs"]
        .as_array()
        .expect("refs")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert!(names.contains(&"tag:acme/button:1.0.0"), "{names:?}");

    let log = second.ok(&["log", "button"]);
    assert!(log.contains("1.0.0"), "{log}");
    let status = second.json(&["status"]);
    for component in status["components"].as_array().expect("components") {
        assert_eq!(component["remotes"][0]["sync"]["state"], "up_to_date");
    }
}

#[test]
fn import_finishes_interrupted_checkout() {
    let serve = Serve::start();
    let _first = exported(&serve);
    let second = Sandbox::with_remote(serve.url());
    // An import that stopped during its checkout leaves the component
    // tracked with no base snap and only some of its files written.
    second.write("button/index.js", "button v1\n");
    second.ok(&["add", "button"]);

    let report = second.json(&["import", "button"]);

    assert_eq!(report["checkouts"].as_array().map(Vec::len), Some(1));
    assert_eq!(second.read("button/index.js"), "button v1\n");
    assert_eq!(second.read("button/styles/base.css"), "a {}\n");
    let status = second.json(&["status"]);
    let button = &status["components"][0];
    assert!(button["base"].is_string(), "{button}");
    assert_eq!(button["base"], button["head"]);
    assert_eq!(button["changes"]["added"], serde_json::json!([]));
}

#[test]
fn import_after_failed_checkout_finishes_it() {
    let serve = Serve::start();
    let first = exported(&serve);
    let second = Sandbox::with_remote(serve.url());
    // A damaged local copy of the input component's blob. The import keeps
    // the copy it has, so checking out forms/input fails after button.
    let blob = ferry_core::Blob::id_of(b"input v1\n").to_hex();
    let object = format!(".ferry/objects/{}/{}", &blob[..2], &blob[2..]);
    second.write(&object, "not zstd");

    let failed = second.run(&["import", "button", "acme/forms/input"]);

    assert!(!failed.status.success());
    assert_eq!(second.read("button/index.js"), "button v1\n");
    let input_dir = std::fs::read_dir(second.join("forms/input")).expect("input dir");
    assert_eq!(input_dir.count(), 0);

    std::fs::copy(first.join(&object), second.join(&object)).expect("repair");
    let report = second.json(&["import", "button", "acme/forms/input"]);

    assert_eq!(report["checkouts"].as_array().map(Vec::len), Some(1));
    assert_eq!(second.read("forms/input/index.js"), "input v1\n");
    let status = second.json(&["status"]);
    for component in status["components"].as_array().expect("components") {
        assert!(component["base"].is_string(), "{component}");
        assert_eq!(component["base"], component["head"]);
    }
}

#[test]
fn import_checks_out_head_that_moved_without_checkout() {
    let serve = Serve::start();
    let first = exported(&serve);
    let second = Sandbox::with_remote(serve.url());
    second.ok(&["import", "button"]);
    first.write("ui/button/index.js", "button v2\n");
    first.ok(&["snap", "-m", "second"]);
    first.ok(&["export"]);
    // An import that stopped after moving the ref, before the checkout.
    second.ok(&["fetch"]);
    let status = second.json(&["status"]);
    let remote_head = status["components"][0]["remotes"][0]["remote_head"]
        .as_str()
        .expect("remote head");
    let workspace = ferry_workspace::Workspace::open(second.path()).expect("open");
    let base: ferry_core::ObjectId = status["components"][0]["base"]
        .as_str()
        .expect("base")
        .parse()
        .expect("id");
    let edit = ferry_store::RefEdit {
        name: ferry_core::RefName::Main("acme/button".parse().expect("id")),
        expected: Some(base),
        new: Some(remote_head.parse().expect("id")),
    };
    ferry_store::RefStore::update_refs(workspace.ref_store(), "", &[edit]).expect("move head");
    drop(workspace);

    let report = second.json(&["import", "button"]);

    assert_eq!(report["checkouts"].as_array().map(Vec::len), Some(1));
    assert_eq!(second.read("button/index.js"), "button v2\n");
    let status = second.json(&["status"]);
    assert_eq!(status["components"][0]["base"].as_str(), Some(remote_head));
}

#[test]
fn import_reports_local_head_ahead() {
    let serve = Serve::start();
    let _first = exported(&serve);
    let second = Sandbox::with_remote(serve.url());
    second.ok(&["import", "button"]);
    second.write("button/index.js", "button local\n");
    second.ok(&["snap", "-m", "local"]);

    let report = second.json(&["import", "button"]);

    let main = report["refs"]
        .as_array()
        .expect("refs")
        .iter()
        .find(|r| r["name"] == "main:acme/button")
        .expect("main ref");
    assert_eq!(main["status"], "ahead");
    let text = second.ok(&["import", "button"]);
    assert!(text.contains("run `ferry export`"), "{text}");
    assert_eq!(second.read("button/index.js"), "button local\n");
}

#[test]
fn import_path_places_one_component() {
    let serve = Serve::start();
    let _first = exported(&serve);
    let second = Sandbox::with_remote(serve.url());

    let stderr = second.user_error(&["import", "button", "acme/forms/input", "--path", "x"]);
    assert!(
        stderr.contains("--path applies to one new component"),
        "{stderr}"
    );
    assert!(!second.join("x").exists());

    let sandbox_name = second.path().file_name().expect("tempdir has a name");
    let outside = format!("../{}-outside", sandbox_name.to_string_lossy());
    let stderr = second.user_error(&["import", "button", "--path", &outside]);
    assert!(
        stderr.contains("is not a directory below the workspace root"),
        "{stderr}"
    );
    assert!(!second.path().join(&outside).exists());

    for inside_ferry in ["sub/.ferry", ".ferry/x"] {
        let stderr = second.user_error(&["import", "button", "--path", inside_ferry]);
        assert!(
            stderr.contains("is not a directory below the workspace root"),
            "{stderr}"
        );
        assert!(!second.join(inside_ferry).exists(), "{inside_ferry}");
    }

    second.ok(&["import", "button", "--path", "vendor/btn"]);
    assert_eq!(second.read("vendor/btn/index.js"), "button v1\n");

    second.write("taken/file", "mine");
    let stderr = second.user_error(&["import", "acme/forms/input", "--path", "taken"]);
    assert!(
        stderr.contains("it exists and is not an empty directory"),
        "{stderr}"
    );
    assert_eq!(second.read("taken/file"), "mine");
}

#[test]
fn import_of_unknown_component_changes_nothing() {
    let serve = Serve::start();
    let _first = exported(&serve);
    let second = Sandbox::with_remote(serve.url());

    let stderr = second.user_error(&["import", "button", "acme/nope"]);
    assert!(
        stderr.contains("remote origin has no component acme/nope in scope acme"),
        "{stderr}"
    );
    assert!(!second.join("button").exists());
    let status = second.json(&["status"]);
    assert_eq!(status["components"], serde_json::json!([]));

    let stderr = second.user_error(&["import", "other/button"]);
    assert!(stderr.contains("scope other does not exist"), "{stderr}");

    let stderr = second.user_error(&["import", "acme/.."]);
    assert!(stderr.contains("\"acme/..\""), "{stderr}");
    assert!(!stderr.contains("acme/acme"), "{stderr}");
}

#[test]
fn import_updates_clean_directories_only() {
    let serve = Serve::start();
    let first = exported(&serve);
    let second = Sandbox::with_remote(serve.url());
    second.ok(&["import", "button", "acme/forms/input"]);

    first.write("ui/button/index.js", "button v2\n");
    first.write("ui/input/index.js", "input v2\n");
    first.ok(&["snap", "-m", "second"]);
    first.ok(&["export"]);

    second.write("forms/input/index.js", "local edit\n");
    let report = second.json(&["import", "button", "forms/input"]);
    assert_eq!(second.read("button/index.js"), "button v2\n");
    assert_eq!(second.read("forms/input/index.js"), "local edit\n");
    assert_eq!(report["kept"], serde_json::json!(["acme/forms/input"]));
    assert_eq!(report["checkouts"][0]["component"], "acme/button");
    assert_eq!(report["checkouts"][0]["new"], false);
}

use std::collections::HashMap;

use ferry_core::{Object, ObjectId, RefName, Snap};
use ferry_store::{ObjectStore, RefEdit, RefStore};
use ferry_workspace::Workspace;

use crate::support::Sandbox;

fn button_with_two_snaps() -> (Sandbox, String, String) {
    let sandbox = Sandbox::workspace();
    sandbox.write("c/button/a.js", "one");
    sandbox.write("c/button/old/only.js", "old only");
    sandbox.ok(&["add", "c/button"]);
    let first = sandbox.snap_one("1", "acme/button");
    sandbox.write("c/button/a.js", "two");
    std::fs::remove_dir_all(sandbox.join("c/button/old")).expect("remove");
    sandbox.write("c/button/new/deep/file.js", "new");
    let second = sandbox.snap_one("2", "acme/button");
    (sandbox, first, second)
}

#[test]
fn snap_off_head_is_rejected() {
    let (sandbox, first, second) = button_with_two_snaps();
    sandbox.ok(&["checkout", &format!("button@{}", &first[..8])]);
    sandbox.write("c/button/extra.js", "edited on the old snap");

    let stderr = sandbox.user_error(&["snap", "-m", "on old"]);

    assert!(stderr.contains("would undo the changes"), "{stderr}");
    assert!(
        stderr.contains("ferry checkout acme/button --force"),
        "{stderr}"
    );
    let status = sandbox.json(&["status"]);
    assert_eq!(
        status["components"][0]["head"].as_str(),
        Some(second.as_str())
    );
    assert_eq!(sandbox.read("c/button/extra.js"), "edited on the old snap");
}

#[test]
fn checkout_restores_old_and_new_versions() {
    let (sandbox, first, second) = button_with_two_snaps();
    let report = sandbox.json(&["checkout", &format!("button@{}", &first[..8])]);
    assert_eq!(report["snap"].as_str(), Some(first.as_str()));
    assert_eq!(sandbox.read("c/button/a.js"), "one");
    assert_eq!(sandbox.read("c/button/old/only.js"), "old only");
    assert!(
        !sandbox.join("c/button/new").exists(),
        "empty dirs are removed"
    );

    let status = sandbox.json(&["status"]);
    assert_eq!(
        status["components"][0]["base"].as_str(),
        Some(first.as_str())
    );
    assert_eq!(
        status["components"][0]["head"].as_str(),
        Some(second.as_str())
    );
    assert_eq!(
        status["components"][0]["changes"]["added"],
        serde_json::json!([])
    );

    sandbox.ok(&["checkout", &format!("acme/button@{second}")]);
    assert_eq!(sandbox.read("c/button/a.js"), "two");
    assert_eq!(sandbox.read("c/button/new/deep/file.js"), "new");
    assert!(!sandbox.join("c/button/old").exists());
}

#[test]
fn checkout_by_tag_and_head() {
    let (sandbox, first, _) = button_with_two_snaps();
    sandbox.write("c/button/a.js", "two");
    sandbox.ok(&["checkout", &format!("button@{first}")]);
    sandbox.ok(&["tag", "button", "1.0.0"]);
    sandbox.ok(&["checkout", "button@head"]);
    assert_eq!(sandbox.read("c/button/a.js"), "two");
    sandbox.ok(&["checkout", "button@1.0.0"]);
    assert_eq!(
        sandbox.read("c/button/a.js"),
        "two",
        "the tag is on the head"
    );
}

#[test]
fn checkout_refuses_local_changes() {
    let (sandbox, first, _) = button_with_two_snaps();
    sandbox.write("c/button/a.js", "local edit");
    let spec = format!("button@{first}");
    let stderr = sandbox.user_error(&["checkout", &spec]);
    assert!(stderr.contains("1 unsnapped change(s)"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(
        sandbox.read("c/button/a.js"),
        "local edit",
        "nothing was overwritten"
    );

    sandbox.write("c/button/untracked.js", "extra");
    sandbox.user_error(&["checkout", &spec]);
    sandbox.ok(&["checkout", &spec, "--force"]);
    assert_eq!(sandbox.read("c/button/a.js"), "one");
    assert!(!sandbox.join("c/button/untracked.js").exists());
}

#[test]
fn checkout_rejects_unknown_versions() {
    let (sandbox, _, _) = button_with_two_snaps();
    let stderr = sandbox.user_error(&["checkout", "button@9.9.9"]);
    assert!(
        stderr.contains("no tag or snap matching \"9.9.9\""),
        "{stderr}"
    );
    let stderr = sandbox.user_error(&["checkout", "button@zz"]);
    assert!(stderr.contains("invalid version \"zz\""), "{stderr}");
    let unrelated = ObjectId::digest(b"unrelated").to_hex();
    let stderr = sandbox.user_error(&["checkout", &format!("button@{unrelated}")]);
    assert!(stderr.contains("no tag or snap matching"), "{stderr}");
    let stderr = sandbox.user_error(&["checkout", "nope@1.0.0"]);
    assert!(stderr.contains("unknown component"), "{stderr}");
}

/// Extends the main history of acme/button with snaps until two of them
/// share their first four hex digits, and returns that prefix.
fn make_colliding_history(sandbox: &Sandbox, head: &str) -> String {
    let workspace = Workspace::open(sandbox.path()).expect("open");
    let head: ObjectId = head.parse().expect("id");
    let base = workspace.read_snap(&head).expect("read head");
    let mut seen: HashMap<String, ObjectId> = HashMap::new();
    seen.insert(head.to_hex()[..4].to_owned(), head);
    let mut parent = base.clone();
    let mut parent_id = head;
    for round in 0.. {
        let snap = Snap {
            parents: vec![parent_id],
            generation: parent.generation + 1,
            message: format!("filler {round}"),
            ..base.clone()
        };
        let id = workspace
            .object_store()
            .write(&Object::Snap(snap.clone()))
            .expect("write snap");
        let prefix = id.to_hex()[..4].to_owned();
        if seen.insert(prefix.clone(), id).is_some() {
            let edit = RefEdit {
                name: RefName::Main("acme/button".parse().expect("id")),
                expected: Some(head),
                new: Some(id),
            };
            workspace.object_store().flush().expect("flush");
            workspace
                .ref_store()
                .update_refs("", &[edit])
                .expect("move head");
            return prefix;
        }
        parent = snap;
        parent_id = id;
    }
    unreachable!("the loop returns on the first collision")
}

#[test]
fn checkout_rejects_ambiguous_prefix() {
    let (sandbox, _, second) = button_with_two_snaps();
    let prefix = make_colliding_history(&sandbox, &second);
    let stderr = sandbox.user_error(&["checkout", &format!("button@{prefix}")]);
    assert!(
        stderr.contains(&format!("snap prefix \"{prefix}\"")),
        "{stderr}"
    );
    assert!(stderr.contains("is ambiguous"), "{stderr}");
    assert!(stderr.contains("more digits"), "{stderr}");
}

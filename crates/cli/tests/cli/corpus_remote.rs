//! Material UI through a real `ferry serve`: 9.5.0 exported from one
//! workspace and imported into another, then the 9.6.0 update exported and
//! imported the same way.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use ferry_store::{FsObjectStore, ObjectStore};
use serde_json::Value;

use crate::corpus::{assert_trees_equal, component_dirs, read_tree, unpack};
use crate::server::Serve;
use crate::support::{snapped_components, Sandbox};

/// Counts the objects in a workspace's object store, packed or not.
fn count_objects(sandbox: &Sandbox) -> usize {
    let store = FsObjectStore::open(sandbox.join(".ferry/objects")).expect("open object store");
    store.list().expect("list objects").len()
}

/// Returns the ref names of a report whose `refs` have `status`.
fn refs_with_status(report: &Value, status: &str) -> BTreeSet<String> {
    report["refs"]
        .as_array()
        .expect("refs is a list")
        .iter()
        .filter(|r| r["status"] == status)
        .map(|r| r["name"].as_str().expect("name").to_owned())
        .collect()
}

fn assert_workspace_matches(sandbox: &Sandbox, names: &[String], reference: &Path, version: &str) {
    for name in names {
        assert_trees_equal(
            version,
            name,
            &read_tree(&sandbox.join(name)),
            &read_tree(&reference.join("package").join(name)),
        );
    }
}

#[test]
fn corpus_exports_and_imports_byte_identical() {
    let reference = tempfile::tempdir().expect("tempdir");
    let old = reference.path().join("9.5.0");
    let new = reference.path().join("9.6.0");
    unpack("mui-material-9.5.0.tgz", &old);
    unpack("mui-material-9.6.0.tgz", &new);
    let serve = Serve::start();

    let first = Sandbox::empty();
    first.ok(&["init", "--scope", "mui"]);
    first.ok(&["remote", "add", "origin", serve.url()]);
    first.ok(&["scope", "create", "mui"]);
    unpack("mui-material-9.5.0.tgz", first.path());
    let names = component_dirs(&first.join("package"));
    let dirs: Vec<String> = names.iter().map(|name| format!("package/{name}")).collect();
    let mut add = vec!["add"];
    add.extend(dirs.iter().map(String::as_str));
    first.ok(&add);
    first.ok(&["snap", "-m", "9.5.0"]);

    let exported = first.json(&["export"]);
    let all_mains: BTreeSet<String> = names.iter().map(|n| format!("main:mui/{n}")).collect();
    assert_eq!(refs_with_status(&exported, "created"), all_mains);
    assert_eq!(
        exported["objects_uploaded"],
        count_objects(&first),
        "the first export sends every object"
    );

    let second = Sandbox::empty();
    second.ok(&["init", "--scope", "mui"]);
    second.ok(&["remote", "add", "origin", serve.url()]);
    let ids: Vec<String> = names.iter().map(|name| format!("mui/{name}")).collect();
    let mut import = vec!["import"];
    import.extend(ids.iter().map(String::as_str));
    let imported = second.json(&import);
    assert_eq!(
        imported["checkouts"].as_array().map(Vec::len),
        Some(names.len())
    );
    assert_workspace_matches(&second, &names, &old, "9.5.0");

    fs::remove_dir_all(first.join("package")).expect("remove 9.5.0");
    unpack("mui-material-9.6.0.tgz", first.path());
    let before = count_objects(&first);
    let snapped = first.json(&["snap", "-m", "9.6.0"]);
    let created = count_objects(&first) - before;
    let changed: BTreeSet<String> = snapped_components(&snapped)
        .into_iter()
        .map(|id| format!("main:{id}"))
        .collect();
    assert!(!changed.is_empty(), "9.6.0 changes some components");
    assert!(
        changed.len() < names.len(),
        "9.6.0 leaves some components alone"
    );

    let update = first.json(&["export"]);
    assert_eq!(refs_with_status(&update, "fast_forwarded"), changed);
    assert_eq!(update["refs"].as_array().map(Vec::len), Some(changed.len()));
    assert_eq!(
        update["objects_uploaded"], created,
        "the update sends exactly the objects the 9.6.0 snap created"
    );

    let updated = second.json(&import);
    assert_eq!(refs_with_status(&updated, "fast_forwarded"), changed);
    assert_eq!(updated["objects_written"], created);
    assert_workspace_matches(&second, &names, &new, "9.6.0");
    let status = second.json(&["status"]);
    for component in status["components"].as_array().expect("components") {
        assert_eq!(
            component["remotes"][0]["sync"]["state"], "up_to_date",
            "{}",
            component["id"]
        );
    }
}

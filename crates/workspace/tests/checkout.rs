//! Checkout failures must leave the component directory untouched.

use std::fs;

use ferry_core::{Object, RefName};
use ferry_store::{ObjectStore, RefEdit, RefStore};
use ferry_workspace::{Error, Workspace};

#[test]
fn damaged_snap_fails_before_touching_files() {
    std::env::set_var("FERRY_AUTHOR", "Test <test@example.com>");
    let root = tempfile::tempdir().expect("tempdir");
    let scope = "acme".parse().expect("scope");
    let workspace = Workspace::init(root.path(), Some(&scope)).expect("init");
    let dir = root.path().join("button");
    fs::create_dir(&dir).expect("mkdir");
    fs::write(dir.join("a.js"), "first").expect("write");
    fs::write(dir.join("b.js"), "kept").expect("write");
    workspace
        .add(std::slice::from_ref(&dir), None, None)
        .expect("add");
    let report = workspace.snap("first", &[]).expect("snap");
    let head = report.snapped[0].snap;

    // The b.js entry names the blob of "first" (5 bytes) but keeps the
    // size of "kept" (4 bytes), so its blob does not match the entry.
    let mut damaged = workspace.read_snap(&head).expect("read");
    damaged.files[1].blob = ferry_core::Blob::id_of(b"first");
    damaged.generation += 1;
    damaged.parents = vec![head];
    let damaged_id = workspace
        .object_store()
        .write(&Object::Snap(damaged))
        .expect("write");
    workspace.object_store().flush().expect("flush");
    let edit = RefEdit {
        name: RefName::Main("acme/button".parse().expect("id")),
        expected: Some(head),
        new: Some(damaged_id),
    };
    workspace
        .ref_store()
        .update_refs("", &[edit])
        .expect("move head");

    let error = workspace
        .checkout("button@head", false)
        .expect_err("damaged");
    assert!(matches!(error, Error::BadObject { .. }), "{error:?}");
    assert!(!error.is_user_error());
    assert_eq!(fs::read_to_string(dir.join("a.js")).expect("read"), "first");
    assert_eq!(fs::read_to_string(dir.join("b.js")).expect("read"), "kept");
}

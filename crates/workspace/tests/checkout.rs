//! Checkouts: a failure leaves the component directory as it was, and a
//! checkout into an empty directory writes every file with its mode.

use std::fs;

use ferry_core::{Object, RefName};
use ferry_store::{ObjectStore, RefEdit, RefStore};
use ferry_workspace::{Error, Workspace};

#[test]
fn damaged_snap_fails_before_touching_files() {
    let (workspace, root, head) = snapped_button(&[("a.js", "first"), ("b.js", "kept")]);
    let dir = root.path().join("button");
    point_head_at_damaged_copy(&workspace, head);

    let error = workspace
        .checkout("button@head", false)
        .expect_err("damaged");
    assert!(matches!(error, Error::BadObject { .. }), "{error:?}");
    assert!(!error.is_user_error());
    assert_eq!(fs::read_to_string(dir.join("a.js")).expect("read"), "first");
    assert_eq!(fs::read_to_string(dir.join("b.js")).expect("read"), "kept");
}

/// Moves the head of `acme/button` from `head` to a damaged copy. In
/// `head` the first file contains "first" and the second "kept". The copy's
/// second entry names the blob of "first" (5 bytes) with the size of
/// "kept" (4 bytes), so that blob does not match its entry.
fn point_head_at_damaged_copy(workspace: &Workspace, head: ferry_core::ObjectId) {
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
}

/// Creates a workspace with component `acme/button` made of `files` and
/// snaps it once. Returns the workspace, its root and the snap.
fn snapped_button(files: &[(&str, &str)]) -> (Workspace, tempfile::TempDir, ferry_core::ObjectId) {
    std::env::set_var("FERRY_AUTHOR", "Test <test@example.com>");
    let root = tempfile::tempdir().expect("tempdir");
    let scope = "acme".parse().expect("scope");
    let workspace = Workspace::init(root.path(), Some(&scope)).expect("init");
    let dir = root.path().join("button");
    for (path, content) in files {
        let path = dir.join(path);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, content).expect("write");
    }
    workspace
        .add(std::slice::from_ref(&dir), None, None)
        .expect("add");
    let report = workspace.snap("first", &[]).expect("snap");
    let head = report.snapped[0].snap;
    (workspace, root, head)
}

/// Lists every entry below `dir`, relative and sorted.
fn entries_below(dir: &std::path::Path) -> Vec<String> {
    let mut entries: Vec<String> = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .map(|entry| {
            let entry = entry.expect("walk");
            let relative = entry.path().strip_prefix(dir).expect("below dir");
            relative.to_string_lossy().into_owned()
        })
        .collect();
    entries.sort();
    entries
}

#[test]
fn empty_dir_checkout_writes_nested_files() {
    use std::os::unix::fs::PermissionsExt;

    let files = [("lib/deep/a.js", "a"), ("lib/b.js", "b"), ("c.sh", "c")];
    let (workspace, root, _) = snapped_button(&files);
    let dir = root.path().join("button");
    fs::set_permissions(dir.join("c.sh"), fs::Permissions::from_mode(0o755)).expect("chmod");
    workspace.snap("executable", &[]).expect("snap");
    fs::remove_dir_all(&dir).expect("remove");
    fs::create_dir(&dir).expect("mkdir");

    let report = workspace.checkout("button@head", true).expect("checkout");

    assert_eq!(report.written, 3);
    for (path, content) in files {
        assert_eq!(fs::read_to_string(dir.join(path)).expect("read"), content);
    }
    let mode = |path: &str| {
        fs::metadata(dir.join(path))
            .expect("stat")
            .permissions()
            .mode()
    };
    assert_eq!(mode("c.sh") & 0o777, 0o755);
    assert_eq!(mode("lib/b.js") & 0o777, 0o644);
    assert!(!workspace.status().expect("status").components[0].is_dirty());
}

#[test]
fn damaged_snap_leaves_empty_dir_empty() {
    let (workspace, root, head) = snapped_button(&[("lib/a.js", "first"), ("z.js", "kept")]);
    let dir = root.path().join("button");

    // lib/a.js is sound, so it may be written before the damage in z.js
    // is found.
    point_head_at_damaged_copy(&workspace, head);
    fs::remove_dir_all(&dir).expect("remove");
    fs::create_dir(&dir).expect("mkdir");

    let error = workspace
        .checkout("button@head", true)
        .expect_err("damaged");

    assert!(matches!(error, Error::BadObject { .. }), "{error:?}");
    assert_eq!(entries_below(&dir), Vec::<String>::new());
}

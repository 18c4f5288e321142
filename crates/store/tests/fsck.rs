//! Integrity checks find each kind of damage and pass a sound store.

use ferry_core::object::{Blob, FileEntry, FileMode, Snap};
use ferry_core::{Object, ObjectId, RefName};
use ferry_store::fsck::{check, Problem};
use ferry_store::objects::compress;
use ferry_store::{MemoryObjectStore, MemoryRefStore, ObjectStore, RefEdit, RefStore};

struct Scope {
    objects: MemoryObjectStore,
    refs: MemoryRefStore,
}

fn blob(store: &MemoryObjectStore, data: &[u8]) -> FileEntry {
    let id = store
        .write(&Object::Blob(Blob {
            data: data.to_vec(),
        }))
        .expect("write blob");
    FileEntry {
        path: "index.js".parse().expect("valid"),
        mode: FileMode::Regular,
        blob: id,
        size: data.len() as u64,
    }
}

fn snap(component: &str, parents: Vec<ObjectId>, generation: u64, file: FileEntry) -> Snap {
    Snap {
        component: component.parse().expect("valid"),
        generation,
        parents,
        files: vec![file],
        author: "test".into(),
        timestamp: 0,
        message: String::new(),
        dependencies: vec![],
    }
}

/// Builds a two-snap history of `acme/button` with `main:acme/button` on
/// the second snap, and returns the scope with both snap ids.
fn sound_scope() -> (Scope, ObjectId, ObjectId) {
    let scope = Scope {
        objects: MemoryObjectStore::new(),
        refs: MemoryRefStore::new(),
    };
    let first = snap("acme/button", vec![], 1, blob(&scope.objects, b"v1"));
    let first = scope.objects.write(&Object::Snap(first)).expect("write");
    let second = snap("acme/button", vec![first], 2, blob(&scope.objects, b"v2"));
    let second = scope.objects.write(&Object::Snap(second)).expect("write");
    set_ref(&scope, "main:acme/button", second);
    (scope, first, second)
}

fn set_ref(scope: &Scope, key: &str, target: ObjectId) {
    let name: RefName = key.parse().expect("valid ref");
    let current = scope.refs.get_ref("", &name).expect("read");
    let edit = RefEdit {
        name,
        expected: current,
        new: Some(target),
    };
    scope.refs.update_refs("", &[edit]).expect("update");
}

fn problems(scope: &Scope) -> Vec<Problem> {
    check(&scope.objects, &scope.refs, &[""])
        .expect("check runs")
        .problems
}

#[test]
fn sound_store_is_clean() {
    let (scope, _, _) = sound_scope();
    let report = check(&scope.objects, &scope.refs, &[""]).expect("check runs");
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.objects, 4);
    assert_eq!(report.refs, 1);
    assert_eq!(report.snaps, 2);
}

#[test]
fn missing_parent_is_reported() {
    let (scope, first, _) = sound_scope();
    scope.objects.remove(&first).expect("remove");
    let found = problems(&scope);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(matches!(found[0], Problem::Missing { id, .. } if id == first));
}

#[test]
fn corrupt_object_is_reported() {
    let (scope, first, _) = sound_scope();
    scope.objects.corrupt(&first, compress(b"blob 1 3\0bad"));
    let found = problems(&scope);
    assert!(found
        .iter()
        .any(|p| matches!(p, Problem::Corrupt { id, .. } if *id == first)));
}

#[test]
fn wrong_generation_is_reported() {
    let (scope, _, second) = sound_scope();
    let third = snap("acme/button", vec![second], 7, blob(&scope.objects, b"v3"));
    let third = scope.objects.write(&Object::Snap(third)).expect("write");
    set_ref(&scope, "main:acme/button", third);
    let found = problems(&scope);
    assert_eq!(
        found,
        vec![Problem::WrongGeneration {
            snap: third,
            stored: 7,
            expected: 3
        }]
    );
}

#[test]
fn ref_to_other_component_is_reported() {
    let (scope, _, second) = sound_scope();
    set_ref(&scope, "main:acme/card", second);
    let found = problems(&scope);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(matches!(found[0], Problem::WrongComponent { snap, .. } if snap == second));
}

#[test]
fn wrong_blob_size_is_reported() {
    let (scope, _, second) = sound_scope();
    let mut file = blob(&scope.objects, b"short");
    file.size = 99;
    let bad = snap("acme/button", vec![second], 3, file);
    let bad = scope.objects.write(&Object::Snap(bad)).expect("write");
    set_ref(&scope, "main:acme/button", bad);
    let found = problems(&scope);
    assert!(matches!(
        found[..],
        [Problem::WrongSize {
            recorded: 99,
            actual: 5,
            ..
        }]
    ));
}

#[test]
fn workspace_check_covers_remote_namespaces() {
    let dir = tempfile::TempDir::new().expect("temporary directory");
    let ferry_dir = dir.path().join(".ferry");
    let objects = ferry_store::FsObjectStore::open(ferry_dir.join("objects")).expect("objects");
    let refs = ferry_store::SqliteStore::open(&ferry_dir.join("ferry.db")).expect("database");
    let first = snap("acme/button", vec![], 1, blob_in(&objects, b"v1"));
    let first = objects.write(&Object::Snap(first)).expect("write");
    let second = snap("acme/button", vec![first], 2, blob_in(&objects, b"v2"));
    let second = objects.write(&Object::Snap(second)).expect("write");
    let name: RefName = "main:acme/button".parse().expect("valid ref");
    let set = |namespace: &str, target| {
        let edit = RefEdit {
            name: name.clone(),
            expected: None,
            new: Some(target),
        };
        refs.update_refs(namespace, &[edit]).expect("update");
    };
    set("", first);
    set("remote/origin", second);
    // A namespace that is neither the workspace's nor a remote's.
    set("scratch", second);

    let report = ferry_store::fsck::check_workspace(&ferry_dir).expect("check runs");
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.refs, 2);
    assert_eq!(report.snaps, 2);

    objects.remove(&first).expect("remove");
    let report = ferry_store::fsck::check_workspace(&ferry_dir).expect("check runs");
    assert!(
        report
            .problems
            .iter()
            .any(|p| matches!(p, Problem::Missing { id, .. } if *id == first)),
        "{:?}",
        report.problems
    );
}

#[test]
fn workspace_check_rejects_directory_without_database() {
    let dir = tempfile::TempDir::new().expect("temporary directory");
    let error = ferry_store::fsck::check_workspace(dir.path()).expect_err("not a store");
    assert!(
        matches!(error, ferry_store::fsck::FsckError::NotAStore { .. }),
        "{error}"
    );
    assert!(!dir.path().join("ferry.db").exists(), "nothing was created");
}

fn blob_in(store: &dyn ObjectStore, data: &[u8]) -> FileEntry {
    let id = store
        .write(&Object::Blob(Blob {
            data: data.to_vec(),
        }))
        .expect("write blob");
    FileEntry {
        path: "index.js".parse().expect("valid"),
        mode: FileMode::Regular,
        blob: id,
        size: data.len() as u64,
    }
}

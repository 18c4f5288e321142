//! Export store behaviour, run against the SQLite and the in-memory store.

use std::sync::Arc;

use ferry_core::protocol::{ExportState, IdempotencyKey};
use ferry_core::{ObjectId, RefName, ScopeName};
use ferry_store::{
    CommitAttempt, ExportStore, ExportStoreError, MemoryExportStore, MemoryRefStore, RefEdit,
    RefStore, SqliteExportStore, SqliteStore,
};

const LEASE: i64 = 1_000;

struct Backend {
    exports: Box<dyn ExportStore>,
    refs: Arc<dyn RefStore>,
}

fn backends() -> Vec<(&'static str, Backend)> {
    let sqlite = Arc::new(SqliteStore::open_in_memory().expect("in-memory database"));
    let memory_refs = Arc::new(MemoryRefStore::new());
    vec![
        (
            "sqlite",
            Backend {
                exports: Box::new(SqliteExportStore::new(sqlite.clone()).expect("schema")),
                refs: sqlite,
            },
        ),
        (
            "memory",
            Backend {
                exports: Box::new(MemoryExportStore::new(memory_refs.clone())),
                refs: memory_refs,
            },
        ),
    ]
}

fn scope() -> ScopeName {
    "acme".parse().expect("valid scope")
}

fn main_ref(name: &str) -> RefName {
    format!("main:acme/{name}").parse().expect("valid ref")
}

fn id(n: u8) -> ObjectId {
    ObjectId::from_bytes([n; 32])
}

#[test]
fn open_with_same_key_returns_same_export() {
    for (name, backend) in backends() {
        let store = backend.exports;
        store.create_scope(&scope(), 0).expect("create scope");
        let key: IdempotencyKey = "run-1".parse().expect("valid key");
        let (first, created) = store
            .open_export(&scope(), Some(&key), 0, LEASE)
            .expect("open");
        assert!(created, "{name}");
        let (again, created) = store
            .open_export(&scope(), Some(&key), 5, LEASE)
            .expect("open again");
        assert!(!created, "{name}");
        assert_eq!(again.id, first.id, "{name}");
        let (other, _) = store.open_export(&scope(), None, 5, LEASE).expect("open");
        assert_ne!(other.id, first.id, "{name}");
    }
}

#[test]
fn open_into_unknown_scope_fails() {
    for (name, backend) in backends() {
        let error = backend
            .exports
            .open_export(&scope(), None, 0, LEASE)
            .expect_err("no scope");
        assert!(
            matches!(error, ExportStoreError::UnknownScope(_)),
            "{name}: {error}"
        );
    }
}

#[test]
fn commit_applies_refs_and_repeats_outcome() {
    for (name, backend) in backends() {
        let store = backend.exports;
        store.create_scope(&scope(), 0).expect("create scope");
        let (export, _) = store.open_export(&scope(), None, 0, LEASE).expect("open");
        store
            .record_objects(&export.id, &[id(1)], 1, LEASE)
            .expect("record");
        store
            .set_prepared(&export.id, "plan", 2, LEASE)
            .expect("prepare");
        let edits = [RefEdit {
            name: main_ref("button"),
            expected: None,
            new: Some(id(1)),
        }];
        let attempt = store.commit(&export.id, &edits, "done", 3).expect("commit");
        assert!(matches!(attempt, CommitAttempt::Applied), "{name}");
        let head = backend.refs.get_ref("", &main_ref("button")).expect("read");
        assert_eq!(head, Some(id(1)), "{name}");
        assert_eq!(
            store.reachable_among(&[id(1), id(2)]).expect("read"),
            [id(1)]
        );

        let again = store
            .commit(&export.id, &edits, "other", 4)
            .expect("commit");
        let CommitAttempt::Finished(record) = again else {
            panic!("{name}: second commit must report the first outcome");
        };
        assert_eq!(record.state, ExportState::Committed, "{name}");
        assert_eq!(record.outcome.as_deref(), Some("done"), "{name}");
    }
}

#[test]
fn failed_compare_and_swap_changes_nothing() {
    for (name, backend) in backends() {
        let store = backend.exports;
        store.create_scope(&scope(), 0).expect("create scope");
        let (export, _) = store.open_export(&scope(), None, 0, LEASE).expect("open");
        store
            .set_prepared(&export.id, "plan", 1, LEASE)
            .expect("prepare");
        let edits = [
            RefEdit {
                name: main_ref("a"),
                expected: None,
                new: Some(id(1)),
            },
            RefEdit {
                name: main_ref("b"),
                expected: Some(id(9)),
                new: Some(id(2)),
            },
        ];
        let attempt = store.commit(&export.id, &edits, "done", 2).expect("commit");
        assert!(
            matches!(attempt, CommitAttempt::Mismatch { actual: None, .. }),
            "{name}: {attempt:?}"
        );
        assert_eq!(
            backend.refs.get_ref("", &main_ref("a")).expect("read"),
            None
        );
        let record = store.get_export(&export.id).expect("read").expect("exists");
        assert_eq!(record.state, ExportState::Prepared, "{name}");
    }
}

#[test]
fn expired_export_is_aborted() {
    for (name, backend) in backends() {
        let store = backend.exports;
        store.create_scope(&scope(), 0).expect("create scope");
        let (export, _) = store.open_export(&scope(), None, 0, LEASE).expect("open");
        let error = store
            .record_objects(&export.id, &[id(1)], LEASE + 1, LEASE)
            .expect_err("lease ran out");
        assert!(matches!(error, ExportStoreError::Expired(_)), "{name}");
        let record = store.get_export(&export.id).expect("read").expect("exists");
        assert_eq!(record.state, ExportState::Aborted, "{name}");

        let (other, _) = store.open_export(&scope(), None, 0, LEASE).expect("open");
        assert_eq!(store.expire(LEASE).expect("expire"), [other.id], "{name}");
    }
}

#[test]
fn collection_spares_live_and_reachable_objects() {
    for (name, backend) in backends() {
        let store = backend.exports;
        store.create_scope(&scope(), 0).expect("create scope");
        let (dead, _) = store.open_export(&scope(), None, 0, LEASE).expect("open");
        let (live, _) = store.open_export(&scope(), None, 0, LEASE).expect("open");
        let (done, _) = store.open_export(&scope(), None, 0, LEASE).expect("open");
        store
            .record_objects(&dead.id, &[id(1), id(2), id(3)], 1, LEASE)
            .expect("record");
        store
            .record_objects(&live.id, &[id(2)], 1, LEASE)
            .expect("record");
        store
            .record_objects(&done.id, &[id(3)], 1, LEASE)
            .expect("record");
        store
            .set_prepared(&done.id, "plan", 1, LEASE)
            .expect("prepare");
        store.commit(&done.id, &[], "done", 1).expect("commit");
        store.finish_aborted(&dead.id, None, 2).expect("abort");

        assert!(
            store.begin_collection(2).expect("collect").is_empty(),
            "{name}"
        );
        let marked = store.begin_collection(3).expect("collect");
        assert_eq!(marked, [id(1)], "{name}");
        let collected = store
            .record_objects(&live.id, &[id(1)], 4, LEASE)
            .expect("record");
        assert_eq!(collected, [id(1)], "{name}");
        store.end_collection(&marked).expect("end");
        assert!(
            store.begin_collection(10).expect("collect").is_empty(),
            "{name}"
        );
    }
}

#[test]
fn live_exports_lists_open_and_prepared_only() {
    for (name, backend) in backends() {
        let store = backend.exports;
        store.create_scope(&scope(), 0).expect("create scope");
        let (open, _) = store.open_export(&scope(), None, 0, LEASE).expect("open");
        let (prepared, _) = store.open_export(&scope(), None, 1, LEASE).expect("open");
        store
            .set_prepared(&prepared.id, "{}", 2, LEASE)
            .expect("prepare");
        let (aborted, _) = store.open_export(&scope(), None, 3, LEASE).expect("open");
        store.finish_aborted(&aborted.id, None, 4).expect("abort");

        let live = store.live_exports().expect("list live exports");
        let mut states: Vec<_> = live.iter().map(|r| (r.id, r.state)).collect();
        states.sort_by_key(|(id, _)| *id);
        let mut expected = vec![
            (open.id, ExportState::Open),
            (prepared.id, ExportState::Prepared),
        ];
        expected.sort_by_key(|(id, _)| *id);
        assert_eq!(states, expected, "{name}");
    }
}

#[test]
fn key_reused_for_other_scope_fails() {
    for (name, backend) in backends() {
        let store = backend.exports;
        store.create_scope(&scope(), 0).expect("create scope");
        let other: ScopeName = "other".parse().expect("valid scope");
        store.create_scope(&other, 0).expect("create scope");
        let key: IdempotencyKey = "run-1".parse().expect("valid key");
        let (first, _) = store
            .open_export(&scope(), Some(&key), 0, LEASE)
            .expect("open");
        let error = store
            .open_export(&other, Some(&key), 0, LEASE)
            .expect_err("key belongs to another scope");
        let ExportStoreError::KeyReused { export, .. } = error else {
            panic!("{name}: unexpected error {error}");
        };
        assert_eq!(export, first.id, "{name}");
    }
}

#[test]
fn overlapping_collections_remove_each_object_once() {
    for (name, backend) in backends() {
        let store = backend.exports;
        store.create_scope(&scope(), 0).expect("create scope");
        let (dead, _) = store.open_export(&scope(), None, 0, LEASE).expect("open");
        store
            .record_objects(&dead.id, &[id(1), id(2)], 1, LEASE)
            .expect("record");
        store.finish_aborted(&dead.id, None, 2).expect("abort");

        let first = store.begin_collection(3).expect("first collection");
        let second = store.begin_collection(3).expect("second collection");
        assert_eq!(first.len(), 2, "{name}");
        assert_eq!(
            second.len(),
            2,
            "{name}: marks are handed to every collection"
        );

        let mut removed_by_first = Vec::new();
        let count = store
            .remove_collected(&first, &mut |object| {
                removed_by_first.push(*object);
                Ok(())
            })
            .expect("first removal");
        assert_eq!(count, 2, "{name}");
        assert_eq!(removed_by_first.len(), 2, "{name}");

        let mut removed_by_second = Vec::new();
        let count = store
            .remove_collected(&second, &mut |object| {
                removed_by_second.push(*object);
                Ok(())
            })
            .expect("second removal");
        assert_eq!(count, 0, "{name}");
        assert!(
            removed_by_second.is_empty(),
            "{name}: unmarked objects are kept"
        );
    }
}

#[test]
fn failed_removal_keeps_the_mark() {
    for (name, backend) in backends() {
        let store = backend.exports;
        store.create_scope(&scope(), 0).expect("create scope");
        let (dead, _) = store.open_export(&scope(), None, 0, LEASE).expect("open");
        store
            .record_objects(&dead.id, &[id(1)], 1, LEASE)
            .expect("record");
        store.finish_aborted(&dead.id, None, 2).expect("abort");
        let marked = store.begin_collection(3).expect("collection");

        let error = store
            .remove_collected(&marked, &mut |object| {
                Err(ferry_store::ObjectStoreError::NotFound(*object))
            })
            .expect_err("the removal fails");
        assert!(
            matches!(error, ExportStoreError::Removal { .. }),
            "{name}: {error}"
        );
        let (live, _) = store.open_export(&scope(), None, 4, LEASE).expect("open");
        let collecting = store
            .record_objects(&live.id, &[id(1)], 4, LEASE)
            .expect("record");
        assert_eq!(collecting, [id(1)], "{name}: the object is still marked");
    }
}

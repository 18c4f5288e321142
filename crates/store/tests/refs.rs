//! The same ref-store cases run against SQLite and the in-memory store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;

use ferry_core::{ObjectId, RefName};
use ferry_store::{MemoryRefStore, RefEdit, RefStore, RefUpdateError, SqliteStore};

fn id(n: u32) -> ObjectId {
    ObjectId::digest(&n.to_le_bytes())
}

fn main_ref(name: &str) -> RefName {
    RefName::Main(format!("acme/{name}").parse().expect("valid component"))
}

fn edit(name: &str, expected: Option<u32>, new: Option<u32>) -> RefEdit {
    RefEdit {
        name: main_ref(name),
        expected: expected.map(id),
        new: new.map(id),
    }
}

fn stores() -> Vec<(&'static str, Box<dyn RefStore>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("ferry.db")).expect("open sqlite");
    vec![
        ("sqlite", Box::new(sqlite), Some(dir)),
        ("memory", Box::new(MemoryRefStore::new()), None),
    ]
}

#[test]
fn create_update_delete() {
    for (kind, store, _dir) in stores() {
        store
            .update_refs("", &[edit("a", None, Some(1))])
            .expect(kind);
        assert_eq!(store.get_ref("", &main_ref("a")).expect(kind), Some(id(1)));
        store
            .update_refs("", &[edit("a", Some(1), Some(2))])
            .expect(kind);
        assert_eq!(store.get_ref("", &main_ref("a")).expect(kind), Some(id(2)));
        store
            .update_refs("", &[edit("a", Some(2), None)])
            .expect(kind);
        assert_eq!(store.get_ref("", &main_ref("a")).expect(kind), None);
    }
}

#[test]
fn stale_expected_value_is_rejected() {
    for (kind, store, _dir) in stores() {
        store
            .update_refs("", &[edit("a", None, Some(1))])
            .expect(kind);
        let error = store
            .update_refs("", &[edit("a", Some(7), Some(2))])
            .expect_err(kind);
        match error {
            RefUpdateError::Mismatch(mismatch) => {
                assert_eq!(mismatch.name, main_ref("a"), "{kind}");
                assert_eq!(mismatch.expected, Some(id(7)), "{kind}");
                assert_eq!(mismatch.actual, Some(id(1)), "{kind}");
            }
            other => panic!("{kind}: unexpected error {other}"),
        }
        let recreate = store.update_refs("", &[edit("a", None, Some(3))]);
        assert!(recreate.is_err(), "{kind}: create over an existing ref");
    }
}

#[test]
fn batch_is_all_or_nothing() {
    for (kind, store, _dir) in stores() {
        store
            .update_refs("", &[edit("a", None, Some(1))])
            .expect(kind);
        let batch = [edit("b", None, Some(5)), edit("a", Some(9), Some(2))];
        assert!(store.update_refs("", &batch).is_err(), "{kind}");
        assert_eq!(
            store.get_ref("", &main_ref("b")).expect(kind),
            None,
            "{kind}"
        );
        assert_eq!(store.get_ref("", &main_ref("a")).expect(kind), Some(id(1)));
    }
}

#[test]
fn namespaces_are_separate() {
    for (kind, store, _dir) in stores() {
        store
            .update_refs("", &[edit("a", None, Some(1))])
            .expect(kind);
        store
            .update_refs("remote/origin", &[edit("a", None, Some(2))])
            .expect(kind);
        assert_eq!(store.get_ref("", &main_ref("a")).expect(kind), Some(id(1)));
        let remote = store.get_ref("remote/origin", &main_ref("a")).expect(kind);
        assert_eq!(remote, Some(id(2)), "{kind}");
    }
}

#[test]
fn list_filters_by_prefix_in_key_order() {
    for (kind, store, _dir) in stores() {
        let batch = [
            edit("b_x", None, Some(2)),
            edit("a", None, Some(1)),
            edit("bz", None, Some(3)),
        ];
        store.update_refs("", &batch).expect(kind);
        store
            .update_refs("other", &[edit("b_y", None, Some(4))])
            .expect(kind);
        let listed = store.list_refs("", "main:acme/b").expect(kind);
        let names: Vec<String> = listed.iter().map(|(name, _)| name.key()).collect();
        assert_eq!(names, ["main:acme/b_x", "main:acme/bz"], "{kind}");
        assert_eq!(store.list_refs("", "").expect(kind).len(), 3, "{kind}");
    }
}

/// Threads with their own connections race to advance one ref. Each
/// successful compare-and-swap records the value it replaced; following
/// those links back from the final value must visit every write, which
/// shows that no update overwrote another unseen.
#[test]
fn concurrent_writers_never_lose_an_update() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = Arc::new(dir.path().join("ferry.db"));
    SqliteStore::open(&path).expect("create");
    let replaced = Arc::new(Mutex::new(HashMap::new()));
    let threads = 8;
    let per_thread = 25u32;

    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let path = Arc::clone(&path);
            let replaced = Arc::clone(&replaced);
            thread::spawn(move || {
                let store = SqliteStore::open(&path).expect("open");
                let name = main_ref("counter");
                for i in 0..per_thread {
                    let new = id(t * 1000 + i);
                    loop {
                        let current = store.get_ref("", &name).expect("read");
                        let edits = [RefEdit {
                            name: name.clone(),
                            expected: current,
                            new: Some(new),
                        }];
                        match store.update_refs("", &edits) {
                            Ok(()) => {
                                replaced.lock().expect("lock").insert(new, current);
                                break;
                            }
                            Err(RefUpdateError::Mismatch(_)) => continue,
                            Err(other) => panic!("store failed: {other}"),
                        }
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("thread finished");
    }

    let store = SqliteStore::open(&path).expect("open");
    let replaced = replaced.lock().expect("lock");
    let mut cursor = store.get_ref("", &main_ref("counter")).expect("read");
    let mut chain = 0;
    while let Some(value) = cursor {
        chain += 1;
        cursor = replaced[&value];
    }
    assert_eq!(chain, (threads * per_thread) as usize);
}

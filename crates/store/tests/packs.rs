//! Large batches of a file object store become pack files: one file per
//! commit, found by every store instance on the directory, with removal
//! by tombstone.

use std::path::{Path, PathBuf};

use ferry_core::object::Blob;
use ferry_core::{Object, ObjectId};
use ferry_store::{FsObjectStore, ObjectStore, ObjectStoreError};

/// More objects than the smallest batch that becomes a pack.
const MANY: usize = 100;

fn blob(data: &[u8]) -> Object {
    Object::Blob(Blob {
        data: data.to_vec(),
    })
}

/// Commits `count` new blobs in one batch and returns their ids.
fn commit_blobs(store: &FsObjectStore, tag: &str, count: usize) -> Vec<ObjectId> {
    let batch = store.batch();
    let mut ids = Vec::new();
    for index in 0..count {
        let encoded = blob(format!("{tag} {index}").as_bytes()).encode();
        let id = ObjectId::digest(&encoded);
        batch.add_encoded(&id, &encoded).expect("stage");
        ids.push(id);
    }
    assert_eq!(batch.commit().expect("commit"), count);
    ids
}

fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .collect()
}

fn packs_dir(store: &FsObjectStore) -> PathBuf {
    store.root().join("packs")
}

#[test]
fn large_batch_becomes_one_pack() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsObjectStore::open(dir.path()).expect("open");
    let ids = commit_blobs(&store, "packed", MANY);

    assert_eq!(files_with_extension(&packs_dir(&store), "pack").len(), 1);
    assert!(!store.path_of(&ids[0]).exists(), "no file per object");
    for (index, id) in ids.iter().enumerate() {
        assert!(store.contains(id).expect("contains"));
        let expected = blob(format!("packed {index}").as_bytes());
        assert_eq!(store.read(id).expect("read"), expected);
    }
    let mut listed = store.list().expect("list");
    listed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(listed, expected);
}

#[test]
fn small_batch_stays_one_file_per_object() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsObjectStore::open(dir.path()).expect("open");
    let ids = commit_blobs(&store, "loose", 3);
    assert!(files_with_extension(&packs_dir(&store), "pack").is_empty());
    assert!(ids.iter().all(|id| store.path_of(id).exists()));
}

#[test]
fn pack_from_other_instance_is_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reader = FsObjectStore::open(dir.path()).expect("open reader");
    let writer = FsObjectStore::open(dir.path()).expect("open writer");
    let ids = commit_blobs(&writer, "shared", MANY);

    assert!(reader.contains(&ids[7]).expect("contains"));
    assert_eq!(
        reader.read(&ids[7]).expect("read"),
        blob(b"shared 7"),
        "the reader loads the new pack on its first miss"
    );
    assert_eq!(reader.list().expect("list").len(), MANY);
}

#[test]
fn removed_packed_object_is_gone_for_every_instance() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsObjectStore::open(dir.path()).expect("open");
    let ids = commit_blobs(&store, "doomed", MANY);
    let other = FsObjectStore::open(dir.path()).expect("open other");
    assert!(other.contains(&ids[0]).expect("loaded by the other"));

    store.remove(&ids[0]).expect("remove");
    for instance in [&store, &other] {
        assert!(!instance.contains(&ids[0]).expect("contains"));
        assert!(matches!(
            instance.read(&ids[0]),
            Err(ObjectStoreError::NotFound(id)) if id == ids[0]
        ));
        assert!(instance.contains(&ids[1]).expect("neighbour stays"));
        assert_eq!(instance.list().expect("list").len(), MANY - 1);
    }
    let reopened = FsObjectStore::open(dir.path()).expect("reopen");
    assert!(!reopened.contains(&ids[0]).expect("contains after reopen"));

    // Written again, the object is back.
    assert_eq!(store.write(&blob(b"doomed 0")).expect("rewrite"), ids[0]);
    assert!(other.contains(&ids[0]).expect("contains again"));
}

#[test]
fn pack_without_live_objects_is_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsObjectStore::open(dir.path()).expect("open");
    let ids = commit_blobs(&store, "all gone", MANY);
    for id in &ids {
        store.remove(id).expect("remove");
    }
    assert!(files_with_extension(&packs_dir(&store), "pack").is_empty());
    assert!(store.list().expect("list").is_empty());
    let reopened = FsObjectStore::open(dir.path()).expect("reopen");
    assert!(reopened.list().expect("list").is_empty());
}

#[test]
fn damaged_pack_index_fails_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsObjectStore::open(dir.path()).expect("open");
    commit_blobs(&store, "damaged", MANY);
    let pack = files_with_extension(&packs_dir(&store), "pack").remove(0);
    let mut bytes = std::fs::read(&pack).expect("read pack");
    let last_record = bytes.len() - 56 - 48;
    bytes[last_record] ^= 0x01;
    std::fs::write(&pack, bytes).expect("damage pack");

    let error = FsObjectStore::open(dir.path()).expect_err("damaged pack");
    assert!(
        matches!(&error, ObjectStoreError::CorruptPack { path, .. } if *path == pack),
        "{error}"
    );
}

#[test]
fn damaged_packed_object_is_corrupt_on_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsObjectStore::open(dir.path()).expect("open");
    let ids = commit_blobs(&store, "flipped", MANY);
    let pack = files_with_extension(&packs_dir(&store), "pack").remove(0);
    let mut bytes = std::fs::read(&pack).expect("read pack");
    // Flips byte 12 of the first object's zstd frame, which starts after
    // the eight magic bytes.
    bytes[8 + 12] ^= 0xff;
    std::fs::write(&pack, bytes).expect("damage pack");

    let reopened = FsObjectStore::open(dir.path()).expect("index intact");
    let corrupt = ids
        .iter()
        .filter(|id| matches!(reopened.read(id), Err(ObjectStoreError::Corrupt { .. })))
        .count();
    assert_eq!(corrupt, 1);
}

#[test]
fn threads_add_to_one_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsObjectStore::open(dir.path()).expect("open");
    let batch = store.batch();
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let batch = &batch;
            scope.spawn(move || {
                // Every thread also adds the shared object, which is
                // staged once.
                for index in (0..50)
                    .map(|i| format!("thread {thread} {i}"))
                    .chain(["shared".into()])
                {
                    let encoded = blob(index.as_bytes()).encode();
                    let id = ObjectId::digest(&encoded);
                    batch.add_encoded(&id, &encoded).expect("stage");
                }
            });
        }
    });
    assert_eq!(batch.commit().expect("commit"), 201);
    assert_eq!(store.list().expect("list").len(), 201);
    assert_eq!(
        store.read(&blob(b"shared").id()).expect("read"),
        blob(b"shared")
    );
}

#[test]
fn dropped_large_batch_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsObjectStore::open(dir.path()).expect("open");
    let batch = store.batch();
    for index in 0..MANY {
        let encoded = blob(format!("dropped {index}").as_bytes()).encode();
        batch
            .add_encoded(&ObjectId::digest(&encoded), &encoded)
            .expect("stage");
    }
    drop(batch);
    assert!(store.list().expect("list").is_empty());
    assert_eq!(
        std::fs::read_dir(store.root().join("tmp"))
            .expect("tmp")
            .count(),
        0
    );
    assert!(files_with_extension(&packs_dir(&store), "pack").is_empty());
}

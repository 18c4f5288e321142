//! The same object-store cases run against files and memory.

use ferry_core::object::Blob;
use ferry_core::{Object, ObjectId};
use ferry_store::objects::compress;
use ferry_store::{FsObjectStore, MemoryObjectStore, ObjectStore, ObjectStoreError};

fn stores() -> Vec<(&'static str, Box<dyn ObjectStore>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let fs = FsObjectStore::open(dir.path().join("objects")).expect("open");
    vec![
        ("fs", Box::new(fs), dir),
        (
            "memory",
            Box::new(MemoryObjectStore::new()),
            tempfile::tempdir().expect("tempdir"),
        ),
    ]
}

fn blob(data: &[u8]) -> Object {
    Object::Blob(Blob {
        data: data.to_vec(),
    })
}

#[test]
fn write_then_read_round_trips() {
    for (kind, store, _dir) in stores() {
        let object = blob(b"export default Button;\n");
        let id = store.write(&object).expect(kind);
        assert!(store.contains(&id).expect(kind), "{kind}");
        assert_eq!(store.read(&id).expect(kind), object, "{kind}");
        store.flush().expect(kind);
        assert_eq!(store.list().expect(kind), vec![id], "{kind}");
    }
}

#[test]
fn writing_twice_is_harmless() {
    for (kind, store, _dir) in stores() {
        let object = blob(b"same");
        let first = store.write(&object).expect(kind);
        let second = store.write(&object).expect(kind);
        assert_eq!(first, second, "{kind}");
        assert_eq!(store.list().expect(kind).len(), 1, "{kind}");
    }
}

#[test]
fn missing_object_is_not_found() {
    for (kind, store, _dir) in stores() {
        let id = ObjectId::digest(b"nothing");
        let error = store.read(&id).expect_err(kind);
        assert!(
            matches!(error, ObjectStoreError::NotFound(found) if found == id),
            "{kind}"
        );
    }
}

#[test]
fn compressed_bytes_of_another_object_are_corrupt() {
    for (kind, store, _dir) in stores() {
        let claimed = ObjectId::digest(b"claimed");
        let other = blob(b"other").encode();
        store
            .write_compressed(&claimed, &compress(&other))
            .expect(kind);
        let error = store.read(&claimed).expect_err(kind);
        assert!(
            matches!(error, ObjectStoreError::Corrupt { .. }),
            "{kind}: {error}"
        );
        let error = store.read_compressed(&claimed).expect_err(kind);
        assert!(
            matches!(error, ObjectStoreError::Corrupt { .. }),
            "{kind}: {error}"
        );
    }
}

#[test]
fn damaged_file_is_detected_on_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsObjectStore::open(dir.path()).expect("open");
    let id = store.write(&blob(b"precious bytes")).expect("write");
    std::fs::write(store.path_of(&id), compress(b"blob 1 5\0evil!")).expect("damage");
    assert!(matches!(
        store.read(&id),
        Err(ObjectStoreError::Corrupt { .. })
    ));
}

#[test]
fn stray_files_are_not_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsObjectStore::open(dir.path()).expect("open");
    let id = store.write(&blob(b"x")).expect("write");
    std::fs::write(store.root().join("ab").with_extension("txt"), b"junk").expect("junk");
    std::fs::create_dir_all(store.root().join("zz")).expect("dir");
    std::fs::write(store.root().join("zz").join("not-an-id"), b"junk").expect("junk");
    assert_eq!(store.list().expect("list"), vec![id]);
    store.remove(&id).expect("remove");
    assert!(!store.contains(&id).expect("contains"));
}

#[test]
fn batch_is_invisible_until_commit() {
    for (kind, store, _dir) in stores() {
        let first = blob(b"first").encode();
        let second = blob(b"second").encode();
        let first_id = ObjectId::digest(&first);
        let second_id = ObjectId::digest(&second);

        let batch = store.batch();
        batch.add_encoded(&first_id, &first).expect(kind);
        batch
            .add_reader(&second_id, &mut compress(&second).as_slice())
            .expect(kind);
        batch.add_encoded(&first_id, &first).expect(kind);
        assert!(!store.contains(&first_id).expect(kind), "{kind}");

        assert_eq!(batch.commit().expect(kind), 2, "{kind}");
        assert_eq!(store.read_encoded(&first_id).expect(kind), first, "{kind}");
        assert_eq!(
            store.read_encoded(&second_id).expect(kind),
            second,
            "{kind}"
        );
    }
}

#[test]
fn batch_skips_objects_already_stored() {
    for (kind, store, _dir) in stores() {
        let stored = store.write(&blob(b"stored")).expect(kind);
        let batch = store.batch();
        // Bytes that are not the object would be staged if they were
        // looked at; a known id must be skipped without reading them.
        batch.add_encoded(&stored, b"not the object").expect(kind);
        batch
            .add_compressed(&stored, b"not zstd either")
            .expect(kind);
        assert_eq!(batch.commit().expect(kind), 0, "{kind}");
        assert_eq!(store.read(&stored).expect(kind), blob(b"stored"), "{kind}");
    }
}

#[test]
fn dropped_batch_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsObjectStore::open(dir.path()).expect("open");
    let encoded = blob(b"abandoned").encode();
    let id = ObjectId::digest(&encoded);
    let batch = store.batch();
    batch.add_encoded(&id, &encoded).expect("stage");
    drop(batch);
    assert!(!store.contains(&id).expect("contains"));
    let leftovers = std::fs::read_dir(store.root().join("tmp"))
        .expect("tmp")
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn failing_reader_stages_nothing() {
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("digest mismatch"))
        }
    }
    for (kind, store, _dir) in stores() {
        let id = ObjectId::digest(b"never");
        let batch = store.batch();
        assert!(batch.add_reader(&id, &mut Broken).is_err(), "{kind}");
        assert_eq!(batch.commit().expect(kind), 0, "{kind}");
        assert!(!store.contains(&id).expect(kind), "{kind}");
    }
}

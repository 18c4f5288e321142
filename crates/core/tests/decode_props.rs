//! Property tests for the object decoder, which parses bytes from the
//! network: it must never panic, and anything it accepts must be canonical,
//! so that one object has exactly one encoding and one id.

use ferry_core::object::{Blob, FileEntry, FileMode, Object, Snap};
use ferry_core::ObjectId;
use proptest::prelude::*;

fn sample_snap(file_count: usize, message: String) -> Snap {
    let files = (0..file_count)
        .map(|i| FileEntry {
            path: format!("dir{}/file{i:03}.js", i % 3)
                .parse()
                .expect("valid"),
            mode: if i % 5 == 0 {
                FileMode::Executable
            } else {
                FileMode::Regular
            },
            blob: Blob::id_of(&i.to_le_bytes()),
            size: i as u64,
        })
        .collect::<Vec<_>>();
    let mut files = files;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Snap {
        component: "acme.ui/button".parse().expect("valid"),
        generation: 2,
        parents: vec![ObjectId::digest(b"parent")],
        files,
        author: "Ada".into(),
        timestamp: 1_700_000_000_000,
        message,
        dependencies: vec![],
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Object::decode(&bytes);
    }

    #[test]
    fn accepted_mutation_is_canonical(
        files in 0usize..8,
        message in ".{0,40}",
        position in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let mut encoded = Object::Snap(sample_snap(files, message)).encode();
        let at = position.index(encoded.len());
        encoded[at] = value;
        if let Ok(object) = Object::decode(&encoded) {
            prop_assert_eq!(object.encode(), encoded);
        }
    }

    #[test]
    fn snap_round_trips(files in 0usize..20, message in ".{0,80}") {
        let snap = sample_snap(files, message);
        let encoded = Object::Snap(snap.clone()).encode();
        let decoded = Object::decode_verified(snap.id(), &encoded);
        prop_assert_eq!(decoded, Ok(Object::Snap(snap)));
    }
}

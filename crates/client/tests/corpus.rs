//! Material UI exported to a real server and imported into another local
//! scope, then updated from 9.5.0 to 9.6.0.
//!
//! The tarballs live in `shared/corpus` beside the repository. Every
//! top-level folder of `package/` whose name starts with an upper-case
//! letter is one component, named after the folder.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ref_name, Local, Remote};
use ferry_client::{import, FetchRequest, NoProgress, RefSelection, RefStatus};
use ferry_core::object::Blob;
use ferry_core::{ObjectId, RefName};
use tempfile::TempDir;

/// Files of one component: relative path to contents.
type Files = BTreeMap<String, Vec<u8>>;

fn corpus_dir() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = repo.join("../shared/corpus");
    assert!(
        dir.is_dir(),
        "corpus not found at {}: it sits in shared/corpus beside the repository",
        dir.display()
    );
    dir
}

/// Unpacks a corpus tarball with the system `tar` and returns its
/// components.
fn unpack(tarball: &str) -> (TempDir, BTreeMap<String, Files>) {
    let dir = TempDir::new().expect("temporary directory");
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(corpus_dir().join(tarball))
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("tar runs");
    assert!(status.success(), "tar failed on {tarball}");

    let package = dir.path().join("package");
    let mut components = BTreeMap::new();
    for entry in std::fs::read_dir(&package).expect("package folder") {
        let entry = entry.expect("directory entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_component = name.starts_with(|c: char| c.is_ascii_uppercase());
        if is_component && entry.file_type().expect("file type").is_dir() {
            let mut files = Files::new();
            collect_files(&entry.path(), &entry.path(), &mut files);
            components.insert(name, files);
        }
    }
    (dir, components)
}

fn collect_files(root: &Path, dir: &Path, files: &mut Files) {
    for entry in std::fs::read_dir(dir).expect("readable folder") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_files(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).expect("inside root");
            let key = relative.to_string_lossy().replace('\\', "/");
            files.insert(key, std::fs::read(&path).expect("readable file"));
        }
    }
}

fn snap_component(local: &Local, name: &str, parents: &[ObjectId], files: &Files) -> ObjectId {
    let entries: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(path, data)| (path.as_str(), data.as_slice()))
        .collect();
    local.snap(&format!("mui/{name}"), parents, &entries, name)
}

fn main_ref(name: &str) -> RefName {
    ref_name(&format!("main:mui/{name}"))
}

fn import_into(remote: &Remote, target: &Local) {
    let request = FetchRequest {
        remote_name: "origin".into(),
        scope: "mui".parse().expect("valid"),
        selection: RefSelection::All,
    };
    import(
        target.objects.as_ref(),
        target.refs.as_ref(),
        &remote.client,
        &request,
        &NoProgress,
    )
    .expect("import succeeds");
}

/// Checks that every file of every component reads back byte for byte
/// from `target` at the head of its main ref.
fn assert_identical(target: &Local, components: &BTreeMap<String, Files>) {
    for (name, files) in components {
        let head = target
            .refs
            .get_ref("", &main_ref(name))
            .expect("read ref")
            .unwrap_or_else(|| panic!("{name} was not imported"));
        let snap = target.objects.read_snap(&head).expect("snap imported");
        assert_eq!(snap.files.len(), files.len(), "{name}");
        for entry in &snap.files {
            let blob = target.objects.read(&entry.blob).expect("blob imported");
            let expected = &files[entry.path.as_str()];
            let ferry_core::Object::Blob(blob) = blob else {
                panic!("{name}/{}: not a blob", entry.path);
            };
            assert_eq!(&blob.data, expected, "{name}/{}", entry.path);
        }
    }
}

#[test]
fn material_ui_round_trip_and_update() {
    let (_old_dir, old) = unpack("mui-material-9.5.0.tgz");
    let (_new_dir, new) = unpack("mui-material-9.6.0.tgz");
    assert!(old.len() > 100, "only {} components found", old.len());

    let remote = Remote::start();
    remote.create_scope("mui");
    // The source is in memory: writing thousands of objects one fsync at a
    // time would dominate the run.
    let source = Local::in_memory();
    let mut heads = BTreeMap::new();
    let mut updates = Vec::new();
    for (name, files) in &old {
        let head = snap_component(&source, name, &[], files);
        heads.insert(name.clone(), head);
        updates.push((main_ref(name), head, None));
    }
    let report = source.push(&remote.client, "mui", &updates);
    assert!(report.is_committed(), "{:?}", report.rejection);
    let old_blobs: HashSet<ObjectId> = old
        .values()
        .flat_map(|files| files.values().map(|data| Blob::id_of(data)))
        .collect();
    assert_eq!(
        report.objects_uploaded,
        (old.len() + old_blobs.len()) as u64
    );

    let target = Local::on_disk();
    import_into(&remote, &target);
    assert_identical(&target, &old);

    // Snap only the components whose files changed, as a workspace would.
    let mut updates = Vec::new();
    let mut new_blobs = HashSet::new();
    for (name, files) in &new {
        let parent = heads.get(name).copied();
        if old.get(name) == Some(files) {
            continue;
        }
        let parents: Vec<_> = parent.into_iter().collect();
        let head = snap_component(&source, name, &parents, files);
        updates.push((main_ref(name), head, parent));
        new_blobs.extend(
            files
                .values()
                .map(|data| Blob::id_of(data))
                .filter(|id| !old_blobs.contains(id)),
        );
    }
    assert!(!updates.is_empty(), "9.6.0 changes some components");
    let report = source.push(&remote.client, "mui", &updates);
    assert!(report.is_committed(), "{:?}", report.rejection);
    assert_eq!(
        report.objects_uploaded,
        (updates.len() + new_blobs.len()) as u64,
        "only the changed snaps and files are sent"
    );
    assert!(report
        .refs
        .iter()
        .all(|r| matches!(r.status, RefStatus::FastForwarded | RefStatus::Created)));

    import_into(&remote, &target);
    let mut expected = old.clone();
    expected.extend(new.clone());
    assert_identical(&target, &expected);
}

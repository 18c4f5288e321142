//! End-to-end run on the Material UI npm tarballs: snap 9.5.0, unpack
//! 9.6.0 over it, snap again, and check out both versions.
//!
//! The corpus directory comes from `FERRY_CORPUS`, else `../shared/corpus`
//! beside the repository; `scripts/fetch-corpus.sh` fills it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use crate::support::{snapped_components, snapped_id, Sandbox};

/// Contents and executable bit of every file below a directory, by path.
pub type Tree = BTreeMap<String, (Vec<u8>, bool)>;

pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FERRY_CORPUS") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

pub fn unpack(tarball: &str, into: &Path) {
    let path = corpus_dir().join(tarball);
    let file = fs::File::open(&path).unwrap_or_else(|error| {
        panic!(
            "cannot open {}: {error}; run scripts/fetch-corpus.sh or set FERRY_CORPUS",
            path.display()
        )
    });
    tar::Archive::new(GzDecoder::new(file))
        .unpack(into)
        .expect("unpack tarball");
}

pub fn read_tree(dir: &Path) -> Tree {
    let mut tree = Tree::new();
    if !dir.exists() {
        return tree;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current).expect("read dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            if entry.file_type().expect("type").is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path.strip_prefix(dir).expect("below dir");
            let relative = relative.to_string_lossy().replace('\\', "/");
            tree.insert(
                relative,
                (fs::read(&path).expect("read"), is_executable(&path)),
            );
        }
    }
    tree
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).expect("stat").permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_path: &Path) -> bool {
    false
}

/// Returns the top-level folders of `package` whose name starts with an
/// upper-case letter.
pub fn component_dirs(package: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(package)
        .expect("read package")
        .map(|entry| entry.expect("entry"))
        .filter(|entry| entry.file_type().expect("type").is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect();
    names.sort();
    names
}

pub fn assert_trees_equal(version: &str, name: &str, actual: &Tree, expected: &Tree) {
    let actual_paths: BTreeSet<&String> = actual.keys().collect();
    let expected_paths: BTreeSet<&String> = expected.keys().collect();
    assert_eq!(
        actual_paths, expected_paths,
        "{name} at {version}: file list"
    );
    for (path, content) in expected {
        assert!(
            actual[path] == *content,
            "{name} at {version}: {path} differs"
        );
    }
}

#[test]
fn corpus_snaps_only_changed_components() {
    let reference = tempfile::tempdir().expect("tempdir");
    let old = reference.path().join("9.5.0");
    let new = reference.path().join("9.6.0");
    unpack("mui-material-9.5.0.tgz", &old);
    unpack("mui-material-9.6.0.tgz", &new);

    let sandbox = Sandbox::empty();
    sandbox.ok(&["init", "--scope", "mui"]);
    unpack("mui-material-9.5.0.tgz", sandbox.path());
    let names = component_dirs(&sandbox.join("package"));
    assert!(
        names.len() > 100,
        "expected about 150 components, found {}",
        names.len()
    );
    let dirs: Vec<String> = names.iter().map(|name| format!("package/{name}")).collect();
    let mut add: Vec<&str> = vec!["add"];
    add.extend(dirs.iter().map(String::as_str));
    sandbox.ok(&add);

    let first = sandbox.json(&["snap", "-m", "9.5.0"]);
    assert_eq!(snapped_components(&first).len(), names.len());

    fs::remove_dir_all(sandbox.join("package")).expect("remove old package");
    unpack("mui-material-9.6.0.tgz", sandbox.path());
    let second = sandbox.json(&["snap", "-m", "9.6.0"]);

    let expected: BTreeSet<String> = names
        .iter()
        .filter(|name| {
            read_tree(&old.join("package").join(name)) != read_tree(&new.join("package").join(name))
        })
        .map(|name| format!("mui/{name}"))
        .collect();
    let actual: BTreeSet<String> = snapped_components(&second).into_iter().collect();
    assert!(!expected.is_empty(), "9.6.0 changes some components");
    assert!(
        expected.len() < names.len(),
        "9.6.0 leaves some components alone"
    );
    assert_eq!(actual, expected);

    let status = sandbox.json(&["status"]);
    let dirty: Vec<&serde_json::Value> = status["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| c["changes"] != serde_json::json!({"added": [], "modified": [], "deleted": []}))
        .collect();
    assert!(dirty.is_empty(), "clean after snap: {dirty:?}");

    for component in &expected {
        let old_id = snapped_id(&first, component).expect("first snap");
        sandbox.ok(&["checkout", &format!("{component}@{}", &old_id[..12])]);
    }
    for name in &names {
        let actual = read_tree(&sandbox.join("package").join(name));
        assert_trees_equal(
            "9.5.0",
            name,
            &actual,
            &read_tree(&old.join("package").join(name)),
        );
    }

    for component in &expected {
        let new_id = snapped_id(&second, component).expect("second snap");
        sandbox.ok(&["checkout", &format!("{component}@{new_id}")]);
    }
    for name in &names {
        let actual = read_tree(&sandbox.join("package").join(name));
        assert_trees_equal(
            "9.6.0",
            name,
            &actual,
            &read_tree(&new.join("package").join(name)),
        );
    }
}

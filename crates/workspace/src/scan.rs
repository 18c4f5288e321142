//! Listing the files of a component directory.
//!
//! A scan reads directory entries and their metadata only, never file
//! contents, so it is cheap enough to run on every `status`. Symlinks are
//! not followed. A snap contains regular files only, so a symlink, a socket
//! or a file whose name is not a valid snap path is listed as unsupported
//! and left for the caller to reject or remove. Directories named `.ferry`
//! are skipped, so a workspace nested inside a component is never snapped.

use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use ferry_core::{FileMode, FilePath};
use serde::Serialize;

/// Name of the directory holding a workspace's own data.
pub const FERRY_DIR: &str = ".ferry";

/// A failed scan.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Reading a directory or an entry's metadata failed.
    #[error("I/O error on {}", .path.display())]
    Io {
        /// The entry involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The metadata of a file that decides whether its cached blob id still
/// holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    /// Length in bytes.
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// Status change time in nanoseconds since the Unix epoch, or 0 where
    /// the platform has none. Unlike the mtime, no program can set it, so
    /// a file replaced by one with the same size and a restored mtime
    /// (as `tar` leaves it) still differs here.
    pub ctime_ns: i64,
    /// Inode number, or 0 where the platform has none.
    pub inode: u64,
    /// Whether the file is executable.
    pub mode: FileMode,
}

/// A regular file found by a scan.
#[derive(Clone, Debug)]
pub struct ScannedFile {
    /// Path relative to the component directory.
    pub path: FilePath,
    /// Its metadata at scan time.
    pub stat: FileStat,
}

/// An entry that a snap cannot hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unsupported {
    /// Path relative to the component directory, lossily converted to text.
    pub path: String,
    /// Native path, for removing it.
    #[serde(skip)]
    pub native: PathBuf,
    /// "symlink", "special file" or "file with an invalid name".
    pub kind: &'static str,
}

/// Everything a scan found, files sorted by path.
#[derive(Clone, Debug, Default)]
pub struct ScannedTree {
    /// Regular files, sorted by path.
    pub files: Vec<ScannedFile>,
    /// Entries a snap cannot hold.
    pub unsupported: Vec<Unsupported>,
}

/// Lists the files below `dir`. A missing `dir` yields an empty tree, so a
/// deleted component directory shows up as deleted files.
pub fn scan_dir(dir: &Path) -> Result<ScannedTree, ScanError> {
    let mut tree = ScannedTree::default();
    if !dir.exists() {
        return Ok(tree);
    }
    let walker = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .follow_links(false)
        .into_iter()
        .filter_entry(|entry| entry.file_name() != FERRY_DIR);
    for entry in walker {
        let entry = entry.map_err(walk_error(dir))?;
        if entry.file_type().is_dir() {
            continue;
        }
        let relative = entry
            .path()
            .strip_prefix(dir)
            .expect("walkdir yields paths below its root");
        classify(&mut tree, entry.path(), relative, entry.file_type())?;
    }
    tree.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(tree)
}

fn classify(
    tree: &mut ScannedTree,
    native: &Path,
    relative: &Path,
    file_type: std::fs::FileType,
) -> Result<(), ScanError> {
    let unsupported = |kind| Unsupported {
        path: relative.to_string_lossy().replace('\\', "/"),
        native: native.to_path_buf(),
        kind,
    };
    if file_type.is_symlink() {
        tree.unsupported.push(unsupported("symlink"));
        return Ok(());
    }
    if !file_type.is_file() {
        tree.unsupported.push(unsupported("special file"));
        return Ok(());
    }
    let Ok(path) = FilePath::from_native(relative) else {
        tree.unsupported
            .push(unsupported("file with an invalid name"));
        return Ok(());
    };
    let metadata = native.symlink_metadata().map_err(|source| ScanError::Io {
        path: native.to_path_buf(),
        source,
    })?;
    tree.files.push(ScannedFile {
        path,
        stat: stat_of(&metadata),
    });
    Ok(())
}

fn walk_error(dir: &Path) -> impl FnOnce(walkdir::Error) -> ScanError + '_ {
    move |error| {
        let path = error.path().unwrap_or(dir).to_path_buf();
        let source = error
            .into_io_error()
            .unwrap_or_else(|| std::io::Error::other("directory loop"));
        ScanError::Io { path, source }
    }
}

/// Extracts the cache-relevant metadata of a regular file.
pub fn stat_of(metadata: &Metadata) -> FileStat {
    let mtime_ns = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| {
            i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
        });
    FileStat {
        size: metadata.len(),
        mtime_ns,
        ctime_ns: ctime_of(metadata),
        inode: inode_of(metadata),
        mode: mode_of(metadata),
    }
}

#[cfg(unix)]
fn ctime_of(metadata: &Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    metadata
        .ctime()
        .saturating_mul(1_000_000_000)
        .saturating_add(metadata.ctime_nsec())
}

#[cfg(not(unix))]
fn ctime_of(_metadata: &Metadata) -> i64 {
    0
}

#[cfg(unix)]
fn inode_of(metadata: &Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(metadata)
}

#[cfg(not(unix))]
fn inode_of(_metadata: &Metadata) -> u64 {
    0
}

#[cfg(unix)]
fn mode_of(metadata: &Metadata) -> FileMode {
    use std::os::unix::fs::PermissionsExt;
    if metadata.permissions().mode() & 0o111 != 0 {
        FileMode::Executable
    } else {
        FileMode::Regular
    }
}

#[cfg(not(unix))]
fn mode_of(_metadata: &Metadata) -> FileMode {
    FileMode::Regular
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_sorts_by_snap_path_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("a")).expect("mkdir");
        std::fs::write(dir.path().join("a/b"), b"1").expect("write");
        std::fs::write(dir.path().join("a.txt"), b"22").expect("write");
        let tree = scan_dir(dir.path()).expect("scan");
        let paths: Vec<&str> = tree.files.iter().map(|f| f.path.as_str()).collect();
        // '.' sorts before '/', as in a snap's file list.
        assert_eq!(paths, ["a.txt", "a/b"]);
        assert_eq!(tree.files[0].stat.size, 2);
    }

    #[test]
    fn scan_skips_nested_ferry_dir() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join(".ferry/objects")).expect("mkdir");
        std::fs::write(dir.path().join(".ferry/objects/x"), b"1").expect("write");
        std::fs::write(dir.path().join("kept"), b"1").expect("write");
        let tree = scan_dir(dir.path()).expect("scan");
        assert_eq!(tree.files.len(), 1);
        assert_eq!(tree.files[0].path.as_str(), "kept");
    }

    #[cfg(unix)]
    #[test]
    fn scan_lists_symlinks_as_unsupported() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink("/etc", dir.path().join("link")).expect("symlink");
        let tree = scan_dir(dir.path()).expect("scan");
        assert!(tree.files.is_empty());
        assert_eq!(tree.unsupported.len(), 1);
        assert_eq!(tree.unsupported[0].kind, "symlink");
        assert_eq!(tree.unsupported[0].path, "link");
    }

    #[test]
    fn missing_dir_is_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = scan_dir(&dir.path().join("gone")).expect("scan");
        assert!(tree.files.is_empty());
    }
}

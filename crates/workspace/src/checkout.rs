//! `ferry checkout`: restoring a component directory to a snap.
//!
//! A checkout runs in phases so that a failure leaves as little as
//! possible changed:
//!
//! 1. every blob to write is read, verified and written to a staging
//!    directory inside `.ferry/tmp`, so a missing or damaged object fails
//!    here, before the component directory is touched;
//! 2. files not in the snap are removed and staged files are renamed into
//!    place. A rename within one file system is atomic, so each file is
//!    either old or new, never partly written;
//! 3. directories left empty are removed, since a snap cannot hold them;
//! 4. one transaction records the snap as the component's base and
//!    replaces its stat cache.
//!
//! A directory that contains no file has nothing to lose, so phases 1 and 2
//! interleave there: each file is staged and renamed into place at once,
//! and a failure removes the files placed so far.
//!
//! Snap paths come from other machines, so each is validated again before
//! it is joined to the directory, and no write ever follows a symlink: any
//! symlink in the way is removed first, because a snap never holds one.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ferry_core::object::DecodeError;
use ferry_core::{ComponentId, FileEntry, FileMode, FilePath, ObjectId, RefName, Snap};
use ferry_store::{ObjectStore, ObjectStoreError, RefStore};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::meta;
use crate::resolve::{split_at_version, VersionSpec};
use crate::scan::scan_dir;
use crate::stat_cache::{self, is_cacheable, now_ns, CacheEntry};
use crate::status::Examined;
use crate::workspace::{Workspace, LOCAL_NAMESPACE};

/// The result of a checkout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckoutReport {
    /// The component.
    pub component: ComponentId,
    /// The snap now in its directory.
    pub snap: ObjectId,
    /// Files written.
    pub written: usize,
    /// Files and other entries removed.
    pub removed: usize,
    /// Files that already matched the snap.
    pub unchanged: usize,
}

impl Workspace {
    /// Restores the directory of the component named in `spec`
    /// (`COMPONENT@VERSION`, or `COMPONENT` for its head) to that snap.
    /// Fails with [`Error::LocalChanges`] when the directory differs from
    /// its base snap, unless `force` is set.
    pub fn checkout(&self, spec: &str, force: bool) -> Result<CheckoutReport> {
        let (name, version) = split_at_version(spec);
        let component = self.resolve_component(name)?;
        let version = VersionSpec::parse(version.unwrap_or("head"))?;
        let target = self.resolve_version(&component, &version, version_text(spec))?;
        let tracked = self.components()?;
        let row = tracked
            .into_iter()
            .find(|c| c.id == component)
            .expect("resolved components are tracked");
        let examined = self.examine(vec![row], None)?.remove(0);
        if !force {
            reject_local_changes(&examined)?;
        }
        self.checkout_examined(&examined, target)
    }

    /// Finds the snap of `component` that `version` names.
    pub fn resolve_version(
        &self,
        component: &ComponentId,
        version: &VersionSpec,
        typed: &str,
    ) -> Result<ObjectId> {
        let unknown = || Error::UnknownVersion {
            component: component.clone(),
            version: typed.to_owned(),
        };
        let id = match version {
            VersionSpec::Head => {
                let lane = self.current_lane()?;
                self.head(component, lane.as_ref())?
                    .parent
                    .ok_or_else(|| Error::NoSnaps {
                        component: component.clone(),
                        place: lane.map_or_else(|| "main".to_owned(), |l| l.to_string()),
                    })?
            }
            VersionSpec::Tag(tag) => {
                let name = RefName::Tag(component.clone(), tag.clone());
                let found = self.ref_store().get_ref(LOCAL_NAMESPACE, &name)?;
                found.ok_or_else(unknown)?
            }
            VersionSpec::Id(id) => *id,
            VersionSpec::Prefix(prefix) => {
                let mut matches: Vec<ObjectId> = self
                    .known_snaps(component)?
                    .into_iter()
                    .filter(|id| id.has_prefix(prefix))
                    .collect();
                matches.sort();
                match matches.len() {
                    0 => return Err(unknown()),
                    1 => matches[0],
                    _ => {
                        return Err(Error::AmbiguousPrefix {
                            component: component.clone(),
                            prefix: prefix.as_str().to_owned(),
                            candidates: matches,
                        })
                    }
                }
            }
        };
        match self.object_store().read_snap(&id) {
            Ok(snap) if snap.component == *component => Ok(id),
            Ok(_) | Err(ObjectStoreError::NotFound(_)) => Err(unknown()),
            Err(other) => Err(other.into()),
        }
    }

    /// Writes snap `target` into the directory of an examined component.
    pub(crate) fn checkout_examined(
        &self,
        item: &Examined,
        target: ObjectId,
    ) -> Result<CheckoutReport> {
        let snap = self.read_snap(&target)?;
        let report = self.write_files(item, target, &snap.files)?;
        let dir = &item.work.dir;
        let entries = fresh_cache_entries(dir, &snap)?;
        self.write(|tx| {
            meta::set_base(tx, &item.component.id, target)?;
            stat_cache::replace(tx, &item.component.id, &entries)
        })?;
        Ok(report)
    }

    /// Makes the directory of an examined component hold exactly `files`,
    /// without recording anything in the database, and reports it as a
    /// checkout of `target`. The blobs of `files` must be stored.
    pub(crate) fn write_files(
        &self,
        item: &Examined,
        target: ObjectId,
        files: &[FileEntry],
    ) -> Result<CheckoutReport> {
        let dir = &item.work.dir;
        ensure_real_dir(dir, self.root())?;
        let plan = plan_files(&item.entries, files);
        if item.work.tree.files.is_empty() && item.work.tree.unsupported.is_empty() {
            let staging = self.ferry_dir().join("tmp");
            fs::create_dir_all(&staging).map_err(Error::io(&staging))?;
            write_into_empty(self.object_store(), dir, &staging, &plan.write)?;
            return Ok(CheckoutReport {
                component: item.component.id.clone(),
                snap: target,
                written: plan.write.len(),
                removed: 0,
                unchanged: files.len() - plan.write.len(),
            });
        }

        let staging_root = self.ferry_dir().join("tmp");
        fs::create_dir_all(&staging_root).map_err(Error::io(&staging_root))?;
        let staging = tempfile::Builder::new()
            .prefix("checkout-")
            .tempdir_in(&staging_root)
            .map_err(Error::io(&staging_root))?;
        let staged = stage_blobs(self.object_store(), &plan.write, staging.path())?;

        let mut removed = 0;
        for path in &plan.remove {
            removed += remove_entry(&path.under(dir))?;
        }
        for entry in &item.work.tree.unsupported {
            removed += remove_entry(&entry.native)?;
        }
        for (entry, staged) in plan.write.iter().zip(&staged) {
            place_file(dir, &entry.path, staged)?;
        }
        prune_empty_dirs(dir)?;

        Ok(CheckoutReport {
            component: item.component.id.clone(),
            snap: target,
            written: plan.write.len(),
            removed,
            unchanged: files.len() - plan.write.len(),
        })
    }
}

/// Returns stat cache entries for the files of `dir` that were just
/// written from `snap`, from a fresh scan.
pub(crate) fn fresh_cache_entries(dir: &Path, snap: &Snap) -> Result<Vec<(FilePath, CacheEntry)>> {
    let read_at = now_ns();
    let tree = scan_dir(dir)?;
    let entries = tree
        .files
        .iter()
        .filter(|file| is_cacheable(&file.stat, read_at))
        .filter_map(|file| {
            let entry = snap.file(&file.path)?;
            let matches = entry.size == file.stat.size && entry.mode == file.stat.mode;
            matches.then(|| {
                let cached = CacheEntry {
                    stat: file.stat,
                    blob: entry.blob,
                };
                (file.path.clone(), cached)
            })
        })
        .collect();
    Ok(entries)
}

/// Returns the version part of `COMPONENT@VERSION`, or `head`.
fn version_text(spec: &str) -> &str {
    split_at_version(spec).1.unwrap_or("head")
}

/// Fails with [`Error::LocalChanges`] when `item` has unsnapped changes.
pub(crate) fn reject_local_changes(item: &Examined) -> Result<()> {
    let unsupported = item.work.tree.unsupported.len();
    let count = item.changes.len() + unsupported;
    if count == 0 {
        return Ok(());
    }
    let first = match item.changes.first() {
        Some(path) => path.to_string(),
        None => item.work.tree.unsupported[0].path.clone(),
    };
    Err(Error::LocalChanges {
        component: item.component.id.clone(),
        dir: item.component.dir.to_string(),
        count,
        first,
    })
}

/// The file operations that turn a directory into a snap.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Snap entries whose file is missing or differs.
    pub write: Vec<FileEntry>,
    /// Paths present now but not in the snap.
    pub remove: Vec<FilePath>,
}

/// Compares the `current` files of a directory with `snap`.
pub fn plan(current: &[FileEntry], snap: &Snap) -> Plan {
    plan_files(current, &snap.files)
}

/// Compares the `current` files of a directory with the `wanted` ones.
fn plan_files(current: &[FileEntry], wanted_files: &[FileEntry]) -> Plan {
    let now: HashMap<&FilePath, &FileEntry> = current.iter().map(|e| (&e.path, e)).collect();
    let wanted: HashSet<&FilePath> = wanted_files.iter().map(|e| &e.path).collect();
    let write = wanted_files
        .iter()
        .filter(|entry| {
            now.get(&entry.path)
                .is_none_or(|old| old.blob != entry.blob || old.mode != entry.mode)
        })
        .cloned()
        .collect();
    let remove = current
        .iter()
        .filter(|entry| !wanted.contains(&entry.path))
        .map(|entry| entry.path.clone())
        .collect();
    Plan { write, remove }
}

/// Fails unless `dir` is a directory and not a symlink, creating it when
/// it is missing.
fn ensure_real_dir(dir: &Path, root: &Path) -> Result<()> {
    match dir.symlink_metadata() {
        Ok(metadata) if metadata.is_dir() => Ok(()),
        Ok(_) => Err(Error::NotAComponentDirectory {
            path: dir.to_path_buf(),
            root: root.to_path_buf(),
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(Error::io(dir))
        }
        Err(source) => Err(Error::Io {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// Writes the files of `entries` into `dir`, which contains no file, in
/// parallel. Nothing in `dir` can be damaged, so each file is placed as
/// soon as it is staged instead of after all of them. It is written to a
/// temporary file in `staging`, given its mode and renamed into place, so
/// a crash never leaves a partly written file in `dir`. A failure removes
/// the files and directories created so far, leaving `dir` empty again.
fn write_into_empty(
    store: &dyn ObjectStore,
    dir: &Path,
    staging: &Path,
    entries: &[FileEntry],
) -> Result<()> {
    let mut parents: Vec<&str> = entries
        .iter()
        .filter_map(|entry| {
            entry
                .path
                .as_str()
                .rsplit_once('/')
                .map(|(parent, _)| parent)
        })
        .collect();
    parents.sort_unstable();
    parents.dedup();
    let created = Mutex::new(Vec::new());
    let written = make_parents(dir, &parents).and_then(|()| {
        entries.par_iter().try_for_each(|entry| {
            let path = create_file(store, dir, staging, entry)?;
            created.lock().unwrap_or_else(|p| p.into_inner()).push(path);
            Ok(())
        })
    });
    if written.is_err() {
        // Best effort: the error that stopped the checkout matters more
        // than one from cleaning up after it.
        for path in created.into_inner().unwrap_or_else(|p| p.into_inner()) {
            let _ = fs::remove_file(path);
        }
        let _ = prune_empty_dirs(dir);
    }
    written
}

/// Makes each of `parents`, relative paths sorted so that a directory
/// comes before those inside it, a real directory under `dir`.
fn make_parents(dir: &Path, parents: &[&str]) -> Result<()> {
    let mut created = HashSet::new();
    for parent in parents {
        let parent: FilePath = parent.parse()?;
        let mut current = dir.to_path_buf();
        let mut relative = String::new();
        for segment in parent.as_str().split('/') {
            current.push(segment);
            if !relative.is_empty() {
                relative.push('/');
            }
            relative.push_str(segment);
            if created.insert(relative.clone()) {
                make_real_dir(&current)?;
            }
        }
    }
    Ok(())
}

/// Reads and verifies the blob of `entry`, writes it to a temporary file
/// in `staging` and renames that to its path under `dir`. Returns the
/// path; fails if something already exists there.
fn create_file(
    store: &dyn ObjectStore,
    dir: &Path,
    staging: &Path,
    entry: &FileEntry,
) -> Result<PathBuf> {
    use std::io::Write;

    let data = read_blob(store, entry)?;
    let path: FilePath = entry.path.as_str().parse()?;
    let target = path.under(dir);
    let mut temp = tempfile::NamedTempFile::new_in(staging).map_err(Error::io(staging))?;
    temp.write_all(&data).map_err(Error::io(temp.path()))?;
    set_file_mode(temp.as_file(), temp.path(), entry.mode)?;
    temp.persist_noclobber(&target)
        .map_err(|error| Error::io(&target)(error.error))?;
    Ok(target)
}

/// Reads the blob of `entry` and checks its size against the entry.
fn read_blob(store: &dyn ObjectStore, entry: &FileEntry) -> Result<Vec<u8>> {
    let blob = store
        .read(&entry.blob)?
        .into_blob(entry.blob)
        .map_err(|source| Error::BadObject {
            id: entry.blob,
            source,
        })?;
    if blob.data.len() as u64 != entry.size {
        return Err(Error::BadObject {
            id: entry.blob,
            source: DecodeError::Length {
                declared: entry.size,
                actual: blob.data.len() as u64,
            },
        });
    }
    Ok(blob.data)
}

/// Reads and verifies each blob of `entries` and writes it to a file in
/// `staging`, in parallel. Returns the staged files in the same order.
fn stage_blobs(
    store: &dyn ObjectStore,
    entries: &[FileEntry],
    staging: &Path,
) -> Result<Vec<PathBuf>> {
    entries
        .par_iter()
        .enumerate()
        .map(|(index, entry)| {
            let data = read_blob(store, entry)?;
            let staged = staging.join(index.to_string());
            fs::write(&staged, &data).map_err(Error::io(&staged))?;
            set_mode(&staged, entry.mode)?;
            Ok(staged)
        })
        .collect()
}

/// Returns the permissions a checked-out file of `mode` gets.
#[cfg(unix)]
fn permissions(mode: FileMode) -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    let bits = match mode {
        FileMode::Regular => 0o644,
        FileMode::Executable => 0o755,
    };
    fs::Permissions::from_mode(bits)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: FileMode) -> Result<()> {
    fs::set_permissions(path, permissions(mode)).map_err(Error::io(path))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: FileMode) -> Result<()> {
    Ok(())
}

/// Sets the permissions of the open `file` at `path` as [`set_mode`] does.
#[cfg(unix)]
fn set_file_mode(file: &fs::File, path: &Path, mode: FileMode) -> Result<()> {
    file.set_permissions(permissions(mode))
        .map_err(Error::io(path))
}

#[cfg(not(unix))]
fn set_file_mode(_file: &fs::File, _path: &Path, _mode: FileMode) -> Result<()> {
    Ok(())
}

/// Removes a file or symlink, returning how many entries were removed.
fn remove_entry(path: &Path) -> Result<usize> {
    match fs::remove_file(path) {
        Ok(()) => Ok(1),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Moves `staged` to `path` under `dir`, after validating `path` again and
/// making every directory on the way a real directory.
fn place_file(dir: &Path, path: &FilePath, staged: &Path) -> Result<()> {
    let path: FilePath = path.as_str().parse()?;
    let segments: Vec<&str> = path.as_str().split('/').collect();
    let mut current = dir.to_path_buf();
    for segment in &segments[..segments.len() - 1] {
        current.push(segment);
        make_real_dir(&current)?;
    }
    let target = path.under(dir);
    if target.symlink_metadata().is_ok_and(|m| m.is_dir()) {
        fs::remove_dir_all(&target).map_err(Error::io(&target))?;
    }
    match fs::rename(staged, &target) {
        Ok(()) => Ok(()),
        // Staging and target on different file systems: copy instead.
        Err(error) if error.kind() == io::ErrorKind::CrossesDevices => {
            fs::copy(staged, &target).map_err(Error::io(&target))?;
            Ok(())
        }
        Err(source) => Err(Error::Io {
            path: target,
            source,
        }),
    }
}

/// Makes `path` a directory, replacing a file or symlink found there. Such
/// an entry is not part of the snap, because the snap has a file below
/// `path`.
fn make_real_dir(path: &Path) -> Result<()> {
    match path.symlink_metadata() {
        Ok(metadata) if metadata.is_dir() => return Ok(()),
        Ok(_) => fs::remove_file(path).map_err(Error::io(path))?,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    }
    fs::create_dir(path).map_err(Error::io(path))
}

/// Removes every empty directory below `dir`, deepest first.
fn prune_empty_dirs(dir: &Path) -> Result<()> {
    let walker = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .contents_first(true)
        .follow_links(false);
    for entry in walker {
        let entry = entry.map_err(|error| {
            let path = error.path().unwrap_or(dir).to_path_buf();
            Error::Io {
                path,
                source: error
                    .into_io_error()
                    .unwrap_or_else(|| io::Error::other("directory loop")),
            }
        })?;
        if entry.file_type().is_dir() && entry.file_name() != crate::scan::FERRY_DIR {
            let is_empty = fs::read_dir(entry.path())
                .map_err(Error::io(entry.path()))?
                .next()
                .is_none();
            if is_empty {
                fs::remove_dir(entry.path()).map_err(Error::io(entry.path()))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::Blob;

    fn entry(path: &str, content: &str) -> FileEntry {
        FileEntry {
            path: path.parse().expect("valid path"),
            mode: FileMode::Regular,
            blob: Blob::id_of(content.as_bytes()),
            size: content.len() as u64,
        }
    }

    fn snap(files: Vec<FileEntry>) -> Snap {
        Snap {
            component: "acme/x".parse().expect("valid"),
            generation: 1,
            parents: vec![],
            files,
            author: "a".into(),
            timestamp: 0,
            message: String::new(),
            dependencies: vec![],
        }
    }

    #[test]
    fn plan_writes_changed_and_removes_extra() {
        let current = [entry("keep", "1"), entry("old", "2"), entry("stale", "3")];
        let target = snap(vec![
            entry("keep", "1"),
            entry("new", "4"),
            entry("stale", "changed"),
        ]);
        let plan = plan(&current, &target);
        let written: Vec<&str> = plan.write.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(written, ["new", "stale"]);
        let removed: Vec<&str> = plan.remove.iter().map(FilePath::as_str).collect();
        assert_eq!(removed, ["old"]);
    }

    #[cfg(unix)]
    #[test]
    fn place_file_replaces_symlinked_parent() {
        let outside = tempfile::tempdir().expect("tempdir");
        let dir = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink(outside.path(), dir.path().join("a")).expect("symlink");
        let staged = dir.path().join("staged");
        fs::write(&staged, b"data").expect("write");
        let path: FilePath = "a/file".parse().expect("valid");
        place_file(dir.path(), &path, &staged).expect("place");
        assert!(
            !outside.path().join("file").exists(),
            "wrote through symlink"
        );
        assert_eq!(fs::read(dir.path().join("a/file")).expect("read"), b"data");
    }

    #[test]
    fn prune_removes_nested_empty_dirs_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("e/f/g")).expect("mkdir");
        fs::create_dir_all(dir.path().join("k")).expect("mkdir");
        fs::write(dir.path().join("k/file"), b"1").expect("write");
        prune_empty_dirs(dir.path()).expect("prune");
        assert!(!dir.path().join("e").exists());
        assert!(dir.path().join("k/file").exists());
        assert!(dir.path().exists());
    }
}

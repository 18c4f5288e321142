//! Objects as files under a fan-out directory.
//!
//! Object `ab12…` lives at `ROOT/ab/12…`, holding the zstd-compressed
//! canonical encoding. A write goes to a temporary file in `ROOT/tmp`, is
//! fsynced, then renamed into place. Rename is atomic within one file
//! system, so a reader sees either no file or the complete object, and a
//! crash leaves at most a stray temporary file. Two writers of the same
//! object race harmlessly: both rename identical bytes onto the same name.
//!
//! The rename itself becomes durable only when its directory is fsynced.
//! Writes remember the directories they touched, and [`ObjectStore::flush`]
//! fsyncs them all at once.
//!
//! A batch ([`ObjectStore::batch`]) avoids the per-object fsync: it writes
//! every object to a temporary file, syncs the whole file system once
//! (`syncfs`), renames them all into place, and syncs once more. Data is
//! durable before any rename, so after a crash an object file is either
//! absent or complete, as with single writes.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ferry_core::ObjectId;

use super::{compress, decompress_verified, ObjectBatch, ObjectStore, ObjectStoreError};

/// An object store in a local directory.
#[derive(Debug)]
pub struct FsObjectStore {
    root: PathBuf,
    tmp: PathBuf,
    /// Directories holding renames that are not yet durable.
    unsynced_dirs: Mutex<HashSet<PathBuf>>,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ObjectStoreError + '_ {
    move |source| ObjectStoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl FsObjectStore {
    /// Opens the store in `root`, creating the directory if needed.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, ObjectStoreError> {
        let root = root.into();
        let tmp = root.join("tmp");
        fs::create_dir_all(&tmp).map_err(io_error(&tmp))?;
        Ok(Self {
            root,
            tmp,
            unsynced_dirs: Mutex::new(HashSet::new()),
        })
    }

    /// Returns the directory the store lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns the path of the file that stores `id`.
    pub fn path_of(&self, id: &ObjectId) -> PathBuf {
        let hex = id.to_hex();
        self.root.join(&hex[..2]).join(&hex[2..])
    }

    fn read_file(&self, id: &ObjectId) -> Result<Vec<u8>, ObjectStoreError> {
        let path = self.path_of(id);
        fs::read(&path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => ObjectStoreError::NotFound(*id),
            _ => ObjectStoreError::Io { path, source },
        })
    }

    fn remember_unsynced(&self, dir: PathBuf) {
        self.unsynced_dirs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(dir);
    }
}

impl ObjectStore for FsObjectStore {
    fn contains(&self, id: &ObjectId) -> Result<bool, ObjectStoreError> {
        let path = self.path_of(id);
        path.try_exists().map_err(io_error(&path))
    }

    fn read_encoded(&self, id: &ObjectId) -> Result<Vec<u8>, ObjectStoreError> {
        decompress_verified(id, &self.read_file(id)?)
    }

    fn read_compressed(&self, id: &ObjectId) -> Result<Vec<u8>, ObjectStoreError> {
        let compressed = self.read_file(id)?;
        decompress_verified(id, &compressed)?;
        Ok(compressed)
    }

    fn write_encoded(&self, id: &ObjectId, encoded: &[u8]) -> Result<(), ObjectStoreError> {
        if self.contains(id)? {
            return Ok(());
        }
        self.write_compressed(id, &compress(encoded))
    }

    fn write_compressed(&self, id: &ObjectId, compressed: &[u8]) -> Result<(), ObjectStoreError> {
        let target = self.path_of(id);
        if target.try_exists().map_err(io_error(&target))? {
            return Ok(());
        }
        let dir = target.parent().expect("object paths have a fan-out parent");
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(io_error(dir))?;
            self.remember_unsynced(self.root.clone());
        }

        let mut temp = tempfile::NamedTempFile::new_in(&self.tmp).map_err(io_error(&self.tmp))?;
        temp.write_all(compressed).map_err(io_error(temp.path()))?;
        temp.as_file().sync_all().map_err(io_error(temp.path()))?;
        temp.persist(&target)
            .map_err(|error| io_error(&target)(error.error))?;

        self.remember_unsynced(dir.to_path_buf());
        Ok(())
    }

    fn batch(&self) -> Box<dyn ObjectBatch + '_> {
        Box::new(FsBatch {
            store: self,
            staged: Mutex::new(Staged::default()),
        })
    }

    fn flush(&self) -> Result<(), ObjectStoreError> {
        let dirs: Vec<PathBuf> = {
            let mut pending = self
                .unsynced_dirs
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            pending.drain().collect()
        };
        for dir in &dirs {
            File::open(dir)
                .and_then(|handle| handle.sync_all())
                .map_err(io_error(dir))?;
        }
        Ok(())
    }

    fn list(&self) -> Result<Vec<ObjectId>, ObjectStoreError> {
        let mut ids = Vec::new();
        for fan_out in fs::read_dir(&self.root).map_err(io_error(&self.root))? {
            let fan_out = fan_out.map_err(io_error(&self.root))?;
            let prefix = fan_out.file_name();
            let Some(prefix) = prefix.to_str().filter(|p| p.len() == 2) else {
                continue;
            };
            let dir = fan_out.path();
            for entry in fs::read_dir(&dir).map_err(io_error(&dir))? {
                let entry = entry.map_err(io_error(&dir))?;
                let name = entry.file_name();
                // Anything that is not an object file name is skipped, so a
                // stray file can never be taken for an object.
                if let Some(id) = name
                    .to_str()
                    .and_then(|rest| format!("{prefix}{rest}").parse().ok())
                {
                    ids.push(id);
                }
            }
        }
        Ok(ids)
    }

    fn remove(&self, id: &ObjectId) -> Result<(), ObjectStoreError> {
        let path = self.path_of(id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(ObjectStoreError::Io { path, source }),
        }
    }
}

#[derive(Default)]
struct Staged {
    ids: HashSet<ObjectId>,
    files: Vec<(ObjectId, tempfile::TempPath)>,
}

/// Objects staged as unsynced temporary files until commit.
struct FsBatch<'a> {
    store: &'a FsObjectStore,
    staged: Mutex<Staged>,
}

impl FsBatch<'_> {
    /// Reports whether `id` needs no new file: stored or staged already.
    fn is_known(&self, id: &ObjectId) -> Result<bool, ObjectStoreError> {
        let staged = {
            let staged = self.staged.lock().unwrap_or_else(|p| p.into_inner());
            staged.ids.contains(id)
        };
        Ok(staged || self.store.contains(id)?)
    }

    /// Writes a temporary file for `id` with `write`. The caller checked
    /// that `id` is not known; a concurrent add of the same id wins the
    /// race harmlessly, and the loser's file is dropped.
    fn stage(
        &self,
        id: &ObjectId,
        write: impl FnOnce(&mut File) -> io::Result<()>,
    ) -> Result<(), ObjectStoreError> {
        let tmp = &self.store.tmp;
        let mut temp = tempfile::NamedTempFile::new_in(tmp).map_err(io_error(tmp))?;
        write(temp.as_file_mut()).map_err(io_error(temp.path()))?;
        let mut staged = self.staged.lock().unwrap_or_else(|p| p.into_inner());
        if staged.ids.insert(*id) {
            staged.files.push((*id, temp.into_temp_path()));
        }
        Ok(())
    }
}

impl ObjectBatch for FsBatch<'_> {
    fn add_encoded(&self, id: &ObjectId, encoded: &[u8]) -> Result<(), ObjectStoreError> {
        // Checked before compressing: re-snapping mostly meets known objects.
        if self.is_known(id)? {
            return Ok(());
        }
        let compressed = compress(encoded);
        self.stage(id, |file| file.write_all(&compressed))
    }

    fn add_compressed(&self, id: &ObjectId, compressed: &[u8]) -> Result<(), ObjectStoreError> {
        if self.is_known(id)? {
            return Ok(());
        }
        self.stage(id, |file| file.write_all(compressed))
    }

    fn add_reader(&self, id: &ObjectId, compressed: &mut dyn Read) -> Result<(), ObjectStoreError> {
        if self.is_known(id)? {
            return Ok(());
        }
        self.stage(id, |file| io::copy(compressed, file).map(drop))
    }

    fn commit(self: Box<Self>) -> Result<usize, ObjectStoreError> {
        let staged = self.staged.into_inner().unwrap_or_else(|p| p.into_inner());
        if staged.files.is_empty() {
            return Ok(0);
        }
        let store = self.store;
        sync_file_system(&store.tmp)?;

        let count = staged.files.len();
        // Each fan-out directory is checked once, not once per object.
        let mut present_dirs = HashSet::new();
        for (id, temp) in staged.files {
            let target = store.path_of(&id);
            let dir = target.parent().expect("object paths have a fan-out parent");
            if !present_dirs.contains(dir) {
                if !dir.exists() {
                    fs::create_dir_all(dir).map_err(io_error(dir))?;
                }
                present_dirs.insert(dir.to_path_buf());
            }
            temp.persist(&target)
                .map_err(|error| io_error(&target)(error.error))?;
        }

        sync_file_system(&store.root)?;
        Ok(count)
    }
}

/// Flushes every dirty page and directory entry of the file system that
/// contains `path`.
fn sync_file_system(path: &Path) -> Result<(), ObjectStoreError> {
    let handle = File::open(path).map_err(io_error(path))?;
    rustix::fs::syncfs(&handle).map_err(|errno| ObjectStoreError::Io {
        path: path.to_path_buf(),
        source: errno.into(),
    })
}

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
//! A batch ([`ObjectStore::batch`]) avoids the per-object fsync and, when
//! it is large, the per-object file: see [`super::fs_batch`]. Large batches
//! become one pack file in `ROOT/packs`, which [`PackSet`] loads and
//! searches. A lookup tries the loaded packs, then the object's own file,
//! and only when both miss looks for pack files that other processes
//! added since, so a present object is never reported missing. Removal of
//! a packed object writes a tombstone, as [`super::packs`] describes.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ferry_core::ObjectId;

use super::fs_batch::FsBatch;
use super::packs::PackSet;
use super::{compress, decompress_verified, ObjectBatch, ObjectStore, ObjectStoreError};

/// Name of the directory of pack files under the store's root.
const PACKS_DIR: &str = "packs";

/// An object store in a local directory.
#[derive(Debug)]
pub struct FsObjectStore {
    root: PathBuf,
    tmp: PathBuf,
    packs: PackSet,
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
        let packs = PackSet::open(root.join(PACKS_DIR))?;
        Ok(Self {
            root,
            tmp,
            packs,
            unsynced_dirs: Mutex::new(HashSet::new()),
        })
    }

    /// Returns the directory the store lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns the path of the file that stores `id` when it is not
    /// packed.
    pub fn path_of(&self, id: &ObjectId) -> PathBuf {
        let hex = id.to_hex();
        self.root.join(&hex[..2]).join(&hex[2..])
    }

    /// Returns the directory of temporary files.
    pub(super) fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// Returns the pack files.
    pub(super) fn packs(&self) -> &PackSet {
        &self.packs
    }

    /// Returns the zstd form of `id` from a pack or from its own file.
    fn read_file(&self, id: &ObjectId) -> Result<Vec<u8>, ObjectStoreError> {
        if let Some(location) = self.packs.find(id)? {
            return location.read();
        }
        let path = self.path_of(id);
        match fs::read(&path) {
            Ok(bytes) => Ok(bytes),
            Err(source) if source.kind() == io::ErrorKind::NotFound => {
                match self.find_in_new_packs(id)? {
                    Some(location) => location.read(),
                    None => Err(ObjectStoreError::NotFound(*id)),
                }
            }
            Err(source) => Err(ObjectStoreError::Io { path, source }),
        }
    }

    /// Reports whether `id` is in a loaded pack or in its own file,
    /// without looking for packs added since the last scan. A `false` may
    /// therefore be wrong, which costs a batch only a duplicate copy.
    pub(super) fn contains_known(&self, id: &ObjectId) -> Result<bool, ObjectStoreError> {
        if self.packs.find(id)?.is_some() {
            return Ok(true);
        }
        let path = self.path_of(id);
        path.try_exists().map_err(io_error(&path))
    }

    /// Looks for `id` in pack files added since the last scan.
    fn find_in_new_packs(
        &self,
        id: &ObjectId,
    ) -> Result<Option<super::packs::Location>, ObjectStoreError> {
        if self.packs.refresh()? {
            self.packs.find(id)
        } else {
            Ok(None)
        }
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
        if self.contains_known(id)? {
            return Ok(true);
        }
        Ok(self.find_in_new_packs(id)?.is_some())
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
        if self.contains(id)? {
            return Ok(());
        }
        let target = self.path_of(id);
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
        Box::new(FsBatch::new(self))
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
        let mut ids: HashSet<ObjectId> = self.packs.ids()?.into_iter().collect();
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
                    ids.insert(id);
                }
            }
        }
        Ok(ids.into_iter().collect())
    }

    fn remove(&self, id: &ObjectId) -> Result<(), ObjectStoreError> {
        let path = self.path_of(id);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(ObjectStoreError::Io { path, source }),
        }
        // The same object may sit in its own file and in packs.
        self.packs.remove(id)
    }
}

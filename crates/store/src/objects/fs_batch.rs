//! Batches of an [`FsObjectStore`]: objects staged in one temporary pack
//! file until commit.
//!
//! Every add appends to the temporary pack under a lock; compression
//! happens before the lock is taken, so several threads can add at once.
//! Nothing is visible before [`ObjectBatch::commit`], and dropping the
//! batch deletes the temporary file.
//!
//! A commit of [`PACK_MIN_OBJECTS`] or more objects syncs the pack file,
//! renames it into the pack directory and syncs that directory: two
//! fsyncs, whatever the number of objects, and a crash leaves either no
//! pack or a complete one. A smaller commit writes one file per object, as
//! single writes do, so that small snaps do not pile up pack files. Each
//! object goes to a temporary file, the file system is synced once
//! (`syncfs`), the files are renamed into place, and it is synced again.
//! Either way the data is durable before any rename, so after a crash an
//! object is either absent or complete.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;
use std::sync::Mutex;

use ferry_core::ObjectId;

use super::fs::FsObjectStore;
use super::packfile::PackBuilder;
use super::packs::sync_dir;
use super::{compress, ObjectBatch, ObjectStoreError};

/// Objects a commit needs to hold to become a pack file rather than one
/// file per object. A pack costs a fixed two fsyncs and every process
/// keeps its index in memory, so a few objects are cheaper as files.
pub const PACK_MIN_OBJECTS: usize = 64;

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ObjectStoreError + '_ {
    move |source| ObjectStoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Default)]
struct Staged {
    ids: HashSet<ObjectId>,
    pack: Option<PackBuilder>,
}

/// Objects staged in a temporary pack file until commit.
pub struct FsBatch<'a> {
    store: &'a FsObjectStore,
    staged: Mutex<Staged>,
}

impl<'a> FsBatch<'a> {
    /// Starts an empty batch of `store`.
    pub fn new(store: &'a FsObjectStore) -> Self {
        Self {
            store,
            staged: Mutex::new(Staged::default()),
        }
    }

    /// Reports whether `id` needs no new entry: staged already, or stored
    /// in a pack this process loaded or in its own file. An object in a
    /// pack another process added since is stored once more.
    fn is_known(&self, id: &ObjectId) -> Result<bool, ObjectStoreError> {
        let staged = {
            let staged = self.staged.lock().unwrap_or_else(|p| p.into_inner());
            staged.ids.contains(id)
        };
        Ok(staged || self.store.contains_known(id)?)
    }

    /// Appends `id` to the temporary pack with `append`, unless another
    /// thread staged it since the caller checked.
    fn stage(
        &self,
        id: &ObjectId,
        append: impl FnOnce(&mut PackBuilder) -> io::Result<()>,
    ) -> Result<(), ObjectStoreError> {
        let mut staged = self.staged.lock().unwrap_or_else(|p| p.into_inner());
        if staged.ids.contains(id) {
            return Ok(());
        }
        let tmp = self.store.tmp_dir();
        let pack = match &mut staged.pack {
            Some(pack) => pack,
            empty => empty.insert(PackBuilder::create(tmp).map_err(io_error(tmp))?),
        };
        let path = pack.path().to_path_buf();
        append(pack).map_err(io_error(&path))?;
        staged.ids.insert(*id);
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
        self.stage(id, |pack| pack.append(*id, &compressed))
    }

    fn add_compressed(&self, id: &ObjectId, compressed: &[u8]) -> Result<(), ObjectStoreError> {
        if self.is_known(id)? {
            return Ok(());
        }
        self.stage(id, |pack| pack.append(*id, compressed))
    }

    fn add_reader(&self, id: &ObjectId, compressed: &mut dyn Read) -> Result<(), ObjectStoreError> {
        if self.is_known(id)? {
            return Ok(());
        }
        self.stage(id, |pack| pack.append_reader(*id, compressed))
    }

    fn commit(self: Box<Self>) -> Result<usize, ObjectStoreError> {
        let staged = self.staged.into_inner().unwrap_or_else(|p| p.into_inner());
        let Some(pack) = staged.pack else {
            return Ok(0);
        };
        let count = pack.entries().len();
        if count >= PACK_MIN_OBJECTS {
            commit_pack(self.store, pack)?;
        } else if count > 0 {
            commit_files(self.store, pack)?;
        }
        Ok(count)
    }
}

/// Makes the staged pack durable and renames it into the pack directory.
fn commit_pack(store: &FsObjectStore, pack: PackBuilder) -> Result<(), ObjectStoreError> {
    let temp_path = pack.path().to_path_buf();
    let (temp, index) = pack.finish().map_err(io_error(&temp_path))?;
    let dir = store.packs().dir();
    let target = dir.join(format!("{:032x}.pack", rand::random::<u128>()));
    let file = temp
        .persist(&target)
        .map_err(|error| io_error(&target)(error.error))?;
    sync_dir(dir)?;
    store.packs().install(target, file, index);
    Ok(())
}

/// Writes each staged object to its own file, with two file-system syncs
/// in all.
fn commit_files(store: &FsObjectStore, mut pack: PackBuilder) -> Result<(), ObjectStoreError> {
    let tmp = store.tmp_dir();
    let mut files = Vec::with_capacity(pack.entries().len());
    for entry in pack.entries().to_vec() {
        let mut temp = tempfile::NamedTempFile::new_in(tmp).map_err(io_error(tmp))?;
        pack.copy_entry(&entry, &mut temp).map_err(io_error(tmp))?;
        files.push((entry.id, temp.into_temp_path()));
    }
    sync_file_system(tmp)?;

    // Each fan-out directory is checked once, not once per object.
    let mut present_dirs = HashSet::new();
    for (id, temp) in files {
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
    sync_file_system(store.root())
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

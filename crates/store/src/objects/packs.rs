//! The pack files of an object store directory, and their removals.
//!
//! Pack files are immutable once renamed into `ROOT/packs`, and new ones
//! may appear at any time from other processes that share the directory.
//! A process keeps the indexes it loaded in memory and looks for new pack
//! files only when an id is missing: [`PackSet::refresh`] rescans when the
//! directory's modification time changed since the last scan. Timestamps
//! advance in ticks, so a scan made less than a tick after the last
//! change may have missed a pack added later in the same tick. Such a
//! scan is not trusted, and the next miss rescans again. A tick is at
//! most [`FINE_SETTLE_TIME`] on file systems that record nanoseconds,
//! and [`COARSE_SETTLE_TIME`] is assumed for those that record whole
//! seconds.
//!
//! Removing an object from an immutable file is done with a tombstone: its
//! id is appended to `NAME.dead` beside `NAME.pack` and synced. Every read
//! that finds an id in a pack first checks whether that file grew, so a
//! removal is seen by every process from the moment it returns. Appends
//! are 32 bytes with `O_APPEND`, so concurrent removals never interleave.
//! When every object of a pack is dead, the pack file is deleted. The
//! tombstone file stays, so a process that still has the pack open keeps
//! treating its objects as removed.
//!
//! NOTE: packs are never rewritten, so the space of removed objects comes
//! back only when every object of their pack is removed.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use ferry_core::ObjectId;

use super::packfile::{read_index, search, IndexEntry};
use super::ObjectStoreError;

/// Age a directory's last change must have reached before a scan of it is
/// trusted to have seen every pack file, where timestamps have a
/// sub-second part. Linux stamps files from a clock that advances once
/// per scheduler tick, at most 10 ms apart, and the margin covers a busy
/// machine.
const FINE_SETTLE_TIME: Duration = Duration::from_millis(100);

/// The same age where timestamps are whole seconds, or up to two seconds
/// apart as on FAT.
const COARSE_SETTLE_TIME: Duration = Duration::from_secs(2);

/// File name extension of pack files.
const PACK_EXTENSION: &str = "pack";

/// File name extension of tombstone files.
const DEAD_EXTENSION: &str = "dead";

/// The pack files of one directory, as far as this process has loaded them.
#[derive(Debug)]
pub struct PackSet {
    dir: PathBuf,
    loaded: RwLock<Loaded>,
}

#[derive(Debug, Default)]
struct Loaded {
    /// Loaded packs, oldest first.
    packs: Vec<Arc<Pack>>,
    /// The directory's modification time at the last scan, if that scan
    /// can be trusted to have seen every pack file.
    trusted_mtime: Option<SystemTime>,
}

/// One loaded pack file.
#[derive(Debug)]
pub struct Pack {
    path: PathBuf,
    file: File,
    index: Vec<IndexEntry>,
    dead: Mutex<Dead>,
}

/// The ids of a pack that were removed, as read from its tombstone file.
#[derive(Debug, Default)]
struct Dead {
    /// Length of the tombstone file when it was last read.
    read_len: u64,
    ids: HashSet<ObjectId>,
}

/// An object found in a pack.
#[derive(Debug)]
pub struct Location {
    pack: Arc<Pack>,
    entry: IndexEntry,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ObjectStoreError + '_ {
    move |source| ObjectStoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl PackSet {
    /// Opens the pack directory `dir`, creating it if needed, and loads
    /// every pack in it.
    pub fn open(dir: PathBuf) -> Result<Self, ObjectStoreError> {
        fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let set = Self {
            dir,
            loaded: RwLock::new(Loaded::default()),
        };
        set.refresh()?;
        Ok(set)
    }

    /// Returns the directory of the pack files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Finds a live copy of `id` among the loaded packs, newest first.
    pub fn find(&self, id: &ObjectId) -> Result<Option<Location>, ObjectStoreError> {
        let packs = self.read_loaded().packs.clone();
        for pack in packs.iter().rev() {
            if let Some(entry) = search(&pack.index, id) {
                if !pack.is_dead(id)? {
                    return Ok(Some(Location {
                        pack: pack.clone(),
                        entry,
                    }));
                }
            }
        }
        Ok(None)
    }

    /// Loads pack files that appeared since the last trusted scan and
    /// drops those that were deleted. Returns whether it scanned.
    pub fn refresh(&self) -> Result<bool, ObjectStoreError> {
        let mtime = fs::metadata(&self.dir)
            .and_then(|meta| meta.modified())
            .map_err(io_error(&self.dir))?;
        if self.read_loaded().trusted_mtime == Some(mtime) {
            return Ok(false);
        }
        let settled = SystemTime::now()
            .duration_since(mtime)
            .is_ok_and(|age| age >= settle_time(mtime));
        let names = self.pack_names()?;

        let mut loaded = self.write_loaded();
        loaded.packs.retain(|pack| names.contains(&pack.path));
        for path in names {
            if !loaded.packs.iter().any(|pack| pack.path == path) {
                // A pack deleted between listing and opening is skipped:
                // all of its objects were removed.
                if let Some(pack) = Pack::load(path)? {
                    loaded.packs.push(Arc::new(pack));
                }
            }
        }
        loaded.trusted_mtime = settled.then_some(mtime);
        Ok(true)
    }

    /// Adds a pack that this process has just renamed into place.
    pub fn install(&self, path: PathBuf, file: File, index: Vec<IndexEntry>) {
        let pack = Pack {
            path,
            file,
            index,
            dead: Mutex::new(Dead::default()),
        };
        self.write_loaded().packs.push(Arc::new(pack));
    }

    /// Returns every live id in every pack, after a refresh; an id packed
    /// twice is returned twice.
    pub fn ids(&self) -> Result<Vec<ObjectId>, ObjectStoreError> {
        self.refresh()?;
        let packs = self.read_loaded().packs.clone();
        let mut ids = Vec::new();
        for pack in &packs {
            for entry in &pack.index {
                if !pack.is_dead(&entry.id)? {
                    ids.push(entry.id);
                }
            }
        }
        Ok(ids)
    }

    /// Removes `id` from every pack that contains it, after a refresh, and
    /// deletes each pack that has no live object left.
    pub fn remove(&self, id: &ObjectId) -> Result<(), ObjectStoreError> {
        self.refresh()?;
        let packs = self.read_loaded().packs.clone();
        for pack in &packs {
            if search(&pack.index, id).is_some() && !pack.is_dead(id)? {
                pack.bury(id)?;
                if pack.all_dead()? {
                    self.delete(pack)?;
                }
            }
        }
        Ok(())
    }

    fn delete(&self, pack: &Arc<Pack>) -> Result<(), ObjectStoreError> {
        match fs::remove_file(&pack.path) {
            Ok(()) => {}
            // Another process deleted it first.
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(io_error(&pack.path)(source)),
        }
        sync_dir(&self.dir)?;
        self.write_loaded()
            .packs
            .retain(|loaded| !Arc::ptr_eq(loaded, pack));
        Ok(())
    }

    fn pack_names(&self) -> Result<HashSet<PathBuf>, ObjectStoreError> {
        let mut names = HashSet::new();
        for entry in fs::read_dir(&self.dir).map_err(io_error(&self.dir))? {
            let path = entry.map_err(io_error(&self.dir))?.path();
            if path.extension().is_some_and(|ext| ext == PACK_EXTENSION) {
                names.insert(path);
            }
        }
        Ok(names)
    }

    fn read_loaded(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.loaded.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_loaded(&self) -> std::sync::RwLockWriteGuard<'_, Loaded> {
        self.loaded.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl Pack {
    /// Opens and checks the pack at `path`; `None` if it no longer exists.
    fn load(path: PathBuf) -> Result<Option<Self>, ObjectStoreError> {
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(io_error(&path)(source)),
        };
        let len = file.metadata().map_err(io_error(&path))?.len();
        let index = read_index(&file, len).map_err(|reason| ObjectStoreError::CorruptPack {
            path: path.clone(),
            reason,
        })?;
        Ok(Some(Self {
            path,
            file,
            index,
            dead: Mutex::new(Dead::default()),
        }))
    }

    fn dead_path(&self) -> PathBuf {
        self.path.with_extension(DEAD_EXTENSION)
    }

    /// Reports whether `id` was removed from this pack, rereading the
    /// tombstone file if it grew.
    fn is_dead(&self, id: &ObjectId) -> Result<bool, ObjectStoreError> {
        let mut dead = self.dead.lock().unwrap_or_else(|p| p.into_inner());
        self.reread_dead(&mut dead)?;
        Ok(dead.ids.contains(id))
    }

    /// Reports whether every object of this pack was removed.
    fn all_dead(&self) -> Result<bool, ObjectStoreError> {
        let mut dead = self.dead.lock().unwrap_or_else(|p| p.into_inner());
        self.reread_dead(&mut dead)?;
        Ok(self.index.iter().all(|entry| dead.ids.contains(&entry.id)))
    }

    fn reread_dead(&self, dead: &mut Dead) -> Result<(), ObjectStoreError> {
        let path = self.dead_path();
        let len = match fs::metadata(&path) {
            Ok(meta) => meta.len(),
            Err(error) if error.kind() == io::ErrorKind::NotFound => 0,
            Err(source) => return Err(io_error(&path)(source)),
        };
        if len == dead.read_len {
            return Ok(());
        }
        let bytes = fs::read(&path).map_err(io_error(&path))?;
        // A record still being appended is incomplete; it is read once
        // complete.
        for record in bytes.chunks_exact(32) {
            let id: [u8; 32] = record.try_into().expect("chunks are 32 bytes");
            dead.ids.insert(ObjectId::from_bytes(id));
        }
        dead.read_len = bytes.len() as u64 - bytes.len() as u64 % 32;
        Ok(())
    }

    /// Appends `id` to the tombstone file and syncs it.
    fn bury(&self, id: &ObjectId) -> Result<(), ObjectStoreError> {
        let path = self.dead_path();
        let created = !path.exists();
        let mut file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_error(&path))?;
        file.write_all(id.as_bytes()).map_err(io_error(&path))?;
        file.sync_data().map_err(io_error(&path))?;
        if created {
            sync_dir(path.parent().expect("pack files have a directory"))?;
        }
        Ok(())
    }
}

impl Location {
    /// Reads the object's zstd form from its pack.
    pub fn read(&self) -> Result<Vec<u8>, ObjectStoreError> {
        let length =
            usize::try_from(self.entry.length).map_err(|_| ObjectStoreError::CorruptPack {
                path: self.pack.path.clone(),
                reason: format!("entry {} is too large to read", self.entry.id),
            })?;
        let mut bytes = vec![0; length];
        self.pack
            .file
            .read_exact_at(&mut bytes, self.entry.offset)
            .map_err(io_error(&self.pack.path))?;
        Ok(bytes)
    }
}

/// Returns how long after `mtime` a scan must start to be trusted: a
/// timestamp with no sub-second part most likely comes from a file system
/// that keeps whole seconds.
// NOTE: a network file system stamps with the server's clock, and skew
// between the clocks is not accounted for.
fn settle_time(mtime: SystemTime) -> Duration {
    let fraction = mtime
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|since| since.subsec_nanos())
        .unwrap_or(0);
    if fraction == 0 {
        COARSE_SETTLE_TIME
    } else {
        FINE_SETTLE_TIME
    }
}

/// Makes the entries of directory `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<(), ObjectStoreError> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io_error(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_second_mtime_settles_slowly() {
        let whole = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(settle_time(whole), COARSE_SETTLE_TIME);
    }

    #[test]
    fn fractional_mtime_settles_quickly() {
        let fine = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        assert_eq!(settle_time(fine), FINE_SETTLE_TIME);
    }
}

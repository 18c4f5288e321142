//! The stat cache: file metadata mapped to the blob id of the contents.
//!
//! `status` and `snap` trust a cached blob id when a file's size, mtime,
//! ctime, inode and mode are unchanged, and only rehash the rest. The
//! ctime matters because unpacking an archive restores each file's mtime:
//! a file replaced by one of the same size, with the same mtime, may get
//! the freed inode number back, and then only its ctime differs.
//! Two rules keep that trust safe:
//!
//! - An entry is recorded only when the file's mtime and ctime were at
//!   least [`RACY_WINDOW_NS`] older than the clock when its metadata was
//!   read. A file rewritten within the same timestamp tick as the read
//!   would otherwise keep its old metadata and hide the change. The window
//!   is 2 s so that file systems with coarse timestamps (FAT has 2 s) are
//!   covered too. Such "racy" files are simply hashed again next time.
//! - Every blob id in the cache is stored in the object store: entries are
//!   written only by `snap` and `checkout`, which store the blobs first, and
//!   by `status` for files whose blob equals the one in the base snap.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use ferry_core::{ComponentId, FileMode, FilePath, ObjectId};
use rusqlite::{params, Connection};

use crate::error::Result;
use crate::meta::{id_from_bytes, parse_stored};
use crate::scan::{FileStat, ScannedFile};

/// How much older than the moment of reading an mtime must be before the
/// entry may be cached, in nanoseconds.
pub const RACY_WINDOW_NS: i64 = 2_000_000_000;

/// A cached blob id and the metadata it was computed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheEntry {
    /// The metadata at hashing time.
    pub stat: FileStat,
    /// The blob id of the contents.
    pub blob: ObjectId,
}

/// The cache of one component, keyed by path.
pub type ComponentCache = HashMap<FilePath, CacheEntry>;

/// Returns the blob id of `file` if the cache has one for its current
/// metadata.
pub fn lookup(cache: &ComponentCache, file: &ScannedFile) -> Option<ObjectId> {
    cache
        .get(&file.path)
        .filter(|entry| entry.stat == file.stat)
        .map(|entry| entry.blob)
}

/// Reports whether an entry for `stat`, read at `read_at_ns`, may be cached.
pub fn is_cacheable(stat: &FileStat, read_at_ns: i64) -> bool {
    let changed_ns = stat.mtime_ns.max(stat.ctime_ns);
    changed_ns.saturating_add(RACY_WINDOW_NS) < read_at_ns
}

/// Returns the current time in nanoseconds since the Unix epoch.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
        })
}

/// Loads the cache of `component`.
pub fn load(connection: &Connection, component: &ComponentId) -> Result<ComponentCache> {
    let mut statement = connection.prepare_cached(
        "SELECT path, size, mtime_ns, ctime_ns, inode, mode, blob FROM ws_stat_cache
         WHERE component = ?1",
    )?;
    let rows = statement.query_map(params![component.as_str()], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, i64>(3)?,
            row.get::<_, i64>(4)?,
            row.get::<_, i64>(5)?,
            row.get::<_, Vec<u8>>(6)?,
        ))
    })?;
    let mut cache = ComponentCache::new();
    for row in rows {
        let (path, size, mtime_ns, ctime_ns, inode, mode, blob) = row?;
        let stat = FileStat {
            size: size as u64,
            mtime_ns,
            ctime_ns,
            inode: inode as u64,
            mode: if mode == 1 {
                FileMode::Executable
            } else {
                FileMode::Regular
            },
        };
        let blob = id_from_bytes(&blob)?;
        cache.insert(parse_stored(&path)?, CacheEntry { stat, blob });
    }
    Ok(cache)
}

/// Replaces the whole cache of `component` with `entries`.
pub fn replace(
    connection: &Connection,
    component: &ComponentId,
    entries: &[(FilePath, CacheEntry)],
) -> Result<()> {
    connection.execute(
        "DELETE FROM ws_stat_cache WHERE component = ?1",
        params![component.as_str()],
    )?;
    upsert(connection, component, entries)
}

/// Adds or overwrites `entries` in the cache of `component`.
pub fn upsert(
    connection: &Connection,
    component: &ComponentId,
    entries: &[(FilePath, CacheEntry)],
) -> Result<()> {
    let mut statement = connection.prepare_cached(
        "INSERT OR REPLACE INTO ws_stat_cache
         (component, path, size, mtime_ns, ctime_ns, inode, mode, blob)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for (path, entry) in entries {
        // SQLite integers are signed; sizes and inodes are stored bit for
        // bit and converted back in `load`.
        statement.execute(params![
            component.as_str(),
            path.as_str(),
            entry.stat.size as i64,
            entry.stat.mtime_ns,
            entry.stat.ctime_ns,
            entry.stat.inode as i64,
            i64::from(entry.stat.mode == FileMode::Executable),
            entry.blob.as_bytes().as_slice(),
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(mtime_ns: i64) -> FileStat {
        FileStat {
            size: u64::MAX,
            mtime_ns,
            ctime_ns: mtime_ns,
            inode: u64::MAX - 1,
            mode: FileMode::Executable,
        }
    }

    #[test]
    fn racy_entries_are_not_cacheable() {
        let now = 10 * RACY_WINDOW_NS;
        assert!(is_cacheable(&stat(now - RACY_WINDOW_NS - 1), now));
        assert!(!is_cacheable(&stat(now - RACY_WINDOW_NS), now));
        assert!(!is_cacheable(&stat(now + 5), now));
    }

    #[test]
    fn recent_ctime_is_racy() {
        let now = 10 * RACY_WINDOW_NS;
        let mut restored = stat(now - 5 * RACY_WINDOW_NS);
        restored.ctime_ns = now - 1;
        assert!(!is_cacheable(&restored, now));
    }

    #[test]
    fn changed_ctime_misses() {
        let path: FilePath = "Button.js".parse().expect("valid");
        let mut cache = ComponentCache::new();
        let entry = CacheEntry {
            stat: stat(42),
            blob: ObjectId::digest(b"blob"),
        };
        cache.insert(path.clone(), entry);
        // Same size, mtime, inode and mode: a file unpacked over the old
        // one into its freed inode.
        let mut replaced = stat(42);
        replaced.ctime_ns += 1;
        let scanned = ScannedFile {
            path,
            stat: replaced,
        };
        assert_eq!(lookup(&cache, &scanned), None);
    }

    #[test]
    fn entries_round_trip_with_large_values() {
        let connection = Connection::open_in_memory().expect("database");
        crate::meta::init_schema(&connection).expect("schema");
        let component: ComponentId = "mui/Button".parse().expect("valid");
        let path: FilePath = "Button.js".parse().expect("valid");
        let entry = CacheEntry {
            stat: stat(42),
            blob: ObjectId::digest(b"blob"),
        };
        replace(&connection, &component, &[(path.clone(), entry)]).expect("replace");
        let cache = load(&connection, &component).expect("load");
        assert_eq!(cache.get(&path), Some(&entry));
        let scanned = ScannedFile {
            path: path.clone(),
            stat: stat(43),
        };
        assert_eq!(lookup(&cache, &scanned), None, "changed mtime must miss");
    }
}

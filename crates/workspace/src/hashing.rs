//! Turning scanned files into snap file entries, in parallel.
//!
//! Hashing and compressing thousands of files is the hot path of `snap`, so
//! the files of all components go into one rayon job list and run on every
//! core. A file whose metadata matches the stat cache is not read at all.
//! When a sink is given, each hashed file that the store lacks is added to
//! one object batch. A batch accepts adds from several threads and drops
//! duplicates, so the jobs need no coordination.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use ferry_core::object::header;
use ferry_core::{FileEntry, ObjectId, ObjectKind};
use ferry_store::objects::ObjectBatch;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::scan::ScannedTree;
use crate::stat_cache::{is_cacheable, lookup, CacheEntry, ComponentCache};

/// The destination of hashed blobs: an object batch. The batch skips blobs
/// its store already contains before compressing them, so a re-snap of
/// mostly unchanged files compresses only the changed ones.
#[derive(Clone, Copy)]
pub struct BlobSink<'a> {
    /// The batch new blobs go to.
    pub batch: &'a dyn ObjectBatch,
}

impl BlobSink<'_> {
    fn add(&self, id: &ObjectId, encoded: &[u8]) -> Result<()> {
        self.batch.add_encoded(id, encoded)?;
        Ok(())
    }
}

/// The files of one component directory, ready to hash.
pub struct DirectoryWork {
    /// The component directory.
    pub dir: PathBuf,
    /// The scan result of `dir`.
    pub tree: ScannedTree,
    /// The component's stat cache.
    pub cache: ComponentCache,
}

/// Computes the file entries of every directory in `work`, in the same
/// order, writing uncached blobs to `sink` when one is given.
pub fn hash_directories(
    work: &[DirectoryWork],
    sink: Option<BlobSink<'_>>,
) -> Result<Vec<Vec<FileEntry>>> {
    let jobs: Vec<(usize, usize)> = work
        .iter()
        .enumerate()
        .flat_map(|(dir, item)| (0..item.tree.files.len()).map(move |file| (dir, file)))
        .collect();
    let entries: Vec<FileEntry> = jobs
        .par_iter()
        .map(|&(dir, file)| hash_one(&work[dir], file, sink))
        .collect::<Result<_>>()?;

    let mut entries = entries.into_iter();
    let grouped = work
        .iter()
        .map(|item| entries.by_ref().take(item.tree.files.len()).collect())
        .collect();
    Ok(grouped)
}

fn hash_one(work: &DirectoryWork, index: usize, sink: Option<BlobSink<'_>>) -> Result<FileEntry> {
    let file = &work.tree.files[index];
    if let Some(blob) = lookup(&work.cache, file) {
        return Ok(FileEntry {
            path: file.path.clone(),
            mode: file.stat.mode,
            blob,
            size: file.stat.size,
        });
    }
    let native = file.path.under(&work.dir);
    let (encoded, size) = read_blob_encoding(&native, file.stat.size)?;
    let blob = ObjectId::digest(&encoded);
    if let Some(sink) = sink {
        sink.add(&blob, &encoded)?;
    }
    Ok(FileEntry {
        path: file.path.clone(),
        mode: file.stat.mode,
        blob,
        size,
    })
}

/// Reads `path` into a blob encoding, sized by `expected_size` so the bytes
/// are read straight behind the header. Returns the encoding and the actual
/// content length, which differs from `expected_size` when the file changed
/// since it was scanned.
fn read_blob_encoding(path: &Path, expected_size: u64) -> Result<(Vec<u8>, u64)> {
    let mut encoded = header(ObjectKind::Blob, expected_size);
    let header_len = encoded.len();
    let capacity = usize::try_from(expected_size).unwrap_or(0);
    encoded.reserve(capacity);
    // `File::read_to_end` first asks the file for its size and position,
    // two system calls per file that the scan's size makes unnecessary;
    // through `Take` the plain read loop runs instead.
    File::open(path)
        .and_then(|handle| handle.take(u64::MAX).read_to_end(&mut encoded))
        .map_err(Error::io(path))?;

    let size = (encoded.len() - header_len) as u64;
    if size != expected_size {
        let mut rebuilt = header(ObjectKind::Blob, size);
        rebuilt.extend_from_slice(&encoded[header_len..]);
        encoded = rebuilt;
    }
    Ok((encoded, size))
}

/// Returns the cache entries worth recording for `work` after hashing it
/// into `entries`: files whose size did not change while they were read and
/// whose mtime is outside the racy window before `read_at_ns`.
pub fn cacheable_entries(
    work: &DirectoryWork,
    entries: &[FileEntry],
    read_at_ns: i64,
) -> Vec<(ferry_core::FilePath, CacheEntry)> {
    work.tree
        .files
        .iter()
        .zip(entries)
        .filter(|(file, entry)| file.stat.size == entry.size)
        .filter(|(file, _)| is_cacheable(&file.stat, read_at_ns))
        .map(|(file, entry)| {
            let cached = CacheEntry {
                stat: file.stat,
                blob: entry.blob,
            };
            (file.path.clone(), cached)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::scan_dir;
    use ferry_core::Blob;
    use ferry_store::{MemoryObjectStore, ObjectStore};

    #[test]
    fn hashing_matches_blob_ids_and_stores_blobs() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.txt"), b"alpha").expect("write");
        std::fs::write(dir.path().join("b.txt"), b"").expect("write");
        let work = [DirectoryWork {
            dir: dir.path().to_path_buf(),
            tree: scan_dir(dir.path()).expect("scan"),
            cache: ComponentCache::new(),
        }];
        let store = MemoryObjectStore::new();
        let batch = store.batch();
        let sink = BlobSink {
            batch: batch.as_ref(),
        };
        let entries = hash_directories(&work, Some(sink)).expect("hash");
        batch.commit().expect("commit");
        assert_eq!(entries[0].len(), 2);
        assert_eq!(entries[0][0].blob, Blob::id_of(b"alpha"));
        assert_eq!(entries[0][0].size, 5);
        assert_eq!(entries[0][1].blob, Blob::id_of(b""));
        assert!(store.contains(&Blob::id_of(b"alpha")).expect("contains"));
    }

    #[test]
    fn cached_blob_is_used_without_reading() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.txt"), b"alpha").expect("write");
        let tree = scan_dir(dir.path()).expect("scan");
        let pretend = ObjectId::digest(b"pretend");
        let mut cache = ComponentCache::new();
        cache.insert(
            tree.files[0].path.clone(),
            CacheEntry {
                stat: tree.files[0].stat,
                blob: pretend,
            },
        );
        let work = [DirectoryWork {
            dir: dir.path().to_path_buf(),
            tree,
            cache,
        }];
        let entries = hash_directories(&work, None).expect("hash");
        assert_eq!(entries[0][0].blob, pretend);
    }

    #[test]
    fn grouping_follows_directories() {
        let first = tempfile::tempdir().expect("tempdir");
        let second = tempfile::tempdir().expect("tempdir");
        std::fs::write(first.path().join("x"), b"1").expect("write");
        for name in ["p", "q", "r"] {
            std::fs::write(second.path().join(name), name).expect("write");
        }
        let work: Vec<DirectoryWork> = [first.path(), second.path()]
            .iter()
            .map(|dir| DirectoryWork {
                dir: dir.to_path_buf(),
                tree: scan_dir(dir).expect("scan"),
                cache: ComponentCache::new(),
            })
            .collect();
        let entries = hash_directories(&work, None).expect("hash");
        assert_eq!(entries[0].len(), 1);
        assert_eq!(entries[1].len(), 3);
        assert_eq!(entries[1][2].blob, Blob::id_of(b"r"));
    }
}

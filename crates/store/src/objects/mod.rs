//! The object store: immutable objects addressed by their id.

mod fs;
mod fs_batch;
mod memory;
mod packfile;
mod packs;

use std::cell::RefCell;
use std::io::{self, Read};
use std::path::PathBuf;

use ferry_core::object::DecodeError;
use ferry_core::{Object, ObjectId};

pub use fs::FsObjectStore;
pub use memory::MemoryObjectStore;

/// Failures of an object store.
#[derive(Debug, thiserror::Error)]
pub enum ObjectStoreError {
    /// The object is not stored.
    #[error("object {0} not found")]
    NotFound(ObjectId),
    /// The stored bytes do not decode or do not hash to the id: the store
    /// is damaged and the object must not be served.
    #[error("object {id} is corrupt")]
    Corrupt {
        /// The object that failed verification.
        id: ObjectId,
        /// The verification failure.
        #[source]
        source: DecodeError,
    },
    /// A pack file's index is damaged, so none of its objects can be
    /// located.
    #[error("pack file {path} is corrupt: {reason}")]
    CorruptPack {
        /// The pack file.
        path: PathBuf,
        /// The damage found.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("I/O error on {path}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Content-addressed storage of immutable objects.
///
/// Writes are create-only: writing an object that exists already does
/// nothing, because equal ids mean equal bytes. Reads verify the digest, so
/// a damaged object is reported as [`ObjectStoreError::Corrupt`], never
/// returned. Objects are held zstd-compressed; the `*_compressed` methods
/// move that form directly, so a server can pass objects on without
/// recompressing them.
pub trait ObjectStore: Send + Sync {
    /// Reports whether `id` is stored.
    fn contains(&self, id: &ObjectId) -> Result<bool, ObjectStoreError>;

    /// Returns the canonical encoding of `id`, verified against the id.
    fn read_encoded(&self, id: &ObjectId) -> Result<Vec<u8>, ObjectStoreError>;

    /// Returns the zstd-compressed canonical encoding of `id`, verified.
    fn read_compressed(&self, id: &ObjectId) -> Result<Vec<u8>, ObjectStoreError>;

    /// Stores `encoded`, a canonical encoding whose digest is `id`. The
    /// caller has already checked the digest.
    fn write_encoded(&self, id: &ObjectId, encoded: &[u8]) -> Result<(), ObjectStoreError>;

    /// Stores `compressed`, the zstd form of an encoding whose digest the
    /// caller has already checked to be `id`.
    fn write_compressed(&self, id: &ObjectId, compressed: &[u8]) -> Result<(), ObjectStoreError>;

    /// Makes every write that returned so far durable. Callers flush before
    /// a ref can point at what they wrote.
    fn flush(&self) -> Result<(), ObjectStoreError>;

    /// Returns every stored id, in no particular order.
    fn list(&self) -> Result<Vec<ObjectId>, ObjectStoreError>;

    /// Removes `id` if stored. Only garbage collection calls this.
    fn remove(&self, id: &ObjectId) -> Result<(), ObjectStoreError>;

    /// Reads and decodes `id`.
    fn read(&self, id: &ObjectId) -> Result<Object, ObjectStoreError> {
        let encoded = self.read_encoded(id)?;
        Object::decode(&encoded).map_err(|source| ObjectStoreError::Corrupt { id: *id, source })
    }

    /// Encodes, stores and returns the id of `object`.
    fn write(&self, object: &Object) -> Result<ObjectId, ObjectStoreError> {
        let encoded = object.encode();
        let id = ObjectId::digest(&encoded);
        self.write_encoded(&id, &encoded)?;
        Ok(id)
    }

    /// Starts a batch of writes that become visible together. Writing many
    /// objects through a batch costs two file-system syncs in all instead
    /// of one per object.
    fn batch(&self) -> Box<dyn ObjectBatch + '_>;

    /// Reads `id` and returns it as a snap, failing if it is a blob.
    fn read_snap(&self, id: &ObjectId) -> Result<ferry_core::Snap, ObjectStoreError> {
        self.read(id)?
            .into_snap(*id)
            .map_err(|source| ObjectStoreError::Corrupt { id: *id, source })
    }
}

/// Compression level for stored objects: fast, and still smaller than the
/// zlib level most version control tools use.
pub const ZSTD_LEVEL: i32 = 3;

thread_local! {
    /// One compression context per thread, reused for every object. A new
    /// context allocates and clears tables far larger than a typical
    /// source file, which cost more than compressing the file itself.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { RefCell::new(None) };
}

/// Returns the zstd form of `encoded` as stored. The output is the same
/// as a fresh context's, because a frame never depends on the frames a
/// context compressed before.
pub fn compress(encoded: &[u8]) -> Vec<u8> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(compressor) => compressor,
            None => slot.insert(
                zstd::bulk::Compressor::new(ZSTD_LEVEL)
                    .expect("a zstd context at a valid level can be created"),
            ),
        };
        compressor
            .compress(encoded)
            .expect("zstd compression into a Vec cannot fail")
    })
}

/// Decompresses `compressed` and checks that it is a valid encoding of `id`.
pub fn decompress_verified(id: &ObjectId, compressed: &[u8]) -> Result<Vec<u8>, ObjectStoreError> {
    let corrupt = |source| ObjectStoreError::Corrupt { id: *id, source };
    let encoded = ferry_core::compression::decompress(compressed)
        .map_err(|_| corrupt(DecodeError::Header("stored bytes are not valid zstd")))?;
    let actual = ObjectId::digest(&encoded);
    if actual != *id {
        return Err(corrupt(DecodeError::DigestMismatch {
            expected: *id,
            actual,
        }));
    }
    Ok(encoded)
}

/// Objects written together.
///
/// Objects added to a batch are invisible until [`ObjectBatch::commit`],
/// which makes all of them durable and visible; dropping a batch without
/// committing discards them. Methods take `&self`, so several threads can
/// add to one batch at once.
pub trait ObjectBatch: Send + Sync {
    /// Adds the zstd form of an encoding whose digest the caller has
    /// checked to be `id`.
    fn add_compressed(&self, id: &ObjectId, compressed: &[u8]) -> Result<(), ObjectStoreError>;

    /// Adds an object by streaming its zstd form from `compressed`. The
    /// reader verifies the digest itself and fails with an error at the end
    /// of its input if the bytes are not the object `id`.
    fn add_reader(&self, id: &ObjectId, compressed: &mut dyn Read) -> Result<(), ObjectStoreError>;

    /// Adds a canonical encoding whose digest the caller has checked. An
    /// object that the store or the batch holds already is skipped before
    /// it is compressed, so callers need not check first.
    fn add_encoded(&self, id: &ObjectId, encoded: &[u8]) -> Result<(), ObjectStoreError>;

    /// Makes every added object durable and visible, and returns how many
    /// were added.
    fn commit(self: Box<Self>) -> Result<usize, ObjectStoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_context_matches_fresh_one() {
        let large: Vec<u8> = (0..300_000u32)
            .flat_map(|n| (n % 251).to_le_bytes())
            .collect();
        let inputs = [
            b"a small object".repeat(40),
            large,
            b"x".to_vec(),
            Vec::new(),
            b"a small object".repeat(40),
        ];
        for input in &inputs {
            let fresh = zstd::bulk::compress(input, ZSTD_LEVEL).expect("compress");
            assert_eq!(compress(input), fresh, "input of {} bytes", input.len());
        }
    }
}

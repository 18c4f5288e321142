//! Objects held in memory, for tests.

use std::collections::HashMap;
use std::sync::Mutex;

use ferry_core::ObjectId;

use std::io::Read;

use super::{compress, decompress_verified, ObjectBatch, ObjectStore, ObjectStoreError};

/// An object store in a hash map; it behaves like [`super::FsObjectStore`]
/// apart from durability.
#[derive(Debug, Default)]
pub struct MemoryObjectStore {
    objects: Mutex<HashMap<ObjectId, Vec<u8>>>,
}

impl MemoryObjectStore {
    /// Creates an empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn objects(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectId, Vec<u8>>> {
        self.objects
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Replaces the stored bytes of `id`, so tests can simulate damage.
    pub fn corrupt(&self, id: &ObjectId, compressed: Vec<u8>) {
        self.objects().insert(*id, compressed);
    }
}

impl ObjectStore for MemoryObjectStore {
    fn contains(&self, id: &ObjectId) -> Result<bool, ObjectStoreError> {
        Ok(self.objects().contains_key(id))
    }

    fn read_encoded(&self, id: &ObjectId) -> Result<Vec<u8>, ObjectStoreError> {
        decompress_verified(id, &self.read_compressed_unchecked(id)?)
    }

    fn read_compressed(&self, id: &ObjectId) -> Result<Vec<u8>, ObjectStoreError> {
        let compressed = self.read_compressed_unchecked(id)?;
        decompress_verified(id, &compressed)?;
        Ok(compressed)
    }

    fn write_encoded(&self, id: &ObjectId, encoded: &[u8]) -> Result<(), ObjectStoreError> {
        self.objects()
            .entry(*id)
            .or_insert_with(|| compress(encoded));
        Ok(())
    }

    fn write_compressed(&self, id: &ObjectId, compressed: &[u8]) -> Result<(), ObjectStoreError> {
        self.objects()
            .entry(*id)
            .or_insert_with(|| compressed.to_vec());
        Ok(())
    }

    fn batch(&self) -> Box<dyn ObjectBatch + '_> {
        Box::new(MemoryBatch {
            store: self,
            staged: Mutex::new(HashMap::new()),
        })
    }

    fn flush(&self) -> Result<(), ObjectStoreError> {
        Ok(())
    }

    fn list(&self) -> Result<Vec<ObjectId>, ObjectStoreError> {
        Ok(self.objects().keys().copied().collect())
    }

    fn remove(&self, id: &ObjectId) -> Result<(), ObjectStoreError> {
        self.objects().remove(id);
        Ok(())
    }
}

impl MemoryObjectStore {
    fn read_compressed_unchecked(&self, id: &ObjectId) -> Result<Vec<u8>, ObjectStoreError> {
        self.objects()
            .get(id)
            .cloned()
            .ok_or(ObjectStoreError::NotFound(*id))
    }
}

/// Objects staged in a map until commit.
struct MemoryBatch<'a> {
    store: &'a MemoryObjectStore,
    staged: Mutex<HashMap<ObjectId, Vec<u8>>>,
}

impl MemoryBatch<'_> {
    /// Reports whether `id` is stored or staged already.
    fn is_known(&self, id: &ObjectId) -> bool {
        let staged = self
            .staged
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains_key(id);
        staged || self.store.objects().contains_key(id)
    }
}

impl ObjectBatch for MemoryBatch<'_> {
    fn add_encoded(&self, id: &ObjectId, encoded: &[u8]) -> Result<(), ObjectStoreError> {
        if self.is_known(id) {
            return Ok(());
        }
        self.add_compressed(id, &compress(encoded))
    }

    fn add_compressed(&self, id: &ObjectId, compressed: &[u8]) -> Result<(), ObjectStoreError> {
        if self.is_known(id) {
            return Ok(());
        }
        self.staged
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(*id, compressed.to_vec());
        Ok(())
    }

    fn add_reader(&self, id: &ObjectId, compressed: &mut dyn Read) -> Result<(), ObjectStoreError> {
        if self.is_known(id) {
            return Ok(());
        }
        let mut bytes = Vec::new();
        compressed
            .read_to_end(&mut bytes)
            .map_err(|source| ObjectStoreError::Io {
                path: std::path::PathBuf::from(id.to_hex()),
                source,
            })?;
        self.add_compressed(id, &bytes)
    }

    fn commit(self: Box<Self>) -> Result<usize, ObjectStoreError> {
        let staged = self
            .staged
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = staged.len();
        let mut objects = self.store.objects();
        for (id, compressed) in staged {
            objects.entry(id).or_insert(compressed);
        }
        Ok(count)
    }
}

//! New objects held in memory until a reconciliation is known to succeed.
//!
//! A rebase builds a chain of snaps where each step merges against the
//! previous one, so the steps must read objects that are not stored yet.
//! [`Overlay`] serves them from memory and falls back to the object store.
//! Nothing reaches the store before [`Overlay::commit`], which writes one
//! batch; a reconciliation that stops on a conflict drops the overlay and
//! leaves the store as it was.

use std::collections::HashMap;

use ferry_core::merge::{MergedContent, MergedFile};
use ferry_core::{Blob, FileEntry, FileMode, FilePath, Object, ObjectId, Snap};
use ferry_store::ObjectStore;

use crate::error::{Error, Result};

/// Objects made by a reconciliation, over the workspace's object store.
pub(crate) struct Overlay<'a> {
    store: &'a dyn ObjectStore,
    blobs: HashMap<ObjectId, Vec<u8>>,
    snaps: HashMap<ObjectId, Snap>,
}

impl<'a> Overlay<'a> {
    /// Returns an empty overlay over `store`.
    pub fn new(store: &'a dyn ObjectStore) -> Self {
        Self {
            store,
            blobs: HashMap::new(),
            snaps: HashMap::new(),
        }
    }

    /// Returns the bytes of blob `id`.
    pub fn blob(&self, id: &ObjectId) -> Result<Vec<u8>> {
        if let Some(data) = self.blobs.get(id) {
            return Ok(data.clone());
        }
        let blob = self
            .store
            .read(id)?
            .into_blob(*id)
            .map_err(|source| Error::BadObject { id: *id, source })?;
        Ok(blob.data)
    }

    /// Returns snap `id`.
    pub fn snap(&self, id: &ObjectId) -> Result<Snap> {
        match self.snaps.get(id) {
            Some(snap) => Ok(snap.clone()),
            None => Ok(self.store.read_snap(id)?),
        }
    }

    /// Adds `data` as the blob of a file at `path` and returns its entry.
    pub fn add_blob(&mut self, path: &FilePath, mode: FileMode, data: Vec<u8>) -> FileEntry {
        let id = Blob::id_of(&data);
        let size = data.len() as u64;
        self.blobs.insert(id, data);
        FileEntry {
            path: path.clone(),
            mode,
            blob: id,
            size,
        }
    }

    /// Turns merged files into file entries, adding the new contents as
    /// blobs.
    pub fn add_files(&mut self, files: Vec<MergedFile>) -> Vec<FileEntry> {
        let mut entries = Vec::with_capacity(files.len());
        for file in files {
            let entry = match file.content {
                MergedContent::Blob { id, size } => FileEntry {
                    path: file.path,
                    mode: file.mode,
                    blob: id,
                    size,
                },
                MergedContent::New(data) => self.add_blob(&file.path, file.mode, data),
            };
            entries.push(entry);
        }
        entries
    }

    /// Checks and adds `snap`, returning its id.
    pub fn add_snap(&mut self, snap: Snap) -> Result<ObjectId> {
        let id = snap.id();
        snap.validate()
            .map_err(|source| Error::BadObject { id, source })?;
        self.snaps.insert(id, snap);
        Ok(id)
    }

    /// Writes every new object to the store in one batch and makes them
    /// durable.
    pub fn commit(self) -> Result<()> {
        let batch = self.store.batch();
        for (id, data) in self.blobs {
            if !self.store.contains(&id)? {
                batch.add_encoded(&id, &Object::Blob(Blob { data }).encode())?;
            }
        }
        for (id, snap) in self.snaps {
            batch.add_encoded(&id, &Object::Snap(snap).encode())?;
        }
        batch.commit()?;
        Ok(())
    }
}

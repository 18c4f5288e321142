//! Snap ancestry read from an object store.

use std::cell::RefCell;
use std::collections::HashMap;

use ferry_core::ancestry::{SnapGraph, SnapNode};
use ferry_core::object::DecodeError;
use ferry_core::{ObjectId, Snap};
use ferry_store::{ObjectStore, ObjectStoreError};

/// A failed snap lookup.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The object is not stored.
    #[error("snap {0} not found")]
    Missing(ObjectId),
    /// The object is a blob.
    #[error("object {0} is a blob where a snap is required")]
    NotSnap(ObjectId),
    /// The store failed.
    #[error(transparent)]
    Store(ObjectStoreError),
}

/// A [`SnapGraph`] over an object store that caches the parent links of
/// every snap it reads. It lives for one request.
pub struct StoreGraph<'a> {
    objects: &'a dyn ObjectStore,
    nodes: RefCell<HashMap<ObjectId, SnapNode>>,
}

impl<'a> StoreGraph<'a> {
    /// Starts an empty cache over `objects`.
    pub fn new(objects: &'a dyn ObjectStore) -> Self {
        Self {
            objects,
            nodes: RefCell::new(HashMap::new()),
        }
    }

    /// Reads and decodes the snap `id`, remembering its parent links.
    pub fn snap(&self, id: &ObjectId) -> Result<Snap, GraphError> {
        let snap = self.objects.read_snap(id).map_err(|error| match error {
            ObjectStoreError::NotFound(_) => GraphError::Missing(*id),
            ObjectStoreError::Corrupt {
                source: DecodeError::WrongKind { .. },
                ..
            } => GraphError::NotSnap(*id),
            other => GraphError::Store(other),
        })?;
        let node = SnapNode {
            generation: snap.generation,
            parents: snap.parents.clone(),
        };
        self.nodes.borrow_mut().insert(*id, node);
        Ok(snap)
    }
}

impl SnapGraph for StoreGraph<'_> {
    type Error = GraphError;

    fn node(&self, id: &ObjectId) -> Result<SnapNode, GraphError> {
        if let Some(node) = self.nodes.borrow().get(id) {
            return Ok(node.clone());
        }
        let snap = self.snap(id)?;
        Ok(SnapNode {
            generation: snap.generation,
            parents: snap.parents,
        })
    }
}

//! Refs held in memory, for tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use ferry_core::{ObjectId, RefName};

use super::{RefEdit, RefStore, RefUpdateError, StoreError};

/// A ref store in a map, with the same compare-and-swap semantics as
/// [`super::SqliteStore`].
#[derive(Debug, Default)]
pub struct MemoryRefStore {
    refs: Mutex<BTreeMap<(String, String), (RefName, ObjectId)>>,
}

type RefMap = BTreeMap<(String, String), (RefName, ObjectId)>;

impl MemoryRefStore {
    /// Creates an empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn refs(&self) -> std::sync::MutexGuard<'_, RefMap> {
        self.refs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn key(namespace: &str, name: &RefName) -> (String, String) {
    (namespace.to_owned(), name.key())
}

impl RefStore for MemoryRefStore {
    fn get_ref(&self, namespace: &str, name: &RefName) -> Result<Option<ObjectId>, StoreError> {
        Ok(self.refs().get(&key(namespace, name)).map(|(_, id)| *id))
    }

    fn list_refs(
        &self,
        namespace: &str,
        prefix: &str,
    ) -> Result<Vec<(RefName, ObjectId)>, StoreError> {
        let refs = self.refs();
        let start = (namespace.to_owned(), prefix.to_owned());
        Ok(refs
            .range(start..)
            .take_while(|((ns, name), _)| ns == namespace && name.starts_with(prefix))
            .map(|(_, value)| value.clone())
            .collect())
    }

    fn update_refs(&self, namespace: &str, edits: &[RefEdit]) -> Result<(), RefUpdateError> {
        let mut refs = self.refs();
        // Work on a copy so a failed edit leaves the map untouched.
        let mut staged = refs.clone();
        for edit in edits {
            let slot = key(namespace, &edit.name);
            let actual = staged.get(&slot).map(|(_, id)| *id);
            if actual != edit.expected {
                return Err(RefUpdateError::mismatch(
                    edit.name.clone(),
                    edit.expected,
                    actual,
                ));
            }
            match edit.new {
                Some(new) => staged.insert(slot, (edit.name.clone(), new)),
                None => staged.remove(&slot),
            };
        }
        *refs = staged;
        Ok(())
    }
}

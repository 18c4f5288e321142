//! Records of a remote's refs in the local ref store.

use ferry_core::{ObjectId, RefName};
use ferry_store::{RefEdit, RefStore, RefUpdateError};

/// Returns the local ref namespace that records what remote `name` holds.
pub fn remote_namespace(name: &str) -> String {
    format!("remote/{name}")
}

/// Sets each ref of `values` in `namespace`, in one transaction. Each edit
/// is a compare-and-swap against the value just read, and the whole
/// update is retried when another local process changed one of the refs
/// in between.
pub fn record_remote_refs(
    refs: &dyn RefStore,
    namespace: &str,
    values: &[(RefName, ObjectId)],
) -> Result<(), RefUpdateError> {
    let mut attempts = 0;
    loop {
        let mut edits = Vec::new();
        for (name, value) in values {
            let current = refs.get_ref(namespace, name)?;
            if current != Some(*value) {
                edits.push(RefEdit {
                    name: name.clone(),
                    expected: current,
                    new: Some(*value),
                });
            }
        }
        if edits.is_empty() {
            return Ok(());
        }
        match refs.update_refs(namespace, &edits) {
            Err(RefUpdateError::Mismatch(_)) if attempts < 10 => attempts += 1,
            other => return other,
        }
    }
}

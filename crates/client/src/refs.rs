//! Records of a remote's refs in the local ref store.

use ferry_core::{ObjectId, RefName};
use ferry_store::{RefEdit, RefStore, RefUpdateError};

/// Returns the local ref namespace that records what remote `name` holds.
pub fn remote_namespace(name: &str) -> String {
    format!("remote/{name}")
}

/// Sets each ref of `values` in `namespace`. Each edit is a
/// compare-and-swap against the value just read, retried when another
/// local process changed the ref in between.
pub fn record_remote_refs(
    refs: &dyn RefStore,
    namespace: &str,
    values: &[(RefName, ObjectId)],
) -> Result<(), RefUpdateError> {
    for (name, value) in values {
        set_ref(refs, namespace, name, *value)?;
    }
    Ok(())
}

fn set_ref(
    refs: &dyn RefStore,
    namespace: &str,
    name: &RefName,
    value: ObjectId,
) -> Result<(), RefUpdateError> {
    let mut attempts = 0;
    loop {
        let current = refs.get_ref(namespace, name)?;
        if current == Some(value) {
            return Ok(());
        }
        let edit = RefEdit {
            name: name.clone(),
            expected: current,
            new: Some(value),
        };
        match refs.update_refs(namespace, &[edit]) {
            Err(RefUpdateError::Mismatch(_)) if attempts < 10 => attempts += 1,
            other => return other,
        }
    }
}

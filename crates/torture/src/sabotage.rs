//! Deliberate damage to a stopped server's data directory, to show that
//! the checks of a run catch a lost update and a lost object.

use std::path::Path;

use ferry_core::RefName;
use ferry_store::{FsObjectStore, ObjectStore, RefEdit, RefStore, SqliteStore};

/// A kind of damage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sabotage {
    /// Moves the main head with the most history back to its parent, as a
    /// lost update would.
    RewindHead,
    /// Removes the stored file of the newest blob of that head's snap, as
    /// a lost write would.
    DropObject,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Applies `sabotage` to the data directory `data_dir`, whose server is
/// stopped.
pub fn apply(sabotage: Sabotage, data_dir: &Path) -> Result<(), Error> {
    let objects = FsObjectStore::open(data_dir.join("objects"))?;
    let refs = SqliteStore::open(&data_dir.join("ferry.db"))?;
    let (name, head) = deepest_main_head(&objects, &refs)?;
    let snap = objects.read_snap(&head)?;
    match sabotage {
        Sabotage::RewindHead => {
            let parent = *snap
                .parents
                .first()
                .ok_or("the deepest head has no parent")?;
            let edit = RefEdit {
                name,
                expected: Some(head),
                new: Some(parent),
            };
            refs.update_refs("", &[edit])?;
        }
        Sabotage::DropObject => {
            let file = snap.files.last().ok_or("the deepest head has no files")?;
            objects.remove(&file.blob)?;
        }
    }
    Ok(())
}

/// Returns the main head whose snap has the highest generation.
fn deepest_main_head(
    objects: &FsObjectStore,
    refs: &SqliteStore,
) -> Result<(RefName, ferry_core::ObjectId), Error> {
    let mut best = None;
    for (name, head) in refs.list_refs("", "main:")? {
        let generation = objects.read_snap(&head)?.generation;
        if best.as_ref().is_none_or(|(g, _, _)| generation > *g) {
            best = Some((generation, name, head));
        }
    }
    let (_, name, head) = best.ok_or("no main head to damage")?;
    Ok((name, head))
}

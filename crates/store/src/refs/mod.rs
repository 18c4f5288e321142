//! The ref store: named pointers updated by atomic compare-and-swap.
//!
//! Refs live in namespaces. A server keeps its scopes' refs in the empty
//! namespace `""`, since a ref name already carries its scope. A workspace
//! keeps its own refs in `""` and what it last saw on a remote in
//! `remote/NAME`.

mod memory;
pub mod sqlite;

use ferry_core::{ObjectId, RefName};
use serde::{Deserialize, Serialize};

pub use memory::MemoryRefStore;
pub use sqlite::{update_refs_in, SqliteStore};

/// One compare-and-swap edit of a ref.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefEdit {
    /// The ref to change.
    pub name: RefName,
    /// The value the ref must hold for the edit to apply; `None` means the
    /// ref must not exist.
    pub expected: Option<ObjectId>,
    /// The value to set; `None` deletes the ref.
    pub new: Option<ObjectId>,
}

/// Failures of the metadata store itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("metadata database error")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value does not parse, so the database was changed by hand
    /// or is damaged.
    #[error("metadata database holds an invalid value: {0}")]
    Invalid(String),
    /// Opening the database failed.
    #[error("cannot open metadata database {path}")]
    Open {
        /// The database file.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },
}

/// A ref that did not hold the value an edit expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ref {name} moved: expected {}, found {}", show(.expected), show(.actual))]
pub struct RefMismatch {
    /// The ref whose compare-and-swap failed.
    pub name: RefName,
    /// The value the edit expected.
    pub expected: Option<ObjectId>,
    /// The value the ref actually holds.
    pub actual: Option<ObjectId>,
}

/// Why a batch of ref edits did not apply. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum RefUpdateError {
    /// A ref did not hold the value the edit expected.
    #[error(transparent)]
    Mismatch(Box<RefMismatch>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RefUpdateError {
    /// Builds a [`RefUpdateError::Mismatch`].
    pub fn mismatch(name: RefName, expected: Option<ObjectId>, actual: Option<ObjectId>) -> Self {
        Self::Mismatch(Box::new(RefMismatch {
            name,
            expected,
            actual,
        }))
    }
}

fn show(value: &Option<ObjectId>) -> String {
    value.map_or_else(|| "no ref".to_owned(), |id| id.short())
}

/// Storage of refs with atomic multi-ref compare-and-swap.
pub trait RefStore: Send + Sync {
    /// Returns the value of `name` in `namespace`.
    fn get_ref(&self, namespace: &str, name: &RefName) -> Result<Option<ObjectId>, StoreError>;

    /// Returns every ref in `namespace` whose key starts with `prefix`,
    /// sorted by key.
    fn list_refs(
        &self,
        namespace: &str,
        prefix: &str,
    ) -> Result<Vec<(RefName, ObjectId)>, StoreError>;

    /// Applies `edits` in `namespace` as one transaction: each ref must hold
    /// its `expected` value, and either every edit applies or none does.
    /// Two edits of one ref in a batch are applied in order.
    fn update_refs(&self, namespace: &str, edits: &[RefEdit]) -> Result<(), RefUpdateError>;
}

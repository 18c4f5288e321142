//! Export sessions and scopes: the server's metadata beside the refs.
//!
//! An [`ExportStore`] keeps the scopes a server hosts, one record per export
//! (state, lease, planned ref updates, final outcome), and the object ids
//! each live export uploaded or relies on. Garbage collection reads those
//! records to decide what it may remove:
//!
//! - an object is *reachable* once an export that recorded it committed.
//!   Refs only move forward and exports never delete one, so a reachable
//!   object stays reachable and is never collected;
//! - an object recorded only by aborted exports that ended before the grace
//!   cut-off is a *candidate*; [`ExportStore::begin_collection`] marks
//!   candidates as being collected in one transaction, and a commit whose
//!   export recorded a marked id fails with [`CommitAttempt::Collected`]
//!   instead of making a ref point at an object that is about to vanish.
//!
//! Every method is one transaction, so two server processes on one store
//! see each other's changes in a consistent order and no lock is held
//! between requests. [`ExportStore::commit`] applies the ref edits, marks
//! the export committed and stores its outcome in the same transaction.
//!
//! Outcomes and plans are opaque JSON text here: the server owns their
//! format.

mod memory;
mod sqlite;

use ferry_core::protocol::{ExportId, ExportState, IdempotencyKey};
use ferry_core::{ObjectId, RefName, ScopeName};

pub use memory::MemoryExportStore;
pub use sqlite::SqliteExportStore;

use crate::objects::ObjectStoreError;
use crate::refs::{RefEdit, StoreError};

/// Times are milliseconds since the Unix epoch.
pub type Millis = i64;

/// The stored record of one export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRecord {
    /// The export's id.
    pub id: ExportId,
    /// The scope it updates.
    pub scope: ScopeName,
    /// The key the client opened it with, if any.
    pub idempotency_key: Option<IdempotencyKey>,
    /// Its state.
    pub state: ExportState,
    /// When it was opened.
    pub created_at: Millis,
    /// When its lease ends unless renewed.
    pub expires_at: Millis,
    /// When it became committed or aborted.
    pub ended_at: Option<Millis>,
    /// The planned ref updates recorded at prepare, as JSON.
    pub plan: Option<String>,
    /// The final outcome recorded at commit, as JSON.
    pub outcome: Option<String>,
}

impl ExportRecord {
    /// Reports whether the lease ran out at `now` while the export was live.
    pub fn is_expired_at(&self, now: Millis) -> bool {
        self.state.is_live() && self.expires_at <= now
    }
}

/// Failures of an export store.
#[derive(Debug, thiserror::Error)]
pub enum ExportStoreError {
    /// No export with this id exists.
    #[error("export {0} not found")]
    UnknownExport(ExportId),
    /// No scope of this name exists.
    #[error("scope {0} not found")]
    UnknownScope(ScopeName),
    /// The scope exists already.
    #[error("scope {0} exists already")]
    ScopeExists(ScopeName),
    /// The idempotency key was used to open an export into another scope.
    #[error("idempotency key {key:?} was used for export {export} into scope {scope}")]
    KeyReused {
        /// The key.
        key: String,
        /// The export opened with it.
        export: ExportId,
        /// That export's scope.
        scope: ScopeName,
    },
    /// The export's state does not allow the operation.
    #[error("export {id} is {state}, but the operation requires it to be {required}")]
    InvalidState {
        /// The export.
        id: ExportId,
        /// Its state.
        state: &'static str,
        /// The states the operation accepts.
        required: &'static str,
    },
    /// The export's lease ran out; it is now aborted.
    #[error("export {0} expired")]
    Expired(ExportId),
    /// The underlying store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Removing an object during a collection failed; its mark stays, so
    /// the next collection retries it.
    #[error("cannot remove collected object {id}")]
    Removal {
        /// The object.
        id: ObjectId,
        /// The cause, boxed to keep the error small.
        #[source]
        source: Box<ObjectStoreError>,
    },
}

/// The result of [`ExportStore::commit`].
#[derive(Debug)]
pub enum CommitAttempt {
    /// Every edit applied; the export is committed with the given outcome.
    Applied,
    /// The export had already ended; nothing changed. The record carries
    /// the stored outcome.
    Finished(ExportRecord),
    /// A ref did not hold its expected value; nothing changed.
    Mismatch {
        /// The ref.
        name: RefName,
        /// The value the edit expected.
        expected: Option<ObjectId>,
        /// The value the ref holds.
        actual: Option<ObjectId>,
    },
    /// Objects the export recorded are being removed by garbage
    /// collection; nothing changed.
    Collected(Vec<ObjectId>),
}

/// Scopes, export sessions and the objects they rely on.
pub trait ExportStore: Send + Sync {
    /// Creates a scope, failing with [`ExportStoreError::ScopeExists`].
    fn create_scope(&self, scope: &ScopeName, now: Millis) -> Result<(), ExportStoreError>;

    /// Returns every scope, sorted by name.
    fn list_scopes(&self) -> Result<Vec<ScopeName>, ExportStoreError>;

    /// Reports whether `scope` exists.
    fn scope_exists(&self, scope: &ScopeName) -> Result<bool, ExportStoreError>;

    /// Opens an export into `scope` with a lease of `lease` milliseconds,
    /// or returns the export opened before with the same `key`. The flag is
    /// true when a new export was created.
    fn open_export(
        &self,
        scope: &ScopeName,
        key: Option<&IdempotencyKey>,
        now: Millis,
        lease: Millis,
    ) -> Result<(ExportRecord, bool), ExportStoreError>;

    /// Returns the export `id`, if it exists.
    fn get_export(&self, id: &ExportId) -> Result<Option<ExportRecord>, ExportStoreError>;

    /// Returns every open or prepared export, sorted by id, which is the
    /// order they were opened in. Integrity checks use it to find exports
    /// left live past their lease.
    fn live_exports(&self) -> Result<Vec<ExportRecord>, ExportStoreError>;

    /// Records that the open or prepared export `id` relies on `objects`,
    /// renews its lease, and returns the subset of `objects` that garbage
    /// collection is removing. An expired export becomes aborted and the
    /// call fails with [`ExportStoreError::Expired`].
    fn record_objects(
        &self,
        id: &ExportId,
        objects: &[ObjectId],
        now: Millis,
        lease: Millis,
    ) -> Result<Vec<ObjectId>, ExportStoreError>;

    /// Returns the objects export `id` recorded.
    fn recorded_objects(&self, id: &ExportId) -> Result<Vec<ObjectId>, ExportStoreError>;

    /// Returns the subset of `objects` that committed exports made
    /// reachable.
    fn reachable_among(&self, objects: &[ObjectId]) -> Result<Vec<ObjectId>, ExportStoreError>;

    /// Stores `plan` and moves the open or prepared export `id` to prepared,
    /// renewing its lease.
    fn set_prepared(
        &self,
        id: &ExportId,
        plan: &str,
        now: Millis,
        lease: Millis,
    ) -> Result<(), ExportStoreError>;

    /// In one transaction: applies `edits` in the ref namespace `""` as
    /// compare-and-swaps, marks the export's recorded objects reachable, and
    /// moves the prepared export `id` to committed with `outcome`.
    fn commit(
        &self,
        id: &ExportId,
        edits: &[RefEdit],
        outcome: &str,
        now: Millis,
    ) -> Result<CommitAttempt, ExportStoreError>;

    /// Moves the live export `id` to aborted, storing `outcome` if given,
    /// and returns the record. An export that has already ended is returned
    /// unchanged.
    fn finish_aborted(
        &self,
        id: &ExportId,
        outcome: Option<&str>,
        now: Millis,
    ) -> Result<ExportRecord, ExportStoreError>;

    /// Aborts every live export whose lease ran out by `now` and returns
    /// their ids.
    fn expire(&self, now: Millis) -> Result<Vec<ExportId>, ExportStoreError>;

    /// Marks as being collected every object recorded only by exports that
    /// were aborted before `ended_before`, deletes those exports' object records,
    /// and returns every id marked, including ones left by an earlier run
    /// that did not finish.
    fn begin_collection(&self, ended_before: Millis) -> Result<Vec<ObjectId>, ExportStoreError>;

    /// Clears the collection mark of `objects` once they are removed.
    fn end_collection(&self, objects: &[ObjectId]) -> Result<(), ExportStoreError>;

    /// In one transaction: for each of `objects` that is still marked as
    /// being collected, calls `remove` and clears the mark, and returns how
    /// many objects were removed. An object that another collection has
    /// already removed and unmarked is skipped.
    ///
    /// Overlapping collections (two server instances, or an admin request
    /// beside the background sweep) receive the same marks. The mark is
    /// checked, the object removed and the mark cleared in one transaction.
    /// A negotiation needs the same write lock, so it finds the object
    /// either still marked, and rejects the offer, or already removed and
    /// unmarked. An object uploaded anew after that is therefore never
    /// removed by the slower collection.
    fn remove_collected(
        &self,
        objects: &[ObjectId],
        remove: &mut dyn FnMut(&ObjectId) -> Result<(), ObjectStoreError>,
    ) -> Result<usize, ExportStoreError>;
}

fn invalid_state(id: &ExportId, state: ExportState, required: &'static str) -> ExportStoreError {
    ExportStoreError::InvalidState {
        id: *id,
        state: state.as_str(),
        required,
    }
}

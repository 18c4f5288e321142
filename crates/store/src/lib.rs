//! Storage for ferry: content-addressed objects and compare-and-swap refs.
//!
//! Objects are immutable, so writing one can never hurt another writer: an
//! object store only ever creates files, and two writers of the same object
//! write the same bytes. Refs are the only mutable state, and every change
//! to them goes through [`RefStore::update_refs`], which applies a batch of
//! compare-and-swap edits atomically or not at all.
//!
//! Each trait has an embedded implementation for real use and an in-memory
//! one for tests: [`FsObjectStore`] and [`MemoryObjectStore`],
//! [`SqliteStore`] and [`MemoryRefStore`].

pub mod exports;
pub mod fsck;
pub mod objects;
pub mod refs;

pub use exports::{
    CommitAttempt, ExportRecord, ExportStore, ExportStoreError, MemoryExportStore,
    SqliteExportStore,
};
pub use objects::{FsObjectStore, MemoryObjectStore, ObjectStore, ObjectStoreError};
pub use refs::{
    MemoryRefStore, RefEdit, RefMismatch, RefStore, RefUpdateError, SqliteStore, StoreError,
};

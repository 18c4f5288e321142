//! Integrity check of a server data directory.
//!
//! [`check_data_dir`] verifies every stored object against its id, walks
//! the closure of every ref, and lists exports that are still open or
//! prepared although their lease ran out. A running server aborts such
//! exports at its next sweep, so on a healthy server the list stays empty
//! apart from exports whose lease ended within the last sweep interval. A
//! server stopped before that sweep leaves them behind, and its next start
//! aborts them. Either way they hold no lock and block no other export,
//! so the list only shows whether expiry keeps up.
//!
//! The check only reads, so it may run beside a live server; see
//! [`ferry_store::fsck`] for what a concurrent writer can make it report.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferry_core::protocol::{ExportId, ExportState};
use ferry_core::ScopeName;
use ferry_store::exports::Millis;
use ferry_store::fsck::{FsckError, Report};
use ferry_store::{
    ExportStore, ExportStoreError, FsObjectStore, ObjectStoreError, SqliteExportStore, SqliteStore,
    StoreError,
};
use serde::Serialize;

/// An export still open or prepared after its lease ran out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OverdueExport {
    /// The export.
    pub id: ExportId,
    /// The scope it updates.
    pub scope: ScopeName,
    /// Its state, open or prepared.
    pub state: ExportState,
    /// When its lease ended, in milliseconds since the Unix epoch.
    pub expires_at_ms: Millis,
}

/// Figures and findings of a data directory check.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DataDirReport {
    /// Objects verified, refs walked and integrity problems found.
    pub store: Report,
    /// Exports still open or prepared, whatever their lease.
    pub live_exports: usize,
    /// Live exports whose lease ended at or before the time of the check.
    pub overdue_exports: Vec<OverdueExport>,
}

impl DataDirReport {
    /// Reports whether no object or ref is damaged and no export is
    /// overdue.
    pub fn is_clean(&self) -> bool {
        self.store.is_clean() && self.overdue_exports.is_empty()
    }
}

/// Failures that stop a data directory check before it finishes.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// The directory contains no metadata database.
    #[error("{path} not found; expected the metadata database of a ferry server there")]
    NotADataDir {
        /// The database file that is missing.
        path: PathBuf,
    },
    /// The object store failed to open.
    #[error("cannot open the object store")]
    Objects(#[from] ObjectStoreError),
    /// The metadata database failed to open or to read.
    #[error("cannot read the metadata database")]
    Metadata(#[from] StoreError),
    /// Reading the export records failed.
    #[error("cannot read the export records")]
    Exports(#[from] ExportStoreError),
    /// The object and ref check failed to run.
    #[error("the integrity check failed to run")]
    Check(#[from] FsckError),
}

/// Checks the server data directory `data_dir`, treating `now_ms`
/// (milliseconds since the Unix epoch) as the current time for leases.
pub fn check_data_dir(data_dir: &Path, now_ms: Millis) -> Result<DataDirReport, DataDirError> {
    let db_path = data_dir.join("ferry.db");
    if !db_path.is_file() {
        return Err(DataDirError::NotADataDir { path: db_path });
    }
    let objects = FsObjectStore::open(data_dir.join("objects"))?;
    let db = Arc::new(SqliteStore::open(&db_path)?);
    let exports = SqliteExportStore::new(db.clone())?;

    let store = ferry_store::fsck::check(&objects, db.as_ref(), &[""])?;
    let live = exports.live_exports()?;
    let overdue_exports = live
        .iter()
        .filter(|record| record.expires_at <= now_ms)
        .map(|record| OverdueExport {
            id: record.id,
            scope: record.scope.clone(),
            state: record.state,
            expires_at_ms: record.expires_at,
        })
        .collect();
    Ok(DataDirReport {
        store,
        live_exports: live.len(),
        overdue_exports,
    })
}

//! The stores a server runs on, shared by every request.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ferry_store::exports::Millis;
use ferry_store::{
    ExportStore, FsObjectStore, MemoryExportStore, MemoryObjectStore, MemoryRefStore, ObjectStore,
    RefStore, SqliteExportStore, SqliteStore,
};

use crate::config::ServerConfig;
use crate::ServerError;

/// The three stores behind a server. Cloning is cheap.
#[derive(Clone)]
pub struct Stores {
    /// Object contents.
    pub objects: Arc<dyn ObjectStore>,
    /// Refs, in namespace `""`.
    pub refs: Arc<dyn RefStore>,
    /// Scopes and export sessions, committing into `refs`.
    pub exports: Arc<dyn ExportStore>,
}

impl Stores {
    /// Opens the embedded stores under `data_dir`: objects as files in
    /// `objects/` and metadata in the SQLite database `ferry.db`.
    pub fn open_embedded(data_dir: &std::path::Path) -> Result<Self, ServerError> {
        std::fs::create_dir_all(data_dir).map_err(|source| ServerError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let objects = FsObjectStore::open(data_dir.join("objects"))?;
        let db = Arc::new(SqliteStore::open(&data_dir.join("ferry.db"))?);
        let exports = SqliteExportStore::new(db.clone())?;
        Ok(Self {
            objects: Arc::new(objects),
            refs: db,
            exports: Arc::new(exports),
        })
    }

    /// Returns empty in-memory stores.
    pub fn in_memory() -> Self {
        let refs = Arc::new(MemoryRefStore::new());
        Self {
            objects: Arc::new(MemoryObjectStore::new()),
            exports: Arc::new(MemoryExportStore::new(refs.clone())),
            refs,
        }
    }
}

/// The shared state of every handler.
pub struct AppState {
    /// The stores.
    pub stores: Stores,
    /// The configuration the server started with.
    pub config: ServerConfig,
}

impl AppState {
    /// Returns the lease length in milliseconds.
    pub fn lease_ms(&self) -> Millis {
        millis(self.config.lease)
    }
}

/// Returns the current time in milliseconds since the Unix epoch.
pub fn now_ms() -> Millis {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    millis(since_epoch)
}

/// Converts a duration to milliseconds, saturating.
pub fn millis(duration: std::time::Duration) -> Millis {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

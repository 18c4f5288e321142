//! The journal of the export in flight, `.ferry/export-journal.json`.
//!
//! `ferry export` writes the journal once the server has opened the export,
//! before any object or ref update is sent, and removes it once the export
//! has an outcome. A process that dies or loses its connection in between
//! leaves the journal behind. It contains the idempotency key, so the next
//! `ferry export` reopens the same export on the server and either finishes
//! it or receives the outcome it already has, never starting a second one.
//!
//! The journal is written to a temporary file, synced and renamed into place
//! without replacing an existing file. Of two `ferry export` processes that
//! start together, only one journal lands and the other process stops. A
//! process that starts while another runs finds that journal and joins the
//! same export, which the server treats as a retry.
//! Removal first checks the key, so a process never removes a journal that
//! another process wrote.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ferry_client::{ExportRequest, RefPush};
use ferry_core::protocol::{ExportId, IdempotencyKey};
use ferry_core::{ObjectId, RefName, ScopeName};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// File name of the journal inside `.ferry`.
pub const FILE_NAME: &str = "export-journal.json";

/// Format version written into every journal.
const VERSION: u32 = 1;

/// An export that was opened and has no known outcome yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// Format version.
    pub version: u32,
    /// The remote's name.
    pub remote: String,
    /// The scope whose refs the export updates.
    pub scope: ScopeName,
    /// The key that reopens the same export.
    pub idempotency_key: IdempotencyKey,
    /// The export id the server minted.
    pub export_id: ExportId,
    /// The ref updates, as first requested.
    pub refs: Vec<JournalRef>,
    /// When the export started, in milliseconds since the Unix epoch.
    pub started_at_ms: i64,
}

/// One ref update of a journaled export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalRef {
    /// The ref.
    pub name: RefName,
    /// The local snap pushed.
    pub local: ObjectId,
    /// The value the remote was expected to hold.
    pub expected_remote: Option<ObjectId>,
}

impl Journal {
    /// Returns a journal for an export of `updates` that the server opened
    /// as `export_id` under `key`.
    pub fn new(
        remote: &str,
        scope: ScopeName,
        key: IdempotencyKey,
        export_id: ExportId,
        updates: &[RefPush],
    ) -> Self {
        let refs = updates
            .iter()
            .map(|update| JournalRef {
                name: update.name.clone(),
                local: update.local,
                expected_remote: update.expected_remote,
            })
            .collect();
        Self {
            version: VERSION,
            remote: remote.to_owned(),
            scope,
            idempotency_key: key,
            export_id,
            refs,
            started_at_ms: crate::workspace::now_ms(),
        }
    }

    /// Returns the export request that reopens this export.
    pub fn request(&self) -> ExportRequest {
        let updates = self
            .refs
            .iter()
            .map(|entry| RefPush {
                name: entry.name.clone(),
                local: entry.local,
                expected_remote: entry.expected_remote,
            })
            .collect();
        ExportRequest {
            remote_name: self.remote.clone(),
            scope: self.scope.clone(),
            updates,
            idempotency_key: Some(self.idempotency_key.clone()),
        }
    }
}

/// Returns the journal path inside the `.ferry` directory `ferry_dir`.
pub fn path_in(ferry_dir: &Path) -> PathBuf {
    ferry_dir.join(FILE_NAME)
}

/// Reads the journal at `path`, if there is one.
pub fn read(path: &Path) -> Result<Option<Journal>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(io_error(path, source)),
    };
    let journal: Journal = serde_json::from_str(&text).map_err(|error| {
        Error::InvalidState(format!("export journal {}: {error}", path.display()))
    })?;
    if journal.version != VERSION {
        return Err(Error::InvalidState(format!(
            "export journal {} has version {}, expected {VERSION}",
            path.display(),
            journal.version
        )));
    }
    Ok(Some(journal))
}

/// Writes `journal` to `path`, failing with [`Error::ExportRunning`] when a
/// journal exists there already.
pub fn create(path: &Path, journal: &Journal) -> Result<()> {
    let dir = path.parent().expect("the journal lies inside .ferry");
    let text = serde_json::to_vec_pretty(journal).expect("a journal always serializes");
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| io_error(dir, e))?;
    file.write_all(&text)
        .map_err(|e| io_error(file.path(), e))?;
    file.as_file().sync_all().map_err(|e| io_error(path, e))?;
    match file.persist_noclobber(path) {
        Ok(_) => sync_dir(dir),
        Err(error) if error.error.kind() == io::ErrorKind::AlreadyExists => {
            Err(Error::ExportRunning)
        }
        Err(error) => Err(io_error(path, error.error)),
    }
}

/// Removes the journal at `path` if it still belongs to the export opened
/// with `key`.
pub fn remove(path: &Path, key: &IdempotencyKey) -> Result<()> {
    let Some(journal) = read(path)? else {
        return Ok(());
    };
    if journal.idempotency_key != *key {
        return Ok(());
    }
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(io_error(path, source)),
    }
}

/// Makes a rename in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(|source| io_error(dir, source))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

fn io_error(path: &Path, source: io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> Journal {
        let update = RefPush {
            name: RefName::Main("acme/button".parse().expect("valid")),
            local: ObjectId::digest(b"snap"),
            expected_remote: None,
        };
        let id = "01890a5d-ac96-774b-bcce-b302099a8057"
            .parse()
            .expect("valid export id");
        Journal::new(
            "origin",
            "acme".parse().expect("valid"),
            IdempotencyKey::random(),
            id,
            &[update],
        )
    }

    #[test]
    fn journal_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = path_in(dir.path());
        let written = journal();
        create(&path, &written).expect("create");
        assert_eq!(read(&path).expect("read"), Some(written.clone()));
        let request = written.request();
        assert_eq!(request.updates.len(), 1);
        assert_eq!(request.idempotency_key, Some(written.idempotency_key));
    }

    #[test]
    fn create_never_replaces_a_journal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = path_in(dir.path());
        let first = journal();
        create(&path, &first).expect("create");
        let second = create(&path, &journal());
        assert!(matches!(second, Err(Error::ExportRunning)));
        assert_eq!(read(&path).expect("read"), Some(first));
    }

    #[test]
    fn remove_keeps_another_exports_journal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = path_in(dir.path());
        let written = journal();
        create(&path, &written).expect("create");
        remove(&path, &IdempotencyKey::random()).expect("remove");
        assert!(path.exists(), "a journal with another key must stay");
        remove(&path, &written.idempotency_key).expect("remove");
        assert!(!path.exists());
    }
}

//! Refs in SQLite.
//!
//! The database runs in WAL mode with `synchronous = FULL`, so a
//! transaction that returned from `COMMIT` survives a crash of the process
//! or of the machine. Every write transaction starts with `BEGIN
//! IMMEDIATE`, which takes SQLite's write lock before the first read: the
//! values a compare-and-swap checks cannot change before it writes, even
//! when several processes share the file. Within one process the single
//! connection sits behind a mutex, so calls from threads run one at a time;
//! each is a few indexed row operations.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use ferry_core::{ObjectId, RefName};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::{RefEdit, RefStore, RefUpdateError, StoreError};

/// How long a writer waits for another process's write lock, in
/// milliseconds, before failing with "database is locked".
const BUSY_TIMEOUT_MS: u64 = 30_000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS refs (
    namespace TEXT NOT NULL,
    name      TEXT NOT NULL,
    target    BLOB NOT NULL,
    PRIMARY KEY (namespace, name)
) WITHOUT ROWID;
";

/// A metadata store in one SQLite database file.
///
/// Other modules keep their own tables in the same file and change them in
/// the same transaction as refs through [`SqliteStore::with_transaction`].
#[derive(Debug)]
pub struct SqliteStore {
    connection: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens or creates the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let connection = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Self::configure(connection)
    }

    /// Opens a private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::configure(Connection::open_in_memory()?)
    }

    fn configure(connection: Connection) -> Result<Self, StoreError> {
        connection.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.execute_batch(SCHEMA)?;
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic inside a transaction drops it, which rolls it back, so the
        // connection is consistent even when the mutex was poisoned.
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `body` in one immediate write transaction and commits it if
    /// `body` succeeds; on error nothing it did is kept.
    pub fn with_transaction<R, E>(
        &self,
        body: impl FnOnce(&Transaction<'_>) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        let mut connection = self.lock();
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let result = body(&transaction)?;
        transaction.commit().map_err(StoreError::from)?;
        Ok(result)
    }

    /// Returns every namespace that contains at least one ref, sorted.
    pub fn namespaces(&self) -> Result<Vec<String>, StoreError> {
        let connection = self.lock();
        let mut statement =
            connection.prepare_cached("SELECT DISTINCT namespace FROM refs ORDER BY namespace")?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        let mut namespaces = Vec::new();
        for row in rows {
            namespaces.push(row?);
        }
        Ok(namespaces)
    }

    /// Runs `body` with the connection for reads outside a write transaction.
    pub fn with_connection<R, E>(
        &self,
        body: impl FnOnce(&Connection) -> Result<R, E>,
    ) -> Result<R, E> {
        body(&self.lock())
    }
}

/// Applies `edits` inside `transaction`; see [`RefStore::update_refs`]. On
/// error the caller must drop the transaction so nothing is kept.
pub fn update_refs_in(
    transaction: &Transaction<'_>,
    namespace: &str,
    edits: &[RefEdit],
) -> Result<(), RefUpdateError> {
    for edit in edits {
        let actual = get_ref_in(transaction, namespace, &edit.name)?;
        if actual != edit.expected {
            return Err(RefUpdateError::mismatch(
                edit.name.clone(),
                edit.expected,
                actual,
            ));
        }
        let key = edit.name.key();
        match edit.new {
            Some(new) => transaction.execute(
                "INSERT INTO refs (namespace, name, target) VALUES (?1, ?2, ?3)
                 ON CONFLICT (namespace, name) DO UPDATE SET target = excluded.target",
                params![namespace, key, new.as_bytes().as_slice()],
            ),
            None => transaction.execute(
                "DELETE FROM refs WHERE namespace = ?1 AND name = ?2",
                params![namespace, key],
            ),
        }
        .map_err(StoreError::from)?;
    }
    Ok(())
}

/// Reads one ref through `connection`, which may be inside a transaction.
pub fn get_ref_in(
    connection: &Connection,
    namespace: &str,
    name: &RefName,
) -> Result<Option<ObjectId>, StoreError> {
    let target: Option<Vec<u8>> = connection
        .query_row(
            "SELECT target FROM refs WHERE namespace = ?1 AND name = ?2",
            params![namespace, name.key()],
            |row| row.get(0),
        )
        .optional()?;
    target.map(|bytes| parse_target(&bytes)).transpose()
}

/// Lists refs through `connection`; see [`RefStore::list_refs`].
pub fn list_refs_in(
    connection: &Connection,
    namespace: &str,
    prefix: &str,
) -> Result<Vec<(RefName, ObjectId)>, StoreError> {
    let mut statement = connection.prepare_cached(
        "SELECT name, target FROM refs
         WHERE namespace = ?1 AND substr(name, 1, length(?2)) = ?2
         ORDER BY name",
    )?;
    let rows = statement.query_map(params![namespace, prefix], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
    })?;
    let mut refs = Vec::new();
    for row in rows {
        let (key, target) = row?;
        let name = key
            .parse()
            .map_err(|error| StoreError::Invalid(format!("{error}")))?;
        refs.push((name, parse_target(&target)?));
    }
    Ok(refs)
}

fn parse_target(bytes: &[u8]) -> Result<ObjectId, StoreError> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Invalid(format!("ref target of {} bytes", bytes.len())))?;
    Ok(ObjectId::from_bytes(array))
}

impl RefStore for SqliteStore {
    fn get_ref(&self, namespace: &str, name: &RefName) -> Result<Option<ObjectId>, StoreError> {
        get_ref_in(&self.lock(), namespace, name)
    }

    fn list_refs(
        &self,
        namespace: &str,
        prefix: &str,
    ) -> Result<Vec<(RefName, ObjectId)>, StoreError> {
        list_refs_in(&self.lock(), namespace, prefix)
    }

    fn update_refs(&self, namespace: &str, edits: &[RefEdit]) -> Result<(), RefUpdateError> {
        self.with_transaction(|transaction| update_refs_in(transaction, namespace, edits))
    }
}

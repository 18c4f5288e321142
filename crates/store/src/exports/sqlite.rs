//! Export sessions in the SQLite database that contains the refs.
//!
//! Each method runs in one `BEGIN IMMEDIATE` transaction of
//! [`SqliteStore::with_transaction`], so the state checks and the writes of
//! a method cannot interleave with another writer, in this process or in
//! another one sharing the file. A commit's ref edits go through
//! [`update_refs_in`] inside that same transaction, so the refs, the export
//! state and the stored outcome change together or not at all, and a crash
//! at any point leaves either all of them or none.

use std::sync::Arc;

use ferry_core::protocol::{ExportId, ExportState, IdempotencyKey};
use ferry_core::{ObjectId, ScopeName};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::{invalid_state, CommitAttempt, ExportRecord, ExportStore, ExportStoreError, Millis};
use crate::objects::ObjectStoreError;
use crate::refs::sqlite::update_refs_in;
use crate::refs::{RefEdit, RefUpdateError, SqliteStore, StoreError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scopes (
    name       TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS exports (
    id              TEXT PRIMARY KEY,
    scope           TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    state           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    plan            TEXT,
    outcome         TEXT
);
CREATE INDEX IF NOT EXISTS exports_by_state ON exports (state, expires_at);
CREATE TABLE IF NOT EXISTS export_objects (
    export_id TEXT NOT NULL,
    object_id BLOB NOT NULL,
    PRIMARY KEY (export_id, object_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS export_objects_by_object ON export_objects (object_id);
CREATE TABLE IF NOT EXISTS reachable_objects (
    object_id BLOB PRIMARY KEY
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS collecting (
    object_id BLOB PRIMARY KEY
) WITHOUT ROWID;
";

const RECORD_COLUMNS: &str =
    "id, scope, idempotency_key, state, created_at, expires_at, ended_at, plan, outcome";

/// Export sessions stored in the tables of a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteExportStore {
    db: Arc<SqliteStore>,
}

impl SqliteExportStore {
    /// Creates the export tables in `db` if they are missing.
    pub fn new(db: Arc<SqliteStore>) -> Result<Self, StoreError> {
        db.with_connection(|connection| connection.execute_batch(SCHEMA))?;
        Ok(Self { db })
    }

    /// Returns the database, whose refs the commits update.
    pub fn database(&self) -> &Arc<SqliteStore> {
        &self.db
    }
}

fn sql<T>(result: rusqlite::Result<T>) -> Result<T, ExportStoreError> {
    result.map_err(|error| StoreError::from(error).into())
}

fn invalid(what: impl std::fmt::Display) -> ExportStoreError {
    StoreError::Invalid(what.to_string()).into()
}

/// The columns of an `exports` row before parsing.
struct RawRecord {
    id: String,
    scope: String,
    key: Option<String>,
    state: String,
    created_at: i64,
    expires_at: i64,
    ended_at: Option<i64>,
    plan: Option<String>,
    outcome: Option<String>,
}

fn read_record(row: &Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok(RawRecord {
        id: row.get(0)?,
        scope: row.get(1)?,
        key: row.get(2)?,
        state: row.get(3)?,
        created_at: row.get(4)?,
        expires_at: row.get(5)?,
        ended_at: row.get(6)?,
        plan: row.get(7)?,
        outcome: row.get(8)?,
    })
}

/// Parses the text columns of an `exports` row into a record.
fn parse_record(raw: RawRecord) -> Result<ExportRecord, ExportStoreError> {
    Ok(ExportRecord {
        id: raw.id.parse().map_err(invalid)?,
        scope: raw.scope.parse().map_err(invalid)?,
        idempotency_key: raw.key.map(|k| k.parse()).transpose().map_err(invalid)?,
        state: raw.state.parse().map_err(invalid)?,
        created_at: raw.created_at,
        expires_at: raw.expires_at,
        ended_at: raw.ended_at,
        plan: raw.plan,
        outcome: raw.outcome,
    })
}

fn load(connection: &Connection, id: &ExportId) -> Result<Option<ExportRecord>, ExportStoreError> {
    let query = format!("SELECT {RECORD_COLUMNS} FROM exports WHERE id = ?1");
    let columns = sql(connection
        .query_row(&query, params![id.to_string()], read_record)
        .optional())?;
    columns.map(parse_record).transpose()
}

fn load_existing(connection: &Connection, id: &ExportId) -> Result<ExportRecord, ExportStoreError> {
    load(connection, id)?.ok_or(ExportStoreError::UnknownExport(*id))
}

fn load_by_key(
    connection: &Connection,
    key: &IdempotencyKey,
) -> Result<Option<ExportRecord>, ExportStoreError> {
    let query = format!("SELECT {RECORD_COLUMNS} FROM exports WHERE idempotency_key = ?1");
    let columns = sql(connection
        .query_row(&query, params![key.as_str()], read_record)
        .optional())?;
    columns.map(parse_record).transpose()
}

fn set_state(
    tx: &Transaction<'_>,
    id: &ExportId,
    state: ExportState,
    outcome: Option<&str>,
    now: Millis,
) -> Result<(), ExportStoreError> {
    let ended = (!state.is_live()).then_some(now);
    sql(tx.execute(
        "UPDATE exports SET state = ?2, ended_at = ?3, outcome = coalesce(?4, outcome)
         WHERE id = ?1",
        params![id.to_string(), state.as_str(), ended, outcome],
    ))?;
    Ok(())
}

/// Loads a live export, aborting it if its lease ran out. The inner error
/// is returned as a value so the caller's transaction still commits the
/// abort.
fn load_live(
    tx: &Transaction<'_>,
    id: &ExportId,
    now: Millis,
) -> Result<Result<ExportRecord, ExportStoreError>, ExportStoreError> {
    let record = load_existing(tx, id)?;
    if record.is_expired_at(now) {
        set_state(tx, id, ExportState::Aborted, None, now)?;
        return Ok(Err(ExportStoreError::Expired(*id)));
    }
    if !record.state.is_live() {
        return Ok(Err(invalid_state(id, record.state, "open or prepared")));
    }
    Ok(Ok(record))
}

fn ids_from_rows(
    statement: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<ObjectId>, ExportStoreError> {
    let rows = sql(statement.query_map(params, |row| row.get::<_, Vec<u8>>(0)))?;
    let mut ids = Vec::new();
    for row in rows {
        let bytes = sql(row)?;
        let array: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| invalid(format!("object id of {} bytes", bytes.len())))?;
        ids.push(ObjectId::from_bytes(array));
    }
    Ok(ids)
}

/// A commit that must roll back: either a failed compare-and-swap or an
/// error.
enum Rollback {
    Mismatch(Box<CommitAttempt>),
    Error(ExportStoreError),
}

impl From<StoreError> for Rollback {
    fn from(error: StoreError) -> Self {
        Rollback::Error(error.into())
    }
}

impl From<ExportStoreError> for Rollback {
    fn from(error: ExportStoreError) -> Self {
        Rollback::Error(error)
    }
}

fn commit_in(
    tx: &Transaction<'_>,
    id: &ExportId,
    edits: &[RefEdit],
    outcome: &str,
    now: Millis,
) -> Result<CommitAttempt, Rollback> {
    let record = load_existing(tx, id)?;
    if !record.state.is_live() {
        return Ok(CommitAttempt::Finished(record));
    }
    if record.is_expired_at(now) {
        // Returned as a value, so the abort below is kept.
        set_state(tx, id, ExportState::Aborted, None, now)?;
        return Ok(CommitAttempt::Finished(load_existing(tx, id)?));
    }
    if record.state != ExportState::Prepared {
        return Err(invalid_state(id, record.state, "prepared").into());
    }

    let mut statement = sql(tx.prepare_cached(
        "SELECT e.object_id FROM export_objects e JOIN collecting c USING (object_id)
         WHERE e.export_id = ?1",
    ))?;
    let collected = ids_from_rows(&mut statement, params![id.to_string()])?;
    if !collected.is_empty() {
        return Ok(CommitAttempt::Collected(collected));
    }

    update_refs_in(tx, "", edits).map_err(|error| match error {
        RefUpdateError::Mismatch(mismatch) => {
            Rollback::Mismatch(Box::new(CommitAttempt::Mismatch {
                name: mismatch.name,
                expected: mismatch.expected,
                actual: mismatch.actual,
            }))
        }
        RefUpdateError::Store(error) => Rollback::from(error),
    })?;
    sql(tx.execute(
        "INSERT OR IGNORE INTO reachable_objects (object_id)
         SELECT object_id FROM export_objects WHERE export_id = ?1",
        params![id.to_string()],
    ))?;
    sql(tx.execute(
        "DELETE FROM export_objects WHERE export_id = ?1",
        params![id.to_string()],
    ))?;
    set_state(tx, id, ExportState::Committed, Some(outcome), now)?;
    Ok(CommitAttempt::Applied)
}

const CANDIDATES: &str = "
INSERT OR IGNORE INTO collecting (object_id)
SELECT DISTINCT o.object_id
FROM export_objects o JOIN exports e ON e.id = o.export_id
WHERE e.state = 'aborted' AND e.ended_at < ?1
  AND o.object_id NOT IN (SELECT object_id FROM reachable_objects)
  AND o.object_id NOT IN (
      SELECT l.object_id FROM export_objects l JOIN exports x ON x.id = l.export_id
      WHERE x.state IN ('open', 'prepared'))";

const FORGET_DEAD: &str = "
DELETE FROM export_objects WHERE export_id IN (
    SELECT id FROM exports WHERE state = 'aborted' AND ended_at < ?1)";

impl ExportStore for SqliteExportStore {
    fn create_scope(&self, scope: &ScopeName, now: Millis) -> Result<(), ExportStoreError> {
        self.db.with_transaction(|tx| {
            let inserted = sql(tx.execute(
                "INSERT OR IGNORE INTO scopes (name, created_at) VALUES (?1, ?2)",
                params![scope.as_str(), now],
            ))?;
            if inserted == 0 {
                return Err(ExportStoreError::ScopeExists(scope.clone()));
            }
            Ok(())
        })
    }

    fn list_scopes(&self) -> Result<Vec<ScopeName>, ExportStoreError> {
        self.db.with_connection(|connection| {
            let mut statement = sql(connection.prepare("SELECT name FROM scopes ORDER BY name"))?;
            let rows = sql(statement.query_map([], |row| row.get::<_, String>(0)))?;
            let mut scopes = Vec::new();
            for row in rows {
                scopes.push(sql(row)?.parse().map_err(invalid)?);
            }
            Ok(scopes)
        })
    }

    fn scope_exists(&self, scope: &ScopeName) -> Result<bool, ExportStoreError> {
        self.db.with_connection(|connection| {
            let found = sql(connection
                .query_row(
                    "SELECT 1 FROM scopes WHERE name = ?1",
                    params![scope.as_str()],
                    |_| Ok(()),
                )
                .optional())?;
            Ok(found.is_some())
        })
    }

    fn open_export(
        &self,
        scope: &ScopeName,
        key: Option<&IdempotencyKey>,
        now: Millis,
        lease: Millis,
    ) -> Result<(ExportRecord, bool), ExportStoreError> {
        self.db.with_transaction(|tx| {
            if let Some(existing) = key.map(|key| load_by_key(tx, key)).transpose()?.flatten() {
                if existing.scope != *scope {
                    return Err(ExportStoreError::KeyReused {
                        key: key.map(|k| k.as_str().to_owned()).unwrap_or_default(),
                        export: existing.id,
                        scope: existing.scope,
                    });
                }
                return Ok((existing, false));
            }
            let known = sql(tx
                .query_row(
                    "SELECT 1 FROM scopes WHERE name = ?1",
                    params![scope.as_str()],
                    |_| Ok(()),
                )
                .optional())?;
            if known.is_none() {
                return Err(ExportStoreError::UnknownScope(scope.clone()));
            }
            let id = ExportId::mint();
            sql(tx.execute(
                "INSERT INTO exports (id, scope, idempotency_key, state, created_at, expires_at)
                 VALUES (?1, ?2, ?3, 'open', ?4, ?5)",
                params![
                    id.to_string(),
                    scope.as_str(),
                    key.map(|k| k.as_str()),
                    now,
                    now + lease
                ],
            ))?;
            Ok((load_existing(tx, &id)?, true))
        })
    }

    fn get_export(&self, id: &ExportId) -> Result<Option<ExportRecord>, ExportStoreError> {
        self.db.with_connection(|connection| load(connection, id))
    }

    fn live_exports(&self) -> Result<Vec<ExportRecord>, ExportStoreError> {
        self.db.with_connection(|connection| {
            let query = format!(
                "SELECT {RECORD_COLUMNS} FROM exports
                 WHERE state IN ('open', 'prepared') ORDER BY id"
            );
            let mut statement = sql(connection.prepare(&query))?;
            let rows = sql(statement.query_map([], read_record))?;
            let mut records = Vec::new();
            for row in rows {
                records.push(parse_record(sql(row)?)?);
            }
            Ok(records)
        })
    }

    fn record_objects(
        &self,
        id: &ExportId,
        objects: &[ObjectId],
        now: Millis,
        lease: Millis,
    ) -> Result<Vec<ObjectId>, ExportStoreError> {
        self.db
            .with_transaction(|tx| {
                if let Err(error) = load_live(tx, id, now)? {
                    return Ok(Err(error));
                }
                let mut insert = sql(tx.prepare_cached(
                    "INSERT OR IGNORE INTO export_objects (export_id, object_id) VALUES (?1, ?2)",
                ))?;
                let mut check =
                    sql(tx.prepare_cached("SELECT 1 FROM collecting WHERE object_id = ?1"))?;
                let mut collected = Vec::new();
                for object in objects {
                    let bytes = object.as_bytes().as_slice();
                    sql(insert.execute(params![id.to_string(), bytes]))?;
                    if sql(check.exists(params![bytes]))? {
                        collected.push(*object);
                    }
                }
                sql(tx.execute(
                    "UPDATE exports SET expires_at = ?2 WHERE id = ?1",
                    params![id.to_string(), now + lease],
                ))?;
                Ok(Ok(collected))
            })
            .and_then(|result| result)
    }

    fn recorded_objects(&self, id: &ExportId) -> Result<Vec<ObjectId>, ExportStoreError> {
        self.db.with_connection(|connection| {
            let mut statement = sql(connection
                .prepare_cached("SELECT object_id FROM export_objects WHERE export_id = ?1"))?;
            ids_from_rows(&mut statement, params![id.to_string()])
        })
    }

    fn reachable_among(&self, objects: &[ObjectId]) -> Result<Vec<ObjectId>, ExportStoreError> {
        self.db.with_connection(|connection| {
            let mut check =
                sql(connection
                    .prepare_cached("SELECT 1 FROM reachable_objects WHERE object_id = ?1"))?;
            let mut reachable = Vec::new();
            for object in objects {
                if sql(check.exists(params![object.as_bytes().as_slice()]))? {
                    reachable.push(*object);
                }
            }
            Ok(reachable)
        })
    }

    fn set_prepared(
        &self,
        id: &ExportId,
        plan: &str,
        now: Millis,
        lease: Millis,
    ) -> Result<(), ExportStoreError> {
        self.db
            .with_transaction(|tx| {
                if let Err(error) = load_live(tx, id, now)? {
                    return Ok(Err(error));
                }
                sql(tx.execute(
                    "UPDATE exports SET state = 'prepared', plan = ?2, expires_at = ?3
                     WHERE id = ?1",
                    params![id.to_string(), plan, now + lease],
                ))?;
                Ok(Ok(()))
            })
            .and_then(|result| result)
    }

    fn commit(
        &self,
        id: &ExportId,
        edits: &[RefEdit],
        outcome: &str,
        now: Millis,
    ) -> Result<CommitAttempt, ExportStoreError> {
        match self
            .db
            .with_transaction(|tx| commit_in(tx, id, edits, outcome, now))
        {
            Ok(attempt) => Ok(attempt),
            Err(Rollback::Mismatch(attempt)) => Ok(*attempt),
            Err(Rollback::Error(error)) => Err(error),
        }
    }

    fn finish_aborted(
        &self,
        id: &ExportId,
        outcome: Option<&str>,
        now: Millis,
    ) -> Result<ExportRecord, ExportStoreError> {
        self.db.with_transaction(|tx| {
            let record = load_existing(tx, id)?;
            if !record.state.is_live() {
                return Ok(record);
            }
            set_state(tx, id, ExportState::Aborted, outcome, now)?;
            load_existing(tx, id)
        })
    }

    fn expire(&self, now: Millis) -> Result<Vec<ExportId>, ExportStoreError> {
        self.db.with_transaction(|tx| {
            let mut statement = sql(tx.prepare(
                "UPDATE exports SET state = 'aborted', ended_at = ?1
                 WHERE state IN ('open', 'prepared') AND expires_at <= ?1
                 RETURNING id",
            ))?;
            let rows = sql(statement.query_map(params![now], |row| row.get::<_, String>(0)))?;
            let mut ids = Vec::new();
            for row in rows {
                ids.push(sql(row)?.parse().map_err(invalid)?);
            }
            Ok(ids)
        })
    }

    fn begin_collection(&self, ended_before: Millis) -> Result<Vec<ObjectId>, ExportStoreError> {
        self.db.with_transaction(|tx| {
            sql(tx.execute(CANDIDATES, params![ended_before]))?;
            sql(tx.execute(FORGET_DEAD, params![ended_before]))?;
            let mut statement = sql(tx.prepare("SELECT object_id FROM collecting"))?;
            ids_from_rows(&mut statement, [])
        })
    }

    fn end_collection(&self, objects: &[ObjectId]) -> Result<(), ExportStoreError> {
        self.db.with_transaction(|tx| {
            let mut delete = sql(tx.prepare_cached("DELETE FROM collecting WHERE object_id = ?1"))?;
            for object in objects {
                sql(delete.execute(params![object.as_bytes().as_slice()]))?;
            }
            Ok(())
        })
    }

    fn remove_collected(
        &self,
        objects: &[ObjectId],
        remove: &mut dyn FnMut(&ObjectId) -> Result<(), ObjectStoreError>,
    ) -> Result<usize, ExportStoreError> {
        self.db.with_transaction(|tx| {
            let mut check =
                sql(tx.prepare_cached("SELECT 1 FROM collecting WHERE object_id = ?1"))?;
            let mut delete = sql(tx.prepare_cached("DELETE FROM collecting WHERE object_id = ?1"))?;
            let mut removed = 0;
            for object in objects {
                let bytes = object.as_bytes().as_slice();
                if !sql(check.exists(params![bytes]))? {
                    continue;
                }
                remove(object).map_err(|source| ExportStoreError::Removal {
                    id: *object,
                    source: Box::new(source),
                })?;
                sql(delete.execute(params![bytes]))?;
                removed += 1;
            }
            Ok(removed)
        })
    }
}

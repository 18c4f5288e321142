//! The workspace's own tables in `.ferry/ferry.db`.
//!
//! They live in the same SQLite file as the refs, so a snap can move a head
//! and record the component's new base snap and stat cache in one
//! transaction: after a crash either all of it happened or none did. The
//! functions here take a plain connection, so callers choose whether they
//! run inside a write transaction. Table names start with `ws_` to stay
//! clear of the store's own tables.

use ferry_core::{ComponentId, FilePath, LaneId, ObjectId};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, Result};

/// Schema version stored in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 3;

/// The first schema version whose stat cache records the ctime. Older
/// caches are dropped on open; they only cost a rehash.
const STAT_CACHE_CTIME_VERSION: i64 = 3;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ws_components (
    id   TEXT PRIMARY KEY,
    dir  TEXT NOT NULL UNIQUE,
    base BLOB
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ws_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ws_lanes (
    id         TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ws_remotes (
    name TEXT PRIMARY KEY,
    url  TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ws_stat_cache (
    component TEXT NOT NULL,
    path      TEXT NOT NULL,
    size      INTEGER NOT NULL,
    mtime_ns  INTEGER NOT NULL,
    ctime_ns  INTEGER NOT NULL,
    inode     INTEGER NOT NULL,
    mode      INTEGER NOT NULL,
    blob      BLOB NOT NULL,
    PRIMARY KEY (component, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ws_pending_merges (
    component TEXT PRIMARY KEY,
    head_ref  TEXT NOT NULL,
    ours      BLOB NOT NULL,
    theirs    BLOB NOT NULL,
    remote    TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ws_pending_conflicts (
    component TEXT NOT NULL,
    path      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    PRIMARY KEY (component, path)
) WITHOUT ROWID;
";

/// Setting key of the lane the workspace is on; absent means main.
pub const CURRENT_LANE: &str = "current.lane";

/// A component tracked by the workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackedComponent {
    /// The component id.
    pub id: ComponentId,
    /// Its directory relative to the workspace root.
    pub dir: FilePath,
    /// The snap the directory was last snapped at or checked out to.
    pub base: Option<ObjectId>,
}

/// Creates the tables if they are missing and rejects a database written by
/// a newer ferry.
pub fn init_schema(connection: &Connection) -> Result<()> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Error::InvalidState(format!(
            "schema version {version} is newer than this ferry supports ({SCHEMA_VERSION})"
        )));
    }
    if version < STAT_CACHE_CTIME_VERSION {
        connection.execute_batch("DROP TABLE IF EXISTS ws_stat_cache")?;
    }
    connection.execute_batch(SCHEMA)?;
    connection.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(())
}

/// Returns every tracked component, sorted by id.
pub fn list_components(connection: &Connection) -> Result<Vec<TrackedComponent>> {
    let mut statement =
        connection.prepare_cached("SELECT id, dir, base FROM ws_components ORDER BY id")?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, Option<Vec<u8>>>(2)?,
        ))
    })?;
    let mut components = Vec::new();
    for row in rows {
        let (id, dir, base) = row?;
        components.push(TrackedComponent {
            id: parse_stored(&id)?,
            dir: parse_stored(&dir)?,
            base: base.map(|bytes| id_from_bytes(&bytes)).transpose()?,
        });
    }
    Ok(components)
}

/// Starts tracking `component`.
pub fn insert_component(connection: &Connection, component: &TrackedComponent) -> Result<()> {
    connection.execute(
        "INSERT INTO ws_components (id, dir, base) VALUES (?1, ?2, ?3)",
        params![
            component.id.as_str(),
            component.dir.as_str(),
            component.base.map(|id| id.as_bytes().to_vec()),
        ],
    )?;
    Ok(())
}

/// Records the snap that the directory of `id` now matches.
pub fn set_base(connection: &Connection, id: &ComponentId, base: ObjectId) -> Result<()> {
    connection.execute(
        "UPDATE ws_components SET base = ?2 WHERE id = ?1",
        params![id.as_str(), base.as_bytes().as_slice()],
    )?;
    Ok(())
}

/// Returns the value of setting `key`.
pub fn get_setting(connection: &Connection, key: &str) -> Result<Option<String>> {
    let value = connection
        .query_row(
            "SELECT value FROM ws_settings WHERE key = ?1",
            params![key],
            |row| row.get(0),
        )
        .optional()?;
    Ok(value)
}

/// Sets `key` to `value`, or removes it when `value` is `None`.
pub fn set_setting(connection: &Connection, key: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(value) => connection.execute(
            "INSERT INTO ws_settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?,
        None => connection.execute("DELETE FROM ws_settings WHERE key = ?1", params![key])?,
    };
    Ok(())
}

/// Returns the lane the workspace is on, or `None` for main.
pub fn current_lane(connection: &Connection) -> Result<Option<LaneId>> {
    get_setting(connection, CURRENT_LANE)?
        .map(|text| parse_stored(&text))
        .transpose()
}

/// Returns every lane created in this workspace, sorted by id.
pub fn list_lanes(connection: &Connection) -> Result<Vec<LaneId>> {
    let mut statement = connection.prepare_cached("SELECT id FROM ws_lanes ORDER BY id")?;
    let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
    let mut lanes = Vec::new();
    for row in rows {
        lanes.push(parse_stored(&row?)?);
    }
    Ok(lanes)
}

/// Records a new lane; fails if it exists.
pub fn insert_lane(connection: &Connection, lane: &LaneId, created_ms: i64) -> Result<()> {
    connection.execute(
        "INSERT INTO ws_lanes (id, created_ms) VALUES (?1, ?2)",
        params![lane.as_str(), created_ms],
    )?;
    Ok(())
}

/// Returns every remote as (name, URL), sorted by name.
pub fn list_remotes(connection: &Connection) -> Result<Vec<(String, String)>> {
    let mut statement =
        connection.prepare_cached("SELECT name, url FROM ws_remotes ORDER BY name")?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Returns the URL of remote `name`.
pub fn get_remote(connection: &Connection, name: &str) -> Result<Option<String>> {
    let url = connection
        .query_row(
            "SELECT url FROM ws_remotes WHERE name = ?1",
            params![name],
            |row| row.get(0),
        )
        .optional()?;
    Ok(url)
}

/// Adds remote `name`.
pub fn insert_remote(connection: &Connection, name: &str, url: &str) -> Result<()> {
    connection.execute(
        "INSERT INTO ws_remotes (name, url) VALUES (?1, ?2)",
        params![name, url],
    )?;
    Ok(())
}

/// Removes remote `name`.
pub fn delete_remote(connection: &Connection, name: &str) -> Result<()> {
    connection.execute("DELETE FROM ws_remotes WHERE name = ?1", params![name])?;
    Ok(())
}

/// Parses a value this module wrote, reporting a damaged database if it no
/// longer parses.
pub(crate) fn parse_stored<T>(text: &str) -> Result<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|error| Error::InvalidState(format!("{text:?}: {error}")))
}

/// Converts a stored 32-byte id.
pub(crate) fn id_from_bytes(bytes: &[u8]) -> Result<ObjectId> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| Error::InvalidState(format!("object id of {} bytes", bytes.len())))?;
    Ok(ObjectId::from_bytes(array))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database() -> Connection {
        let connection = Connection::open_in_memory().expect("in-memory database");
        init_schema(&connection).expect("schema");
        connection
    }

    #[test]
    fn components_round_trip() {
        let connection = database();
        let component = TrackedComponent {
            id: "mui/Button".parse().expect("valid"),
            dir: "package/Button".parse().expect("valid"),
            base: None,
        };
        insert_component(&connection, &component).expect("insert");
        let base = ObjectId::digest(b"snap");
        set_base(&connection, &component.id, base).expect("set base");
        let listed = list_components(&connection).expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].dir, component.dir);
        assert_eq!(listed[0].base, Some(base));
    }

    #[test]
    fn settings_set_and_unset() {
        let connection = database();
        set_setting(&connection, "user.name", Some("Ada")).expect("set");
        assert_eq!(
            get_setting(&connection, "user.name").expect("get"),
            Some("Ada".to_owned())
        );
        set_setting(&connection, "user.name", None).expect("unset");
        assert_eq!(get_setting(&connection, "user.name").expect("get"), None);
    }

    #[test]
    fn schema_from_newer_ferry_is_rejected() {
        let connection = database();
        connection
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("pragma");
        assert!(matches!(
            init_schema(&connection),
            Err(Error::InvalidState(_))
        ));
    }

    #[test]
    fn stat_cache_without_ctime_is_replaced() {
        let connection = Connection::open_in_memory().expect("database");
        connection
            .execute_batch(
                "CREATE TABLE ws_stat_cache (component TEXT, path TEXT, size INTEGER,
                 mtime_ns INTEGER, inode INTEGER, mode INTEGER, blob BLOB,
                 PRIMARY KEY (component, path)) WITHOUT ROWID;
                 INSERT INTO ws_stat_cache VALUES ('mui/Button', 'a.js', 1, 2, 3, 0, x'00');
                 PRAGMA user_version = 2;",
            )
            .expect("old schema");
        init_schema(&connection).expect("upgrade");
        let rows: i64 = connection
            .query_row(
                "SELECT count(*) FROM ws_stat_cache WHERE ctime_ns >= 0",
                [],
                |row| row.get(0),
            )
            .expect("ctime column exists");
        assert_eq!(rows, 0, "old entries are dropped");
    }
}

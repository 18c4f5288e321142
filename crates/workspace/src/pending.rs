//! Pending merges: a merge that stopped on conflicts and waits for a
//! person to resolve them in the work tree.
//!
//! `ferry merge --write-conflicts` writes the merged files, with conflict
//! markers where the sides clash, and records here which snaps it merged.
//! It changes no ref. The next `ferry snap` of the component records a
//! snap with both snaps as parents. The transaction that moves the head
//! also removes the record, so a crash leaves either the record and the
//! old head, or the merge snap and no record. `ferry merge --abort`
//! removes the record and restores the head's files.

use ferry_core::merge::ConflictKind;
use ferry_core::{ComponentId, FilePath, ObjectId, RefName};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::checkout::CheckoutReport;
use crate::error::{Error, Result};
use crate::meta::{id_from_bytes, parse_stored};
use crate::workspace::Workspace;

/// A merge waiting for its conflicts to be resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PendingMerge {
    /// The component.
    pub component: ComponentId,
    /// The head ref the merge snap will move.
    pub head: RefName,
    /// The local head when the merge started: the first parent.
    pub ours: ObjectId,
    /// The remote head merged in: the second parent.
    pub theirs: ObjectId,
    /// The remote `theirs` came from.
    pub remote: String,
    /// The paths that conflicted, sorted by path.
    pub conflicts: Vec<PendingConflict>,
}

/// A path of a pending merge that conflicted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PendingConflict {
    /// The path relative to the component directory.
    pub path: FilePath,
    /// The kind of conflict.
    pub kind: ConflictKind,
}

impl Workspace {
    /// Returns the pending merge of every component in `names` (all
    /// components when empty) that has one.
    pub fn pending_merges(&self, names: &[String]) -> Result<Vec<PendingMerge>> {
        let mut found = Vec::new();
        for component in self.select_components(names)? {
            if let Some(merge) = self.read(|c| get(c, &component.id))? {
                found.push(merge);
            }
        }
        Ok(found)
    }

    /// Abandons the pending merge of every component in `names` (all
    /// components when empty): restores each directory to the snap the
    /// merge started from, discarding its changes, and removes the record.
    pub fn merge_abort(&self, names: &[String]) -> Result<Vec<CheckoutReport>> {
        let merges = self.pending_merges(names)?;
        let components = self
            .select_components(names)?
            .into_iter()
            .filter(|c| merges.iter().any(|m| m.component == c.id))
            .collect();
        let examined = self.examine(components, None)?;
        let mut restored = Vec::with_capacity(merges.len());
        for (merge, item) in merges.iter().zip(&examined) {
            restored.push(self.checkout_examined(item, merge.ours)?);
            self.write(|tx| delete(tx, &merge.component))?;
        }
        Ok(restored)
    }
}

/// Stores `merge`, replacing any earlier record for its component.
pub fn insert(connection: &Connection, merge: &PendingMerge) -> Result<()> {
    delete(connection, &merge.component)?;
    connection.execute(
        "INSERT INTO ws_pending_merges (component, head_ref, ours, theirs, remote)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            merge.component.as_str(),
            merge.head.key(),
            merge.ours.as_bytes().as_slice(),
            merge.theirs.as_bytes().as_slice(),
            merge.remote,
        ],
    )?;
    for conflict in &merge.conflicts {
        connection.execute(
            "INSERT INTO ws_pending_conflicts (component, path, kind) VALUES (?1, ?2, ?3)",
            params![
                merge.component.as_str(),
                conflict.path.as_str(),
                conflict.kind.as_str()
            ],
        )?;
    }
    Ok(())
}

/// Removes the pending merge of `component`, if there is one.
pub fn delete(connection: &Connection, component: &ComponentId) -> Result<()> {
    let id = component.as_str();
    connection.execute(
        "DELETE FROM ws_pending_merges WHERE component = ?1",
        params![id],
    )?;
    connection.execute(
        "DELETE FROM ws_pending_conflicts WHERE component = ?1",
        params![id],
    )?;
    Ok(())
}

/// Returns the pending merge of `component`, if there is one.
pub fn get(connection: &Connection, component: &ComponentId) -> Result<Option<PendingMerge>> {
    let row = connection
        .query_row(
            "SELECT head_ref, ours, theirs, remote FROM ws_pending_merges
             WHERE component = ?1",
            params![component.as_str()],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Vec<u8>>(1)?,
                    row.get::<_, Vec<u8>>(2)?,
                    row.get::<_, String>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((head, ours, theirs, remote)) = row else {
        return Ok(None);
    };
    Ok(Some(PendingMerge {
        component: component.clone(),
        head: parse_stored(&head)?,
        ours: id_from_bytes(&ours)?,
        theirs: id_from_bytes(&theirs)?,
        remote,
        conflicts: conflicts(connection, component)?,
    }))
}

fn conflicts(connection: &Connection, component: &ComponentId) -> Result<Vec<PendingConflict>> {
    let mut statement = connection.prepare_cached(
        "SELECT path, kind FROM ws_pending_conflicts WHERE component = ?1 ORDER BY path",
    )?;
    let rows = statement.query_map(params![component.as_str()], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let mut found = Vec::new();
    for row in rows {
        let (path, kind) = row?;
        found.push(PendingConflict {
            path: parse_stored(&path)?,
            kind: parse_stored(&kind)?,
        });
    }
    Ok(found)
}

/// Reports whether `bytes` still contains a conflict marker line: one that
/// starts with seven `<` or seven `>`, as merge tools write them.
pub fn has_conflict_markers(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .any(|line| line.starts_with(b"<<<<<<<") || line.starts_with(b">>>>>>>"))
}

/// Fails with [`Error::ConflictMarkers`] when a content-conflict path of
/// `merge` still contains conflict markers in `dir`.
pub(crate) fn reject_markers(merge: &PendingMerge, dir: &std::path::Path) -> Result<()> {
    for conflict in &merge.conflicts {
        if conflict.kind != ConflictKind::Content {
            continue;
        }
        let file = conflict.path.under(dir);
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(Error::Io { path: file, source }),
        };
        if has_conflict_markers(&bytes) {
            return Err(Error::ConflictMarkers {
                component: merge.component.clone(),
                path: conflict.path.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::init_schema;

    fn database() -> Connection {
        let connection = Connection::open_in_memory().expect("in-memory database");
        init_schema(&connection).expect("schema");
        connection
    }

    fn sample() -> PendingMerge {
        let component: ComponentId = "acme/button".parse().expect("valid");
        PendingMerge {
            head: RefName::Main(component.clone()),
            component,
            ours: ObjectId::digest(b"ours"),
            theirs: ObjectId::digest(b"theirs"),
            remote: "origin".into(),
            conflicts: vec![
                PendingConflict {
                    path: "a.js".parse().expect("valid"),
                    kind: ConflictKind::Content,
                },
                PendingConflict {
                    path: "logo.png".parse().expect("valid"),
                    kind: ConflictKind::Binary,
                },
            ],
        }
    }

    #[test]
    fn pending_merge_round_trips() {
        let connection = database();
        let merge = sample();
        insert(&connection, &merge).expect("insert");
        let read = get(&connection, &merge.component).expect("get");
        assert_eq!(read, Some(merge));
    }

    #[test]
    fn pending_merge_insert_replaces_and_delete_removes() {
        let connection = database();
        let mut merge = sample();
        insert(&connection, &merge).expect("insert");
        merge.conflicts.truncate(1);
        merge.theirs = ObjectId::digest(b"newer");
        insert(&connection, &merge).expect("insert again");
        let read = get(&connection, &merge.component).expect("get");
        assert_eq!(read.as_ref(), Some(&merge));

        delete(&connection, &merge.component).expect("delete");
        assert_eq!(get(&connection, &merge.component).expect("get"), None);
    }

    #[test]
    fn markers_found_only_at_line_start() {
        assert!(has_conflict_markers(
            b"a\n<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\n"
        ));
        assert!(has_conflict_markers(b">>>>>>> theirs"));
        assert!(!has_conflict_markers(b"a << b\n// <<<<<<< in a comment\n"));
        assert!(!has_conflict_markers(b"=======\n"));
    }
}

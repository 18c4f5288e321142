//! The closure check of prepare: every object a new head needs is stored.
//!
//! The walk starts at each new head and stops at snaps that a committed
//! export made reachable, because the closure of such a snap was checked
//! when it was committed. Every snap it visits must decode, belong to the
//! ref's component and carry the generation its parents imply; every
//! parent and blob must be stored. The ids it visits are the export's new
//! objects, which prepare records before checking their presence again, so
//! collection cannot remove one between this check and the commit.

use std::collections::{HashMap, HashSet};

use ferry_core::ancestry::SnapGraph;
use ferry_core::protocol::RejectionCode;
use ferry_core::{ComponentId, FilePath, ObjectId, Snap};

use crate::error::ApiError;
use crate::graph::{GraphError, StoreGraph};
use crate::state::AppState;

/// The new part of the closure of some heads.
#[derive(Debug, Default)]
pub struct Closure {
    /// Snaps and blobs not yet reachable from any ref, snaps first in walk
    /// order.
    pub objects: Vec<ObjectId>,
    /// For each blob, a snap and path that name it, for messages.
    blob_users: HashMap<ObjectId, (ObjectId, FilePath)>,
}

impl Closure {
    /// Checks that every blob of the closure is stored.
    ///
    /// NOTE: presence only: a file entry naming a stored snap instead of a
    /// blob passes, because checking the kind means reading every blob.
    pub fn check_blobs_present(&self, app: &AppState) -> Result<(), ApiError> {
        for (blob, (snap, path)) in &self.blob_users {
            if !app.stores.objects.contains(blob)? {
                return Err(incomplete(format!(
                    "blob {blob} of file {path} in snap {snap} is missing"
                )));
            }
        }
        Ok(())
    }
}

fn incomplete(message: String) -> ApiError {
    ApiError::new(RejectionCode::IncompleteClosure, message)
        .with_hint("upload every object of the new snaps before prepare; run the export again")
}

fn invalid_snap(message: String) -> ApiError {
    ApiError::new(RejectionCode::InvalidSnap, message)
}

/// Walks the new part of the closure of `heads`, each a snap and the
/// component its ref names.
pub fn walk(
    app: &AppState,
    graph: &StoreGraph<'_>,
    heads: &[(ObjectId, ComponentId)],
) -> Result<Closure, ApiError> {
    let mut closure = Closure::default();
    let mut seen = HashSet::new();
    let mut stack: Vec<(ObjectId, &ComponentId, Option<ObjectId>)> =
        heads.iter().map(|(id, c)| (*id, c, None)).collect();

    while let Some((id, component, child)) = stack.pop() {
        if !seen.insert(id) || !app.stores.exports.reachable_among(&[id])?.is_empty() {
            continue;
        }
        let snap = read_snap(graph, id, child)?;
        if snap.component != *component {
            return Err(invalid_snap(format!(
                "snap {id} is a version of {}, not of {component}",
                snap.component
            )));
        }
        check_generation(graph, id, &snap)?;
        closure.objects.push(id);
        for file in &snap.files {
            closure
                .blob_users
                .entry(file.blob)
                .or_insert_with(|| (id, file.path.clone()));
        }
        stack.extend(
            snap.parents
                .iter()
                .map(|parent| (*parent, component, Some(id))),
        );
    }
    closure.objects.extend(closure.blob_users.keys().copied());
    Ok(closure)
}

fn read_snap(
    graph: &StoreGraph<'_>,
    id: ObjectId,
    child: Option<ObjectId>,
) -> Result<Snap, ApiError> {
    graph
        .snap(&id)
        .map_err(|error| lookup_error(error, id, child))
}

fn lookup_error(error: GraphError, id: ObjectId, child: Option<ObjectId>) -> ApiError {
    let named = match child {
        Some(child) => format!("snap {id}, a parent of snap {child},"),
        None => format!("snap {id}"),
    };
    match error {
        GraphError::Missing(_) => incomplete(format!("{named} is missing")),
        GraphError::NotSnap(_) => invalid_snap(format!("{named} is a blob, not a snap")),
        GraphError::Store(source) => ApiError::from(source),
    }
}

fn check_generation(graph: &StoreGraph<'_>, id: ObjectId, snap: &Snap) -> Result<(), ApiError> {
    let mut generations = Vec::with_capacity(snap.parents.len());
    for parent in &snap.parents {
        let node = graph
            .node(parent)
            .map_err(|error| lookup_error(error, *parent, Some(id)))?;
        generations.push(node.generation);
    }
    let expected = Snap::generation_after(generations);
    if snap.generation != expected {
        return Err(invalid_snap(format!(
            "snap {id} has generation {}, but its parents imply {expected}",
            snap.generation
        )));
    }
    Ok(())
}

//! Opening a workspace and reading its state.
//!
//! A workspace is a directory holding `.ferry/`, with the object store in
//! `.ferry/objects` and refs plus the workspace tables in `.ferry/ferry.db`.
//! Commands write objects first, flush them, and only then change refs and
//! tables in one SQLite transaction, so a crash leaves at most unreferenced
//! objects behind and never a ref pointing at a missing object. Several
//! ferry processes may share a workspace: SQLite serialises the
//! transactions and every head move is a compare-and-swap, so a head moved
//! by another process makes the slower command fail instead of losing the
//! other's snap.

use std::fs;
use std::path::{Path, PathBuf};

use ferry_core::ancestry::{SnapGraph, SnapNode};
use ferry_core::{ComponentId, LaneId, ObjectId, RefName, ScopeName, Snap};
use ferry_store::refs::sqlite::{get_ref_in, list_refs_in, update_refs_in};
use ferry_store::{FsObjectStore, ObjectStore, RefEdit, SqliteStore};
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::meta::{self, TrackedComponent};
use crate::scan::FERRY_DIR;

/// Namespace of the workspace's own refs.
pub const LOCAL_NAMESPACE: &str = "";

/// Setting key of the default scope.
pub const DEFAULT_SCOPE: &str = "default.scope";

/// Returns the ref namespace holding what remote `name` was last seen to
/// hold.
pub fn remote_namespace(name: &str) -> String {
    format!("remote/{name}")
}

/// An open workspace.
#[derive(Debug)]
pub struct Workspace {
    root: PathBuf,
    objects: FsObjectStore,
    db: SqliteStore,
}

/// The head a new snap of a component builds on, and the ref it moves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The ref a new snap moves: the lane head on a lane, else the main
    /// head.
    pub name: RefName,
    /// The current value of `name`.
    pub current: Option<ObjectId>,
    /// The snap a new snap gets as parent: `current`, or the main head for
    /// the first snap on a lane.
    pub parent: Option<ObjectId>,
}

impl Workspace {
    /// Creates a workspace in `root` and opens it. The `.ferry` directory
    /// is built under a temporary name and renamed into place, so a failed
    /// init leaves no half-made workspace.
    pub fn init(root: &Path, scope: Option<&ScopeName>) -> Result<Self> {
        let root = fs::canonicalize(root).map_err(Error::io(root))?;
        let ferry_dir = root.join(FERRY_DIR);
        if ferry_dir.exists() {
            return Err(Error::AlreadyAWorkspace { root });
        }
        let staging = tempfile::Builder::new()
            .prefix(".ferry-init-")
            .tempdir_in(&root)
            .map_err(Error::io(&root))?;
        {
            FsObjectStore::open(staging.path().join("objects"))?;
            let db = SqliteStore::open(&staging.path().join("ferry.db"))?;
            db.with_transaction(|tx| {
                meta::init_schema(tx)?;
                let scope = scope.map(ScopeName::as_str);
                meta::set_setting(tx, DEFAULT_SCOPE, scope)
            })?;
        }
        let staged = staging.keep();
        fs::rename(&staged, &ferry_dir).map_err(|source| {
            let _ = fs::remove_dir_all(&staged);
            Error::Io {
                path: ferry_dir.clone(),
                source,
            }
        })?;
        Self::open(&root)
    }

    /// Opens the workspace whose root is `root`.
    pub fn open(root: &Path) -> Result<Self> {
        let ferry_dir = root.join(FERRY_DIR);
        let db_path = ferry_dir.join("ferry.db");
        if !db_path.is_file() {
            return Err(Error::NotAWorkspace {
                start: root.to_path_buf(),
            });
        }
        let root = fs::canonicalize(root).map_err(Error::io(root))?;
        let objects = FsObjectStore::open(ferry_dir.join("objects"))?;
        let db = SqliteStore::open(&db_path)?;
        db.with_transaction(|tx| meta::init_schema(tx))?;
        Ok(Self { root, objects, db })
    }

    /// Opens the workspace containing `start`: the nearest of `start` and
    /// its parents that contains a `.ferry` directory.
    pub fn discover(start: &Path) -> Result<Self> {
        let not_a_workspace = || Error::NotAWorkspace {
            start: start.to_path_buf(),
        };
        let absolute = match fs::canonicalize(start) {
            Ok(absolute) => absolute,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(not_a_workspace())
            }
            Err(source) => {
                return Err(Error::Io {
                    path: start.to_path_buf(),
                    source,
                })
            }
        };
        let root = absolute
            .ancestors()
            .find(|dir| dir.join(FERRY_DIR).join("ferry.db").is_file())
            .ok_or_else(not_a_workspace)?;
        Self::open(root)
    }

    /// Returns the workspace root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns the directory holding the workspace's own data.
    pub fn ferry_dir(&self) -> PathBuf {
        self.root.join(FERRY_DIR)
    }

    /// Returns the object store.
    pub fn object_store(&self) -> &FsObjectStore {
        &self.objects
    }

    /// Returns the metadata store holding refs and the workspace tables.
    pub fn ref_store(&self) -> &SqliteStore {
        &self.db
    }

    /// Runs `body` with a read connection.
    pub(crate) fn read<R>(&self, body: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        self.db.with_connection(body)
    }

    /// Runs `body` in one write transaction, committed only if it succeeds.
    pub(crate) fn write<R>(
        &self,
        body: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<R>,
    ) -> Result<R> {
        self.db.with_transaction(body)
    }

    /// Returns every tracked component, sorted by id.
    pub fn components(&self) -> Result<Vec<TrackedComponent>> {
        self.read(meta::list_components)
    }

    /// Returns the lane the workspace is on, or `None` for main.
    pub fn current_lane(&self) -> Result<Option<LaneId>> {
        self.read(meta::current_lane)
    }

    /// Returns the default scope, if one is configured.
    pub fn default_scope(&self) -> Result<Option<ScopeName>> {
        self.read(|connection| {
            meta::get_setting(connection, DEFAULT_SCOPE)?
                .map(|text| meta::parse_stored(&text))
                .transpose()
        })
    }

    /// Returns every ref of the workspace's own scope, sorted by key.
    pub fn list_refs(&self) -> Result<Vec<(RefName, ObjectId)>> {
        self.read(|connection| Ok(list_refs_in(connection, LOCAL_NAMESPACE, "")?))
    }

    /// Returns the refs remote `name` was last seen to hold, sorted by key.
    pub fn remote_refs(&self, name: &str) -> Result<Vec<(RefName, ObjectId)>> {
        self.read(|connection| Ok(list_refs_in(connection, &remote_namespace(name), "")?))
    }

    /// Returns the names of every configured remote.
    pub fn remote_names(&self) -> Result<Vec<String>> {
        let remotes = self.read(meta::list_remotes)?;
        Ok(remotes.into_iter().map(|(name, _)| name).collect())
    }

    /// Replaces what remote `name` is recorded to hold with `refs`, in one
    /// transaction. Callers store the objects `refs` point at first.
    pub fn record_remote_refs(&self, name: &str, refs: &[(RefName, ObjectId)]) -> Result<()> {
        let namespace = remote_namespace(name);
        self.write(|tx| {
            if meta::get_remote(tx, name)?.is_none() {
                return Err(Error::UnknownRemote {
                    name: name.to_owned(),
                });
            }
            let old = list_refs_in(tx, &namespace, "")?;
            let mut edits: Vec<RefEdit> = old
                .iter()
                .filter(|(ref_name, _)| !refs.iter().any(|(new, _)| new == ref_name))
                .map(|(ref_name, id)| RefEdit {
                    name: ref_name.clone(),
                    expected: Some(*id),
                    new: None,
                })
                .collect();
            for (ref_name, id) in refs {
                let expected = old.iter().find(|(o, _)| o == ref_name).map(|(_, v)| *v);
                edits.push(RefEdit {
                    name: ref_name.clone(),
                    expected,
                    new: Some(*id),
                });
            }
            Ok(update_refs_in(tx, &namespace, &edits)?)
        })
    }

    /// Returns the head a new snap of `component` builds on when the
    /// workspace is on `lane` (`None` for main).
    pub fn head(&self, component: &ComponentId, lane: Option<&LaneId>) -> Result<Head> {
        self.read(|connection| head_in(connection, component, lane))
    }

    /// Reads snap `id`.
    pub fn read_snap(&self, id: &ObjectId) -> Result<Snap> {
        Ok(self.objects.read_snap(id)?)
    }

    /// Returns a view of the snap graph backed by the object store.
    pub fn graph(&self) -> StoreGraph<'_> {
        StoreGraph {
            store: &self.objects,
        }
    }
}

/// Looks up the head of `component` on `lane` through `connection`.
pub(crate) fn head_in(
    connection: &Connection,
    component: &ComponentId,
    lane: Option<&LaneId>,
) -> Result<Head> {
    let main = RefName::Main(component.clone());
    let main_value = get_ref_in(connection, LOCAL_NAMESPACE, &main)?;
    let Some(lane) = lane else {
        return Ok(Head {
            name: main,
            current: main_value,
            parent: main_value,
        });
    };
    let name = RefName::Lane(lane.clone(), component.clone());
    let current = get_ref_in(connection, LOCAL_NAMESPACE, &name)?;
    Ok(Head {
        name,
        current,
        parent: current.or(main_value),
    })
}

/// The snap graph as stored in an object store.
pub struct StoreGraph<'a> {
    store: &'a dyn ObjectStore,
}

impl SnapGraph for StoreGraph<'_> {
    type Error = Error;

    fn node(&self, id: &ObjectId) -> Result<SnapNode> {
        let snap = self.store.read_snap(id)?;
        Ok(SnapNode {
            generation: snap.generation,
            parents: snap.parents,
        })
    }
}

/// Returns the current time in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    crate::stat_cache::now_ns() / 1_000_000
}

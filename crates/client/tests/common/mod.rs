//! Helpers shared by the integration tests: local scopes, snaps, and a
//! real server on a loopback port with real stores in a temporary
//! directory.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::sync::Arc;

use ferry_client::{export, ExportReport, ExportRequest, NoProgress, RefPush, RemoteClient};
use ferry_core::object::{Blob, FileEntry, FileMode, Snap};
use ferry_core::{Object, ObjectId, RefName, ScopeName};
use ferry_server::{Limits, ServerConfig, TestServer};
use ferry_store::{
    FsObjectStore, MemoryObjectStore, MemoryRefStore, ObjectStore, RefStore, SqliteStore,
};
use tempfile::TempDir;

/// A local scope: an object store and a ref store.
pub struct Local {
    _dir: Option<TempDir>,
    pub objects: Arc<dyn ObjectStore>,
    pub refs: Arc<dyn RefStore>,
}

impl Local {
    /// Returns a scope with files on disk and refs in SQLite.
    pub fn on_disk() -> Self {
        let dir = TempDir::new().expect("temporary directory");
        let objects = FsObjectStore::open(dir.path().join("objects")).expect("object store");
        let refs = SqliteStore::open(&dir.path().join("refs.db")).expect("ref store");
        Self {
            _dir: Some(dir),
            objects: Arc::new(objects),
            refs: Arc::new(refs),
        }
    }

    /// Returns a scope held in memory.
    pub fn in_memory() -> Self {
        Self {
            _dir: None,
            objects: Arc::new(MemoryObjectStore::new()),
            refs: Arc::new(MemoryRefStore::new()),
        }
    }

    /// Writes the blobs and a snap of `component` with `files` on top of
    /// `parents`, and returns the snap's id.
    pub fn snap(
        &self,
        component: &str,
        parents: &[ObjectId],
        files: &[(&str, &[u8])],
        message: &str,
    ) -> ObjectId {
        let snap = self.build_snap(component, parents, files, message);
        self.objects.write(&Object::Snap(snap)).expect("write snap")
    }

    /// Writes the blobs of `files` and returns the snap without storing it.
    pub fn build_snap(
        &self,
        component: &str,
        parents: &[ObjectId],
        files: &[(&str, &[u8])],
        message: &str,
    ) -> Snap {
        let mut entries: Vec<FileEntry> = files
            .iter()
            .map(|(path, data)| {
                let blob = Object::Blob(Blob {
                    data: data.to_vec(),
                });
                FileEntry {
                    path: path.parse().expect("valid path"),
                    mode: FileMode::Regular,
                    blob: self.objects.write(&blob).expect("write blob"),
                    size: data.len() as u64,
                }
            })
            .collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let generations = parents.iter().map(|parent| {
            let snap = self.objects.read_snap(parent).expect("parent stored");
            snap.generation
        });
        Snap {
            component: component.parse().expect("valid component"),
            generation: Snap::generation_after(generations.collect::<Vec<_>>()),
            parents: parents.to_vec(),
            files: entries,
            author: "Test <test@example.com>".into(),
            timestamp: 1_767_225_600_000,
            message: message.into(),
            dependencies: vec![],
        }
    }

    /// Exports `updates` (ref, local value, expected remote value).
    pub fn push(
        &self,
        client: &RemoteClient,
        scope: &str,
        updates: &[(RefName, ObjectId, Option<ObjectId>)],
    ) -> ExportReport {
        let request = ExportRequest {
            remote_name: "origin".into(),
            scope: scope.parse().expect("valid scope"),
            updates: updates
                .iter()
                .map(|(name, local, expected)| RefPush {
                    name: name.clone(),
                    local: *local,
                    expected_remote: *expected,
                })
                .collect(),
            idempotency_key: None,
        };
        export(
            self.objects.as_ref(),
            self.refs.as_ref(),
            client,
            &request,
            &NoProgress,
        )
        .expect("export reaches a decision")
    }
}

/// A server on a loopback port over embedded stores in a temporary
/// directory.
pub struct Remote {
    // Fields drop in this order: the client's idle connections close
    // before the server shuts down, and the data outlives the server.
    pub client: RemoteClient,
    pub server: TestServer,
    pub dir: TempDir,
}

impl Remote {
    /// Starts a server with default limits.
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// Starts a server after `adjust` changed its configuration.
    pub fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        let dir = TempDir::new().expect("temporary directory");
        let mut config = ServerConfig::new(dir.path(), "127.0.0.1:0".parse().expect("valid"));
        config.limits = Limits::default();
        adjust(&mut config);
        let server = TestServer::start(config).expect("server starts");
        let client = RemoteClient::new(&server.url()).expect("client");
        Self {
            client,
            server,
            dir,
        }
    }

    /// Creates `scope` on the server.
    pub fn create_scope(&self, scope: &str) {
        let scope: ScopeName = scope.parse().expect("valid scope");
        self.client.create_scope(&scope).expect("scope created");
    }

    /// Returns the number of object files the server stores.
    pub fn object_count(&self) -> usize {
        let store = FsObjectStore::open(self.dir.path().join("objects")).expect("object store");
        store.list().expect("list objects").len()
    }
}

/// Parses a ref key.
pub fn ref_name(key: &str) -> RefName {
    key.parse().expect("valid ref")
}

//! The data directory check finds damage and overdue exports, and passes a
//! sound directory.

#[path = "../../client/tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{ref_name, Local, Remote};
use ferry_server::fsck::{check_data_dir, DataDirError};
use ferry_server::state::{millis, now_ms};
use ferry_store::fsck::Problem;
use ferry_store::{FsObjectStore, ObjectStore};

const LEASE: Duration = Duration::from_secs(60);

/// Runs a server that commits one export and leaves another open, then
/// stops it. Returns the data directory and the committed snap.
fn served_data_dir() -> (tempfile::TempDir, ferry_core::ObjectId) {
    let remote = Remote::start_with(|config| config.lease = LEASE);
    remote.create_scope("acme");
    let local = Local::in_memory();
    let snap = local.snap("acme/button", &[], &[("a.txt", b"one")], "first");
    let main = ref_name("main:acme/button");
    let report = local.push(&remote.client, "acme", &[(main, snap, None)]);
    assert!(report.is_committed(), "{report:?}");
    remote
        .client
        .open_export(&"acme".parse().expect("valid"), None)
        .expect("open a second export");
    let Remote { dir, server, .. } = remote;
    drop(server);
    (dir, snap)
}

#[test]
fn served_directory_is_clean() {
    let (dir, _) = served_data_dir();
    let report = check_data_dir(dir.path(), now_ms()).expect("check runs");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.store.refs, 1);
    assert_eq!(report.store.snaps, 1);
    assert_eq!(report.store.objects, 2);
    assert_eq!(report.live_exports, 1);
}

#[test]
fn export_past_its_lease_is_overdue() {
    let (dir, _) = served_data_dir();
    let later = now_ms() + millis(LEASE) + 1;
    let report = check_data_dir(dir.path(), later).expect("check runs");
    assert_eq!(report.overdue_exports.len(), 1, "{report:?}");
    assert!(!report.is_clean());
    assert!(report.store.is_clean(), "{:?}", report.store.problems);
}

#[test]
fn missing_object_is_reported() {
    let (dir, snap) = served_data_dir();
    let objects = FsObjectStore::open(dir.path().join("objects")).expect("objects");
    objects.remove(&snap).expect("remove the head snap");
    let report = check_data_dir(dir.path(), now_ms()).expect("check runs");
    assert!(
        report
            .store
            .problems
            .iter()
            .any(|p| matches!(p, Problem::Missing { id, .. } if *id == snap)),
        "{report:?}"
    );
    assert!(!report.is_clean());
}

#[test]
fn directory_without_database_is_rejected() {
    let dir = tempfile::TempDir::new().expect("temporary directory");
    let error = check_data_dir(dir.path(), now_ms()).expect_err("not a data directory");
    assert!(matches!(error, DataDirError::NotADataDir { .. }), "{error}");
    assert!(!dir.path().join("ferry.db").exists(), "nothing was created");
}

//! An export run again with the same idempotency key while an earlier run
//! of it is still in flight returns the decision of the earlier run.

mod common;

use std::cell::RefCell;

use common::{ref_name, Local, Remote};
use ferry_client::{
    export, ExportReport, ExportRequest, NoProgress, Phase, Progress, RefPush, RefStatus,
    RemoteClient,
};
use ferry_core::protocol::IdempotencyKey;

/// A progress sink that, when the export it watches is about to upload,
/// runs the same export to the end first, as an earlier run whose
/// requests were still in flight would.
struct EarlierRunFinishes<'a> {
    local: &'a Local,
    client: &'a RemoteClient,
    request: &'a ExportRequest,
    earlier: RefCell<Option<ExportReport>>,
}

impl Progress for EarlierRunFinishes<'_> {
    fn start(&self, phase: Phase, _total: Option<u64>) {
        if phase != Phase::Uploading || self.earlier.borrow().is_some() {
            return;
        }
        let report = export(
            self.local.objects.as_ref(),
            self.local.refs.as_ref(),
            self.client,
            self.request,
            &NoProgress,
        )
        .expect("the earlier run reaches a decision");
        *self.earlier.borrow_mut() = Some(report);
    }

    fn advance(&self, _steps: u64) {}

    fn finish(&self) {}
}

#[test]
fn rerun_overlapping_commit_returns_its_outcome() {
    let remote = Remote::start();
    remote.create_scope("acme");
    let local = Local::on_disk();
    let main = ref_name("main:acme/button");
    let snap = local.snap("acme/button", &[], &[("a.txt", b"one")], "first");
    let key: IdempotencyKey = "ci-run-42".parse().expect("valid key");
    let request = ExportRequest {
        remote_name: "origin".into(),
        scope: "acme".parse().expect("valid scope"),
        updates: vec![RefPush {
            name: main.clone(),
            local: snap,
            expected_remote: None,
        }],
        idempotency_key: Some(key),
    };
    let progress = EarlierRunFinishes {
        local: &local,
        client: &remote.client,
        request: &request,
        earlier: RefCell::new(None),
    };

    let later = export(
        local.objects.as_ref(),
        local.refs.as_ref(),
        &remote.client,
        &request,
        &progress,
    )
    .expect("the later run returns the decision instead of failing");

    let earlier = progress.earlier.take().expect("the earlier run ran");
    assert!(earlier.is_committed(), "{earlier:?}");
    assert!(later.is_committed(), "{later:?}");
    assert_eq!(later.export_id, earlier.export_id);
    assert_eq!(later.refs[0].status, RefStatus::Created);
    let refs = remote
        .client
        .list_refs(&"acme".parse().expect("valid scope"))
        .expect("list refs");
    assert_eq!(refs.refs.len(), 1);
    assert_eq!(refs.refs[0].id, snap);
}

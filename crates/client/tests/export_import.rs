//! Export to a real server and import back into another local scope.

mod common;

use common::{ref_name, Local, Remote};
use ferry_client::{
    fetch, import, remote_namespace, FetchRequest, ImportStatus, NoProgress, RefSelection,
    RefStatus,
};
use ferry_core::protocol::walk::objects_to_send;
use ferry_core::protocol::RejectionCode;
use ferry_core::ObjectId;

fn corpus(local: &Local) -> (ObjectId, ObjectId) {
    let first = local.snap(
        "acme/button",
        &[],
        &[
            ("index.js", b"export * from './Button';\n"),
            ("Button.js", b"export const Button = () => null;\n"),
            ("Button.d.ts", b"export declare const Button: unknown;\n"),
            ("README.md", b"# Button\n"),
            ("styles/base.css", b".button { color: red; }\n"),
        ],
        "first",
    );
    let second = local.snap(
        "acme/button",
        &[first],
        &[
            ("index.js", b"export * from './Button';\n"),
            ("Button.js", b"export const Button = () => 'v2';\n"),
            ("Button.d.ts", b"export declare const Button: unknown;\n"),
            ("README.md", b"# Button\n"),
            ("styles/base.css", b".button { color: red; }\n"),
        ],
        "second",
    );
    (first, second)
}

fn import_all(remote: &Remote, local: &Local) -> ferry_client::ImportReport {
    let request = FetchRequest {
        remote_name: "origin".into(),
        scope: "acme".parse().expect("valid"),
        selection: RefSelection::All,
    };
    import(
        local.objects.as_ref(),
        local.refs.as_ref(),
        &remote.client,
        &request,
        &NoProgress,
    )
    .expect("import succeeds")
}

#[test]
fn export_then_import_is_identical() {
    let remote = Remote::start();
    remote.create_scope("acme");
    let source = Local::on_disk();
    let (first, second) = corpus(&source);
    let lane_head = source.snap("acme/button", &[second], &[("a", b"lane")], "lane");

    let report = source.push(
        &remote.client,
        "acme",
        &[
            (ref_name("main:acme/button"), second, None),
            (ref_name("tag:acme/button:1.0.0"), first, None),
            (ref_name("lane:acme/theme:acme/button"), lane_head, None),
        ],
    );
    assert!(report.is_committed(), "{report:?}");
    let statuses: Vec<_> = report.refs.iter().map(|r| r.status.clone()).collect();
    assert_eq!(
        statuses,
        [RefStatus::Created, RefStatus::Created, RefStatus::Created]
    );
    // 3 snaps, 5 + 1 distinct blobs of the first two, 1 of the lane snap.
    assert_eq!(report.objects_uploaded, 3 + 6 + 1);

    let target = Local::on_disk();
    let imported = import_all(&remote, &target);
    assert_eq!(imported.refs.len(), 3);
    assert!(imported
        .refs
        .iter()
        .all(|(_, status)| *status == ImportStatus::Created));

    let closure = objects_to_send(|id| source.objects.read_snap(id), &[lane_head, first], &[])
        .expect("source closure complete");
    for id in &closure {
        let original = source.objects.read_encoded(id).expect("source object");
        let copy = target.objects.read_encoded(id).expect("imported object");
        assert_eq!(original, copy, "object {id} differs");
    }
    for (name, value) in [
        ("main:acme/button", second),
        ("tag:acme/button:1.0.0", first),
        ("lane:acme/theme:acme/button", lane_head),
    ] {
        let local = target.refs.get_ref("", &ref_name(name)).expect("read");
        assert_eq!(local, Some(value), "{name}");
        let recorded = target
            .refs
            .get_ref(&remote_namespace("origin"), &ref_name(name))
            .expect("read");
        assert_eq!(recorded, Some(value), "{name}");
    }
}

#[test]
fn second_export_sends_only_changed_objects() {
    let remote = Remote::start();
    remote.create_scope("acme");
    let local = Local::on_disk();
    let (first, second) = corpus(&local);
    let report = local.push(
        &remote.client,
        "acme",
        &[(ref_name("main:acme/button"), first, None)],
    );
    assert!(report.is_committed(), "{report:?}");
    let stored = remote.object_count();

    let report = local.push(
        &remote.client,
        "acme",
        &[(ref_name("main:acme/button"), second, Some(first))],
    );
    assert!(report.is_committed(), "{report:?}");
    assert_eq!(report.refs[0].status, RefStatus::FastForwarded);
    // One new snap and the one file that changed.
    assert_eq!(report.objects_offered, 2);
    assert_eq!(report.objects_uploaded, 2);
    assert_eq!(remote.object_count(), stored + 2);

    // Negotiation reports only what the server lacks, even when a client
    // offers the whole history.
    let third = local.snap("acme/button", &[second], &[("index.js", b"v3")], "third");
    let everything =
        objects_to_send(|id| local.objects.read_snap(id), &[third], &[]).expect("complete");
    let export = remote
        .client
        .open_export(&"acme".parse().expect("valid"), None)
        .expect("open");
    let missing = remote
        .client
        .negotiate(&export.id, &everything)
        .expect("negotiate");
    assert_eq!(everything.len(), 3 + 7);
    assert_eq!(missing.len(), 2);
}

#[test]
fn unknown_scope_names_create_command() {
    let remote = Remote::start();
    let local = Local::in_memory();
    let (first, _) = corpus(&local);
    let request = ferry_client::ExportRequest {
        remote_name: "origin".into(),
        scope: "acme".parse().expect("valid"),
        updates: vec![ferry_client::RefPush {
            name: ref_name("main:acme/button"),
            local: first,
            expected_remote: None,
        }],
        idempotency_key: None,
    };
    let error = ferry_client::export(
        local.objects.as_ref(),
        local.refs.as_ref(),
        &remote.client,
        &request,
        &NoProgress,
    )
    .expect_err("scope does not exist");
    let ferry_client::ExportError::Remote(error) = error else {
        panic!("expected a remote rejection, got {error:?}");
    };
    assert_eq!(error.code(), Some(RejectionCode::UnknownScope));
    let hint = error
        .rejection()
        .and_then(|r| r.hint.clone())
        .unwrap_or_default();
    assert!(hint.contains("ferry scope create acme"), "{hint}");
}

#[test]
fn tags_never_move_and_lanes_recreate_as_noop() {
    let remote = Remote::start();
    remote.create_scope("acme");
    let local = Local::in_memory();
    let (first, second) = corpus(&local);
    let tag = ref_name("tag:acme/button:1.0.0");
    let lane = ref_name("lane:acme/theme:acme/button");
    let report = local.push(
        &remote.client,
        "acme",
        &[(tag.clone(), first, None), (lane.clone(), second, None)],
    );
    assert!(report.is_committed(), "{report:?}");

    let report = local.push(&remote.client, "acme", &[(lane.clone(), second, None)]);
    assert!(report.is_committed(), "{report:?}");
    assert_eq!(report.refs[0].status, RefStatus::Unchanged);

    let report = local.push(&remote.client, "acme", &[(tag.clone(), second, None)]);
    let rejection = report.rejection.expect("moving a tag is rejected");
    assert_eq!(rejection.code, RejectionCode::TagExists);
    assert_eq!(
        report.refs[0].status,
        RefStatus::Rejected {
            code: RejectionCode::TagExists,
            expected: None,
            actual: Some(first),
            merge_base: None,
        }
    );
}

#[test]
fn fetch_records_remote_refs_without_touching_local() {
    let remote = Remote::start();
    remote.create_scope("acme");
    let source = Local::in_memory();
    let (first, _) = corpus(&source);
    source.push(
        &remote.client,
        "acme",
        &[(ref_name("main:acme/button"), first, None)],
    );

    let target = Local::in_memory();
    let request = FetchRequest {
        remote_name: "origin".into(),
        scope: "acme".parse().expect("valid"),
        selection: RefSelection::Components(vec!["acme/button".parse().expect("valid")]),
    };
    let report = fetch(
        target.objects.as_ref(),
        target.refs.as_ref(),
        &remote.client,
        &request,
        &NoProgress,
    )
    .expect("fetch succeeds");
    assert_eq!(report.objects_written, 1 + 5);
    let main = ref_name("main:acme/button");
    assert_eq!(target.refs.get_ref("", &main).expect("read"), None);
    let recorded = target.refs.get_ref("remote/origin", &main).expect("read");
    assert_eq!(recorded, Some(first));
}

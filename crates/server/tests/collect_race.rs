//! An export that relies on an object garbage collection is removing gets
//! the retryable `object_collected` rejection, never a false report that
//! the client left its closure incomplete.
//!
//! The test shares the server's stores and runs the three steps of a
//! collection itself (mark, remove, unmark) at chosen moments between the
//! requests of an export, which the background sweep can do at any time.

#[path = "../../client/tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{ref_name, Local};
use ferry_client::{
    export, ExportError, ExportReport, ExportRequest, NoProgress, Phase, Progress, RefPush,
    RemoteClient,
};
use ferry_core::protocol::RejectionCode;
use ferry_core::{ObjectId, RefName};
use ferry_server::state::now_ms;
use ferry_server::{ServerConfig, Stores, TestServer};

/// Finishes a collection (removes the marked objects and unmarks them)
/// when the export it watches starts committing, that is between its
/// upload and its prepare.
struct CollectorFinishes<'a> {
    stores: &'a Stores,
    marked: &'a [ObjectId],
}

impl Progress for CollectorFinishes<'_> {
    fn start(&self, phase: Phase, _total: Option<u64>) {
        if phase == Phase::Committing {
            finish_collection(self.stores, self.marked);
        }
    }

    fn advance(&self, _steps: u64) {}

    fn finish(&self) {}
}

/// Removes and unmarks `marked` as the server's collection does.
fn finish_collection(stores: &Stores, marked: &[ObjectId]) {
    let objects = stores.objects.clone();
    stores
        .exports
        .remove_collected(marked, &mut |id| objects.remove(id))
        .expect("remove the marked objects");
}

fn request(name: &RefName, local: ObjectId, expected: Option<ObjectId>) -> ExportRequest {
    ExportRequest {
        remote_name: "origin".into(),
        scope: "acme".parse().expect("valid scope"),
        updates: vec![RefPush {
            name: name.clone(),
            local,
            expected_remote: expected,
        }],
        idempotency_key: None,
    }
}

fn run(
    local: &Local,
    client: &RemoteClient,
    request: &ExportRequest,
    progress: &dyn Progress,
) -> Result<ExportReport, ExportError> {
    export(
        local.objects.as_ref(),
        local.refs.as_ref(),
        client,
        request,
        progress,
    )
}

/// Returns the rejection code of an export that did not commit.
fn rejection_code(result: &Result<ExportReport, ExportError>) -> Option<RejectionCode> {
    match result {
        Ok(report) => report.rejection.as_ref().map(|rejection| rejection.code),
        Err(ExportError::Remote(error)) => error.code(),
        Err(other) => panic!("the export failed locally: {other}"),
    }
}

/// A server sharing its stores with the test, with a committed base head,
/// and a collection that has marked the objects of a rejected export whose
/// payload blob the next export reuses.
struct Race {
    dir: tempfile::TempDir,
    stores: Stores,
    server: TestServer,
    client: RemoteClient,
    local: Local,
    main: RefName,
    base: ObjectId,
    marked: Vec<ObjectId>,
}

const PAYLOAD: &[u8] = b"a file that a rejected export uploaded first";

fn marked_payload() -> Race {
    let dir = tempfile::TempDir::new().expect("temporary directory");
    let stores = Stores::open_embedded(dir.path()).expect("stores");
    let mut config = ServerConfig::new(dir.path(), "127.0.0.1:0".parse().expect("valid"));
    config.grace = Duration::ZERO;
    config.sweep_interval = Duration::from_secs(3600);
    let server = TestServer::start_with(config, stores.clone()).expect("server starts");
    let client = RemoteClient::new(&server.url()).expect("client");
    client
        .create_scope(&"acme".parse().expect("valid"))
        .expect("create scope");
    let local = Local::on_disk();
    let main = ref_name("main:acme/button");

    // The base head, then an export that uploads the payload and is
    // rejected, so only an aborted export recorded the payload's blob.
    let base = local.snap("acme/button", &[], &[("a.txt", b"base")], "base");
    let committed = run(&local, &client, &request(&main, base, None), &NoProgress);
    assert!(committed.expect("base export").is_committed());
    let stale = local.snap("acme/button", &[], &[("p.bin", PAYLOAD)], "stale");
    let rejected = run(&local, &client, &request(&main, stale, None), &NoProgress);
    assert_eq!(rejection_code(&rejected), Some(RejectionCode::Diverged));

    // A collection marks the aborted export's objects.
    std::thread::sleep(Duration::from_millis(5));
    let marked = stores
        .exports
        .begin_collection(now_ms())
        .expect("mark objects");
    let blob = local.objects.read_snap(&stale).expect("stale snap").files[0].blob;
    assert!(marked.contains(&blob), "the payload blob is marked");
    Race {
        dir,
        stores,
        server,
        client,
        local,
        main,
        base,
        marked,
    }
}

/// Stops the server and checks its data directory.
fn assert_data_sound(race: Race) {
    let Race { dir, server, .. } = race;
    drop(server);
    let report = ferry_server::fsck::check_data_dir(dir.path(), now_ms()).expect("check the data");
    assert!(report.store.is_clean(), "{:?}", report.store.problems);
}

#[test]
fn reupload_during_collection_is_retryable() {
    let race = marked_payload();
    let Race {
        stores,
        client,
        local,
        main,
        base,
        marked,
        ..
    } = &race;

    // The rebased export offers the same blob while it is marked. Should
    // the export get past negotiation, the collection finishes between its
    // upload and its prepare.
    let rebased = local.snap("acme/button", &[*base], &[("p.bin", PAYLOAD)], "rebased");
    let progress = CollectorFinishes { stores, marked };
    let racing = run(
        local,
        client,
        &request(main, rebased, Some(*base)),
        &progress,
    );
    let code = rejection_code(&racing);
    assert!(
        code.is_none() || code == Some(RejectionCode::ObjectCollected),
        "the export was rejected with {code:?}, not committed or object_collected: {racing:?}"
    );

    // Run again once the collection is over, the export commits.
    if code.is_some() {
        finish_collection(stores, marked);
        let again = run(
            local,
            client,
            &request(main, rebased, Some(*base)),
            &NoProgress,
        );
        let report = again.expect("the rerun reaches a decision");
        assert!(report.is_committed(), "{report:?}");
    }
    let refs = client
        .list_refs(&"acme".parse().expect("valid"))
        .expect("list refs");
    assert_eq!(refs.refs[0].id, rebased);
    assert_data_sound(race);
}

#[test]
fn reupload_waits_for_collection_to_finish() {
    let race = marked_payload();

    // The collection finishes while the export repeats its offer.
    let collector = {
        let (stores, marked) = (race.stores.clone(), race.marked.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(250));
            finish_collection(&stores, &marked);
        })
    };
    let rebased = race.local.snap(
        "acme/button",
        &[race.base],
        &[("p.bin", PAYLOAD)],
        "rebased",
    );
    let update = request(&race.main, rebased, Some(race.base));
    let result = run(&race.local, &race.client, &update, &NoProgress);
    collector.join().expect("collector thread");
    let report = result.expect("the export reaches a decision");
    assert!(report.is_committed(), "{report:?}");
    assert_eq!(
        report.objects_uploaded, 2,
        "the removed blob was uploaded anew"
    );
    assert_data_sound(race);
}

#[test]
fn overlapping_collections_keep_committed_objects() {
    let race = marked_payload();

    // A second collector, in another server instance or an admin request
    // beside the background sweep, starts while the first one is running
    // and receives the first one's marks to finish.
    let second = race
        .stores
        .exports
        .begin_collection(now_ms())
        .expect("a second collection starts");
    assert!(!second.is_empty(), "the second collection took over marks");

    // The first collection finishes, then an export uploads the removed
    // blob anew and commits.
    finish_collection(&race.stores, &race.marked);
    let rebased = race.local.snap(
        "acme/button",
        &[race.base],
        &[("p.bin", PAYLOAD)],
        "rebased",
    );
    let update = request(&race.main, rebased, Some(race.base));
    let report = run(&race.local, &race.client, &update, &NoProgress)
        .expect("the export reaches a decision");
    assert!(report.is_committed(), "{report:?}");

    // The second collection finishes afterwards; the committed head's
    // closure must still be complete.
    finish_collection(&race.stores, &second);
    assert_data_sound(race);
}

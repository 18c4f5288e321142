//! Many clients exporting to one server at the same moment.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::{ref_name, Local, Remote};
use ferry_client::{import, FetchRequest, NoProgress, RefSelection, RefStatus};
use ferry_core::ancestry::{is_ancestor, SnapGraph, SnapNode};
use ferry_core::protocol::RejectionCode;
use ferry_core::ObjectId;
use ferry_store::{ObjectStore, ObjectStoreError};

const CLIENTS: usize = 16;

#[test]
fn sixteen_components_of_one_lane_all_land() {
    let remote = Arc::new(Remote::start());
    remote.create_scope("acme");
    let barrier = Arc::new(Barrier::new(CLIENTS));

    let workers: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let remote = remote.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                let local = Local::in_memory();
                let component = format!("acme/part{n}");
                let body = format!("part {n}");
                let head = local.snap(
                    &component,
                    &[],
                    &[("index.js", body.as_bytes())],
                    "lane work",
                );
                let name = ref_name(&format!("lane:acme/theme:{component}"));
                barrier.wait();
                let report = local.push(&remote.client, "acme", &[(name, head, None)]);
                (head, report)
            })
        })
        .collect();

    let mut heads = Vec::new();
    for worker in workers {
        let (head, report) = worker.join().expect("worker finished");
        assert!(report.is_committed(), "{report:?}");
        assert_eq!(report.refs[0].status, RefStatus::Created);
        heads.push(head);
    }
    let refs = remote
        .client
        .list_refs(&"acme".parse().expect("valid"))
        .expect("list refs");
    let lane_heads: Vec<ObjectId> = refs
        .refs
        .iter()
        .filter(|value| value.name.key().starts_with("lane:acme/theme:"))
        .map(|value| value.id)
        .collect();
    assert_eq!(lane_heads.len(), CLIENTS);
    for head in heads {
        assert!(lane_heads.contains(&head), "lane lost head {head}");
    }
}

/// Snap ancestry in a local object store.
struct Graph<'a>(&'a dyn ObjectStore);

impl SnapGraph for Graph<'_> {
    type Error = ObjectStoreError;

    fn node(&self, id: &ObjectId) -> Result<SnapNode, ObjectStoreError> {
        let snap = self.0.read_snap(id)?;
        Ok(SnapNode {
            generation: snap.generation,
            parents: snap.parents,
        })
    }
}

#[test]
fn racing_snaps_of_one_component_one_wins_each_round() {
    const ROUNDS: usize = 20;
    let remote = Arc::new(Remote::start());
    remote.create_scope("acme");
    let main = ref_name("main:acme/button");
    let seed = Local::in_memory();
    let mut base = seed.snap("acme/button", &[], &[("index.js", b"base")], "base");
    let report = seed.push(&remote.client, "acme", &[(main.clone(), base, None)]);
    assert!(report.is_committed(), "{report:?}");
    let mut acknowledged = vec![base];

    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(CLIENTS));
        let workers: Vec<_> = (0..CLIENTS)
            .map(|n| {
                let remote = remote.clone();
                let barrier = barrier.clone();
                let main = main.clone();
                let seed_objects = seed.objects.clone();
                thread::spawn(move || {
                    let local = Local::in_memory();
                    copy_closure(seed_objects.as_ref(), local.objects.as_ref(), base);
                    let body = format!("round {round} client {n}");
                    let head = local.snap(
                        "acme/button",
                        &[base],
                        &[("index.js", body.as_bytes())],
                        &body,
                    );
                    barrier.wait();
                    let report = local.push(&remote.client, "acme", &[(main, head, Some(base))]);
                    (head, report)
                })
            })
            .collect();

        let results: Vec<_> = workers
            .into_iter()
            .map(|worker| worker.join().expect("worker finished"))
            .collect();
        let winners: Vec<ObjectId> = results
            .iter()
            .filter(|(_, report)| report.is_committed())
            .map(|(head, _)| *head)
            .collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one export commits"
        );
        let winner = winners[0];
        for (head, report) in results.iter().filter(|(_, r)| !r.is_committed()) {
            let rejection = report.rejection.as_ref().expect("rejected");
            assert_eq!(rejection.code, RejectionCode::Diverged, "round {round}");
            let RefStatus::Rejected {
                actual, merge_base, ..
            } = &report.refs[0].status
            else {
                panic!("round {round}: ref not rejected: {report:?}");
            };
            assert_eq!(*actual, Some(winner), "rejection names the winner's head");
            assert_eq!(*merge_base, Some(base), "merge base is the shared parent");
            assert_ne!(*head, winner);
        }

        // The next round builds on the winner, like a rebase would.
        let target = Local::in_memory();
        fetch_all(&remote, &target);
        copy_closure(target.objects.as_ref(), seed.objects.as_ref(), winner);
        base = winner;
        acknowledged.push(winner);
    }

    let target = Local::in_memory();
    fetch_all(&remote, &target);
    let head = target
        .refs
        .get_ref("", &main)
        .expect("read")
        .expect("main exists");
    assert_eq!(head, base);
    let graph = Graph(target.objects.as_ref());
    for snap in acknowledged {
        let reachable = is_ancestor(&graph, snap, head).expect("closure complete");
        assert!(reachable, "acknowledged snap {snap} is lost");
    }
}

fn fetch_all(remote: &Remote, local: &Local) {
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
    .expect("import succeeds");
}

fn copy_closure(from: &dyn ObjectStore, to: &dyn ObjectStore, head: ObjectId) {
    let ids = ferry_core::protocol::walk::objects_to_send(|id| from.read_snap(id), &[head], &[])
        .expect("closure complete");
    for id in ids {
        let compressed = from.read_compressed(&id).expect("read");
        to.write_compressed(&id, &compressed).expect("write");
    }
}

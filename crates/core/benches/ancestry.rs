//! Times ancestry queries on a 100,000-snap history and prints the median
//! time per query.
//!
//! The history is a main line with a side branch forking every 100 snaps
//! and merging back 50 snaps later, like a busy component whose lanes land
//! regularly. Run with `cargo bench -p ferry-core --bench ancestry`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ferry_core::ancestry::{divergence, is_ancestor, merge_base, MemoryGraph};
use ferry_core::ObjectId;

const SNAPS: u32 = 100_000;
const RUNS: usize = 21;

fn id(n: u32) -> ObjectId {
    ObjectId::digest(&n.to_le_bytes())
}

/// Builds the history and returns it with the main-line tip and the tip of
/// an unmerged branch forked 10 snaps below the main tip.
fn build_history() -> (MemoryGraph, ObjectId, ObjectId) {
    let mut graph = MemoryGraph::default();
    let mut next = 0u32;
    let mut fresh = || {
        next += 1;
        id(next)
    };
    let root = fresh();
    graph.insert(root, vec![]);
    let mut main_tip = root;
    let mut side: Option<ObjectId> = None;
    let mut count = 1;
    while count < SNAPS - 20 {
        let snap = fresh();
        graph.insert(snap, vec![main_tip]);
        main_tip = snap;
        count += 1;
        if count % 100 == 0 {
            side = Some(main_tip);
        }
        if let Some(side_tip) = side {
            let branch = fresh();
            graph.insert(branch, vec![side_tip]);
            side = Some(branch);
            count += 1;
            if count % 100 == 50 {
                let merge = fresh();
                graph.insert(merge, vec![main_tip, branch]);
                main_tip = merge;
                side = None;
                count += 1;
            }
        }
    }
    let fork = main_tip;
    let mut branch_tip = fork;
    for _ in 0..10 {
        let snap = fresh();
        graph.insert(snap, vec![branch_tip]);
        branch_tip = snap;
        let snap = fresh();
        graph.insert(snap, vec![main_tip]);
        main_tip = snap;
    }
    (graph, main_tip, branch_tip)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(label: &str, mut query: impl FnMut()) {
    let samples: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            query();
            start.elapsed()
        })
        .collect();
    println!(
        "{label:<58} median {:>12.3?} over {RUNS} runs",
        median(samples)
    );
}

fn main() {
    let start = Instant::now();
    let (graph, main_tip, branch_tip) = build_history();
    let root = id(1);
    println!("built a {SNAPS}-snap history in {:.2?}", start.elapsed());

    time(
        "is_ancestor(unmerged branch tip, main tip): generation prunes",
        || {
            black_box(is_ancestor(&graph, branch_tip, main_tip).expect("present"));
        },
    );
    time("is_ancestor(root, tip): full-depth walk", || {
        black_box(is_ancestor(&graph, root, main_tip).expect("present"));
    });
    time("is_ancestor(tip, root): pruned by generation", || {
        black_box(is_ancestor(&graph, main_tip, root).expect("present"));
    });
    time("merge_base(main tip, branch tip 10 snaps apart)", || {
        black_box(merge_base(&graph, main_tip, branch_tip).expect("present"));
    });
    time("divergence(main tip, branch tip)", || {
        black_box(divergence(&graph, main_tip, branch_tip).expect("present"));
    });
}

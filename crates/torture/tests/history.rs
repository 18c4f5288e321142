//! The history checker accepts consistent runs and names each kind of loss.

use std::collections::HashMap;

use ferry_core::ancestry::MemoryGraph;
use ferry_core::{ObjectId, RefName};
use ferry_torture::history::{
    check, check_codes, Attempt, NamedRef, Outcome, Update, EXPECTED_CODES,
};

fn id(n: u32) -> ObjectId {
    ObjectId::digest(&n.to_le_bytes())
}

fn head() -> RefName {
    "main:acme/button".parse().expect("valid ref")
}

/// Snaps 1 <- 2 <- 3 on one line, and 4 forked from 1.
fn graph() -> MemoryGraph {
    let mut graph = MemoryGraph::default();
    graph.insert(id(1), vec![]);
    graph.insert(id(2), vec![id(1)]);
    graph.insert(id(3), vec![id(2)]);
    graph.insert(id(4), vec![id(1)]);
    graph
}

fn attempt(
    seq: u32,
    times: (u64, u64),
    expected: Option<u32>,
    new: u32,
    outcome: Outcome,
) -> Attempt {
    Attempt {
        client: seq,
        seq,
        scenario: "same-component".into(),
        export_id: None,
        started_ms: times.0,
        finished_ms: times.1,
        updates: vec![Update {
            name: head(),
            expected: expected.map(id),
            new: id(new),
        }],
        outcome,
    }
}

fn rejected_naming(actual: u32) -> Outcome {
    Outcome::Rejected {
        code: "diverged".into(),
        refs: vec![NamedRef {
            name: head(),
            actual: Some(id(actual)),
        }],
    }
}

fn final_refs(value: u32) -> HashMap<RefName, ObjectId> {
    HashMap::from([(head(), id(value))])
}

fn consistent_run() -> Vec<Attempt> {
    vec![
        attempt(1, (0, 10), None, 1, Outcome::Committed),
        attempt(2, (20, 30), Some(1), 2, Outcome::Committed),
        attempt(3, (25, 35), Some(1), 4, rejected_naming(2)),
        attempt(4, (40, 50), Some(2), 3, Outcome::Committed),
    ]
}

#[test]
fn consistent_run_is_clean() {
    let verdict = check(&consistent_run(), &final_refs(3), &graph());
    assert!(verdict.is_clean(), "{verdict}");
    assert_eq!(verdict.committed, 3);
    assert_eq!(verdict.rejected, 1);
    assert_eq!(verdict.reachable_checked, 3);
    assert_eq!(verdict.forward_checked, 2);
    assert_eq!(verdict.rejections_checked, 1);
    assert_eq!(verdict.lost, 0);
}

#[test]
fn forked_chain_is_lost_update() {
    let mut run = consistent_run();
    run[2].outcome = Outcome::Committed;
    let verdict = check(&run, &final_refs(3), &graph());
    assert!(
        verdict
            .violations
            .iter()
            .any(|v| v.contains("all replaced")),
        "{verdict}"
    );
    assert!(
        verdict
            .violations
            .iter()
            .any(|v| v.contains("not reachable")),
        "{verdict}"
    );
}

#[test]
fn final_value_behind_a_commit_is_reported() {
    let verdict = check(&consistent_run(), &final_refs(2), &graph());
    assert_eq!(verdict.lost, 1, "{verdict}");
    assert!(
        verdict
            .violations
            .iter()
            .any(|v| v.contains("not reachable")),
        "{verdict}"
    );
    assert!(
        verdict
            .violations
            .iter()
            .any(|v| v.contains("chain of commits ends")),
        "{verdict}"
    );
}

#[test]
fn rejection_naming_uncommitted_value_is_reported() {
    let mut run = consistent_run();
    run[2].outcome = rejected_naming(4);
    let verdict = check(&run, &final_refs(3), &graph());
    assert!(
        verdict
            .violations
            .iter()
            .any(|v| v.contains("no committed export")),
        "{verdict}"
    );
}

#[test]
fn rejection_naming_stale_value_is_reported() {
    let mut run = consistent_run();
    // Value 1 was replaced by attempt 2, acknowledged at 30, before 60.
    run.push(attempt(5, (60, 70), Some(1), 4, rejected_naming(1)));
    let verdict = check(&run, &final_refs(3), &graph());
    assert!(
        verdict
            .violations
            .iter()
            .any(|v| v.contains("replaced before")),
        "{verdict}"
    );
}

#[test]
fn unresolved_unknown_is_reported() {
    let mut run = consistent_run();
    run.push(attempt(
        5,
        (60, 70),
        Some(3),
        4,
        Outcome::Unknown {
            error: "connection reset".into(),
            resolved: None,
        },
    ));
    let verdict = check(&run, &final_refs(3), &graph());
    assert!(
        verdict.violations.iter().any(|v| v.contains("unresolved")),
        "{verdict}"
    );
}

#[test]
fn resolved_unknown_counts_as_committed() {
    let mut run = consistent_run();
    run[3].outcome = Outcome::Unknown {
        error: "server killed".into(),
        resolved: Some(true),
    };
    let verdict = check(&run, &final_refs(3), &graph());
    assert!(verdict.is_clean(), "{verdict}");
    assert_eq!(verdict.committed, 3);
    assert_eq!(verdict.unknown, 1);
}

#[test]
fn backward_move_is_reported() {
    let run = vec![
        attempt(1, (0, 10), None, 2, Outcome::Committed),
        attempt(2, (20, 30), Some(2), 4, Outcome::Committed),
    ];
    let verdict = check(&run, &final_refs(4), &graph());
    assert!(
        verdict
            .violations
            .iter()
            .any(|v| v.contains("does not descend")),
        "{verdict}"
    );
}

#[test]
fn attempts_round_trip_as_json_lines() {
    for attempt in consistent_run() {
        let line = serde_json::to_string(&attempt).expect("serializes");
        assert!(!line.contains('\n'));
        let back: Attempt = serde_json::from_str(&line).expect("parses");
        assert_eq!(back, attempt);
    }
}

#[test]
fn expected_codes_pass() {
    let mut verdict = check(&consistent_run(), &final_refs(3), &graph());
    check_codes(&consistent_run(), &EXPECTED_CODES, &mut verdict);
    assert!(verdict.is_clean(), "{verdict}");
    assert_eq!(verdict.codes_checked, 1);
}

#[test]
fn unexpected_code_is_reported() {
    let mut run = consistent_run();
    run[2].outcome = Outcome::Rejected {
        code: "incomplete_closure".into(),
        refs: vec![],
    };
    let mut verdict = check(&run, &final_refs(3), &graph());
    check_codes(&run, &EXPECTED_CODES, &mut verdict);
    assert!(
        verdict
            .violations
            .iter()
            .any(|v| v.contains("unexpected code incomplete_closure")),
        "{verdict}"
    );
}

#[test]
fn rejection_naming_expected_value_is_reported() {
    let mut run = consistent_run();
    // Attempt 3 expected value 1; a rejection naming 1 had no reason.
    run[2].outcome = rejected_naming(1);
    let mut verdict = check(&run, &final_refs(3), &graph());
    check_codes(&run, &EXPECTED_CODES, &mut verdict);
    assert!(
        verdict
            .violations
            .iter()
            .any(|v| v.contains("held the expected")),
        "{verdict}"
    );
}

#[test]
fn diverged_without_refs_is_reported() {
    let mut run = consistent_run();
    run[2].outcome = Outcome::Rejected {
        code: "diverged".into(),
        refs: vec![],
    };
    let mut verdict = check(&run, &final_refs(3), &graph());
    check_codes(&run, &EXPECTED_CODES, &mut verdict);
    assert!(
        verdict
            .violations
            .iter()
            .any(|v| v.contains("without naming a ref")),
        "{verdict}"
    );
}

//! `ferry export --rebase` and `ferry merge` against a real `ferry serve`:
//! workspaces that snapped the same component of one lane export at the
//! same moment, and every snap lands or stops on a conflict that changes
//! nothing.

use std::sync::{Arc, Barrier};
use std::thread;

use serde_json::Value;

use crate::server::Serve;
use crate::support::Sandbox;

const LANE: &str = "acme/ci";
const RACERS: usize = 8;

/// Creates scope `acme` on the server and exports `acme/button` with
/// `files` on main and on lane `acme/ci` from a first workspace.
fn seed_lane(serve: &Serve, files: &[(String, String)]) -> Sandbox {
    let seed = Sandbox::with_remote(serve.url());
    seed.ok(&["scope", "create", "acme"]);
    for (path, content) in files {
        seed.write(&format!("button/{path}"), content);
    }
    seed.ok(&["add", "button"]);
    seed.ok(&["snap", "-m", "base"]);
    seed.ok(&["export"]);
    seed.ok(&["lane", "create", "ci"]);
    seed.write("button/lane.txt", "on the lane\n");
    seed.ok(&["snap", "-m", "start the lane"]);
    seed.ok(&["export", "--lane"]);
    seed
}

/// Returns a new workspace that imported lane `acme/ci` and is on it.
fn lane_workspace(serve: &Serve) -> Sandbox {
    let workspace = Sandbox::with_remote(serve.url());
    workspace.ok(&["import", "--lane", LANE]);
    workspace.ok(&["lane", "switch", LANE]);
    workspace
}

/// Runs `ferry ARGS --json` in every workspace at the same moment, each in
/// its own child process released by one barrier, and returns each exit
/// code with the parsed stdout.
fn race(workspaces: &[Sandbox], args: &[&str]) -> Vec<(Option<i32>, Value, String)> {
    let barrier = Arc::new(Barrier::new(workspaces.len()));
    thread::scope(|scope| {
        let handles: Vec<_> = workspaces
            .iter()
            .map(|workspace| {
                let barrier = Arc::clone(&barrier);
                let mut command = workspace.ferry();
                command.args(args).arg("--json");
                scope.spawn(move || {
                    barrier.wait();
                    let output = command.output().expect("run ferry");
                    let stdout = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
                    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
                    (output.status.code(), stdout, stderr)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("racer thread"))
            .collect()
    })
}

/// Returns the messages of the lane's history of `acme/button`, as a
/// fresh workspace imports it, with that workspace.
fn imported_history(serve: &Serve) -> (Sandbox, Vec<String>) {
    let fresh = lane_workspace(serve);
    let log = fresh.json(&["log", "button"]);
    let messages = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| entry["message"].as_str().expect("message").to_owned())
        .collect();
    (fresh, messages)
}

fn assert_all_landed(results: &[(Option<i32>, Value, String)]) {
    for (index, (code, report, stderr)) in results.iter().enumerate() {
        assert_eq!(*code, Some(0), "racer {index} failed: {stderr}");
        assert_eq!(report["end"], "committed", "racer {index}: {report}");
        let attempts = report["attempts"].as_u64().expect("attempts");
        assert!(
            (1..=RACERS as u64).contains(&attempts),
            "racer {index}: {attempts}"
        );
    }
}

#[test]
fn racing_exports_of_different_files_all_land() {
    let serve = Serve::start();
    let files: Vec<(String, String)> = (0..RACERS)
        .map(|i| (format!("f{i}.txt"), "base\n".to_owned()))
        .collect();
    seed_lane(&serve, &files);
    let racers: Vec<Sandbox> = (0..RACERS)
        .map(|i| {
            let racer = lane_workspace(&serve);
            racer.write(&format!("button/f{i}.txt"), &format!("change {i}\n"));
            racer.ok(&["snap", "-m", &format!("change {i}")]);
            racer
        })
        .collect();

    let results = race(&racers, &["export", "--lane", "--rebase"]);

    assert_all_landed(&results);
    let retried = results.iter().filter(|r| r.1["attempts"] != 1).count();
    assert!(retried > 0, "no export was rejected, so nothing raced");
    let (fresh, messages) = imported_history(&serve);
    for i in 0..RACERS {
        let message = format!("change {i}");
        assert!(
            messages.contains(&message),
            "{message} missing: {messages:?}"
        );
        assert_eq!(
            fresh.read(&format!("button/f{i}.txt")),
            format!("change {i}\n")
        );
    }
    assert!(messages.contains(&"start the lane".to_owned()));
}

/// Returns a file of `RACERS` numbered lines, each followed by three
/// unchanged lines, so that no two numbered lines are adjacent.
fn spaced_lines(changed: &[usize]) -> String {
    let mut text = String::new();
    for i in 0..RACERS {
        if changed.contains(&i) {
            text.push_str(&format!("line {i} changed\n"));
        } else {
            text.push_str(&format!("line {i}\n"));
        }
        text.push_str("-\n-\n-\n");
    }
    text
}

#[test]
fn racing_exports_of_one_file_all_merge() {
    let serve = Serve::start();
    seed_lane(&serve, &[("shared.txt".to_owned(), spaced_lines(&[]))]);
    let racers: Vec<Sandbox> = (0..RACERS)
        .map(|i| {
            let racer = lane_workspace(&serve);
            racer.write("button/shared.txt", &spaced_lines(&[i]));
            racer.ok(&["snap", "-m", &format!("change line {i}")]);
            racer
        })
        .collect();

    let results = race(&racers, &["export", "--lane", "--rebase"]);

    assert_all_landed(&results);
    let (fresh, messages) = imported_history(&serve);
    for i in 0..RACERS {
        let message = format!("change line {i}");
        assert!(
            messages.contains(&message),
            "{message} missing: {messages:?}"
        );
    }
    let all: Vec<usize> = (0..RACERS).collect();
    assert_eq!(fresh.read("button/shared.txt"), spaced_lines(&all));
}

/// The workspace whose export stopped on a conflict.
struct Loser {
    workspace: Sandbox,
    /// "left" or "right".
    side: &'static str,
    /// Its `export --rebase --json` report.
    report: Value,
    stderr: String,
    /// Its local snap's id.
    snap: String,
}

/// Sets up two lane workspaces that changed line 0 of `shared.txt`
/// differently, races their `export --rebase`, and returns the loser.
fn same_line_race(serve: &Serve) -> Loser {
    seed_lane(serve, &[("shared.txt".to_owned(), spaced_lines(&[]))]);
    let mut racers = Vec::new();
    let mut snaps = Vec::new();
    for side in ["left", "right"] {
        let racer = lane_workspace(serve);
        let text = spaced_lines(&[]).replacen("line 0", &format!("line 0 by {side}"), 1);
        racer.write("button/shared.txt", &text);
        snaps.push(racer.snap_one(&format!("{side} edit"), "acme/button"));
        racers.push(racer);
    }

    let mut results = race(&racers, &["export", "--lane", "--rebase"]);

    let codes: Vec<Option<i32>> = results.iter().map(|r| r.0).collect();
    assert!(
        codes == [Some(0), Some(1)] || codes == [Some(1), Some(0)],
        "exactly one must land: {results:?}"
    );
    let index = codes.iter().position(|c| *c == Some(1)).expect("a loser");
    let (_, report, stderr) = results.remove(index);
    Loser {
        workspace: racers.remove(index),
        side: ["left", "right"][index],
        report,
        stderr,
        snap: snaps.remove(index),
    }
}

#[test]
fn same_line_race_stops_loser_on_conflict() {
    let serve = Serve::start();

    let Loser {
        workspace: loser,
        side,
        report,
        stderr,
        snap,
    } = same_line_race(&serve);

    assert_eq!(report["end"], "stopped", "{report}");
    let last = report["reconciles"]
        .as_array()
        .and_then(|r| r.last())
        .expect("a reconcile ran");
    assert_eq!(last["applied"], false);
    let conflict = &last["components"][0];
    assert_eq!(conflict["outcome"], "conflicted");
    assert_eq!(conflict["conflicts"][0]["path"], "shared.txt");
    assert_eq!(conflict["conflicts"][0]["kind"], "content");
    assert!(stderr.contains("shared.txt"), "{stderr}");

    let log = loser.json(&["log", "button"]);
    assert_eq!(
        log["head"],
        snap.as_str(),
        "the local snap is still the head"
    );
    assert_eq!(log["entries"][0]["message"], format!("{side} edit"));
    let text = loser.read("button/shared.txt");
    assert!(text.starts_with(&format!("line 0 by {side}\n")), "{text}");
    let status = loser.json(&["status"]);
    assert_eq!(
        status["components"][0]["changes"]["modified"],
        Value::Array(vec![])
    );
}

#[test]
fn resolved_conflict_exports_both_sides() {
    let serve = Serve::start();
    let Loser {
        workspace: loser,
        snap: loser_snap,
        ..
    } = same_line_race(&serve);

    let (report, _) = loser.json_failure(&["merge", "--write-conflicts"]);
    assert_eq!(report["components"][0]["markers_written"], true, "{report}");
    let marked = loser.read("button/shared.txt");
    assert!(marked.contains("<<<<<<<"), "{marked}");
    let status = loser.json(&["status"]);
    let pending = &status["components"][0]["pending_merge"];
    assert_eq!(pending["ours"], loser_snap.as_str());

    let resolved = spaced_lines(&[]).replacen("line 0", "line 0 by both", 1);
    loser.write("button/shared.txt", &resolved);
    let merge = loser.json(&["snap", "-m", "resolve"]);
    assert_eq!(merge["snapped"][0]["parent"], loser_snap.as_str());
    assert!(merge["snapped"][0]["merged"].is_string(), "{merge}");
    let export = loser.json(&["export", "--lane", "--rebase"]);
    assert_eq!(export["end"], "committed", "{export}");
    assert_eq!(export["attempts"], 1);

    let (fresh, messages) = imported_history(&serve);
    assert_eq!(messages[0], "resolve");
    assert!(messages.contains(&"left edit".to_owned()), "{messages:?}");
    assert!(messages.contains(&"right edit".to_owned()), "{messages:?}");
    assert_eq!(fresh.read("button/shared.txt"), resolved);
}

/// Returns a workspace on main that imported `acme/button`.
fn main_workspace(serve: &Serve) -> Sandbox {
    let workspace = Sandbox::with_remote(serve.url());
    workspace.ok(&["import", "button"]);
    workspace
}

#[test]
fn rebase_command_replays_after_fetch() {
    let serve = Serve::start();
    let files = [("a.txt", "a\n"), ("b.txt", "b\n")].map(|(p, c)| (p.to_owned(), c.to_owned()));
    seed_lane(&serve, &files);
    let ahead = main_workspace(&serve);
    let behind = main_workspace(&serve);
    ahead.write("button/a.txt", "a from ahead\n");
    ahead.ok(&["snap", "-m", "ahead"]);
    ahead.ok(&["export"]);
    behind.write("button/b.txt", "b one\n");
    behind.ok(&["snap", "-m", "first"]);
    behind.write("button/b.txt", "b two\n");
    behind.ok(&["snap", "-m", "second"]);

    behind.ok(&["fetch"]);
    let report = behind.json(&["rebase"]);

    assert_eq!(report["applied"], true, "{report}");
    let component = &report["components"][0];
    assert_eq!(component["outcome"], "rebased");
    assert_eq!(component["replayed"].as_array().map(Vec::len), Some(2));
    assert_eq!(behind.read("button/a.txt"), "a from ahead\n");
    assert_eq!(behind.read("button/b.txt"), "b two\n");
    let export = behind.json(&["export"]);
    assert_eq!(export["refs"][0]["status"], "fast_forwarded", "{export}");
    let log = behind.json(&["log", "button"]);
    let messages: Vec<&str> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| entry["message"].as_str().expect("message"))
        .collect();
    assert_eq!(messages, ["second", "first", "ahead", "base"]);
}

#[test]
fn merge_abort_restores_local_head() {
    let serve = Serve::start();
    seed_lane(&serve, &[("x.txt".to_owned(), "x\n".to_owned())]);
    let first = main_workspace(&serve);
    let second = main_workspace(&serve);
    first.write("button/x.txt", "first\n");
    first.ok(&["snap", "-m", "first"]);
    first.ok(&["export"]);
    second.write("button/x.txt", "second\n");
    let local = second.snap_one("second", "acme/button");
    second.ok(&["fetch"]);

    second.json_failure(&["merge", "--write-conflicts"]);
    assert!(second.read("button/x.txt").contains("<<<<<<<"));
    let aborted = second.json(&["merge", "--abort"]);

    assert_eq!(aborted[0]["snap"], local.as_str(), "{aborted}");
    assert_eq!(second.read("button/x.txt"), "second\n");
    let status = second.json(&["status"]);
    assert_eq!(status["components"][0]["pending_merge"], Value::Null);
}

#[test]
fn new_commands_document_every_option() {
    let sandbox = Sandbox::empty();
    let cases: [(&str, &[&str]); 3] = [
        (
            "merge",
            &[
                "--remote",
                "--write-conflicts",
                "--message",
                "--abort",
                "--json",
            ],
        ),
        ("rebase", &["--remote", "--json"]),
        (
            "export",
            &["--rebase", "--merge", "--max-attempts", "--json"],
        ),
    ];
    for (command, options) in cases {
        let help = sandbox.ok(&[command, "--help"]);
        for option in options {
            assert!(
                help.contains(option),
                "`ferry {command} --help` lacks {option}: {help}"
            );
        }
    }
}

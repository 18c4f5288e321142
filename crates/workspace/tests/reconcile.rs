//! Merge, rebase and pending merges against heads recorded for a remote.
//!
//! The remote's snaps are written straight into the workspace's object
//! store and recorded in `remote/origin`, as a fetch would leave them.

use std::fs;
use std::path::PathBuf;

use ferry_core::{Blob, FileEntry, FileMode, Object, ObjectId, RefName, Snap};
use ferry_store::ObjectStore;
use ferry_workspace::reconcile::{Outcome, ReconcileOptions, Strategy};
use ferry_workspace::{Error, Workspace};

const AUTHOR: &str = "Test <test@example.com>";

struct Fixture {
    _root: tempfile::TempDir,
    workspace: Workspace,
    dir: PathBuf,
}

impl Fixture {
    /// Creates a workspace tracking `acme/button` with one snap of
    /// `files`, and a remote `origin` recorded at that snap.
    fn new(files: &[(&str, &str)]) -> (Self, ObjectId) {
        std::env::set_var("FERRY_AUTHOR", AUTHOR);
        let root = tempfile::tempdir().expect("tempdir");
        let scope = "acme".parse().expect("scope");
        let workspace = Workspace::init(root.path(), Some(&scope)).expect("init");
        workspace
            .remote_add("origin", "http://127.0.0.1:9")
            .expect("remote");
        let dir = root.path().join("button");
        fs::create_dir(&dir).expect("mkdir");
        let fixture = Self {
            _root: root,
            workspace,
            dir,
        };
        for (path, content) in files {
            fixture.write(path, content);
        }
        fixture
            .workspace
            .add(std::slice::from_ref(&fixture.dir), None, None)
            .expect("add");
        let base = fixture.snap("base");
        fixture.record_remote(base);
        (fixture, base)
    }

    fn write(&self, path: &str, content: &str) {
        fs::write(self.dir.join(path), content).expect("write");
    }

    fn read(&self, path: &str) -> String {
        fs::read_to_string(self.dir.join(path)).expect("read")
    }

    fn snap(&self, message: &str) -> ObjectId {
        let report = self.workspace.snap(message, &[]).expect("snap");
        report.snapped[0].snap
    }

    fn head_ref() -> RefName {
        RefName::Main("acme/button".parse().expect("id"))
    }

    fn head(&self) -> ObjectId {
        let component = "acme/button".parse().expect("id");
        let head = self.workspace.head(&component, None).expect("head");
        head.current.expect("head exists")
    }

    fn record_remote(&self, id: ObjectId) {
        self.workspace
            .record_remote_refs("origin", &[(Self::head_ref(), id)])
            .expect("record remote");
    }

    /// Stores a snap of `files` on top of `parent`, as another workspace
    /// would have made it, and records it as the remote head.
    fn remote_snap(&self, parent: ObjectId, files: &[(&str, &str)], message: &str) -> ObjectId {
        let store = self.workspace.object_store();
        let parent_snap = store.read_snap(&parent).expect("parent");
        let mut entries: Vec<FileEntry> = files
            .iter()
            .map(|(path, content)| {
                let blob = Object::Blob(Blob {
                    data: content.as_bytes().to_vec(),
                });
                FileEntry {
                    path: path.parse().expect("path"),
                    mode: FileMode::Regular,
                    blob: store.write(&blob).expect("blob"),
                    size: content.len() as u64,
                }
            })
            .collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let snap = Snap {
            component: "acme/button".parse().expect("id"),
            generation: parent_snap.generation + 1,
            parents: vec![parent],
            files: entries,
            author: "Remote <remote@example.com>".into(),
            timestamp: 1_700_000_000_000,
            message: message.into(),
            dependencies: vec![],
        };
        let id = store.write(&Object::Snap(snap)).expect("snap");
        store.flush().expect("flush");
        self.record_remote(id);
        id
    }

    fn read_snap(&self, id: ObjectId) -> Snap {
        self.workspace.read_snap(&id).expect("read snap")
    }

    fn options(&self, strategy: Strategy) -> ReconcileOptions {
        ReconcileOptions::new(strategy)
    }
}

const LINES: &str = "1\n2\n3\n4\n5\n6\n7\n8\n";

#[test]
fn rebase_replays_local_snaps_onto_remote_head() {
    let (f, base) = Fixture::new(&[("a.txt", "a\n"), ("b.txt", "b\n")]);
    f.write("a.txt", "a1\n");
    let first = f.snap("first local");
    f.write("a.txt", "a2\n");
    let second = f.snap("second local");
    let remote = f.remote_snap(base, &[("a.txt", "a\n"), ("b.txt", "b2\n")], "remote");

    let report = f
        .workspace
        .rebase(&[], &f.options(Strategy::Rebase))
        .expect("rebase");

    assert!(report.applied);
    let Outcome::Rebased { head, replayed, .. } = &report.components[0].outcome else {
        panic!("expected a rebase: {report:?}");
    };
    assert_eq!(replayed.len(), 2);
    assert_eq!(replayed[0].from, first);
    assert_eq!(replayed[1].from, second);
    assert_eq!(*head, replayed[1].to);
    assert_eq!(f.head(), *head);

    let new_first = f.read_snap(replayed[0].to);
    let old_first = f.read_snap(first);
    assert_eq!(new_first.parents, vec![remote]);
    assert_eq!(new_first.generation, 3);
    assert_eq!(new_first.message, old_first.message);
    assert_eq!(new_first.author, old_first.author);
    assert_eq!(new_first.timestamp, old_first.timestamp);
    let new_second = f.read_snap(replayed[1].to);
    assert_eq!(new_second.parents, vec![replayed[0].to]);
    assert_eq!(new_second.message, "second local");

    assert_eq!(f.read("a.txt"), "a2\n");
    assert_eq!(f.read("b.txt"), "b2\n");
    let status = f.workspace.status().expect("status");
    assert!(!status.components[0].is_dirty());
    assert_eq!(status.components[0].base, Some(*head));
}

#[test]
fn merge_creates_snap_with_both_parents() {
    let (f, base) = Fixture::new(&[("x.txt", LINES)]);
    f.write("x.txt", "one\n2\n3\n4\n5\n6\n7\n8\n");
    let local = f.snap("local");
    let remote = f.remote_snap(base, &[("x.txt", "1\n2\n3\n4\n5\n6\n7\neight\n")], "r");

    let report = f
        .workspace
        .merge(&[], &f.options(Strategy::Merge))
        .expect("merge");

    let Outcome::Merged { snap, merge_base } = report.components[0].outcome.clone() else {
        panic!("expected a merge: {report:?}");
    };
    assert_eq!(merge_base, Some(base));
    assert_eq!(f.head(), snap);
    let merged = f.read_snap(snap);
    assert_eq!(merged.parents, vec![local, remote]);
    assert_eq!(merged.generation, 3);
    assert_eq!(merged.author, AUTHOR);
    assert_eq!(f.read("x.txt"), "one\n2\n3\n4\n5\n6\n7\neight\n");
}

#[test]
fn merge_conflict_changes_nothing() {
    let (f, base) = Fixture::new(&[("x.txt", LINES)]);
    f.write("x.txt", "1\n2\nours\n4\n5\n6\n7\n8\n");
    let local = f.snap("local");
    f.remote_snap(base, &[("x.txt", "1\n2\ntheirs\n4\n5\n6\n7\n8\n")], "r");

    let report = f
        .workspace
        .merge(&[], &f.options(Strategy::Merge))
        .expect("merge runs");

    assert!(!report.applied);
    let conflicts = report.conflicts();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].1[0].path.as_str(), "x.txt");
    assert!(matches!(
        report.conflict_error(),
        Some(Error::Conflicts { .. })
    ));
    assert_eq!(f.head(), local);
    assert_eq!(f.read("x.txt"), "1\n2\nours\n4\n5\n6\n7\n8\n");
    assert!(f.workspace.pending_merges(&[]).expect("pending").is_empty());
}

#[test]
fn rebase_conflict_changes_nothing() {
    let (f, base) = Fixture::new(&[("x.txt", LINES), ("y.txt", "y\n")]);
    f.write("x.txt", "1\n2\nours\n4\n5\n6\n7\n8\n");
    let local = f.snap("local");
    f.remote_snap(
        base,
        &[
            ("x.txt", "1\n2\ntheirs\n4\n5\n6\n7\n8\n"),
            ("y.txt", "y2\n"),
        ],
        "r",
    );
    let objects_before = f.workspace.object_store().list().expect("list").len();

    let report = f
        .workspace
        .rebase(&[], &f.options(Strategy::Rebase))
        .expect("rebase runs");

    let Outcome::Conflicted { replaying, .. } = &report.components[0].outcome else {
        panic!("expected a conflict: {report:?}");
    };
    assert_eq!(*replaying, Some(local));
    assert_eq!(f.head(), local);
    assert_eq!(f.read("x.txt"), "1\n2\nours\n4\n5\n6\n7\n8\n");
    assert_eq!(f.read("y.txt"), "y\n");
    let objects_after = f.workspace.object_store().list().expect("list").len();
    assert_eq!(objects_after, objects_before);
}

#[test]
fn pending_merge_completes_on_snap() {
    let (f, base) = Fixture::new(&[("x.txt", LINES), ("y.txt", "y\n")]);
    f.write("x.txt", "1\n2\nours\n4\n5\n6\n7\n8\n");
    let local = f.snap("local");
    let remote = f.remote_snap(
        base,
        &[
            ("x.txt", "1\n2\ntheirs\n4\n5\n6\n7\n8\n"),
            ("y.txt", "y2\n"),
        ],
        "r",
    );
    let mut options = f.options(Strategy::Merge);
    options.write_conflicts = true;

    let report = f.workspace.merge(&[], &options).expect("merge runs");

    assert!(!report.applied);
    assert_eq!(f.head(), local);
    let marked = f.read("x.txt");
    assert!(marked.contains("<<<<<<<"), "{marked}");
    assert!(
        marked.contains("ours") && marked.contains("theirs"),
        "{marked}"
    );
    assert_eq!(f.read("y.txt"), "y2\n", "clean paths are merged");
    let pending = f.workspace.pending_merges(&[]).expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].ours, local);
    assert_eq!(pending[0].theirs, remote);

    let error = f.workspace.snap("too early", &[]).expect_err("markers");
    assert!(matches!(error, Error::ConflictMarkers { .. }), "{error:?}");
    let error = f
        .workspace
        .merge(&[], &f.options(Strategy::Merge))
        .expect_err("pending");
    assert!(matches!(error, Error::MergePending { .. }), "{error:?}");

    f.write("x.txt", "1\n2\nboth\n4\n5\n6\n7\n8\n");
    let report = f.workspace.snap("resolve", &[]).expect("snap");
    let merge = report.snapped[0].snap;
    assert_eq!(report.snapped[0].merged, Some(remote));
    let snap = f.read_snap(merge);
    assert_eq!(snap.parents, vec![local, remote]);
    assert_eq!(snap.message, "resolve");
    assert!(f.workspace.pending_merges(&[]).expect("pending").is_empty());
    assert_eq!(f.head(), merge);
}

#[test]
fn pending_merge_snaps_even_without_changes() {
    let (f, base) = Fixture::new(&[("x.txt", LINES)]);
    f.write("x.txt", "1\n2\nours\n4\n5\n6\n7\n8\n");
    let local = f.snap("local");
    let remote = f.remote_snap(base, &[("x.txt", "1\n2\ntheirs\n4\n5\n6\n7\n8\n")], "r");
    let mut options = f.options(Strategy::Merge);
    options.write_conflicts = true;
    f.workspace.merge(&[], &options).expect("merge runs");

    // Keeping our side exactly leaves no change against the base snap.
    f.write("x.txt", "1\n2\nours\n4\n5\n6\n7\n8\n");
    let report = f.workspace.snap("keep ours", &[]).expect("snap");
    assert_eq!(report.snapped.len(), 1);
    assert_eq!(
        f.read_snap(report.snapped[0].snap).parents,
        vec![local, remote]
    );
}

#[test]
fn merge_abort_restores_head_files() {
    let (f, base) = Fixture::new(&[("x.txt", LINES)]);
    f.write("x.txt", "1\n2\nours\n4\n5\n6\n7\n8\n");
    let local = f.snap("local");
    f.remote_snap(base, &[("x.txt", "1\n2\ntheirs\n4\n5\n6\n7\n8\n")], "r");
    let mut options = f.options(Strategy::Merge);
    options.write_conflicts = true;
    f.workspace.merge(&[], &options).expect("merge runs");

    let restored = f.workspace.merge_abort(&[]).expect("abort");

    assert_eq!(restored.len(), 1);
    assert_eq!(f.read("x.txt"), "1\n2\nours\n4\n5\n6\n7\n8\n");
    assert!(f.workspace.pending_merges(&[]).expect("pending").is_empty());
    assert_eq!(f.head(), local);
}

#[test]
fn behind_head_fast_forwards() {
    let (f, base) = Fixture::new(&[("x.txt", "x\n")]);
    let remote = f.remote_snap(base, &[("x.txt", "x2\n")], "r");
    let names = ["button".to_owned()];

    let report = f
        .workspace
        .rebase(&names, &f.options(Strategy::Rebase))
        .expect("rebase");

    assert_eq!(
        report.components[0].outcome,
        Outcome::FastForwarded { head: remote }
    );
    assert_eq!(f.head(), remote);
    assert_eq!(f.read("x.txt"), "x2\n");
}

#[test]
fn default_selection_skips_components_not_diverged() {
    let (f, base) = Fixture::new(&[("x.txt", "x\n")]);
    f.remote_snap(base, &[("x.txt", "x2\n")], "r");

    let report = f
        .workspace
        .merge(&[], &f.options(Strategy::Merge))
        .expect("merge");

    assert!(report.components.is_empty());
    assert_eq!(f.head(), base);
}

#[test]
fn unsnapped_changes_block_reconcile() {
    let (f, base) = Fixture::new(&[("x.txt", "x\n"), ("y.txt", "y\n")]);
    f.write("x.txt", "x1\n");
    f.snap("local");
    f.remote_snap(base, &[("x.txt", "x\n"), ("y.txt", "y2\n")], "r");
    f.write("x.txt", "dirty\n");

    let error = f
        .workspace
        .rebase(&[], &f.options(Strategy::Rebase))
        .expect_err("dirty");

    assert!(matches!(error, Error::LocalChanges { .. }), "{error:?}");
    assert_eq!(f.read("x.txt"), "dirty\n");
}

#[test]
fn rebase_of_local_merge_snap_merges_when_allowed() {
    let (f, base) = Fixture::new(&[("x.txt", LINES), ("y.txt", "y\n")]);
    f.write("x.txt", "1\n2\nours\n4\n5\n6\n7\n8\n");
    f.snap("local");
    let first_remote = f.remote_snap(
        base,
        &[("x.txt", "1\n2\ntheirs\n4\n5\n6\n7\n8\n"), ("y.txt", "y\n")],
        "r1",
    );
    let mut options = f.options(Strategy::Merge);
    options.write_conflicts = true;
    f.workspace.merge(&[], &options).expect("merge runs");
    f.write("x.txt", "1\n2\nboth\n4\n5\n6\n7\n8\n");
    let merge = f.snap("resolve");
    let second_remote = f.remote_snap(
        first_remote,
        &[
            ("x.txt", "1\n2\ntheirs\n4\n5\n6\n7\n8\n"),
            ("y.txt", "y2\n"),
        ],
        "r2",
    );

    let error = f
        .workspace
        .rebase(&[], &f.options(Strategy::Rebase))
        .expect_err("non-linear");
    assert!(matches!(error, Error::NonLinearRebase { snap, .. } if snap == merge));

    let mut options = f.options(Strategy::Rebase);
    options.merge_non_linear = true;
    let report = f.workspace.rebase(&[], &options).expect("rebase");
    let Outcome::Rebased {
        head,
        merged_instead,
        ..
    } = report.components[0].outcome.clone()
    else {
        panic!("expected a result: {report:?}");
    };
    assert_eq!(merged_instead, Some(merge));
    assert_eq!(f.read_snap(head).parents, vec![merge, second_remote]);
    assert_eq!(f.read("x.txt"), "1\n2\nboth\n4\n5\n6\n7\n8\n");
    assert_eq!(f.read("y.txt"), "y2\n");
}

#[test]
fn rebase_on_lane_moves_lane_head_only() {
    let (f, base) = Fixture::new(&[("x.txt", "x\n"), ("y.txt", "y\n")]);
    f.workspace.lane_create("ci", None).expect("lane");
    f.write("x.txt", "x1\n");
    let local = f.snap("on the lane");
    let component = "acme/button".parse().expect("id");
    let lane = f
        .workspace
        .current_lane()
        .expect("lane")
        .expect("on a lane");
    let lane_ref = RefName::Lane(lane.clone(), component);
    let store = f.workspace.object_store();
    let remote_files = [("x.txt", "x\n"), ("y.txt", "y2\n")];
    let remote = f.remote_snap(base, &remote_files, "remote on lane");
    // remote_snap records main; record the lane head instead.
    f.workspace
        .record_remote_refs(
            "origin",
            &[(Fixture::head_ref(), base), (lane_ref.clone(), remote)],
        )
        .expect("record");
    assert!(store.contains(&remote).expect("contains"));

    let report = f
        .workspace
        .rebase(&[], &f.options(Strategy::Rebase))
        .expect("rebase");

    assert_eq!(report.components[0].head, lane_ref);
    let Outcome::Rebased { head, .. } = report.components[0].outcome.clone() else {
        panic!("expected a rebase: {report:?}");
    };
    let lane_head = f.workspace.head(&lane_ref.component().clone(), Some(&lane));
    assert_eq!(lane_head.expect("head").current, Some(head));
    assert_eq!(f.head(), base, "main is unchanged");
    assert_eq!(f.read_snap(head).parents, vec![remote]);
    assert_eq!(f.read_snap(head).message, f.read_snap(local).message);
    assert_eq!(f.read("x.txt"), "x1\n");
    assert_eq!(f.read("y.txt"), "y2\n");
}

//! Helpers shared by the integration tests.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// Author recorded by snaps made in tests.
pub const AUTHOR: &str = "Test Author <test@example.com>";

/// A temporary directory to run ferry in.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    /// Creates an empty sandbox without a workspace.
    pub fn empty() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create tempdir"),
        }
    }

    /// Creates a sandbox with a workspace whose default scope is `acme`.
    pub fn workspace() -> Self {
        let sandbox = Self::empty();
        sandbox.ok(&["init", "--scope", "acme"]);
        sandbox
    }

    /// Returns the sandbox directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Returns `relative` inside the sandbox.
    pub fn join(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Returns a ferry command running in the sandbox with a fixed author.
    pub fn ferry(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ferry"));
        command
            .current_dir(self.dir.path())
            .env("FERRY_AUTHOR", AUTHOR)
            .env_remove("USER");
        command
    }

    /// Runs ferry with `args`, asserts success and returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.ferry().args(args).output().expect("run ferry");
        assert!(
            output.status.success(),
            "ferry {args:?} failed with {:?}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("stdout is UTF-8")
    }

    /// Runs ferry with `args` and `--json`, asserts success and parses
    /// stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let text = self.ok(&all);
        serde_json::from_str(&text).expect("stdout is JSON")
    }

    /// Runs ferry with `args`, asserts exit status 1 (a user error) and
    /// returns stderr.
    pub fn user_error(&self, args: &[&str]) -> String {
        let output = self.ferry().args(args).output().expect("run ferry");
        assert_eq!(
            output.status.code(),
            Some(1),
            "ferry {args:?} should fail with status 1; stdout: {}; stderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let stderr = String::from_utf8(output.stderr).expect("stderr is UTF-8");
        assert!(stderr.contains("hint: "), "no hint in: {stderr}");
        stderr
    }

    /// Creates a sandbox with a workspace whose default scope is `acme`
    /// and whose remote `origin` is `url`.
    pub fn with_remote(url: &str) -> Self {
        let sandbox = Self::workspace();
        sandbox.ok(&["remote", "add", "origin", url]);
        sandbox
    }

    /// Runs ferry with `args` and returns its output, whatever the status.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.ferry().args(args).output().expect("run ferry")
    }

    /// Runs ferry with `args` and `--json`, asserts exit status 1, and
    /// returns the JSON report on stdout and the error on stderr.
    pub fn json_failure(&self, args: &[&str]) -> (Value, String) {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let output = self.run(&all);
        let stderr = String::from_utf8(output.stderr).expect("stderr is UTF-8");
        assert_eq!(output.status.code(), Some(1), "ferry {args:?}: {stderr}");
        let report = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
        (report, stderr)
    }

    /// Writes `content` to `relative`, creating parent directories.
    pub fn write(&self, relative: &str, content: &str) {
        let path = self.join(relative);
        fs::create_dir_all(path.parent().expect("file has a parent")).expect("mkdir");
        fs::write(path, content).expect("write file");
    }

    /// Reads `relative` as text.
    pub fn read(&self, relative: &str) -> String {
        fs::read_to_string(self.join(relative)).expect("read file")
    }

    /// Snaps everything with `message` and returns the new snap id of
    /// `component`, which must be among the snapped.
    pub fn snap_one(&self, message: &str, component: &str) -> String {
        let report = self.json(&["snap", "-m", message]);
        snapped_id(&report, component).expect("component was snapped")
    }
}

/// Returns the snap id of `component` in a `snap --json` report.
pub fn snapped_id(report: &Value, component: &str) -> Option<String> {
    report["snapped"]
        .as_array()
        .expect("snapped is a list")
        .iter()
        .find(|snap| snap["component"] == component)
        .map(|snap| snap["snap"].as_str().expect("snap id").to_owned())
}

/// Returns the component ids in a `snap --json` report.
pub fn snapped_components(report: &Value) -> Vec<String> {
    report["snapped"]
        .as_array()
        .expect("snapped is a list")
        .iter()
        .map(|snap| snap["component"].as_str().expect("component").to_owned())
        .collect()
}

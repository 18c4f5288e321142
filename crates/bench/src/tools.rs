//! The two programs under test and the environment they run in.
//!
//! Both run with `HOME` pointing at a directory of the benchmark, so no
//! user or system configuration changes what they do. git gets a global
//! configuration with an author, `main` as the first branch, and automatic
//! garbage collection and maintenance off, so that no background `git gc`
//! of one run can slow down the next.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{bail, Context as _, Result};

/// Author of every snap and commit the benchmark makes.
const AUTHOR_NAME: &str = "Bench";

/// E-mail address of that author.
const AUTHOR_EMAIL: &str = "bench@example.com";

/// git's global configuration for the benchmark.
const GIT_CONFIG: &str = "\
[user]
\tname = Bench
\temail = bench@example.com
[init]
\tdefaultBranch = main
[gc]
\tauto = 0
[maintenance]
\tauto = false
[advice]
\tdetachedHead = false
";

/// Paths of the programs and of the home directory they share.
#[derive(Debug, Clone)]
pub struct Tools {
    ferry: PathBuf,
    home: PathBuf,
}

impl Tools {
    /// Prepares `home` and returns tools that run `ferry` and `git` there.
    pub fn new(ferry: PathBuf, home: PathBuf) -> Result<Self> {
        fs::create_dir_all(&home).with_context(|| format!("cannot create {}", home.display()))?;
        let config = home.join(".gitconfig");
        fs::write(&config, GIT_CONFIG)
            .with_context(|| format!("cannot write {}", config.display()))?;
        Ok(Self { ferry, home })
    }

    /// Returns the path of the ferry binary.
    pub fn ferry_path(&self) -> &Path {
        &self.ferry
    }

    /// Returns a `ferry` command that runs in `dir`.
    pub fn ferry_command(&self, dir: &Path) -> Command {
        let mut command = Command::new(&self.ferry);
        self.configure(&mut command, dir);
        command
    }

    /// Returns a `git` command that runs in `dir`.
    pub fn git_command(&self, dir: &Path) -> Command {
        let mut command = Command::new("git");
        self.configure(&mut command, dir);
        command
    }

    /// Runs `ferry args` in `dir` and returns its standard output.
    pub fn ferry(&self, dir: &Path, args: &[&str]) -> Result<String> {
        run(self.ferry_command(dir).args(args))
    }

    /// Runs `git args` in `dir` and returns its standard output.
    pub fn git(&self, dir: &Path, args: &[&str]) -> Result<String> {
        run(self.git_command(dir).args(args))
    }

    fn configure(&self, command: &mut Command, dir: &Path) {
        command
            .current_dir(dir)
            .stdin(Stdio::null())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("FERRY_AUTHOR", format!("{AUTHOR_NAME} <{AUTHOR_EMAIL}>"))
            .env_remove("RUST_LOG");
    }
}

/// Runs `command` to completion and returns its standard output, or fails
/// with its standard error when it exits unsuccessfully.
pub fn run(command: &mut Command) -> Result<String> {
    let output = capture(command)?;
    check(command, &output)?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs `command` to completion with its output captured.
pub fn capture(command: &mut Command) -> Result<Output> {
    command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot start {}", describe(command)))
}

/// Fails with the standard error of `output` unless it reports success.
pub fn check(command: &Command, output: &Output) -> Result<()> {
    if output.status.success() {
        return Ok(());
    }
    bail!(
        "{} failed with {}: {}",
        describe(command),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    )
}

/// Returns the program and arguments of `command` as one line, the
/// arguments cut after the first eight.
pub fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    let args: Vec<_> = command.get_args().collect();
    for arg in args.iter().take(8) {
        words.push(arg.to_string_lossy().into_owned());
    }
    if args.len() > 8 {
        words.push(format!("... ({} more)", args.len() - 8));
    }
    words.join(" ")
}

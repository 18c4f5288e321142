//! Building the `ferry` binary and reading the versions of the tools.
//!
//! The build runs `cargo build` with JSON messages and takes the path of
//! the executable from them, so it works with any target directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context as _, Result};

/// Builds the `ferry` binary of the repository at `repo` with cargo
/// profile `profile` and returns the executable's path.
pub fn build_ferry(repo: &Path, profile: &str) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building ferry with profile {profile}");
    let output = Command::new(cargo)
        .current_dir(repo)
        .args([
            "build",
            "--profile",
            profile,
            "-p",
            "ferry-cli",
            "--bin",
            "ferry",
        ])
        .arg("--message-format=json-render-diagnostics")
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo build")?;
    if !output.status.success() {
        bail!("cargo build failed with {}", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    find_executable(&stdout, "ferry")
        .with_context(|| format!("cargo build reported no executable named ferry in {profile}"))
}

/// Returns the executable of target `name` named in cargo's JSON
/// `messages`, one message per line.
fn find_executable(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| message["target"]["name"] == name)
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
}

/// Returns the first line that `program args` prints, or a note that it
/// could not be run.
pub fn version_line(program: &Path, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output();
    match output {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        _ => format!("{} (version unknown)", program.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executable_found_among_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"ferry_core"},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"ferry"},"executable":"/t/ferry"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            find_executable(messages, "ferry"),
            Some(PathBuf::from("/t/ferry"))
        );
        assert_eq!(find_executable(messages, "other"), None);
    }
}

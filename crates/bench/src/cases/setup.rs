//! Building blocks for preparing workspaces and repositories.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result};

use crate::corpus::{component_names, copy_components};
use crate::tools::{check, describe, Tools};

/// Scope of every component the benchmark makes.
pub const SCOPE: &str = "bench";

/// Copies `tree` into `dir` and makes `dir` a ferry workspace that tracks
/// each folder of `tree` as a component.
pub fn ferry_workspace(tools: &Tools, tree: &Path, dir: &Path) -> Result<()> {
    ferry_workspace_of(tools, tree, &component_names(tree)?, dir)
}

/// Copies the component folders `names` of `tree` into `dir` and makes
/// `dir` a ferry workspace that tracks them.
pub fn ferry_workspace_of(tools: &Tools, tree: &Path, names: &[String], dir: &Path) -> Result<()> {
    copy_components(tree, names, dir)?;
    tools.ferry(dir, &["init", "--scope", SCOPE])?;
    track(tools, dir, names)
}

/// Tracks the folders `names` of the workspace `dir` as components.
pub fn track(tools: &Tools, dir: &Path, names: &[String]) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let mut args = vec!["add"];
    args.extend(names.iter().map(String::as_str));
    tools.ferry(dir, &args)?;
    Ok(())
}

/// Copies `tree` into `dir` and makes `dir` a git repository.
pub fn git_repo(tools: &Tools, tree: &Path, dir: &Path) -> Result<()> {
    git_repo_of(tools, tree, &component_names(tree)?, dir)
}

/// Copies the component folders `names` of `tree` into `dir` and makes
/// `dir` a git repository.
pub fn git_repo_of(tools: &Tools, tree: &Path, names: &[String], dir: &Path) -> Result<()> {
    copy_components(tree, names, dir)?;
    tools.git(dir, &["init", "-q"])?;
    Ok(())
}

/// Snaps every changed component of the workspace `dir`.
pub fn ferry_snap(tools: &Tools, dir: &Path, message: &str) -> Result<()> {
    tools.ferry(dir, &["snap", "-m", message])?;
    Ok(())
}

/// Stages every change of the repository `dir` and commits it.
pub fn git_commit(tools: &Tools, dir: &Path, message: &str) -> Result<()> {
    tools.git(dir, &["add", "-A"])?;
    tools.git(dir, &["commit", "-q", "-m", message])?;
    Ok(())
}

/// Splits `names` round-robin into `count` groups.
pub fn split(names: &[String], count: usize) -> Vec<Vec<String>> {
    let mut groups = vec![Vec::new(); count];
    for (index, name) in names.iter().enumerate() {
        groups[index % count].push(name.clone());
    }
    groups
}

/// Starts every command of `commands` at once, waits for all, and fails
/// if any failed.
pub fn run_at_once(commands: Vec<Command>) -> Result<()> {
    let mut running = Vec::with_capacity(commands.len());
    let mut first_error = None;
    for mut command in commands {
        let spawned = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", describe(&command)));
        match spawned {
            Ok(child) => running.push((command, child)),
            Err(error) => {
                first_error = Some(error);
                break;
            }
        }
    }
    // Every started child is waited for, even after a failure, so none
    // outlives the run.
    for (command, child) in running {
        let outcome = child
            .wait_with_output()
            .map_err(anyhow::Error::from)
            .and_then(|output| check(&command, &output));
        if let Err(error) = outcome {
            first_error.get_or_insert(error);
        }
    }
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_deals_names_in_turn() {
        let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let groups = split(&names, 2);
        assert_eq!(groups, [vec!["a", "c", "e"], vec!["b", "d"]]);
    }
}

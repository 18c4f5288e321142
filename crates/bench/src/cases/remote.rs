//! The ferry and git commands that talk to remotes, in one place.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use super::server::FerryServer;
use super::setup::SCOPE;
use crate::tools::Tools;

/// Name of the remote every workspace and clone exports to.
pub const ORIGIN: &str = "origin";

/// Starts a server on the data directory `data` and creates the
/// benchmark's scope on it. The workspace `dir` runs the command.
pub fn start_server(tools: &Tools, dir: &Path, data: &Path) -> Result<FerryServer> {
    let server = FerryServer::start(tools, data)?;
    tools.ferry(dir, &["scope", "create", SCOPE, "--remote", server.url()])?;
    Ok(server)
}

/// Adds remote `name` at `url` to the workspace `dir`.
pub fn add_remote(tools: &Tools, dir: &Path, name: &str, url: &str) -> Result<()> {
    tools.ferry(dir, &["remote", "add", name, url])?;
    Ok(())
}

/// Returns `ferry export` of every component of the workspace `dir` to
/// remote `name`.
pub fn export_command(tools: &Tools, dir: &Path, name: &str) -> Command {
    let mut command = tools.ferry_command(dir);
    command.args(["export", "--remote", name]);
    command
}

/// Exports every component of the workspace `dir` to remote `name`.
pub fn export(tools: &Tools, dir: &Path, name: &str) -> Result<()> {
    crate::tools::run(&mut export_command(tools, dir, name))?;
    Ok(())
}

/// Imports `components` of the benchmark's scope from remote `name` into
/// the workspace `dir`.
pub fn import(tools: &Tools, dir: &Path, name: &str, components: &[String]) -> Result<()> {
    let mut args = vec!["import", "--remote", name];
    args.extend(components.iter().map(String::as_str));
    tools.ferry(dir, &args)?;
    Ok(())
}

/// Reports whether this ferry has `export --rebase`.
pub fn has_export_rebase(tools: &Tools, dir: &Path) -> bool {
    tools
        .ferry(dir, &["export", "--help"])
        .is_ok_and(|help| help.contains("--rebase"))
}

/// Creates an empty bare repository `dir`.
pub fn git_bare(tools: &Tools, dir: &Path) -> Result<()> {
    let parent = dir.parent().unwrap_or(dir);
    let name = dir.to_string_lossy();
    tools.git(parent, &["init", "-q", "--bare", &name])?;
    Ok(())
}

/// Adds `bare` as remote `origin` of the repository `dir`.
pub fn git_add_origin(tools: &Tools, dir: &Path, bare: &Path) -> Result<()> {
    tools.git(dir, &["remote", "add", ORIGIN, &bare.to_string_lossy()])?;
    Ok(())
}

/// Pushes `main` of the repository `dir` to `origin`.
pub fn git_push(tools: &Tools, dir: &Path) -> Result<()> {
    tools.git(dir, &["push", "-q", "-u", ORIGIN, "main"])?;
    Ok(())
}

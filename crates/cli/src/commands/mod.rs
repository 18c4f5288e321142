//! One module per command. Each parses nothing itself: clap fills its
//! `Args`, `run` calls one workspace method and renders the report.

pub mod add;
pub mod checkout;
pub mod config;
pub mod export;
pub mod fetch;
pub mod fsck;
pub mod import;
pub mod init;
pub mod lane;
pub mod log;
pub mod merge;
pub mod rebase;
pub mod reconcile;
pub mod remote;
pub mod scope;
pub mod serve;
pub mod snap;
pub mod status;
pub mod tag;

use std::path::{Path, PathBuf};

use anyhow::Context;
use ferry_workspace::Workspace;

use crate::cli::{Cli, Command};
use crate::output::Output;

/// The settings every command receives besides its own arguments.
pub struct Invocation {
    /// The directory ferry runs in.
    pub directory: PathBuf,
    /// How to print results.
    pub output: Output,
}

impl Invocation {
    /// Opens the workspace containing the working directory.
    pub fn workspace(&self) -> anyhow::Result<Workspace> {
        Ok(Workspace::discover(&self.directory)?)
    }

    /// Returns `path` as seen from the working directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        self.directory.join(path)
    }
}

/// Runs the command in `cli`.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let current = std::env::current_dir().context("reading the current directory")?;
    let directory = match cli.directory {
        Some(dir) => current.join(dir),
        None => current,
    };
    let context = Invocation {
        directory,
        output: Output { json: cli.json },
    };
    match cli.command {
        Command::Init(args) => init::run(&context, args),
        Command::Add(args) => add::run(&context, args),
        Command::Status(args) => status::run(&context, args),
        Command::Snap(args) => snap::run(&context, args),
        Command::Tag(args) => tag::run(&context, args),
        Command::Log(args) => log::run(&context, args),
        Command::Lane(args) => lane::run(&context, args),
        Command::Checkout(args) => checkout::run(&context, args),
        Command::Merge(args) => merge::run(&context, args),
        Command::Rebase(args) => rebase::run(&context, args),
        Command::Remote(args) => remote::run(&context, args),
        Command::Config(args) => config::run(&context, args),
        Command::Serve(args) => serve::run(&context, args),
        Command::Scope(args) => scope::run(&context, args),
        Command::Export(args) => export::run(&context, args),
        Command::Import(args) => import::run(&context, args),
        Command::Fetch(args) => fetch::run(&context, args),
        Command::Fsck(args) => fsck::run(&context, args),
    }
}

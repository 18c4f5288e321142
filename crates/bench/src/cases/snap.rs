//! Case 1: the first snap of Material UI 9.5.0 in a new workspace, against
//! `git add -A && git commit` in a new repository.
//!
//! `ferry init`, `ferry add` and `git init` are setup and are not timed.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::setup::{ferry_snap, ferry_workspace, git_commit, git_repo};
use super::Context;
use crate::harness::Contender;
use crate::report::Outcome;
use crate::tools::Tools;

/// Runs the case.
pub fn run(context: &Context) -> Result<Outcome> {
    let tree = context.inputs.mui_old.clone();
    let mut ferry = FerrySnap {
        tools: context.tools.clone(),
        tree: tree.clone(),
    };
    let mut git = GitCommit {
        tools: context.tools.clone(),
        tree,
    };
    let (ferry, git) = context.runner.alternate("snap", &mut ferry, &mut git)?;
    Ok(Outcome::Measured { ferry, git })
}

struct FerrySnap {
    tools: Tools,
    tree: PathBuf,
}

impl Contender for FerrySnap {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        ferry_workspace(&self.tools, &self.tree, dir)
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        ferry_snap(&self.tools, dir, "Material UI 9.5.0")
    }
}

struct GitCommit {
    tools: Tools,
    tree: PathBuf,
}

impl Contender for GitCommit {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        git_repo(&self.tools, &self.tree, dir)
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        git_commit(&self.tools, dir, "Material UI 9.5.0")
    }
}

//! Case 2: export of the snapped Material UI 9.5.0 to a `ferry serve` on
//! loopback, against `git push` of the same commit to a bare repository.
//!
//! Not timed: the snap or commit, starting the server, creating its scope
//! and the bare repository.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::remote::{add_remote, export, git_add_origin, git_bare, git_push, start_server, ORIGIN};
use super::server::FerryServer;
use super::setup::{ferry_snap, ferry_workspace, git_commit, git_repo};
use super::Context;
use crate::harness::Contender;
use crate::report::Outcome;
use crate::tools::Tools;

/// Runs the case.
pub fn run(context: &Context) -> Result<Outcome> {
    let tree = context.inputs.mui_old.clone();
    let mut ferry = FerryExport {
        tools: context.tools.clone(),
        tree: tree.clone(),
        server: None,
    };
    let mut git = GitPush {
        tools: context.tools.clone(),
        tree,
    };
    let (ferry, git) = context.runner.alternate("export", &mut ferry, &mut git)?;
    Ok(Outcome::Measured { ferry, git })
}

struct FerryExport {
    tools: Tools,
    tree: PathBuf,
    server: Option<FerryServer>,
}

impl Contender for FerryExport {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        let work = dir.join("work");
        ferry_workspace(&self.tools, &self.tree, &work)?;
        ferry_snap(&self.tools, &work, "Material UI 9.5.0")?;
        let server = start_server(&self.tools, &work, &dir.join("server"))?;
        add_remote(&self.tools, &work, ORIGIN, server.url())?;
        self.server = Some(server);
        Ok(())
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        export(&self.tools, &dir.join("work"), ORIGIN)
    }

    fn finish(&mut self, _dir: &Path) -> Result<Option<u64>> {
        self.server.take().map(FerryServer::stop).transpose()?;
        Ok(None)
    }
}

struct GitPush {
    tools: Tools,
    tree: PathBuf,
}

impl Contender for GitPush {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        let work = dir.join("work");
        git_repo(&self.tools, &self.tree, &work)?;
        git_commit(&self.tools, &work, "Material UI 9.5.0")?;
        let bare = dir.join("remote.git");
        git_bare(&self.tools, &bare)?;
        git_add_origin(&self.tools, &work, &bare)
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        git_push(&self.tools, &dir.join("work"))
    }
}

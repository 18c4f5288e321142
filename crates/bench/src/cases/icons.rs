//! Case 4: the icons library, about 10,700 components of 4 files each.
//! ferry snaps and exports; git stages, commits and pushes.
//!
//! Not timed: `ferry init` and `ferry add` of every component, `git init`,
//! starting the server, creating its scope and the bare repository.

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
    let tree = context.inputs.icons.clone();
    let mut ferry = FerryIcons {
        tools: context.tools.clone(),
        tree: tree.clone(),
        server: None,
    };
    let mut git = GitIcons {
        tools: context.tools.clone(),
        tree,
    };
    let (ferry, git) = context.runner.alternate("icons", &mut ferry, &mut git)?;
    Ok(Outcome::Measured { ferry, git })
}

struct FerryIcons {
    tools: Tools,
    tree: PathBuf,
    server: Option<FerryServer>,
}

impl Contender for FerryIcons {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        let work = dir.join("work");
        ferry_workspace(&self.tools, &self.tree, &work)?;
        let server = start_server(&self.tools, &work, &dir.join("server"))?;
        add_remote(&self.tools, &work, ORIGIN, server.url())?;
        self.server = Some(server);
        Ok(())
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        let work = dir.join("work");
        ferry_snap(&self.tools, &work, "Icons 9.6.0")?;
        export(&self.tools, &work, ORIGIN)
    }

    fn finish(&mut self, _dir: &Path) -> Result<Option<u64>> {
        self.server.take().map(FerryServer::stop).transpose()?;
        Ok(None)
    }
}

struct GitIcons {
    tools: Tools,
    tree: PathBuf,
}

impl Contender for GitIcons {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        let work = dir.join("work");
        git_repo(&self.tools, &self.tree, &work)?;
        let bare = dir.join("remote.git");
        git_bare(&self.tools, &bare)?;
        git_add_origin(&self.tools, &work, &bare)
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        let work = dir.join("work");
        git_commit(&self.tools, &work, "Icons 9.6.0")?;
        git_push(&self.tools, &work)
    }
}

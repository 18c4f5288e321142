//! Case 3: the update from Material UI 9.5.0 to 9.6.0. ferry snaps and
//! exports; git stages, commits and pushes.
//!
//! Not timed: snapping or committing 9.5.0, exporting or pushing it to a
//! fresh server or bare repository, and copying the 9.6.0 folders over the
//! 9.5.0 ones, which gives every file a new modification time for both
//! tools.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::remote::{add_remote, export, git_add_origin, git_bare, git_push, start_server, ORIGIN};
use super::server::FerryServer;
use super::setup::{ferry_snap, ferry_workspace, git_commit, git_repo, track};
use super::Context;
use crate::corpus::{component_names, replace_components};
use crate::harness::Contender;
use crate::report::Outcome;
use crate::tools::Tools;

/// Runs the case.
pub fn run(context: &Context) -> Result<Outcome> {
    let releases = Releases {
        old: context.inputs.mui_old.clone(),
        new: context.inputs.mui_new.clone(),
    };
    let mut ferry = FerryUpdate {
        tools: context.tools.clone(),
        releases: releases.clone(),
        server: None,
    };
    let mut git = GitUpdate {
        tools: context.tools.clone(),
        releases,
    };
    let (ferry, git) = context.runner.alternate("update", &mut ferry, &mut git)?;
    Ok(Outcome::Measured { ferry, git })
}

#[derive(Clone)]
struct Releases {
    old: PathBuf,
    new: PathBuf,
}

struct FerryUpdate {
    tools: Tools,
    releases: Releases,
    server: Option<FerryServer>,
}

impl Contender for FerryUpdate {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        let work = dir.join("work");
        ferry_workspace(&self.tools, &self.releases.old, &work)?;
        ferry_snap(&self.tools, &work, "Material UI 9.5.0")?;
        let server = start_server(&self.tools, &work, &dir.join("server"))?;
        add_remote(&self.tools, &work, ORIGIN, server.url())?;
        self.server = Some(server);
        export(&self.tools, &work, ORIGIN)?;

        replace_components(&self.releases.new, &work)?;
        let old = component_names(&self.releases.old)?;
        let mut added = component_names(&self.releases.new)?;
        added.retain(|name| !old.contains(name));
        track(&self.tools, &work, &added)
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        let work = dir.join("work");
        ferry_snap(&self.tools, &work, "Material UI 9.6.0")?;
        export(&self.tools, &work, ORIGIN)
    }

    fn finish(&mut self, _dir: &Path) -> Result<Option<u64>> {
        self.server.take().map(FerryServer::stop).transpose()?;
        Ok(None)
    }
}

struct GitUpdate {
    tools: Tools,
    releases: Releases,
}

impl Contender for GitUpdate {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        let work = dir.join("work");
        git_repo(&self.tools, &self.releases.old, &work)?;
        git_commit(&self.tools, &work, "Material UI 9.5.0")?;
        let bare = dir.join("remote.git");
        git_bare(&self.tools, &bare)?;
        git_add_origin(&self.tools, &work, &bare)?;
        git_push(&self.tools, &work)?;
        replace_components(&self.releases.new, &work)
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        let work = dir.join("work");
        git_commit(&self.tools, &work, "Material UI 9.6.0")?;
        git_push(&self.tools, &work)
    }
}

//! Case 8: export of one component of 16 large files of random bytes
//! (1 GiB in all at the default size), against `git push` of the same
//! files, with the peak memory of the receiving side.
//!
//! The client workspace and repository are built and snapped or committed
//! once, outside every run. Each run exports to a new server under a new
//! remote name, or pushes to a new bare repository, so the receiving side
//! always starts empty. The ferry server's peak is its `VmHWM`; git's is
//! the sum of the peaks of `receive-pack` and the `index-pack` or
//! `unpack-objects` it starts.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context as _, Result};

use super::remote::{add_remote, export, git_bare, start_server};
use super::server::FerryServer;
use super::setup::{ferry_snap, ferry_workspace, git_commit, git_repo};
use super::Context;
use crate::harness::{fresh_dir, Contender};
use crate::memory::PeakWatch;
use crate::report::Outcome;
use crate::tools::{check, describe, Tools};

/// Command-line words of the processes on git's receiving side.
const GIT_RECEIVERS: &[&str] = &["receive-pack", "index-pack", "unpack-objects"];

/// Runs the case.
pub fn run(context: &Context) -> Result<Outcome> {
    let tools = &context.tools;
    let tree = &context.inputs.large;
    let ferry_client = context.runner.scratch.join("large-client-ferry");
    fresh_dir(&ferry_client)?;
    ferry_workspace(tools, tree, &ferry_client)?;
    ferry_snap(tools, &ferry_client, "Random files")?;
    let git_client = context.runner.scratch.join("large-client-git");
    fresh_dir(&git_client)?;
    git_repo(tools, tree, &git_client)?;
    git_commit(tools, &git_client, "Random files")?;

    let mut ferry = FerryLarge {
        tools: tools.clone(),
        client: ferry_client,
        runs: 0,
        server: None,
    };
    let mut git = GitLarge {
        tools: tools.clone(),
        client: git_client,
        peak: None,
    };
    let (ferry, git) = context
        .runner
        .alternate_discarding("large", &mut ferry, &mut git)?;
    Ok(Outcome::Measured { ferry, git })
}

struct FerryLarge {
    tools: Tools,
    client: PathBuf,
    runs: usize,
    server: Option<FerryServer>,
}

impl FerryLarge {
    fn remote_name(&self) -> String {
        format!("run{}", self.runs)
    }
}

impl Contender for FerryLarge {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        self.runs += 1;
        let server = start_server(&self.tools, &self.client, &dir.join("server"))?;
        add_remote(&self.tools, &self.client, &self.remote_name(), server.url())?;
        self.server = Some(server);
        Ok(())
    }

    fn run(&mut self, _dir: &Path) -> Result<()> {
        export(&self.tools, &self.client, &self.remote_name())
    }

    fn finish(&mut self, _dir: &Path) -> Result<Option<u64>> {
        let peak = self.server.take().map(FerryServer::stop).transpose()?;
        Ok(peak.flatten())
    }
}

struct GitLarge {
    tools: Tools,
    client: PathBuf,
    peak: Option<u64>,
}

impl Contender for GitLarge {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        git_bare(&self.tools, &dir.join("remote.git"))
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        let bare = dir.join("remote.git");
        let mut command = self.tools.git_command(&self.client);
        command
            .args(["push", "-q"])
            .arg(&bare)
            .arg("main")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", describe(&command)))?;
        let watch = PeakWatch::start(child.id(), GIT_RECEIVERS);
        let output = child.wait_with_output();
        self.peak = Some(watch.finish());
        check(&command, &output?)
    }

    fn finish(&mut self, _dir: &Path) -> Result<Option<u64>> {
        Ok(self.peak.take())
    }
}

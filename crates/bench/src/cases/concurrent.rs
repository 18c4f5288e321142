//! Case 6: concurrent clients, each exporting its own share of the
//! Material UI 9.5.0 components to one server, against as many git clones
//! each pushing its share to its own branch of one bare repository.
//!
//! Each client holds every N-th component folder, so no two touch the
//! same component, file or branch. Not timed: building and snapping or
//! committing every client, starting the server, creating the bare
//! repository. Timed: from starting the first export or push until the
//! last one exits.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::remote::{add_remote, export_command, git_add_origin, git_bare, start_server, ORIGIN};
use super::server::FerryServer;
use super::setup::{ferry_snap, ferry_workspace_of, git_commit, git_repo_of, run_at_once, split};
use super::Context;
use crate::corpus::component_names;
use crate::harness::Contender;
use crate::report::Outcome;
use crate::tools::Tools;

/// Runs the case.
pub fn run(context: &Context) -> Result<Outcome> {
    let tree = context.inputs.mui_old.clone();
    let groups = split(&component_names(&tree)?, context.clients);
    let shares = Shares { tree, groups };
    let mut ferry = FerryExports {
        tools: context.tools.clone(),
        shares: shares.clone(),
        server: None,
    };
    let mut git = GitPushes {
        tools: context.tools.clone(),
        shares,
    };
    let (ferry, git) = context
        .runner
        .alternate("concurrent", &mut ferry, &mut git)?;
    Ok(Outcome::Measured { ferry, git })
}

/// The input tree and each client's share of its components.
#[derive(Clone)]
struct Shares {
    tree: PathBuf,
    groups: Vec<Vec<String>>,
}

impl Shares {
    fn client_dirs(&self, dir: &Path) -> Vec<PathBuf> {
        (0..self.groups.len())
            .map(|index| dir.join(format!("client-{index:02}")))
            .collect()
    }
}

struct FerryExports {
    tools: Tools,
    shares: Shares,
    server: Option<FerryServer>,
}

impl Contender for FerryExports {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        let clients = self.shares.client_dirs(dir);
        for (client, names) in clients.iter().zip(&self.shares.groups) {
            ferry_workspace_of(&self.tools, &self.shares.tree, names, client)?;
            ferry_snap(&self.tools, client, "Material UI 9.5.0")?;
        }
        let server = start_server(&self.tools, &clients[0], &dir.join("server"))?;
        for client in &clients {
            add_remote(&self.tools, client, ORIGIN, server.url())?;
        }
        self.server = Some(server);
        Ok(())
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        let commands = self
            .shares
            .client_dirs(dir)
            .iter()
            .map(|client| export_command(&self.tools, client, ORIGIN))
            .collect();
        run_at_once(commands)
    }

    fn finish(&mut self, _dir: &Path) -> Result<Option<u64>> {
        self.server.take().map(FerryServer::stop).transpose()?;
        Ok(None)
    }
}

struct GitPushes {
    tools: Tools,
    shares: Shares,
}

impl Contender for GitPushes {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        let bare = dir.join("remote.git");
        git_bare(&self.tools, &bare)?;
        let clients = self.shares.client_dirs(dir);
        for (client, names) in clients.iter().zip(&self.shares.groups) {
            git_repo_of(&self.tools, &self.shares.tree, names, client)?;
            git_commit(&self.tools, client, "Material UI 9.5.0")?;
            git_add_origin(&self.tools, client, &bare)?;
        }
        Ok(())
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        let clients = self.shares.client_dirs(dir);
        let commands = clients
            .iter()
            .enumerate()
            .map(|(index, client)| {
                let mut command = self.tools.git_command(client);
                let refspec = format!("main:refs/heads/client-{index:02}");
                command.args(["push", "-q", ORIGIN, &refspec]);
                command
            })
            .collect();
        run_at_once(commands)
    }
}

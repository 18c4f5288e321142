//! Case 7: concurrent clients racing to add a file to the same component.
//! Each ferry client runs `ferry export --rebase` until its snap lands;
//! each git client runs `git push`, and `git pull --rebase` after each
//! rejected push, until its commit lands.
//!
//! Every client adds a file of its own, so the replays never conflict.
//! Not timed: the seed export or push, importing or cloning it into each
//! client, and each client's snap or commit. Timed: from starting the
//! first client until the last one landed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};

use super::remote::{
    add_remote, export, git_add_origin, git_bare, git_push, has_export_rebase, import,
    start_server, ORIGIN,
};
use super::server::FerryServer;
use super::setup::{ferry_snap, ferry_workspace_of, git_commit, git_repo_of, SCOPE};
use super::Context;
use crate::corpus::component_names;
use crate::harness::Contender;
use crate::report::Outcome;
use crate::tools::{capture, Tools};

/// Attempts per client before the case fails; with 16 clients and one
/// winner per round, each lands within 16 rounds.
const MAX_ATTEMPTS: usize = 64;

/// Runs the case.
pub fn run(context: &Context) -> Result<Outcome> {
    if !has_export_rebase(&context.tools, &context.runner.scratch) {
        return Ok(Outcome::Skipped("needs export --rebase".to_owned()));
    }
    let tree = context.inputs.mui_old.clone();
    let Some(component) = component_names(&tree)?.into_iter().next() else {
        bail!("{} holds no component", tree.display());
    };
    let race = Race {
        tree,
        component,
        clients: context.clients,
    };
    let mut ferry = FerryRace {
        tools: context.tools.clone(),
        race: race.clone(),
        server: None,
    };
    let mut git = GitRace {
        tools: context.tools.clone(),
        race,
    };
    let (ferry, git) = context.runner.alternate("race", &mut ferry, &mut git)?;
    Ok(Outcome::Measured { ferry, git })
}

/// The component raced on and the number of clients.
#[derive(Clone)]
struct Race {
    tree: PathBuf,
    component: String,
    clients: usize,
}

impl Race {
    fn client_dirs(&self, dir: &Path) -> Vec<PathBuf> {
        (0..self.clients)
            .map(|index| dir.join(format!("client-{index:02}")))
            .collect()
    }

    /// Writes the file that client `index` adds to the component.
    fn write_change(&self, client: &Path, index: usize) -> Result<()> {
        let path = client
            .join(&self.component)
            .join(format!("client-{index:02}.txt"));
        fs::write(&path, format!("added by client {index}\n"))
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Runs `attempt` for each client on its own thread until it succeeds;
/// `recover` runs after each failed attempt. Fails if a client does not
/// land within `MAX_ATTEMPTS`.
fn land_all(
    clients: &[PathBuf],
    attempt: &(dyn Fn(&Path) -> Command + Sync),
    recover: &(dyn Fn(&Path) -> Command + Sync),
) -> Result<()> {
    std::thread::scope(|scope| {
        let threads: Vec<_> = clients
            .iter()
            .map(|client| scope.spawn(|| land(client, attempt, recover)))
            .collect();
        // Every thread is joined before the first error is returned.
        let outcomes: Vec<Result<()>> = threads
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|_| bail!("a client thread panicked"))
            })
            .collect();
        outcomes.into_iter().collect()
    })
}

fn land(
    client: &Path,
    attempt: &dyn Fn(&Path) -> Command,
    recover: &dyn Fn(&Path) -> Command,
) -> Result<()> {
    let mut last_error = String::new();
    for _ in 0..MAX_ATTEMPTS {
        let output = capture(&mut attempt(client))?;
        if output.status.success() {
            return Ok(());
        }
        last_error = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        capture(&mut recover(client))?;
    }
    bail!(
        "{} did not land within {MAX_ATTEMPTS} attempts: {last_error}",
        client.display()
    )
}

struct FerryRace {
    tools: Tools,
    race: Race,
    server: Option<FerryServer>,
}

impl Contender for FerryRace {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        let seed = dir.join("seed");
        let names = [self.race.component.clone()];
        ferry_workspace_of(&self.tools, &self.race.tree, &names, &seed)?;
        ferry_snap(&self.tools, &seed, "Seed")?;
        let server = start_server(&self.tools, &seed, &dir.join("server"))?;
        add_remote(&self.tools, &seed, ORIGIN, server.url())?;
        export(&self.tools, &seed, ORIGIN)?;

        let component = format!("{SCOPE}/{}", self.race.component);
        for (index, client) in self.race.client_dirs(dir).iter().enumerate() {
            fs::create_dir(client)?;
            self.tools.ferry(client, &["init", "--scope", SCOPE])?;
            add_remote(&self.tools, client, ORIGIN, server.url())?;
            import(
                &self.tools,
                client,
                ORIGIN,
                std::slice::from_ref(&component),
            )?;
            self.race.write_change(client, index)?;
            ferry_snap(&self.tools, client, &format!("Client {index}"))?;
        }
        self.server = Some(server);
        Ok(())
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        let tools = &self.tools;
        let attempt = |client: &Path| {
            let mut command = tools.ferry_command(client);
            command.args(["export", "--rebase", "--remote", ORIGIN]);
            command
        };
        // `export --rebase` fetches by itself, so a retry needs no extra
        // step; `true` stands in for one.
        let recover = |_: &Path| Command::new("true");
        land_all(&self.race.client_dirs(dir), &attempt, &recover)
    }

    fn finish(&mut self, _dir: &Path) -> Result<Option<u64>> {
        self.server.take().map(FerryServer::stop).transpose()?;
        Ok(None)
    }
}

struct GitRace {
    tools: Tools,
    race: Race,
}

impl Contender for GitRace {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        let seed = dir.join("seed");
        let names = [self.race.component.clone()];
        git_repo_of(&self.tools, &self.race.tree, &names, &seed)?;
        git_commit(&self.tools, &seed, "Seed")?;
        let bare = dir.join("remote.git");
        git_bare(&self.tools, &bare)?;
        git_add_origin(&self.tools, &seed, &bare)?;
        git_push(&self.tools, &seed)?;

        for (index, client) in self.race.client_dirs(dir).iter().enumerate() {
            let name = client.to_string_lossy();
            self.tools
                .git(dir, &["clone", "-q", "--no-local", "remote.git", &name])?;
            self.race.write_change(client, index)?;
            git_commit(&self.tools, client, &format!("Client {index}"))?;
        }
        Ok(())
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        let tools = &self.tools;
        let attempt = |client: &Path| {
            let mut command = tools.git_command(client);
            command.args(["push", "-q", ORIGIN, "main"]);
            command
        };
        let recover = |client: &Path| {
            let mut command = tools.git_command(client);
            command.args(["pull", "-q", "--rebase", ORIGIN, "main"]);
            command
        };
        land_all(&self.race.client_dirs(dir), &attempt, &recover)
    }
}

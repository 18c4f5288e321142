//! Case 5: import of Material UI 9.5.0 from a `ferry serve` into a new
//! workspace, against `git clone` of the same commit from a bare
//! repository.
//!
//! Not timed: building the source workspace or repository, exporting or
//! pushing it, and `ferry init` with `ferry remote add` in the new
//! workspace. git clones with `--no-local`, so it copies objects through
//! its transport instead of hard-linking them.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::remote::{
    add_remote, export, git_add_origin, git_bare, git_push, import, start_server, ORIGIN,
};
use super::server::FerryServer;
use super::setup::{ferry_snap, ferry_workspace, git_commit, git_repo, SCOPE};
use super::Context;
use crate::corpus::component_names;
use crate::harness::Contender;
use crate::report::Outcome;
use crate::tools::Tools;

/// Runs the case.
pub fn run(context: &Context) -> Result<Outcome> {
    let tree = context.inputs.mui_old.clone();
    let components = component_names(&tree)?
        .into_iter()
        .map(|name| format!("{SCOPE}/{name}"))
        .collect();
    let mut ferry = FerryImport {
        tools: context.tools.clone(),
        tree: tree.clone(),
        components,
        server: None,
    };
    let mut git = GitClone {
        tools: context.tools.clone(),
        tree,
    };
    let (ferry, git) = context.runner.alternate("import", &mut ferry, &mut git)?;
    Ok(Outcome::Measured { ferry, git })
}

struct FerryImport {
    tools: Tools,
    tree: PathBuf,
    components: Vec<String>,
    server: Option<FerryServer>,
}

impl Contender for FerryImport {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        let source = dir.join("source");
        ferry_workspace(&self.tools, &self.tree, &source)?;
        ferry_snap(&self.tools, &source, "Material UI 9.5.0")?;
        let server = start_server(&self.tools, &source, &dir.join("server"))?;
        add_remote(&self.tools, &source, ORIGIN, server.url())?;
        export(&self.tools, &source, ORIGIN)?;

        let work = dir.join("work");
        fs::create_dir(&work)?;
        self.tools.ferry(&work, &["init", "--scope", SCOPE])?;
        add_remote(&self.tools, &work, ORIGIN, server.url())?;
        self.server = Some(server);
        Ok(())
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        import(&self.tools, &dir.join("work"), ORIGIN, &self.components)
    }

    fn finish(&mut self, _dir: &Path) -> Result<Option<u64>> {
        self.server.take().map(FerryServer::stop).transpose()?;
        Ok(None)
    }
}

struct GitClone {
    tools: Tools,
    tree: PathBuf,
}

impl Contender for GitClone {
    fn prepare(&mut self, dir: &Path) -> Result<()> {
        let source = dir.join("source");
        git_repo(&self.tools, &self.tree, &source)?;
        git_commit(&self.tools, &source, "Material UI 9.5.0")?;
        let bare = dir.join("remote.git");
        git_bare(&self.tools, &bare)?;
        git_add_origin(&self.tools, &source, &bare)?;
        git_push(&self.tools, &source)
    }

    fn run(&mut self, dir: &Path) -> Result<()> {
        self.tools
            .git(dir, &["clone", "-q", "--no-local", "remote.git", "work"])?;
        Ok(())
    }
}

//! `ferry add`.

use std::path::PathBuf;

use ferry_core::ScopeName;

use super::Invocation;

/// Arguments of `ferry add`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directories to track, relative to the current directory.
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,

    /// Component name within the scope; defaults to the directory's last
    /// segment. Only valid with a single DIR.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,

    /// Scope of the new components; defaults to the workspace's default
    /// scope.
    #[arg(long, value_name = "SCOPE")]
    scope: Option<ScopeName>,
}

/// Runs `ferry add`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = invocation.workspace()?;
    let dirs: Vec<PathBuf> = args.dirs.iter().map(|d| invocation.resolve(d)).collect();
    let added = workspace.add(&dirs, args.name.as_deref(), args.scope.as_ref())?;
    invocation.output.emit(&added, |added| {
        for component in added {
            println!("Added {} from {}", component.id, component.dir);
        }
    })
}

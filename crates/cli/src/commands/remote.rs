//! `ferry remote`.

use clap::Subcommand;

use super::Invocation;

/// Arguments of `ferry remote`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The remote action.
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Add a remote.
    Add {
        /// Remote name: a-z, 0-9, '-' and '_', such as origin.
        #[arg(value_name = "NAME")]
        name: String,
        /// Server URL, http or https, such as http://127.0.0.1:8080.
        #[arg(value_name = "URL")]
        url: String,
    },
    /// List remotes with their URLs.
    List,
    /// Remove a remote and forget what it was last seen to hold.
    Remove {
        /// Remote name.
        #[arg(value_name = "NAME")]
        name: String,
    },
}

/// Runs `ferry remote`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = invocation.workspace()?;
    let output = invocation.output;
    match args.action {
        Action::Add { name, url } => {
            let remote = workspace.remote_add(&name, &url)?;
            output.emit(&remote, |remote| {
                println!("Added remote {} at {}", remote.name, remote.url)
            })
        }
        Action::List => {
            let remotes = workspace.remote_list()?;
            output.emit(&remotes, |remotes| {
                for remote in remotes {
                    println!("{}\t{}", remote.name, remote.url);
                }
            })
        }
        Action::Remove { name } => {
            let remote = workspace.remote_remove(&name)?;
            output.emit(&remote, |remote| println!("Removed remote {}", remote.name))
        }
    }
}

//! `ferry scope`.

use clap::Subcommand;
use ferry_core::ScopeName;
use ferry_workspace::remote::{is_url, Remote};
use ferry_workspace::sync::scope::{create_scope, list_scopes};
use serde::Serialize;

use super::Invocation;

/// Arguments of `ferry scope`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scope action.
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Create a scope on a remote.
    Create {
        /// Scope name, such as acme.ui.
        #[arg(value_name = "NAME")]
        name: String,
        /// Remote name or server URL; by default the only remote, else
        /// origin.
        #[arg(long, value_name = "NAME_OR_URL")]
        remote: Option<String>,
    },
    /// List the scopes a remote hosts.
    List {
        /// Remote name or server URL; by default the only remote, else
        /// origin.
        #[arg(long, value_name = "NAME_OR_URL")]
        remote: Option<String>,
    },
}

/// A scope created on a remote.
#[derive(Serialize)]
struct Created<'a> {
    scope: &'a ScopeName,
    remote: &'a Remote,
}

/// Runs `ferry scope`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    match args.action {
        Action::Create { name, remote } => {
            let scope: ScopeName = name.parse().map_err(ferry_workspace::Error::from)?;
            let remote = target(invocation, remote.as_deref())?;
            create_scope(&remote, &scope)?;
            let created = Created {
                scope: &scope,
                remote: &remote,
            };
            invocation.output.emit(&created, |created| {
                println!(
                    "Created scope {} on {}",
                    created.scope,
                    describe(created.remote)
                )
            })
        }
        Action::List { remote } => {
            let remote = target(invocation, remote.as_deref())?;
            let scopes = list_scopes(&remote)?;
            invocation.output.emit(&scopes, |scopes| {
                for scope in scopes {
                    println!("{scope}");
                }
            })
        }
    }
}

/// Returns the remote that `text` names or addresses; without text, the
/// workspace's default remote.
fn target(invocation: &Invocation, text: Option<&str>) -> anyhow::Result<Remote> {
    match text {
        Some(url) if is_url(url) => Ok(Remote::at_url(url)?),
        name => Ok(invocation.workspace()?.select_remote(name)?),
    }
}

fn describe(remote: &Remote) -> String {
    if remote.name == remote.url {
        remote.url.clone()
    } else {
        format!("remote {} ({})", remote.name, remote.url)
    }
}

//! `ferry rebase`.

use ferry_workspace::reconcile::{ReconcileOptions, Strategy};

use super::Invocation;

/// Arguments of `ferry rebase`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Components to rebase; by default every component whose local head
    /// and remote head diverged.
    #[arg(value_name = "COMPONENT")]
    components: Vec<String>,

    /// The remote whose recorded heads the local snaps are replayed onto;
    /// by default the only remote, else `origin`.
    #[arg(long, value_name = "NAME")]
    remote: Option<String>,
}

/// Runs `ferry rebase`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = invocation.workspace()?;
    let options = ReconcileOptions {
        remote: args.remote,
        ..ReconcileOptions::new(Strategy::Rebase)
    };
    let report = workspace.rebase(&args.components, &options)?;
    super::merge::finish(invocation, &report)
}

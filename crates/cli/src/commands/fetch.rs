//! `ferry fetch`.

use ferry_workspace::sync::fetch::FetchOutcome;

use super::Invocation;
use crate::output::short;
use crate::progress::Bars;

/// Arguments of `ferry fetch`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Remote to fetch from; by default the only remote, else origin.
    #[arg(long, value_name = "NAME")]
    remote: Option<String>,
}

/// Runs `ferry fetch`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = invocation.workspace()?;
    let bars = Bars::new(invocation.output.json);
    let outcome = workspace.fetch(args.remote.as_deref(), &bars)?;
    invocation.output.emit(&outcome, print)
}

fn print(outcome: &FetchOutcome) {
    for scope in &outcome.scopes {
        if scope.found {
            println!(
                "Fetched scope {} from remote {}: {} ref(s), {} objects received",
                scope.scope, outcome.remote, scope.refs, scope.objects_received
            );
        } else {
            println!(
                "Scope {} does not exist on remote {}",
                scope.scope, outcome.remote
            );
        }
    }
    for updated in &outcome.updated {
        println!(
            "  {}: {} -> {}",
            updated.name,
            short(updated.old),
            updated.new.short()
        );
    }
    if outcome.updated.is_empty() {
        println!("Every recorded remote ref is up to date");
    }
}

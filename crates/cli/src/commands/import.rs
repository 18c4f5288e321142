//! `ferry import`.

use std::path::PathBuf;

use ferry_client::ImportStatus;
use ferry_workspace::sync::import::{ImportOptions, ImportOutcome};

use super::Invocation;
use crate::progress::Bars;

/// Arguments of `ferry import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Components to import: full scope/name ids, or names in the default
    /// scope.
    #[arg(
        value_name = "COMPONENT",
        required_unless_present = "lane",
        conflicts_with = "lane"
    )]
    components: Vec<String>,
    /// Import the heads of this lane instead of components.
    #[arg(long, value_name = "LANE")]
    lane: Option<String>,
    /// Remote to import from; by default the only remote, else origin.
    #[arg(long, value_name = "NAME")]
    remote: Option<String>,
    /// Directory to check out a single new component into; by default its
    /// name under the workspace root.
    #[arg(long, value_name = "DIR")]
    path: Option<PathBuf>,
}

/// Runs `ferry import`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = invocation.workspace()?;
    let options = ImportOptions {
        components: args.components,
        lane: args.lane,
        remote: args.remote,
        path: args.path.map(|path| invocation.resolve(&path)),
    };
    let bars = Bars::new(invocation.output.json);
    let outcome = workspace.import(&options, &bars)?;
    invocation.output.emit(&outcome, print)
}

fn print(outcome: &ImportOutcome) {
    println!(
        "Imported from remote {} (scope {}): {} objects received, {} new",
        outcome.remote, outcome.scope, outcome.objects_received, outcome.objects_written
    );
    let mut unchanged = 0;
    for imported in &outcome.refs {
        let name = &imported.name;
        let id = imported.id.short();
        match imported.status {
            ImportStatus::Created => println!("  created         {name} at {id}"),
            ImportStatus::FastForwarded => println!("  fast-forwarded  {name} to {id}"),
            ImportStatus::Ahead => println!(
                "  ahead           {name}: the local ref has snaps on top of the remote's {id}; \
                 run `ferry export` to send them"
            ),
            ImportStatus::Diverged => println!(
                "  diverged        {name}: the remote holds {id}, and the local ref has snaps \
                 it lacks; run `ferry merge` to combine them"
            ),
            ImportStatus::Unchanged => unchanged += 1,
        }
    }
    if unchanged > 0 {
        println!("  {unchanged} ref(s) unchanged");
    }
    for checkout in &outcome.checkouts {
        let kind = if checkout.new { "new" } else { "updated" };
        println!(
            "Checked out {} ({kind}) into {} at {}: {} file(s) written",
            checkout.component,
            checkout.dir,
            checkout.snap.short(),
            checkout.written
        );
    }
    for component in &outcome.kept {
        println!(
            "Kept the directory of {component}: it has unsnapped changes on the old head. \
             Copy them aside, run `ferry checkout {component} --force`, then copy them back \
             and snap"
        );
    }
}

//! `ferry merge`.

use ferry_workspace::reconcile::{ReconcileOptions, ReconcileReport, Strategy};

use super::reconcile::print_report;
use super::Invocation;

/// Arguments of `ferry merge`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Components to merge; by default every component whose local head
    /// and remote head diverged.
    #[arg(value_name = "COMPONENT")]
    components: Vec<String>,

    /// The remote whose recorded heads are merged in; by default the only
    /// remote, else `origin`.
    #[arg(long, value_name = "NAME")]
    remote: Option<String>,

    /// On a conflict, write the merged files with conflict markers into
    /// the component directories. After editing them, `ferry snap` records
    /// the merge snap with both parents.
    #[arg(long, conflicts_with = "abort")]
    write_conflicts: bool,

    /// Message of the merge snaps.
    #[arg(short, long, value_name = "MESSAGE", conflicts_with = "abort")]
    message: Option<String>,

    /// Abandon the pending merges of the components (all when none is
    /// given) and restore their files to the local head.
    #[arg(long)]
    abort: bool,
}

/// Runs `ferry merge`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = invocation.workspace()?;
    if args.abort {
        let restored = workspace.merge_abort(&args.components)?;
        return invocation.output.emit(&restored, |restored| {
            for checkout in restored {
                println!(
                    "Abandoned the merge of {}; restored {}",
                    checkout.component,
                    checkout.snap.short()
                );
            }
            println!("{} merge(s) abandoned", restored.len());
        });
    }
    let options = ReconcileOptions {
        remote: args.remote,
        write_conflicts: args.write_conflicts,
        message: args.message,
        ..ReconcileOptions::new(Strategy::Merge)
    };
    let report = workspace.merge(&args.components, &options)?;
    finish(invocation, &report)
}

/// Prints `report` and fails with the conflict error when it has
/// conflicts, so the exit status is 1.
pub fn finish(invocation: &Invocation, report: &ReconcileReport) -> anyhow::Result<()> {
    invocation.output.emit(report, print_report)?;
    match report.conflict_error() {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

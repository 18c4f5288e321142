//! `ferry snap`.

use super::Invocation;
use crate::output::place;

/// Arguments of `ferry snap`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Snap message.
    #[arg(short, long, default_value = "", value_name = "MESSAGE")]
    message: String,

    /// Components to consider; all tracked components when none is given.
    #[arg(value_name = "COMPONENT")]
    components: Vec<String>,
}

/// Runs `ferry snap`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = invocation.workspace()?;
    let report = workspace.snap(&args.message, &args.components)?;
    invocation.output.emit(&report, |report| {
        for snap in &report.snapped {
            println!(
                "Snapped {} as {} (+{} ~{} -{})",
                snap.component,
                snap.snap.short(),
                snap.added,
                snap.modified,
                snap.deleted
            );
        }
        println!(
            "{} new snap(s) {}, {} component(s) unchanged",
            report.snapped.len(),
            place(report.lane.as_ref()),
            report.unchanged.len()
        );
    })
}

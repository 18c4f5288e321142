//! `ferry checkout`.

use super::Invocation;

/// Arguments of `ferry checkout`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// COMPONENT@VERSION, where VERSION is a tag such as 1.2.0, a full snap
    /// id, at least 4 leading hex digits of one, or `head`. Without
    /// @VERSION the head on the current lane (else main) is used.
    #[arg(value_name = "COMPONENT@VERSION")]
    spec: String,

    /// Discard unsnapped changes in the component directory.
    #[arg(long)]
    force: bool,
}

/// Runs `ferry checkout`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = invocation.workspace()?;
    let report = workspace.checkout(&args.spec, args.force)?;
    invocation.output.emit(&report, |report| {
        println!(
            "Checked out {} at {}: {} written, {} removed, {} unchanged",
            report.component,
            report.snap.short(),
            report.written,
            report.removed,
            report.unchanged
        );
    })
}

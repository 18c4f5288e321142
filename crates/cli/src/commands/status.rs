//! `ferry status`.

use ferry_workspace::status::{ComponentStatus, StatusReport, Sync};

use super::Invocation;
use crate::output::{place, short};

/// Arguments of `ferry status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also list components without changes.
    #[arg(long)]
    all: bool,
}

/// Runs `ferry status`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = invocation.workspace()?;
    let report = workspace.status()?;
    invocation
        .output
        .emit(&report, |report| print(report, args.all))
}

fn print(report: &StatusReport, all: bool) {
    println!("Workspace {}", place(report.lane.as_ref()));
    let mut changed = 0;
    for component in &report.components {
        if component.is_dirty() {
            changed += 1;
        }
        let shown = component.is_dirty() || !component.remotes.is_empty();
        if shown || component.pending_merge.is_some() || all {
            print_component(component);
        }
    }
    println!(
        "{} component(s), {changed} with unsnapped changes",
        report.components.len()
    );
}

fn print_component(component: &ComponentStatus) {
    let state = if component.is_dirty() {
        "changed"
    } else {
        "clean"
    };
    println!(
        "{} ({}): {state}, head {}",
        component.id,
        component.dir,
        short(component.head)
    );
    if component.base.is_some() && component.base != component.head {
        println!("  checked out at {}", short(component.base));
    }
    for path in &component.changes.added {
        println!("  new:      {path}");
    }
    for path in &component.changes.modified {
        println!("  modified: {path}");
    }
    for path in &component.changes.deleted {
        println!("  deleted:  {path}");
    }
    for entry in &component.unsupported {
        println!("  unsupported {}: {}", entry.kind, entry.path);
    }
    if let Some(merge) = &component.pending_merge {
        println!(
            "  merging {} from {} into {}; resolve, then `ferry snap {}`",
            merge.theirs.short(),
            merge.remote,
            merge.ours.short(),
            component.id
        );
        for conflict in &merge.conflicts {
            println!("  conflict ({}): {}", conflict.kind, conflict.path);
        }
    }
    for tracking in &component.remotes {
        let remote = &tracking.remote;
        let relation = match tracking.sync {
            Sync::UpToDate => format!("up to date with {remote}"),
            Sync::Ahead { ahead } => format!("ahead of {remote} by {ahead} snap(s)"),
            Sync::Behind { behind } => format!("behind {remote} by {behind} snap(s)"),
            Sync::Diverged { ahead, behind } => {
                format!("diverged from {remote}: {ahead} ahead, {behind} behind")
            }
            Sync::Unknown => format!("not comparable with {remote}: its snaps are not fetched"),
        };
        println!(
            "  {relation} (remote head {})",
            tracking.remote_head.short()
        );
    }
}

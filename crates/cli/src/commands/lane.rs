//! `ferry lane`.

use clap::Subcommand;
use ferry_core::ScopeName;

use super::Invocation;
use crate::output::{place, short};

/// Arguments of `ferry lane`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The lane action.
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Create a lane starting from the current lane's heads and switch to
    /// it.
    Create {
        /// Lane name within the scope, such as new-theme.
        #[arg(value_name = "NAME")]
        name: String,
        /// Scope of the lane; defaults to the workspace's default scope.
        #[arg(long, value_name = "SCOPE")]
        scope: Option<ScopeName>,
    },
    /// Switch to a lane, or to `main`, checking out each component whose
    /// head there differs from its directory.
    Switch {
        /// The lane, or `main`.
        #[arg(value_name = "LANE")]
        lane: String,
        /// Discard unsnapped changes in component directories.
        #[arg(long)]
        force: bool,
    },
    /// List lanes, marking the current one.
    List,
    /// Show each component's head on a lane.
    Show {
        /// The lane, or `main`; defaults to the current lane.
        #[arg(value_name = "LANE")]
        lane: Option<String>,
    },
}

/// Runs `ferry lane`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = invocation.workspace()?;
    let output = invocation.output;
    match args.action {
        Action::Create { name, scope } => {
            let lane = workspace.lane_create(&name, scope.as_ref())?;
            output.emit(&lane, |lane| {
                println!("Created lane {lane} and switched to it")
            })
        }
        Action::Switch { lane, force } => {
            let report = workspace.lane_switch(&lane, force)?;
            output.emit(&report, |report| {
                for checkout in &report.checkouts {
                    println!(
                        "Checked out {} at {}",
                        checkout.component,
                        checkout.snap.short()
                    );
                }
                println!("Switched to {}", describe(report.to.as_ref()));
            })
        }
        Action::List => {
            let lanes = workspace.lane_list()?;
            output.emit(&lanes, |lanes| {
                let on_main = lanes.iter().all(|lane| !lane.current);
                println!("{} main", if on_main { "*" } else { " " });
                for lane in lanes {
                    let marker = if lane.current { "*" } else { " " };
                    println!("{marker} {} ({} component(s))", lane.id, lane.components);
                }
            })
        }
        Action::Show { lane } => {
            let heads = workspace.lane_show(lane.as_deref())?;
            output.emit(&heads, |heads| {
                println!("Heads {}", place(heads.lane.as_ref()));
                for component in &heads.components {
                    let origin = if component.on_lane || heads.lane.is_none() {
                        ""
                    } else {
                        " (from main)"
                    };
                    println!("  {} {}{origin}", component.id, short(component.head));
                }
            })
        }
    }
}

fn describe(lane: Option<&ferry_core::LaneId>) -> String {
    lane.map_or_else(|| "main".to_owned(), |lane| format!("lane {lane}"))
}

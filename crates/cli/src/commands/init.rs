//! `ferry init`.

use ferry_core::ScopeName;
use ferry_workspace::Workspace;
use serde::Serialize;

use super::Invocation;

/// Arguments of `ferry init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Default scope for components and lanes added later, such as
    /// `acme.ui`. Without it, `ferry add` needs --scope.
    #[arg(long, value_name = "SCOPE")]
    scope: Option<ScopeName>,
}

#[derive(Serialize)]
struct Report {
    root: String,
    scope: Option<ScopeName>,
}

/// Runs `ferry init`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = Workspace::init(&invocation.directory, args.scope.as_ref())?;
    let report = Report {
        root: workspace.root().display().to_string(),
        scope: args.scope,
    };
    invocation.output.emit(&report, |report| {
        println!("Created a ferry workspace in {}", report.root);
        if let Some(scope) = &report.scope {
            println!("Default scope: {scope}");
        }
    })
}

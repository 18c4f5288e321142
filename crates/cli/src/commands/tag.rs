//! `ferry tag`.

use ferry_workspace::{Bump, VersionRequest};

use super::Invocation;

/// Arguments of `ferry tag`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("bump").args(["exact", "patch", "minor", "major"]))]
pub struct Args {
    /// The component to tag.
    #[arg(value_name = "COMPONENT")]
    component: String,

    /// The exact version, such as 1.4.0.
    #[arg(value_name = "VERSION")]
    exact: Option<semver::Version>,

    /// Increment the patch number of the highest tag (1.2.3 to 1.2.4).
    #[arg(long)]
    patch: bool,

    /// Increment the minor number of the highest tag (1.2.3 to 1.3.0).
    #[arg(long)]
    minor: bool,

    /// Increment the major number of the highest tag (1.2.3 to 2.0.0).
    #[arg(long)]
    major: bool,
}

/// Runs `ferry tag`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let request = match (args.exact, args.minor, args.major) {
        (Some(version), _, _) => VersionRequest::Exact(version),
        (None, true, _) => VersionRequest::Bump(Bump::Minor),
        (None, _, true) => VersionRequest::Bump(Bump::Major),
        _ => VersionRequest::Bump(Bump::Patch),
    };
    let workspace = invocation.workspace()?;
    let report = workspace.tag(&args.component, request)?;
    invocation.output.emit(&report, |report| {
        println!(
            "Tagged {} {} at {}",
            report.component,
            report.version,
            report.snap.short()
        );
    })
}

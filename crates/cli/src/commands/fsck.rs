//! `ferry fsck`.

use std::path::PathBuf;

use anyhow::Context;
use ferry_store::fsck::{check_workspace, Problem, Report};
use serde::Serialize;

use super::Invocation;
use crate::failure::UserError;

/// Arguments of `ferry fsck`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Check the server data directory DIR (as given to `ferry serve
    /// --data`) instead of the current workspace. Safe to run beside a
    /// live server; rerun to tell a race with a concurrent write from
    /// real damage.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

/// The outcome of a check, for `--json`.
#[derive(Serialize)]
#[serde(untagged)]
enum Checked {
    Workspace(Report),
    DataDir(ferry_server::fsck::DataDirReport),
}

/// Runs `ferry fsck`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let checked = match &args.data {
        Some(dir) => {
            let dir = invocation.resolve(dir);
            let now = ferry_server::state::now_ms();
            let report = match ferry_server::fsck::check_data_dir(&dir, now) {
                Err(ferry_server::fsck::DataDirError::NotADataDir { path }) => {
                    return Err(UserError {
                        message: format!(
                            "{} is not a server data directory: {} is missing",
                            dir.display(),
                            path.display()
                        ),
                        hint: "pass the directory given to `ferry serve --data`".into(),
                    }
                    .into());
                }
                checked => checked
                    .with_context(|| format!("checking server data directory {}", dir.display()))?,
            };
            Checked::DataDir(report)
        }
        None => {
            let workspace = invocation.workspace()?;
            let ferry_dir = workspace.root().join(".ferry");
            Checked::Workspace(check_workspace(&ferry_dir)?)
        }
    };
    invocation.output.emit(&checked, print_human)?;

    let problems = problem_count(&checked);
    if problems > 0 {
        return Err(UserError {
            message: format!("integrity check found {problems} problems"),
            hint: "rerun `ferry fsck` to rule out a concurrent write; the listed \
                   objects or exports are damaged or stuck"
                .into(),
        }
        .into());
    }
    Ok(())
}

fn problem_count(checked: &Checked) -> usize {
    match checked {
        Checked::Workspace(report) => report.problems.len(),
        Checked::DataDir(report) => report.store.problems.len() + report.overdue_exports.len(),
    }
}

fn print_human(checked: &Checked) {
    let store = match checked {
        Checked::Workspace(report) => report,
        Checked::DataDir(report) => &report.store,
    };
    println!(
        "checked {} objects, {} refs, {} snaps",
        store.objects, store.refs, store.snaps
    );
    for problem in &store.problems {
        println!("  {}", describe(problem));
    }
    if let Checked::DataDir(report) = checked {
        println!("{} live exports", report.live_exports);
        for overdue in &report.overdue_exports {
            println!(
                "  export {} into {} is still {:?} after its lease ended",
                overdue.id, overdue.scope, overdue.state
            );
        }
    }
    if problem_count(checked) == 0 {
        println!("no problems found");
    }
}

/// Returns one line for `problem`, the same fields `--json` prints.
fn describe(problem: &Problem) -> String {
    serde_json::to_string(problem).unwrap_or_else(|_| format!("{problem:?}"))
}

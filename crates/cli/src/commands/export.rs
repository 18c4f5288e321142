//! `ferry export`.

use ferry_client::{LandingEnd, LandingPolicy, RefReport, RefStatus};
use ferry_core::protocol::RejectionCode;
use ferry_core::RefName;
use ferry_workspace::reconcile::{LandOptions, LandOutcome, Strategy};
use ferry_workspace::sync::export::{ExportOptions, ExportOutcome};
use ferry_workspace::Workspace;

use super::Invocation;
use crate::failure::UserError;
use crate::output::short;
use crate::progress::Bars;

/// Arguments of `ferry export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Components to export. By default, every component whose head or
    /// tags differ from what the remote was last seen to hold.
    #[arg(value_name = "COMPONENT")]
    components: Vec<String>,
    /// Export the current lane's heads instead of main heads.
    #[arg(long)]
    lane: bool,
    /// Remote to export to; by default the only remote, else origin.
    #[arg(long, value_name = "NAME")]
    remote: Option<String>,
    /// Only finish an interrupted export, and fail when there is none.
    #[arg(long, conflicts_with_all = ["components", "lane", "rebase", "merge"])]
    resume: bool,
    /// When a head was rejected because the remote moved on, fetch, replay
    /// the local snaps onto the remote head, and export again. Local merge
    /// snaps, which cannot be replayed, are merged instead. A conflict
    /// stops the export with no ref changed.
    #[arg(long, conflicts_with = "merge")]
    rebase: bool,
    /// When a head was rejected because the remote moved on, fetch, merge
    /// the remote head into the local one, and export again. A conflict
    /// stops the export with no ref changed.
    #[arg(long)]
    merge: bool,
    /// With --rebase or --merge: the maximum number of export attempts,
    /// including the first. Waits between attempts grow exponentially from
    /// 10 ms up to 200 ms, each a random fraction of that bound.
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_attempts: u32,
}

/// Runs `ferry export`. Exits with status 1 when the server rejected the
/// export.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = invocation.workspace()?;
    let options = ExportOptions {
        components: args.components,
        lane: args.lane,
        remote: args.remote,
        resume: args.resume,
    };
    let bars = Bars::new(invocation.output.json);
    let strategy = match (args.rebase, args.merge) {
        (true, _) => Strategy::Rebase,
        (_, true) => Strategy::Merge,
        _ => return export_once(invocation, &workspace, &options, &bars),
    };
    let land = LandOptions {
        export: options,
        strategy,
        policy: LandingPolicy {
            max_attempts: args.max_attempts,
            ..LandingPolicy::default()
        },
    };
    let outcome = workspace.export_landing(&land, &bars)?;
    invocation.output.emit(&outcome, print_landing)?;
    match landing_error(&outcome) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

fn export_once(
    invocation: &Invocation,
    workspace: &Workspace,
    options: &ExportOptions,
    bars: &Bars,
) -> anyhow::Result<()> {
    let outcome = workspace.export(options, bars)?;
    invocation.output.emit(&outcome, print)?;
    match rejection_error(&outcome) {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

/// Prints the reconciles and the last export in the order they ran.
fn print_landing(outcome: &LandOutcome) {
    // A reconcile that stopped the loop ran after the last export.
    let (before, after) = match outcome.reconciles.split_last() {
        Some((last, earlier)) if outcome.end == LandingEnd::Stopped => (earlier, Some(last)),
        _ => (outcome.reconciles.as_slice(), None),
    };
    before.iter().for_each(super::reconcile::print_report);
    print(&outcome.export);
    after.into_iter().for_each(super::reconcile::print_report);
    let attempts = outcome.attempts;
    match outcome.end {
        LandingEnd::Committed => println!("Landed after {attempts} attempt(s)"),
        LandingEnd::Stopped => println!("Stopped after {attempts} attempt(s) on a conflict"),
        LandingEnd::Rejected => println!("Rejected after {attempts} attempt(s)"),
        LandingEnd::OutOfAttempts => {
            println!("Still diverged after {attempts} attempt(s); giving up")
        }
    }
}

/// Returns the error that makes an export that did not land exit with
/// status 1.
fn landing_error(outcome: &LandOutcome) -> Option<anyhow::Error> {
    match outcome.end {
        LandingEnd::Committed => None,
        LandingEnd::Stopped => {
            let last = outcome.reconciles.last()?;
            last.conflict_error().map(Into::into)
        }
        LandingEnd::Rejected => rejection_error(&outcome.export).map(Into::into),
        LandingEnd::OutOfAttempts => Some(
            UserError {
                message: format!(
                    "remote {} moved on before each of {} export attempts, so no ref changed",
                    outcome.export.remote, outcome.attempts
                ),
                hint: "run the export again, or pass a larger --max-attempts".to_owned(),
            }
            .into(),
        ),
    }
}

fn print(outcome: &ExportOutcome) {
    let (Some(scope), Some(id)) = (&outcome.scope, outcome.export_id) else {
        println!(
            "Nothing to export: remote {} holds every local head and tag",
            outcome.remote
        );
        return;
    };
    let verb = if outcome.resumed {
        "Resolved the interrupted export"
    } else {
        "Export"
    };
    println!(
        "{verb} {id} to remote {} (scope {scope}): {} of {} objects uploaded",
        outcome.remote, outcome.objects_uploaded, outcome.objects_offered
    );
    for report in &outcome.refs {
        println!("  {}", describe(report));
    }
}

fn describe(report: &RefReport) -> String {
    let name = &report.name;
    let new = report.new.short();
    match &report.status {
        RefStatus::Created => format!("created         {name} at {new}"),
        RefStatus::FastForwarded => format!("fast-forwarded  {name} to {new}"),
        RefStatus::Unchanged => format!("unchanged       {name} at {new}"),
        RefStatus::NotApplied => format!("not applied     {name}: another ref was rejected"),
        RefStatus::Rejected {
            code,
            expected,
            actual,
            merge_base,
        } => format!(
            "rejected        {name}: {code}; the remote holds {}, this workspace expected {}, \
             merge base {}, pushed {new}",
            short(*actual),
            short(*expected),
            short(*merge_base),
        ),
    }
}

/// Returns the error that makes a rejected export exit with status 1.
fn rejection_error(outcome: &ExportOutcome) -> Option<UserError> {
    let rejection = outcome.rejection.as_ref()?;
    let rejected: Vec<(&RefName, RejectionCode)> = outcome
        .refs
        .iter()
        .filter_map(|report| match &report.status {
            RefStatus::Rejected { code, .. } => Some((&report.name, *code)),
            _ => None,
        })
        .collect();
    let Some((name, code)) = rejected.first() else {
        return Some(UserError {
            message: format!(
                "remote {} rejected the export, so no ref changed: {}",
                outcome.remote, rejection.message
            ),
            hint: rejection
                .hint
                .clone()
                .unwrap_or_else(|| "run `ferry export` again".to_owned()),
        });
    };
    let more = match rejected.len() {
        1 => String::new(),
        count => format!(" and {} more ref(s) were rejected", count - 1),
    };
    Some(UserError {
        message: format!(
            "remote {} rejected the export, so no ref changed: {name} was rejected as {code}{more}",
            outcome.remote
        ),
        hint: ref_hint(name, *code).unwrap_or_else(|| "run `ferry export` again".to_owned()),
    })
}

fn ref_hint(name: &RefName, code: RejectionCode) -> Option<String> {
    let import = match name {
        RefName::Lane(lane, _) => format!("ferry import --lane {lane}"),
        _ => format!("ferry import {}", name.component()),
    };
    match code {
        RejectionCode::Diverged | RejectionCode::NonFastForward => Some(format!(
            "the remote head moved on; run `ferry export --rebase` (or --merge) to fetch, \
             combine both heads and export again, or `{import}` and `ferry merge` by hand"
        )),
        RejectionCode::TagExists => Some(format!(
            "tags never move; tag a new version with `ferry tag {}`",
            name.component()
        )),
        _ => None,
    }
}

//! `ferry-bench`: times the `ferry` binary side by side with git on the
//! Material UI corpus and prints a Markdown table of medians and ratios.
//!
//! It builds `ferry` with cargo, lays out the corpus once under its work
//! directory, then runs each selected case: ferry and git alternately,
//! each run on fresh state prepared outside the timed region. Runs are
//! sequential; only cases 6 and 7 start concurrent clients, inside one
//! timed run. Every server it starts listens on 127.0.0.1 and is killed
//! when its run ends.

mod args;
mod binary;
mod cases;
mod corpus;
mod harness;
mod memory;
mod report;
mod stats;
mod tools;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Parser;

use crate::args::Args;
use crate::cases::Context;
use crate::corpus::{Shape, LARGE_FILE_COUNT};
use crate::tools::Tools;

/// Returns the repository this binary was built from.
fn repository() -> Result<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    repo.canonicalize()
        .with_context(|| format!("cannot find the repository at {}", repo.display()))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("ferry-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the benchmark; returns whether every selected case succeeded.
fn run(args: &Args) -> Result<bool> {
    let repo = repository()?;
    let ferry = match &args.ferry {
        Some(path) => path
            .canonicalize()
            .with_context(|| format!("cannot find {}", path.display()))?,
        None => binary::build_ferry(&repo, &args.profile)?,
    };
    let work = match &args.work_dir {
        Some(dir) => dir.clone(),
        None => repo.join("target/ferry-bench"),
    };
    let corpus = corpus_dir(args, &repo);
    let shape = Shape {
        quick: args.quick,
        large_file_bytes: args.large_file_bytes(),
    };
    let inputs = corpus::prepare(&corpus, &work, shape)?;
    let context = Context::new(args, Tools::new(ferry, work.join("home"))?, inputs, &work)?;

    print_environment(&context, shape.large_file_bytes);
    let rows = cases::run_selected(&context, args);
    println!("{}", report::header());
    for row in &rows {
        println!("{}", report::format_row(row));
    }
    if !args.keep_runs {
        corpus::remove_dir(&context.runner.scratch)?;
    }
    Ok(!rows.iter().any(report::Row::failed))
}

/// Returns the corpus directory: `--corpus`, else `FERRY_CORPUS`, else
/// `../shared/corpus` beside the repository.
fn corpus_dir(args: &Args, repo: &Path) -> PathBuf {
    if let Some(dir) = &args.corpus {
        return dir.clone();
    }
    match std::env::var_os("FERRY_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => repo.join("../shared/corpus"),
    }
}

/// Prints the versions and the machine's state, for the record.
fn print_environment(context: &Context, large_file_bytes: u64) {
    let ferry = binary::version_line(context.tools.ferry_path(), &["--version"]);
    let git = binary::version_line(Path::new("git"), &["--version"]);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!("ferry: {ferry}");
    println!("git: {git}");
    println!("cores: {cores}, load average at start: {}", load.trim());
    println!("runs per tool and case: {}", context.runner.runs);
    println!("concurrent clients in cases 6 and 7: {}", context.clients);
    println!(
        "case 8: {} files of {} MiB",
        LARGE_FILE_COUNT,
        large_file_bytes >> 20
    );
    println!();
}

//! The benchmark cases, one module each, and the list that runs them.
//!
//! Every case compares one ferry operation with the git operation a user
//! would run for the same job on the same files. A case that fails is
//! reported in its row and the others still run.

mod concurrent;
mod export;
mod icons;
mod import;
mod large;
mod race;
mod remote;
mod server;
mod setup;
mod snap;
mod update;

use std::path::Path;

use anyhow::Result;

use crate::args::Args;
use crate::corpus::Inputs;
use crate::harness::{fresh_dir, Runner};
use crate::report::{format_row, Outcome, Row};
use crate::tools::Tools;

/// What every case needs: the tools, the inputs and the runner.
pub struct Context {
    /// ferry and git, with their environment.
    pub tools: Tools,
    /// The laid-out corpus.
    pub inputs: Inputs,
    /// Scratch space and run count.
    pub runner: Runner,
    /// Concurrent clients in cases 6 and 7.
    pub clients: usize,
}

impl Context {
    /// Returns a context whose scratch space is a fresh `runs` directory
    /// under `work`.
    pub fn new(args: &Args, tools: Tools, inputs: Inputs, work: &Path) -> Result<Self> {
        let scratch = work.join("runs");
        fresh_dir(&scratch)?;
        Ok(Self {
            tools,
            inputs,
            runner: Runner {
                scratch,
                runs: args.runs(),
            },
            clients: args.clients(),
        })
    }
}

/// One case: its number, what it compares, and the function that runs it.
struct Case {
    number: u8,
    title: &'static str,
    run: fn(&Context) -> Result<Outcome>,
}

/// Every case, in the order they run.
const CASES: [Case; 8] = [
    Case {
        number: 1,
        title: "snap MUI 9.5.0 / add -A + commit",
        run: snap::run,
    },
    Case {
        number: 2,
        title: "export MUI 9.5.0 / push",
        run: export::run,
    },
    Case {
        number: 3,
        title: "update to MUI 9.6.0: snap + export / commit + push",
        run: update::run,
    },
    Case {
        number: 4,
        title: "icons, 10.7k components: snap + export / commit + push",
        run: icons::run,
    },
    Case {
        number: 5,
        title: "import MUI 9.5.0 / clone",
        run: import::run,
    },
    Case {
        number: 6,
        title: "concurrent exports of disjoint components / pushes to own branches",
        run: concurrent::run,
    },
    Case {
        number: 7,
        title: "racing on one component: export --rebase / pull --rebase + push",
        run: race::run,
    },
    Case {
        number: 8,
        title: "16 random files: export / push, with receiving peak memory",
        run: large::run,
    },
];

/// Runs every case that `args` selects and returns their rows, printing
/// each row to standard error as soon as it is known.
pub fn run_selected(context: &Context, args: &Args) -> Vec<Row> {
    let mut rows = Vec::new();
    for case in CASES.iter().filter(|case| args.selects(case.number)) {
        eprintln!("case {}: {}", case.number, case.title);
        let outcome = (case.run)(context).unwrap_or_else(|error| {
            eprintln!("case {} failed: {error:#}", case.number);
            Outcome::Failed(format!("{error:#}"))
        });
        let row = Row {
            number: case.number,
            title: case.title.to_owned(),
            outcome,
        };
        eprintln!("{}", format_row(&row));
        rows.push(row);
    }
    rows
}

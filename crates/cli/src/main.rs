//! The `ferry` binary: parses arguments, calls the workspace library and
//! renders its reports as text or JSON.
//!
//! Exit status: 0 on success, 1 for a mistake the user can fix (printed
//! with a hint), 2 for invalid arguments (reported by clap), and 70 for an
//! internal fault, printed with its chain of causes.

mod cli;
mod commands;
mod failure;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // The Rust runtime ignores SIGPIPE, so a write to a closed pipe, as in
    // `ferry log | head -1`, is an error that `println!` panics on. With
    // the default disposition the process ends quietly instead.
    sigpipe::reset();
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => failure::report(&error),
    }
}

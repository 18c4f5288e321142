//! Command-line arguments of `ferry-bench`.

use std::path::PathBuf;

use clap::Parser;

/// Times the release `ferry` binary against git on the same files, case by
/// case, and prints the medians and their ratio (ferry / git).
#[derive(Debug, Parser)]
#[command(name = "ferry-bench")]
pub struct Args {
    /// Timed runs of each tool per case; the tools alternate, run by run.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub runs: usize,

    /// Runs every case once on a small input, to check that the benchmark
    /// works; the numbers mean nothing.
    #[arg(long)]
    pub quick: bool,

    /// Cases to run, by number (1 to 8); all when omitted.
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    pub cases: Vec<u8>,

    /// Directory holding the corpus tarballs [default: FERRY_CORPUS, else
    /// ../shared/corpus beside the repository].
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,

    /// Directory for unpacked inputs and scratch runs [default:
    /// target/ferry-bench in the repository].
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,

    /// Cargo profile the ferry binary is built with.
    #[arg(long, default_value = "release", value_name = "PROFILE")]
    pub profile: String,

    /// Uses this ferry binary instead of building one.
    #[arg(long, value_name = "PATH")]
    pub ferry: Option<PathBuf>,

    /// Concurrent clients in cases 6 and 7 [default: 16, or 4 with
    /// --quick].
    #[arg(long, value_name = "N")]
    pub clients: Option<usize>,

    /// Keeps the scratch directory of every run, for inspection, instead
    /// of removing them all at the end.
    #[arg(long)]
    pub keep_runs: bool,

    /// Size in MiB of each of the 16 random files of case 8 [default: 64,
    /// or 1 with --quick].
    #[arg(long, value_name = "MIB")]
    pub large_file_mib: Option<u64>,
}

impl Args {
    /// Returns the timed runs per tool and case.
    pub fn runs(&self) -> usize {
        if self.quick {
            1
        } else {
            self.runs.max(1)
        }
    }

    /// Returns the number of concurrent clients for cases 6 and 7.
    pub fn clients(&self) -> usize {
        let default = if self.quick { 4 } else { 16 };
        self.clients.unwrap_or(default).max(1)
    }

    /// Returns the size of each large file of case 8, in bytes.
    pub fn large_file_bytes(&self) -> u64 {
        let default = if self.quick { 1 } else { 64 };
        self.large_file_mib.unwrap_or(default) << 20
    }

    /// Reports whether case `number` was selected.
    pub fn selects(&self, number: u8) -> bool {
        self.cases.is_empty() || self.cases.contains(&number)
    }
}

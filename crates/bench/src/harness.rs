//! Alternating timed runs of ferry and git on fresh state.
//!
//! A case gives one [`Contender`] per tool. Each run prepares its state in
//! a new scratch directory, outside the timed region, then times only
//! [`Contender::run`], then lets the contender tear down and report the
//! peak memory it measured. Runs alternate between the tools, so that load
//! from other processes on the machine falls on both about equally.
//!
//! Scratch directories stay until the whole benchmark ends. Deleting tens
//! of thousands of files makes ext4 skip their inodes for a while when it
//! allocates new ones, which would slow down whichever tool creates the
//! most files in the next run.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result};

use crate::corpus::remove_dir;

/// One tool's side of a case.
pub trait Contender {
    /// Prepares fresh state in the empty directory `dir`. Not timed.
    fn prepare(&mut self, dir: &Path) -> Result<()>;

    /// Runs the measured operation on the state in `dir`.
    fn run(&mut self, dir: &Path) -> Result<()>;

    /// Stops what `prepare` started and returns the peak memory measured
    /// during the run, in bytes, if this contender measures one. Not
    /// timed.
    fn finish(&mut self, _dir: &Path) -> Result<Option<u64>> {
        Ok(None)
    }
}

/// The measurements of one tool in one case.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// Wall-clock seconds of each run, in run order.
    pub seconds: Vec<f64>,
    /// Peak memory in bytes of each run that measured one.
    pub peaks: Vec<u64>,
}

/// Scratch space and run count shared by every case.
#[derive(Debug, Clone)]
pub struct Runner {
    /// Directory under which each run gets its own directory.
    pub scratch: PathBuf,
    /// Timed runs per tool.
    pub runs: usize,
}

impl Runner {
    /// Runs `ferry` and `git` alternately, `self.runs` times each, and
    /// returns their samples; `label` names the scratch directories.
    pub fn alternate(
        &self,
        label: &str,
        ferry: &mut dyn Contender,
        git: &mut dyn Contender,
    ) -> Result<(Samples, Samples)> {
        self.alternate_with(label, ferry, git, false)
    }

    /// Runs like [`Runner::alternate`], but removes each run's directory
    /// as soon as the run is done: for cases whose runs write few but
    /// large files, where keeping them would fill the disk.
    pub fn alternate_discarding(
        &self,
        label: &str,
        ferry: &mut dyn Contender,
        git: &mut dyn Contender,
    ) -> Result<(Samples, Samples)> {
        self.alternate_with(label, ferry, git, true)
    }

    fn alternate_with(
        &self,
        label: &str,
        ferry: &mut dyn Contender,
        git: &mut dyn Contender,
        discard: bool,
    ) -> Result<(Samples, Samples)> {
        let mut ferry_samples = Samples::default();
        let mut git_samples = Samples::default();
        for run in 0..self.runs {
            let dir = self.scratch.join(format!("{label}-{run}-ferry"));
            measure_once(&dir, ferry, &mut ferry_samples).context("ferry run failed")?;
            if discard {
                remove_dir(&dir)?;
            }
            let dir = self.scratch.join(format!("{label}-{run}-git"));
            measure_once(&dir, git, &mut git_samples).context("git run failed")?;
            if discard {
                remove_dir(&dir)?;
            }
        }
        Ok((ferry_samples, git_samples))
    }
}

/// Prepares, times and finishes one run of `contender` in `dir`.
fn measure_once(dir: &Path, contender: &mut dyn Contender, samples: &mut Samples) -> Result<()> {
    fresh_dir(dir)?;
    contender.prepare(dir)?;

    let started = Instant::now();
    let outcome = contender.run(dir);
    let elapsed = started.elapsed().as_secs_f64();

    // Teardown runs even after a failed run, so no server outlives it.
    let peak = contender.finish(dir);
    outcome?;
    if let Some(peak) = peak? {
        samples.peaks.push(peak);
    }
    samples.seconds.push(elapsed);
    Ok(())
}

/// Creates `dir` afresh, removing what an earlier start left there.
pub fn fresh_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        remove_dir(dir)?;
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

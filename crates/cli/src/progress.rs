//! Progress bars for exports, imports and fetches, drawn on stderr.
//!
//! Bars appear only when stdout is a terminal and text output was
//! requested, so pipes, scripts and `--json` readers see the report alone.
//! The workflows call the [`Progress`] methods from one thread at a time;
//! the mutex only makes the shared reference safe.

use std::io::IsTerminal;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ferry_client::{Phase, Progress};
use indicatif::{ProgressBar, ProgressStyle};

/// A [`Progress`] that draws one indicatif bar per phase.
pub struct Bars {
    enabled: bool,
    current: Mutex<Option<ProgressBar>>,
}

impl Bars {
    /// Returns bars that draw only when stdout is a terminal and `json` is
    /// false.
    pub fn new(json: bool) -> Self {
        Self {
            enabled: !json && std::io::stdout().is_terminal(),
            current: Mutex::new(None),
        }
    }

    fn current(&self) -> MutexGuard<'_, Option<ProgressBar>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Progress for Bars {
    fn start(&self, phase: Phase, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let bar = match total {
            Some(total) => ProgressBar::new(total).with_style(counted_style()),
            None => {
                let spinner = ProgressBar::new_spinner().with_style(spinner_style());
                spinner.enable_steady_tick(Duration::from_millis(100));
                spinner
            }
        };
        bar.set_message(label(phase));
        if let Some(previous) = self.current().replace(bar) {
            previous.finish();
        }
    }

    fn advance(&self, steps: u64) {
        if let Some(bar) = self.current().as_ref() {
            bar.inc(steps);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.current().take() {
            bar.finish();
        }
    }
}

fn label(phase: Phase) -> &'static str {
    match phase {
        Phase::Counting => "counting objects",
        Phase::Uploading => "uploading objects",
        Phase::Receiving => "receiving objects",
        Phase::Committing => "updating refs",
    }
}

fn counted_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg:18} [{bar:40}] {pos}/{len} ({elapsed})")
        .expect("the template is valid")
        .progress_chars("=> ")
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg:18} {spinner} {pos} ({elapsed})")
        .expect("the template is valid")
}

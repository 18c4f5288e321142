//! The results table, printed as Markdown so it can go into a document
//! unchanged.

use crate::harness::Samples;
use crate::stats::{median, median_pairwise_ratio};

/// The outcome of one case.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Both tools ran.
    Measured {
        /// ferry's samples.
        ferry: Samples,
        /// git's samples.
        git: Samples,
    },
    /// The case did not run, for the reason given.
    Skipped(String),
    /// The case failed, with the error.
    Failed(String),
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// The case number, 1 to 8.
    pub number: u8,
    /// What the case compares.
    pub title: String,
    /// Its result.
    pub outcome: Outcome,
}

impl Row {
    /// Reports whether the case failed.
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }
}

/// The header of the table, with its separator line.
pub fn header() -> String {
    [
        "| case | ferry median | git median | ferry / git | median of run ratios \
         | ferry server peak | git receive peak |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    .join("\n")
}

/// Formats `row` as one table line.
pub fn format_row(row: &Row) -> String {
    let case = format!("{}. {}", row.number, row.title);
    match &row.outcome {
        Outcome::Measured { ferry, git } => measured_line(&case, ferry, git),
        Outcome::Skipped(reason) => format!("| {case} | skipped: {reason} | | | | | |"),
        Outcome::Failed(error) => {
            let error = error.replace('|', "/").replace('\n', " ");
            format!("| {case} | failed: {error} | | | | | |")
        }
    }
}

fn measured_line(case: &str, ferry: &Samples, git: &Samples) -> String {
    let ferry_median = median(&ferry.seconds);
    let git_median = median(&git.seconds);
    let ratio = match (ferry_median, git_median) {
        (Some(ferry), Some(git)) if git > 0.0 => Some(ferry / git),
        _ => None,
    };
    let pairwise = median_pairwise_ratio(&ferry.seconds, &git.seconds);
    format!(
        "| {case} | {} | {} | {} | {} | {} | {} |",
        seconds(ferry_median),
        seconds(git_median),
        plain(ratio),
        plain(pairwise),
        peak(&ferry.peaks),
        peak(&git.peaks),
    )
}

fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{value:.3} s"))
}

fn plain(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{value:.2}"))
}

/// Formats the median of `peaks` in MiB, or nothing when none were taken.
fn peak(peaks: &[u64]) -> String {
    let mebibytes: Vec<f64> = peaks
        .iter()
        .map(|&bytes| bytes as f64 / 1048576.0)
        .collect();
    median(&mebibytes).map_or_else(String::new, |value| format!("{value:.1} MiB"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(seconds: &[f64], peaks: &[u64]) -> Samples {
        Samples {
            seconds: seconds.to_vec(),
            peaks: peaks.to_vec(),
        }
    }

    #[test]
    fn measured_row_shows_medians_and_ratios() {
        let row = Row {
            number: 2,
            title: "export".to_owned(),
            outcome: Outcome::Measured {
                ferry: samples(&[1.0, 3.0, 2.0], &[10 << 20]),
                git: samples(&[4.0, 4.0, 4.0], &[]),
            },
        };
        assert_eq!(
            format_row(&row),
            "| 2. export | 2.000 s | 4.000 s | 0.50 | 0.50 | 10.0 MiB |  |"
        );
    }

    #[test]
    fn skipped_row_names_reason() {
        let row = Row {
            number: 7,
            title: "race".to_owned(),
            outcome: Outcome::Skipped("needs export --rebase".to_owned()),
        };
        assert!(format_row(&row).starts_with("| 7. race | skipped: needs export --rebase |"));
    }
}

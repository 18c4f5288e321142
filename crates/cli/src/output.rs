//! Rendering reports as text or JSON.

use anyhow::Context;
use ferry_core::ObjectId;
use serde::Serialize;

/// The output format of results.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// Print JSON instead of text.
    pub json: bool,
}

impl Output {
    /// Prints `report` as pretty JSON when JSON was requested; otherwise
    /// calls `human` to print text.
    pub fn emit<T: Serialize>(&self, report: &T, human: impl FnOnce(&T)) -> anyhow::Result<()> {
        if self.json {
            let text = serde_json::to_string_pretty(report).context("serialising the report")?;
            println!("{text}");
        } else {
            human(report);
        }
        Ok(())
    }
}

/// Returns the short form of an optional id, or `-`.
pub fn short(id: Option<ObjectId>) -> String {
    id.map_or_else(|| "-".to_owned(), |id| id.short())
}

/// Formats a snap timestamp in milliseconds as UTC.
pub fn time(timestamp_ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(timestamp_ms) {
        Ok(time) => time.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Err(_) => format!("{timestamp_ms} ms"),
    }
}

/// Returns "on main" or "on lane LANE".
pub fn place(lane: Option<&ferry_core::LaneId>) -> String {
    lane.map_or_else(|| "on main".to_owned(), |lane| format!("on lane {lane}"))
}

//! `ferry log`.

use super::Invocation;
use crate::output::time;

/// Arguments of `ferry log`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The component.
    #[arg(value_name = "COMPONENT")]
    component: String,

    /// Show at most N snaps.
    #[arg(short = 'n', long = "max-count", value_name = "N")]
    max_count: Option<usize>,
}

/// Runs `ferry log`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = invocation.workspace()?;
    let report = workspace.log(&args.component, args.max_count)?;
    invocation.output.emit(&report, |report| {
        if report.entries.is_empty() {
            println!("{} has no snaps yet", report.component);
        }
        for entry in &report.entries {
            let mut labels: Vec<String> = entry.heads.clone();
            labels.extend(entry.tags.iter().map(|tag| format!("tag:{tag}")));
            let labels = if labels.is_empty() {
                String::new()
            } else {
                format!(" ({})", labels.join(", "))
            };
            println!("snap {}{labels}", entry.id);
            println!("Author: {}", entry.author);
            println!("Date:   {}", time(entry.timestamp));
            println!("Files:  {}", entry.files);
            println!();
            for line in entry.message.lines() {
                println!("    {line}");
            }
            if !entry.message.is_empty() {
                println!();
            }
        }
    })
}

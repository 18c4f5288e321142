//! `ferry config`.

use serde::Serialize;

use super::Invocation;

/// Arguments of `ferry config`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("mode").args(["list", "unset", "value"]))]
pub struct Args {
    /// The setting to read or change.
    #[arg(value_name = "KEY", required_unless_present = "list")]
    key: Option<String>,

    /// The new value; without it, the current value is printed.
    #[arg(value_name = "VALUE")]
    value: Option<String>,

    /// Remove the setting.
    #[arg(long)]
    unset: bool,

    /// Print every set key with its value.
    #[arg(long, conflicts_with = "key")]
    list: bool,
}

#[derive(Serialize)]
struct Entry<'a> {
    key: &'a str,
    value: Option<String>,
}

/// Runs `ferry config`.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    let workspace = invocation.workspace()?;
    let output = invocation.output;
    let Some(key) = args.key.as_deref() else {
        let entries = workspace.config_list()?;
        return output.emit(&entries, |entries| {
            for entry in entries {
                println!("{}={}", entry.key, entry.value);
            }
        });
    };
    if args.unset || args.value.is_some() {
        workspace.config_set(key, args.value.as_deref())?;
        return Ok(());
    }
    let entry = Entry {
        key,
        value: workspace.config_get(key)?,
    };
    output.emit(&entry, |entry| {
        if let Some(value) = &entry.value {
            println!("{value}");
        }
    })
}

//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands;

/// Version software components and ship them between workspaces and
/// remote scopes.
#[derive(Debug, Parser)]
#[command(name = "ferry", version, propagate_version = true)]
pub struct Cli {
    /// Run as if ferry was started in DIR instead of the current directory.
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// Print the result as JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every ferry command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a workspace in the current directory.
    ///
    /// The workspace is a `.ferry` directory holding the local scope:
    /// objects, refs, tracked components, lanes, remotes and settings.
    Init(commands::init::Args),
    /// Track directories as components.
    ///
    /// Each directory must be below the workspace root and must not contain
    /// or lie inside another component's directory.
    Add(commands::add::Args),
    /// Show changed files per component and how heads compare with remotes.
    ///
    /// Lists, per component, the files that are new, modified or deleted
    /// since its last snap or checkout. For components with remote-tracking
    /// refs, it also shows whether the local head is ahead of, behind or
    /// diverged from each remote, with snap counts.
    Status(commands::status::Args),
    /// Record a new snap of every component whose files changed.
    ///
    /// Only components whose files changed since their last snap or
    /// checkout get a snap. On a lane the snap moves the lane head,
    /// otherwise the main head. Its parent is that head, or the main head
    /// for the first snap on a lane.
    Snap(commands::snap::Args),
    /// Label the head snap of a component with a semver version.
    ///
    /// The head is the one on the current lane, else on main. Tags are
    /// created once and never moved. Without VERSION or a flag, the patch
    /// number of the highest existing tag is incremented, and the first tag
    /// is 0.0.1.
    Tag(commands::tag::Args),
    /// Show the history of a component, newest first.
    ///
    /// Starts from the head on the current lane, else on main, and shows
    /// each snap's id, author, time, message, tags and heads.
    Log(commands::log::Args),
    /// Create, switch, list and show lanes.
    ///
    /// A lane has its own head per component. Until a component is
    /// snapped on a lane, the lane uses the component's main head.
    Lane(commands::lane::Args),
    /// Restore a component directory to a snap.
    ///
    /// Every file of the snap is written, and files that are not in it are
    /// removed. Refuses when the directory has unsnapped changes, unless
    /// --force is given.
    Checkout(commands::checkout::Args),
    /// Merge the remote's heads into the local heads.
    ///
    /// Works on each component whose local head diverged from the head a
    /// remote was last seen to hold (on a lane, the lane's heads). Records a
    /// merge snap whose parents are both heads, with the files merged
    /// three-way against their merge base, and checks it out. A named
    /// component whose head is behind the remote fast-forwards. A conflict
    /// stops the command before any ref changes and lists the conflicting
    /// paths. Run `ferry fetch` first to bring the remote's snaps.
    Merge(commands::merge::Args),
    /// Replay the local snaps onto the remote's heads.
    ///
    /// Works on each component whose local head diverged from the head a
    /// remote was last seen to hold. Replays the local snaps the remote
    /// lacks onto the remote head one by one, keeping each snap's message,
    /// author and time, then checks out the result. A named component whose
    /// head is behind the remote fast-forwards. A conflict stops the
    /// command before any ref changes and lists the conflicting paths.
    Rebase(commands::rebase::Args),
    /// Add, list and remove remotes: named servers that host scopes.
    Remote(commands::remote::Args),
    /// Read and change workspace settings.
    ///
    /// Keys: `user.name` and `user.email` set the author of new snaps
    /// unless FERRY_AUTHOR is set, and `default.scope` sets the scope of
    /// components and lanes created without --scope.
    Config(commands::config::Args),
    /// Run a scope server on the embedded stores.
    ///
    /// Objects are kept as files and refs, exports and leases in SQLite,
    /// both under --data. Prints `listening on URL` once bound and serves
    /// until Ctrl-C or SIGTERM.
    Serve(commands::serve::Args),
    /// Create and list scopes on a remote.
    Scope(commands::scope::Args),
    /// Push snaps, tags and heads to a remote.
    ///
    /// Sends only the objects the remote lacks. Each ref update names the
    /// value this workspace last saw on the remote, so a head that moved
    /// on meanwhile is rejected as diverged rather than overwritten. An
    /// export interrupted after it started is finished, or its outcome
    /// reported, by the next `ferry export`. Exits with status 1 when the
    /// remote rejected the export.
    Export(commands::export::Args),
    /// Bring components or a lane from a remote into the workspace.
    ///
    /// Local refs are created or fast-forwarded, never moved back.
    /// Components new to the workspace are checked out into a new
    /// directory; tracked components without unsnapped changes are
    /// checked out at their new head.
    Import(commands::import::Args),
    /// Update what the workspace records about a remote.
    ///
    /// Fetches the refs and objects of every scope the workspace uses,
    /// without changing local refs or files. `ferry status` then compares
    /// local heads with the remote's.
    Fetch(commands::fetch::Args),
    /// Check the integrity of the workspace or of a server data directory.
    ///
    /// Reads every object, which verifies its digest and encoding, then
    /// walks the closure of every ref: missing or damaged objects, wrong
    /// generations, components and blob sizes are listed. With --data it
    /// also lists exports still open or prepared after their lease.
    /// Exits 1 when it finds a problem.
    Fsck(commands::fsck::Args),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn argument_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}

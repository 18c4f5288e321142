//! Reporting failures: user mistakes with a hint, internal faults with
//! their causes.

use std::process::ExitCode;

use ferry_workspace::Error;

/// Exit status for a mistake the user can fix.
const EXIT_USER: u8 = 1;

/// Exit status for an internal fault, `EX_SOFTWARE` from sysexits.h.
const EXIT_INTERNAL: u8 = 70;

/// Prints `error` to stderr and returns the exit status for it.
pub fn report(error: &anyhow::Error) -> ExitCode {
    if let Some(workspace_error) = error.downcast_ref::<Error>() {
        if workspace_error.is_user_error() {
            eprintln!("error: {workspace_error}");
            if let Some(hint) = hint(workspace_error) {
                eprintln!("hint: {hint}");
            }
            return ExitCode::from(EXIT_USER);
        }
    }
    eprintln!("internal error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    ExitCode::from(EXIT_INTERNAL)
}

/// Returns what to run next after a user error.
fn hint(error: &Error) -> Option<String> {
    let text = match error {
        Error::NotAWorkspace { .. } => {
            "run `ferry init` to create a workspace here, or pass -C DIR".to_owned()
        }
        Error::AlreadyAWorkspace { .. } => {
            "the workspace exists; run `ferry add DIR` to track a component".to_owned()
        }
        Error::InvalidName(_) => "choose a name that follows the rule above".to_owned(),
        Error::InvalidPath(_) => {
            "rename the file so that its path follows the rule above".to_owned()
        }
        Error::NoScope => {
            "pass --scope SCOPE, or run `ferry config default.scope SCOPE`".to_owned()
        }
        Error::UnknownComponent { .. } => {
            "run `ferry status` to list tracked components, or `ferry add DIR` to track one"
                .to_owned()
        }
        Error::AmbiguousComponent { .. } | Error::AmbiguousLane { .. } => {
            "type the full scope/name id".to_owned()
        }
        Error::ComponentExists { .. } => {
            "pass --name NAME to track the directory under another name".to_owned()
        }
        Error::DirectoryOverlap { other_dir, .. } => {
            format!("components cannot nest; choose a directory outside {other_dir}")
        }
        Error::NotAComponentDirectory { .. } => {
            "pass an existing directory below the workspace root".to_owned()
        }
        Error::NameWithSeveralDirs { .. } => {
            "add the directories one at a time to name each".to_owned()
        }
        Error::UnsupportedFile { .. } => {
            "remove the entry or replace it with a regular file, then run the command again"
                .to_owned()
        }
        Error::UnknownLane { .. } => {
            "run `ferry lane list` to see lanes, or `ferry lane create NAME`".to_owned()
        }
        Error::LaneExists(lane) => format!("run `ferry lane switch {lane}` to use it"),
        Error::NoSnaps { component, .. } => format!("run `ferry snap {component}` first"),
        Error::LocalChanges { component, .. } => format!(
            "run `ferry snap {component}` to keep the changes, or pass --force to discard them"
        ),
        Error::InvalidVersion { .. } => {
            "run `ferry log COMPONENT` to see snap ids and tags".to_owned()
        }
        Error::UnknownVersion { component, .. } => {
            format!("run `ferry log {component}` to see snap ids and tags")
        }
        Error::AmbiguousPrefix { .. } => "type more digits of the snap id".to_owned(),
        Error::TagExists { component, .. } => {
            format!("tags never move; choose a new version, or run `ferry tag {component} --patch`")
        }
        Error::RefMoved { .. } => {
            "another ferry process changed the workspace meanwhile; run the command again"
                .to_owned()
        }
        Error::InvalidRemoteName { .. } => "choose a name such as origin".to_owned(),
        Error::InvalidRemoteUrl { .. } => "use a URL such as http://127.0.0.1:8080".to_owned(),
        Error::RemoteExists { name, .. } => {
            format!("run `ferry remote remove {name}` first to change its URL")
        }
        Error::UnknownRemote { .. } => "run `ferry remote list` to see remotes".to_owned(),
        Error::UnknownConfigKey { .. } => "run `ferry config --list` to see set keys".to_owned(),
        Error::NoAuthor => "run `ferry config user.name NAME`, or set FERRY_AUTHOR".to_owned(),
        _ => return None,
    };
    Some(text)
}

//! Reporting failures: user mistakes with a hint, internal faults with
//! their causes.

use std::process::ExitCode;

use ferry_workspace::Error;

/// Exit status for a mistake the user can fix.
const EXIT_USER: u8 = 1;

/// Exit status for an internal fault, `EX_SOFTWARE` from sysexits.h.
const EXIT_INTERNAL: u8 = 70;

/// A mistake the user can fix that the binary itself detects, such as a
/// rejected export or an address already in use.
#[derive(Debug)]
pub struct UserError {
    /// The failure, as one sentence.
    pub message: String,
    /// The next step, usually a command to run.
    pub hint: String,
}

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

/// Prints `error` to stderr and returns the exit status for it.
pub fn report(error: &anyhow::Error) -> ExitCode {
    if let Some(user_error) = error.downcast_ref::<UserError>() {
        eprintln!("error: {}", user_error.message);
        eprintln!("hint: {}", user_error.hint);
        return ExitCode::from(EXIT_USER);
    }
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
        Error::RemoteNotFetched { .. } => {
            "run `ferry fetch` to bring the remote's snaps".to_owned()
        }
        Error::MergePending { component } => format!(
            "resolve the conflicts and run `ferry snap {component}`, \
             or run `ferry merge --abort {component}`"
        ),
        Error::SnapNotOnHead { component, .. } => format!(
            "copy the changed files aside, run `ferry checkout {component} --force` to move \
             to the head, then copy them back and snap"
        ),
        Error::PendingMergeStale { component, .. } => {
            format!("run `ferry merge --abort {component}`, then merge again")
        }
        Error::ConflictMarkers { component, .. } => format!(
            "edit the file to resolve the conflict and remove the markers, \
             then run `ferry snap {component}` again"
        ),
        Error::Conflicts {
            markers_written: true,
            ..
        } => "edit the files, then run `ferry snap` to record the merge, \
              or `ferry merge --abort` to abandon it"
            .to_owned(),
        Error::Conflicts { .. } => {
            "run `ferry merge --write-conflicts` to resolve the conflicts by hand".to_owned()
        }
        Error::NonLinearRebase { .. } => "run `ferry merge` instead".to_owned(),
        Error::ReconcileElsewhere { .. } => {
            "run `ferry lane switch` to the lane of that head, then export again".to_owned()
        }
        Error::NoRemote => "run `ferry remote add origin URL` first".to_owned(),
        Error::AmbiguousRemote { .. } => "pass --remote NAME".to_owned(),
        Error::RemoteUnreachable { .. } => {
            "check that the server runs (`ferry serve`) and that `ferry remote list` shows its URL"
                .to_owned()
        }
        Error::UnknownRemoteScope { scope, remote } => {
            format!("run `ferry scope create {scope} --remote {remote}` to create it")
        }
        Error::RemoteScopeExists { .. } => "run `ferry scope list` to see the scopes".to_owned(),
        Error::RemoteRejected { rejection, .. } => rejection
            .hint
            .clone()
            .unwrap_or_else(|| "correct the request and run the command again".to_owned()),
        Error::MixedScopes { .. } => {
            "export or import the components of one scope at a time".to_owned()
        }
        Error::NotOnLane => {
            "run `ferry lane switch LANE`, or export main without --lane".to_owned()
        }
        Error::ExportInterrupted { remote, .. } => format!(
            "run `ferry export --resume` once remote {remote} is reachable; \
             it finishes this export or reports its outcome"
        ),
        Error::ExportRunning => {
            "wait for the other export to finish, then run `ferry export` again".to_owned()
        }
        Error::NothingToResume => "run `ferry export` to start an export".to_owned(),
        Error::NotOnRemote { remote, .. } => {
            format!("check the name, or export it to {remote} from the workspace that has it")
        }
        Error::PathWithSeveralComponents { .. } => {
            "import the components one at a time to choose each directory".to_owned()
        }
        Error::CheckoutTargetExists { .. } => {
            "pass --path DIR with a new or empty directory".to_owned()
        }
        _ => return None,
    };
    Some(text)
}

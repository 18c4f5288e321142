//! The error type of every workspace operation.
//!
//! Variants fall into two groups, which [`Error::is_user_error`] separates:
//! mistakes a user can make and fix (an unknown component, a name with
//! `..`, unsnapped changes before a checkout), and internal faults (a
//! damaged database, an unreadable object, a failed write). Each user
//! variant carries the value that was wrong, so a front end can name it
//! and suggest what to run next.

use std::io;
use std::path::PathBuf;

use ferry_core::object::DecodeError;
use ferry_core::protocol::{ExportId, Rejection};
use ferry_core::{
    ComponentId, FilePath, LaneId, NameError, ObjectId, PathError, RefName, ScopeName,
};
use ferry_store::{ObjectStoreError, RefUpdateError, StoreError};

use crate::scan::ScanError;

/// A failed workspace operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No `.ferry` directory was found in `start` or any parent.
    #[error("{} is not inside a ferry workspace", .start.display())]
    NotAWorkspace {
        /// The directory the search started from.
        start: PathBuf,
    },
    /// `ferry init` ran where a workspace already exists.
    #[error("{} is already a ferry workspace", .root.display())]
    AlreadyAWorkspace {
        /// The existing workspace root.
        root: PathBuf,
    },
    /// A scope, component or lane name is invalid.
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// A path given by the user or found on disk is not a valid file path.
    #[error(transparent)]
    InvalidPath(#[from] PathError),
    /// An operation needs a scope and none was given or configured.
    #[error("no scope given and no default scope configured")]
    NoScope,
    /// No tracked component matches the text.
    #[error("unknown component {name:?}")]
    UnknownComponent {
        /// The text as typed.
        name: String,
    },
    /// Several tracked components match the text.
    #[error("component name {name:?} is ambiguous: it matches {}", join(.candidates))]
    AmbiguousComponent {
        /// The text as typed.
        name: String,
        /// Every matching component.
        candidates: Vec<ComponentId>,
    },
    /// `ferry add` of a component id that is already tracked.
    #[error("component {id} is already tracked in {dir}")]
    ComponentExists {
        /// The component.
        id: ComponentId,
        /// Its directory relative to the workspace root.
        dir: String,
    },
    /// `ferry add` of a directory that overlaps a tracked one.
    #[error("directory {dir} overlaps {other_dir}, the directory of component {other}")]
    DirectoryOverlap {
        /// The directory being added.
        dir: String,
        /// The component that already owns an overlapping directory.
        other: ComponentId,
        /// That component's directory.
        other_dir: String,
    },
    /// A path that must be a directory inside the workspace is not.
    #[error("{} is not a directory below the workspace root {}", .path.display(), .root.display())]
    NotAComponentDirectory {
        /// The path as given.
        path: PathBuf,
        /// The workspace root.
        root: PathBuf,
    },
    /// `--name` was given together with several directories.
    #[error("--name applies to one directory, but {count} were given")]
    NameWithSeveralDirs {
        /// How many directories were given.
        count: usize,
    },
    /// A component directory contains an entry that cannot be snapped.
    #[error("cannot snap {path} in component {component}: it is a {kind}")]
    UnsupportedFile {
        /// The component.
        component: ComponentId,
        /// The path relative to the component directory.
        path: String,
        /// The entry kind: "symlink", "special file" or "file with an
        /// invalid name".
        kind: &'static str,
    },
    /// No lane matches the text.
    #[error("unknown lane {name:?}")]
    UnknownLane {
        /// The text as typed.
        name: String,
    },
    /// Several lanes match the text.
    #[error("lane name {name:?} is ambiguous: it matches {}", join(.candidates))]
    AmbiguousLane {
        /// The text as typed.
        name: String,
        /// Every matching lane.
        candidates: Vec<LaneId>,
    },
    /// `ferry lane create` of a lane that exists.
    #[error("lane {0} already exists")]
    LaneExists(LaneId),
    /// A component has no snap where one is needed.
    #[error("component {component} has no snaps on {place}")]
    NoSnaps {
        /// The component.
        component: ComponentId,
        /// "main" or the lane id.
        place: String,
    },
    /// The component directory differs from its snap and `--force` was not
    /// given.
    #[error(
        "component {component} has {count} unsnapped change(s) in {dir}, starting with {first}"
    )]
    LocalChanges {
        /// The component.
        component: ComponentId,
        /// Its directory relative to the workspace root.
        dir: String,
        /// Number of new, modified, deleted and unsupported paths.
        count: usize,
        /// The first changed path, as an example.
        first: String,
    },
    /// A version text is not a tag, a snap id or a hex prefix.
    #[error(
        "invalid version {text:?}: expected a semver tag such as 1.2.0, \
         a snap id, or at least 4 hex digits of one"
    )]
    InvalidVersion {
        /// The text as typed.
        text: String,
    },
    /// No tag or snap of the component matches the version text.
    #[error("component {component} has no tag or snap matching {version:?}")]
    UnknownVersion {
        /// The component.
        component: ComponentId,
        /// The version text as typed.
        version: String,
    },
    /// A snap id prefix matches several snaps.
    #[error(
        "snap prefix {prefix:?} of {component} is ambiguous: it matches {}",
        join_short(.candidates)
    )]
    AmbiguousPrefix {
        /// The component.
        component: ComponentId,
        /// The prefix as typed.
        prefix: String,
        /// Every matching snap.
        candidates: Vec<ObjectId>,
    },
    /// `ferry tag` with a version that is already a tag.
    #[error("tag {version} of {component} already exists on snap {}", .target.short())]
    TagExists {
        /// The component.
        component: ComponentId,
        /// The version.
        version: semver::Version,
        /// The snap the tag points at.
        target: ObjectId,
    },
    /// Another process changed a ref between reading and writing it.
    #[error("ref {name} was changed by another process while this command ran")]
    RefMoved {
        /// The ref.
        name: RefName,
    },
    /// A remote name breaks the naming rules.
    #[error(
        "invalid remote name {name:?}: use 1 to 64 characters of a-z, 0-9, '-' and '_', \
         starting with a letter or digit"
    )]
    InvalidRemoteName {
        /// The name as typed.
        name: String,
    },
    /// A remote URL does not parse or is not http or https.
    #[error("invalid remote URL {url:?}: {reason}")]
    InvalidRemoteUrl {
        /// The URL as typed.
        url: String,
        /// The reason it is invalid.
        reason: String,
    },
    /// `ferry remote add` of a name that exists.
    #[error("remote {name} already exists with URL {url}")]
    RemoteExists {
        /// The remote name.
        name: String,
        /// Its current URL.
        url: String,
    },
    /// No remote has this name.
    #[error("unknown remote {name:?}")]
    UnknownRemote {
        /// The name as typed.
        name: String,
    },
    /// `ferry config` with a key ferry does not know.
    #[error("unknown config key {key:?}: known keys are {}", crate::config::KEYS.join(", "))]
    UnknownConfigKey {
        /// The key as typed.
        key: String,
    },
    /// No author is configured and `$USER` is not set.
    #[error("no author configured: FERRY_AUTHOR, user.name and $USER are all unset")]
    NoAuthor,
    /// The remote's recorded head names a snap that was never fetched.
    #[error("remote {remote} holds {name} at {}, which is not fetched", .snap.short())]
    RemoteNotFetched {
        /// The ref's key, such as `main:acme/button`.
        name: String,
        /// The remote.
        remote: String,
        /// The remote's value of the ref.
        snap: ObjectId,
    },
    /// A merge or rebase of a component that has a pending merge.
    #[error("component {component} has a merge with unresolved conflicts")]
    MergePending {
        /// The component.
        component: ComponentId,
    },
    /// `ferry snap` of a directory that is not checked out at its head:
    /// the snap would undo every change between the two.
    #[error(
        "component {component} is checked out at {}, but its head is {}; a snap on the head \
         would undo the changes between them",
        .base.map_or_else(|| "no snap".to_owned(), |id| id.short()),
        .head.short()
    )]
    SnapNotOnHead {
        /// The component.
        component: ComponentId,
        /// The snap its directory was last checked out at or snapped.
        base: Option<ObjectId>,
        /// The head it would be snapped on.
        head: ObjectId,
    },
    /// The head moved away from the snap a pending merge started from.
    #[error(
        "the pending merge of {component} started from {}, but the head is now {}",
        .ours.short(),
        .head.map_or_else(|| "unset".to_owned(), |id| id.short())
    )]
    PendingMergeStale {
        /// The component.
        component: ComponentId,
        /// The head the merge started from.
        ours: ObjectId,
        /// The head now.
        head: Option<ObjectId>,
    },
    /// `ferry snap` of a pending merge whose file still contains conflict
    /// markers.
    #[error("{path} of component {component} still contains conflict markers")]
    ConflictMarkers {
        /// The component.
        component: ComponentId,
        /// The file, relative to the component directory.
        path: FilePath,
    },
    /// A merge or rebase stopped on conflicts; nothing was applied.
    #[error("{strategy} stopped on conflicts, so no ref changed: {}", conflict_list(.components))]
    Conflicts {
        /// The operation that stopped.
        strategy: crate::reconcile::Strategy,
        /// Each conflicted component with its conflicting paths.
        components: Vec<(ComponentId, Vec<crate::pending::PendingConflict>)>,
        /// Whether conflict markers were written into the directories.
        markers_written: bool,
    },
    /// `export --rebase` or `--merge` was rejected on a head that is not
    /// the current lane's (or main's, off a lane), which it cannot
    /// reconcile.
    #[error("the export was rejected on {name}, which is not a head of the current lane or main")]
    ReconcileElsewhere {
        /// The rejected ref's key.
        name: String,
    },
    /// A rebase of local snaps that include a merge snap.
    #[error(
        "cannot rebase {}: its local snaps include merge snap {}, which a rebase cannot replay",
        .local.short(),
        .snap.short()
    )]
    NonLinearRebase {
        /// The merge snap.
        snap: ObjectId,
        /// The local head.
        local: ObjectId,
    },
    /// A command needs a remote and none is configured.
    #[error("no remote configured")]
    NoRemote,
    /// Several remotes exist, none is named `origin`, and none was chosen.
    #[error("several remotes are configured ({}) and none is named origin", .names.join(", "))]
    AmbiguousRemote {
        /// Every configured remote.
        names: Vec<String>,
    },
    /// The server of a remote did not answer.
    #[error("cannot reach remote {remote} at {url}: {cause}")]
    RemoteUnreachable {
        /// The remote's name, or its URL when it was given as one.
        remote: String,
        /// Its URL.
        url: String,
        /// The innermost cause, such as "Connection refused".
        cause: String,
    },
    /// The remote does not host the scope.
    #[error("scope {scope} does not exist on remote {remote}")]
    UnknownRemoteScope {
        /// The scope.
        scope: ScopeName,
        /// The remote's name or URL.
        remote: String,
    },
    /// `ferry scope create` of a scope the remote hosts already.
    #[error("scope {scope} already exists on remote {remote}")]
    RemoteScopeExists {
        /// The scope.
        scope: ScopeName,
        /// The remote's name or URL.
        remote: String,
    },
    /// The remote rejected a request for a reason the user can act on.
    #[error("remote {remote} rejected the request: {}", .rejection.message)]
    RemoteRejected {
        /// The remote's name or URL.
        remote: String,
        /// The server's rejection, with its code and hint.
        rejection: Rejection,
    },
    /// The remote failed or sent an invalid response.
    #[error("remote {remote} failed")]
    RemoteFailed {
        /// The remote's name or URL.
        remote: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Components of one export or import belong to different scopes.
    #[error("the components belong to several scopes: {}", join_scopes(.scopes))]
    MixedScopes {
        /// Each scope with the components selected from it.
        scopes: Vec<(ScopeName, Vec<ComponentId>)>,
    },
    /// `--lane` was given while the workspace is on main.
    #[error("the workspace is on main, not on a lane")]
    NotOnLane,
    /// An export stopped after the server opened it; its journal remains.
    #[error("export {export_id} to remote {remote} was interrupted: {cause}")]
    ExportInterrupted {
        /// The export id the server minted.
        export_id: ExportId,
        /// The remote's name.
        remote: String,
        /// What stopped it.
        cause: String,
    },
    /// Another `ferry export` in this workspace started at the same time.
    #[error("another ferry export started in this workspace while this one prepared")]
    ExportRunning,
    /// `ferry export --resume` without an interrupted export.
    #[error("there is no interrupted export to resume")]
    NothingToResume,
    /// `ferry import` of a component or lane the remote does not have.
    #[error("remote {remote} has no {what} in scope {scope}")]
    NotOnRemote {
        /// The component or lane, described, such as "component acme/button".
        what: String,
        /// The scope searched.
        scope: ScopeName,
        /// The remote's name.
        remote: String,
    },
    /// `--path` was given for several new components.
    #[error("--path applies to one new component, but {count} are new")]
    PathWithSeveralComponents {
        /// How many imported components are new to the workspace.
        count: usize,
    },
    /// The directory to check out an imported component into is in use.
    #[error("cannot check out {component} into {}: it exists and is not an empty directory", .path.display())]
    CheckoutTargetExists {
        /// The component.
        component: ComponentId,
        /// The directory.
        path: PathBuf,
    },

    /// The object store failed.
    #[error(transparent)]
    Objects(#[from] ObjectStoreError),
    /// The metadata database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored object is not what its reference promised.
    #[error("object {id} is damaged or of the wrong kind")]
    BadObject {
        /// The object.
        id: ObjectId,
        /// The decoding failure.
        #[source]
        source: DecodeError,
    },
    /// A file system operation failed.
    #[error("I/O error on {}", .path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A value read from the workspace database does not parse.
    #[error("workspace database holds an invalid value: {0}")]
    InvalidState(String),
}

/// Shorthand for results of workspace operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Reports whether the error is a mistake the user can fix, rather than
    /// an internal fault of ferry or of the machine.
    pub fn is_user_error(&self) -> bool {
        !matches!(
            self,
            Error::Objects(_)
                | Error::Store(_)
                | Error::BadObject { .. }
                | Error::Io { .. }
                | Error::InvalidState(_)
                | Error::RemoteFailed { .. }
        )
    }

    /// Returns a closure that wraps an I/O error with `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Store(StoreError::Sqlite(error))
    }
}

impl From<RefUpdateError> for Error {
    fn from(error: RefUpdateError) -> Self {
        match error {
            RefUpdateError::Mismatch(mismatch) => Error::RefMoved {
                name: mismatch.name,
            },
            RefUpdateError::Store(store) => Error::Store(store),
        }
    }
}

impl From<ScanError> for Error {
    fn from(error: ScanError) -> Self {
        match error {
            ScanError::Io { path, source } => Error::Io { path, source },
        }
    }
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    let shown: Vec<String> = items.iter().map(ToString::to_string).collect();
    shown.join(", ")
}

fn join_scopes(scopes: &[(ScopeName, Vec<ComponentId>)]) -> String {
    let shown: Vec<String> = scopes
        .iter()
        .map(|(scope, components)| format!("{scope} ({})", join(components)))
        .collect();
    shown.join("; ")
}

fn join_short(ids: &[ObjectId]) -> String {
    let shown: Vec<String> = ids.iter().map(ObjectId::short).collect();
    shown.join(", ")
}

fn conflict_list(components: &[(ComponentId, Vec<crate::pending::PendingConflict>)]) -> String {
    let shown: Vec<String> = components
        .iter()
        .map(|(component, conflicts)| {
            let paths: Vec<String> = conflicts
                .iter()
                .map(|c| format!("{} ({})", c.path, c.kind))
                .collect();
            format!("{component}: {}", paths.join(", "))
        })
        .collect();
    shown.join("; ")
}

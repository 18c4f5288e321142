//! Exchanging snaps with remotes: export, import, fetch and scope
//! administration.
//!
//! Each operation picks a remote, calls the blocking `ferry_client`
//! workflows against the workspace's own stores, and turns the client's
//! failures into [`Error`]s. An unreachable server, an unknown scope and
//! other rejections a user can act on become user errors; invalid responses
//! and server faults stay internal. The client calls block, so these
//! methods must not run inside an async runtime.
//!
//! The client writes objects before the refs that point at them, and
//! records what a remote holds in the `remote/NAME` ref namespace only
//! after the remote confirmed it, so an interrupted operation leaves at
//! most unreferenced objects behind.

pub mod export;
pub mod fetch;
pub mod import;
pub mod journal;
pub mod scope;

use std::collections::BTreeMap;

use ferry_client::{RemoteClient, RemoteError};
use ferry_core::protocol::RejectionCode;
use ferry_core::{ComponentId, RefName, ScopeName};

use crate::error::{Error, Result};
use crate::remote::Remote;
use crate::workspace::Workspace;

/// The remote chosen when several exist and none is named.
pub const DEFAULT_REMOTE: &str = "origin";

impl Workspace {
    /// Returns remote `name`, or without a name the only remote, else the
    /// one named `origin`.
    pub fn select_remote(&self, name: Option<&str>) -> Result<Remote> {
        if let Some(name) = name {
            return self.remote(name);
        }
        let remotes = self.remote_list()?;
        if remotes.len() == 1 {
            return Ok(remotes.into_iter().next().expect("the list has one remote"));
        }
        if remotes.is_empty() {
            return Err(Error::NoRemote);
        }
        let origin = remotes.iter().find(|remote| remote.name == DEFAULT_REMOTE);
        origin.cloned().ok_or_else(|| Error::AmbiguousRemote {
            names: remotes.into_iter().map(|remote| remote.name).collect(),
        })
    }
}

/// Returns a blocking client for `remote`.
pub fn connect(remote: &Remote) -> Result<RemoteClient> {
    RemoteClient::new(&remote.url).map_err(|error| remote_error(remote, error))
}

/// Converts a failed call to `remote` into a workspace error. A server
/// that cannot be reached and a rejection with a 4xx status are user
/// errors; everything else is a fault of the remote.
pub(crate) fn remote_error(remote: &Remote, error: RemoteError) -> Error {
    match error {
        RemoteError::Transport { source, .. } => Error::RemoteUnreachable {
            remote: remote.name.clone(),
            url: remote.url.clone(),
            cause: root_cause(&source),
        },
        RemoteError::Rejected {
            status, rejection, ..
        } if status < 500 => Error::RemoteRejected {
            remote: remote.name.clone(),
            rejection,
        },
        other => Error::RemoteFailed {
            remote: remote.name.clone(),
            source: Box::new(other),
        },
    }
}

/// Like [`remote_error`], but names `scope` when the remote does not host
/// it or hosts it already.
pub(crate) fn scope_error(remote: &Remote, scope: &ScopeName, error: RemoteError) -> Error {
    match error.code() {
        Some(RejectionCode::UnknownScope) => Error::UnknownRemoteScope {
            scope: scope.clone(),
            remote: remote.name.clone(),
        },
        Some(RejectionCode::ScopeExists) => Error::RemoteScopeExists {
            scope: scope.clone(),
            remote: remote.name.clone(),
        },
        _ => remote_error(remote, error),
    }
}

/// Returns the message of the innermost cause of `error`, such as
/// "Connection refused (os error 111)".
pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// Returns the one scope that owns every ref of `names`, or
/// [`Error::MixedScopes`] naming each scope with its components.
pub(crate) fn single_scope<'a>(names: impl Iterator<Item = &'a RefName>) -> Result<ScopeName> {
    let mut scopes: BTreeMap<ScopeName, Vec<ComponentId>> = BTreeMap::new();
    for name in names {
        let components = scopes.entry(name.owning_scope()).or_default();
        if !components.contains(name.component()) {
            components.push(name.component().clone());
        }
    }
    if scopes.len() > 1 {
        return Err(Error::MixedScopes {
            scopes: scopes.into_iter().collect(),
        });
    }
    let scope = scopes.into_keys().next();
    Ok(scope.expect("callers pass at least one ref"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn main_ref(component: &str) -> RefName {
        RefName::Main(component.parse().expect("valid component"))
    }

    #[test]
    fn single_scope_accepts_one_scope() {
        let names = [main_ref("acme/a"), main_ref("acme/b")];
        let scope = single_scope(names.iter()).expect("one scope");
        assert_eq!(scope.as_str(), "acme");
    }

    #[test]
    fn single_scope_names_every_scope() {
        let names = [main_ref("acme/a"), main_ref("other/b"), main_ref("acme/c")];
        let Err(Error::MixedScopes { scopes }) = single_scope(names.iter()) else {
            panic!("mixed scopes must be rejected");
        };
        assert_eq!(scopes.len(), 2);
        assert_eq!(scopes[0].0.as_str(), "acme");
        assert_eq!(scopes[0].1.len(), 2);
        assert_eq!(scopes[1].0.as_str(), "other");
    }
}

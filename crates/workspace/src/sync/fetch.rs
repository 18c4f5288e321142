//! `ferry fetch`: updating what the workspace records about a remote.
//!
//! Fetch brings every ref of each scope the workspace uses, with the
//! objects behind them, and records the values in `remote/NAME`. It never
//! changes the workspace's own refs or files, so afterwards `ferry status`
//! shows how each local head compares with the remote.

use std::collections::{BTreeSet, HashMap};

use ferry_client::{FetchError, FetchRequest, Progress, RefSelection};
use ferry_core::protocol::RejectionCode;
use ferry_core::{ObjectId, RefName, ScopeName};
use serde::Serialize;

use super::connect;
use crate::error::{Error, Result};
use crate::remote::Remote;
use crate::workspace::Workspace;

/// The result of `ferry fetch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FetchOutcome {
    /// The remote's name.
    pub remote: String,
    /// Each scope the workspace uses.
    pub scopes: Vec<FetchedScope>,
    /// Remote refs whose recorded value changed.
    pub updated: Vec<UpdatedRef>,
}

/// The fetch of one scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FetchedScope {
    /// The scope.
    pub scope: ScopeName,
    /// Whether the remote hosts it.
    pub found: bool,
    /// Refs the remote holds in it.
    pub refs: usize,
    /// Objects received.
    pub objects_received: u64,
    /// Objects the workspace did not hold before.
    pub objects_written: u64,
}

/// A remote ref whose recorded value changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UpdatedRef {
    /// The ref.
    pub name: RefName,
    /// The value recorded before, if any.
    pub old: Option<ObjectId>,
    /// The value recorded now.
    pub new: ObjectId,
}

impl Workspace {
    /// Fetches every ref of the scopes of tracked components, known lanes
    /// and the default scope from remote `name` (or the default remote).
    pub fn fetch(&self, name: Option<&str>, progress: &dyn Progress) -> Result<FetchOutcome> {
        let remote = self.select_remote(name)?;
        let client = connect(&remote)?;
        let before: HashMap<RefName, ObjectId> =
            self.remote_refs(&remote.name)?.into_iter().collect();

        let mut scopes = Vec::new();
        for scope in self.used_scopes()? {
            let request = FetchRequest {
                remote_name: remote.name.clone(),
                scope: scope.clone(),
                selection: RefSelection::All,
            };
            let result = ferry_client::fetch(
                self.object_store(),
                self.ref_store(),
                &client,
                &request,
                progress,
            );
            scopes.push(match result {
                Ok(report) => FetchedScope {
                    scope,
                    found: true,
                    refs: report.refs.len(),
                    objects_received: report.objects_received,
                    objects_written: report.objects_written,
                },
                Err(error) if is_unknown_scope(&error) => FetchedScope {
                    scope,
                    found: false,
                    refs: 0,
                    objects_received: 0,
                    objects_written: 0,
                },
                Err(error) => return Err(fetch_error(&remote, &scope, error)),
            });
        }

        let updated = self
            .remote_refs(&remote.name)?
            .into_iter()
            .filter(|(name, id)| before.get(name) != Some(id))
            .map(|(name, new)| UpdatedRef {
                old: before.get(&name).copied(),
                name,
                new,
            })
            .collect();
        Ok(FetchOutcome {
            remote: remote.name,
            scopes,
            updated,
        })
    }

    /// Returns the scopes of tracked components, known lanes and the
    /// default scope, sorted.
    fn used_scopes(&self) -> Result<BTreeSet<ScopeName>> {
        let mut scopes: BTreeSet<ScopeName> = self.default_scope()?.into_iter().collect();
        scopes.extend(self.components()?.iter().map(|c| c.id.scope()));
        scopes.extend(self.known_lanes()?.iter().map(|lane| lane.scope()));
        Ok(scopes)
    }
}

fn is_unknown_scope(error: &FetchError) -> bool {
    matches!(error, FetchError::Remote(remote) if remote.code() == Some(RejectionCode::UnknownScope))
}

/// Converts a failed fetch or import from `remote` into a workspace error.
pub(crate) fn fetch_error(remote: &Remote, scope: &ScopeName, error: FetchError) -> Error {
    match error {
        FetchError::Remote(error) => super::scope_error(remote, scope, error),
        FetchError::LocalObjects(error) => error.into(),
        FetchError::LocalRefs(error) => error.into(),
        other => Error::RemoteFailed {
            remote: remote.name.clone(),
            source: Box::new(other),
        },
    }
}

//! `ferry export`: pushing main heads or lane heads, and tags, to a
//! remote.
//!
//! The refs to push are compared with what `remote/NAME` records, which is
//! also the value each update expects the remote to hold. The server
//! checks every expected value with a compare-and-swap, so a stale record
//! can only make an export fail as diverged, never overwrite a snap that
//! someone else exported.
//!
//! Each run uses a fresh idempotency key and keeps it in the journal (see
//! [`journal`](super::journal)) until the export has an outcome. A run
//! that finds a journal resolves that export first and reports its
//! outcome, instead of starting a second export.

use std::collections::HashMap;

use ferry_client::RemoteError;
use ferry_client::{ExportError, ExportReport, Progress, RefPush, RefReport, RemoteClient};
use ferry_core::protocol::{ExportId, IdempotencyKey, Rejection};
use ferry_core::{ComponentId, LaneId, ObjectId, RefName, ScopeName};
use serde::Serialize;

use super::journal::{self, Journal};
use super::{connect, scope_error, single_scope};
use crate::error::{Error, Result};
use crate::remote::Remote;
use crate::workspace::Workspace;

/// Options of an export: the components or lane, the remote, and whether
/// to resume only.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// Components as typed. Empty means every component whose refs differ
    /// from what the remote was last seen to hold.
    pub components: Vec<String>,
    /// Push the current lane's heads instead of main heads.
    pub lane: bool,
    /// The remote's name; `None` chooses the only remote or `origin`.
    pub remote: Option<String>,
    /// Only resolve an interrupted export; fail when there is none.
    pub resume: bool,
}

/// The result of `ferry export`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExportOutcome {
    /// The remote's name.
    pub remote: String,
    /// The scope exported to, or `None` when there was nothing to export.
    pub scope: Option<ScopeName>,
    /// Whether this run resolved an export that an earlier run started.
    pub resumed: bool,
    /// The export id minted by the server, when an export ran.
    pub export_id: Option<ExportId>,
    /// Objects offered to the server in negotiation.
    pub objects_offered: u64,
    /// Objects the server lacked and that were uploaded in this run.
    pub objects_uploaded: u64,
    /// One entry per pushed ref.
    pub refs: Vec<RefReport>,
    /// The server's rejection, when no ref update was applied.
    pub rejection: Option<Rejection>,
}

impl ExportOutcome {
    fn nothing(remote: &Remote) -> Self {
        Self {
            remote: remote.name.clone(),
            scope: None,
            resumed: false,
            export_id: None,
            objects_offered: 0,
            objects_uploaded: 0,
            refs: Vec::new(),
            rejection: None,
        }
    }

    fn from_report(journal: &Journal, resumed: bool, report: ExportReport) -> Self {
        Self {
            remote: journal.remote.clone(),
            scope: Some(journal.scope.clone()),
            resumed,
            export_id: Some(report.export_id),
            objects_offered: report.objects_offered,
            objects_uploaded: report.objects_uploaded,
            refs: report.refs,
            rejection: report.rejection,
        }
    }

    /// Reports whether every ref update was applied.
    pub fn is_committed(&self) -> bool {
        self.rejection.is_none()
    }
}

/// The refs one export pushes.
struct ExportPlan {
    scope: ScopeName,
    updates: Vec<RefPush>,
}

impl Workspace {
    /// Exports the refs `options` select, or first resolves an export that
    /// an earlier run left unfinished. Returns the report per ref; a
    /// rejection by the server is part of the outcome, not an error.
    pub fn export(
        &self,
        options: &ExportOptions,
        progress: &dyn Progress,
    ) -> Result<ExportOutcome> {
        let journal_path = journal::path_in(&self.ferry_dir());
        if let Some(journal) = journal::read(&journal_path)? {
            let remote = self.remote(&journal.remote)?;
            let client = connect(&remote)?;
            return self.run_journaled(&remote, &client, &journal, true, progress);
        }
        if options.resume {
            return Err(Error::NothingToResume);
        }

        let remote = self.select_remote(options.remote.as_deref())?;
        let Some(plan) = self.plan_export(&remote, options)? else {
            return Ok(ExportOutcome::nothing(&remote));
        };
        let client = connect(&remote)?;
        let key = IdempotencyKey::random();
        let info = client
            .open_export(&plan.scope, Some(&key))
            .map_err(|error| scope_error(&remote, &plan.scope, error))?;
        let journal = Journal::new(&remote.name, plan.scope, key, info.id, &plan.updates);
        journal::create(&journal_path, &journal)?;
        self.run_journaled(&remote, &client, &journal, false, progress)
    }

    /// Runs the export `journal` describes to its outcome and removes the
    /// journal, unless the server may have committed without this process
    /// learning the outcome.
    fn run_journaled(
        &self,
        remote: &Remote,
        client: &RemoteClient,
        journal: &Journal,
        resumed: bool,
        progress: &dyn Progress,
    ) -> Result<ExportOutcome> {
        let path = journal::path_in(&self.ferry_dir());
        let request = journal.request();
        let result = ferry_client::export(
            self.object_store(),
            self.ref_store(),
            client,
            &request,
            progress,
        );
        let error = match result {
            Ok(report) => {
                journal::remove(&path, &journal.idempotency_key)?;
                return Ok(ExportOutcome::from_report(journal, resumed, report));
            }
            Err(error) => error,
        };
        if !may_have_committed(&error) {
            journal::remove(&path, &journal.idempotency_key)?;
        }
        Err(export_error(remote, journal, error))
    }

    /// Selects the refs to push: heads that differ from the remote's
    /// record (or every head of the named components) and tags the remote
    /// is not known to hold. Returns `None` when nothing differs.
    fn plan_export(&self, remote: &Remote, options: &ExportOptions) -> Result<Option<ExportPlan>> {
        let lane = match options.lane {
            true => Some(self.current_lane()?.ok_or(Error::NotOnLane)?),
            false => None,
        };
        let named = options
            .components
            .iter()
            .map(|text| self.resolve_component(text))
            .collect::<Result<Vec<_>>>()?;
        let recorded: HashMap<RefName, ObjectId> =
            self.remote_refs(&remote.name)?.into_iter().collect();

        let mut updates = Vec::new();
        for (name, local) in self.list_refs()? {
            let expected = recorded.get(&name).copied();
            if is_selected(&name, lane.as_ref(), &named, expected == Some(local)) {
                updates.push(RefPush {
                    name,
                    local,
                    expected_remote: expected,
                });
            }
        }
        for component in &named {
            require_head(&updates, component, lane.as_ref())?;
        }
        if updates.is_empty() {
            return Ok(None);
        }
        let scope = single_scope(updates.iter().map(|update| &update.name))?;
        Ok(Some(ExportPlan { scope, updates }))
    }
}

/// Decides whether local ref `name` is pushed. Heads of the pushed kind
/// (main, or the lane `lane`) go when their component is named or, with no
/// names, when they differ from the remote's record. Tags go when they
/// differ and their component is named or no names were given.
fn is_selected(
    name: &RefName,
    lane: Option<&LaneId>,
    named: &[ComponentId],
    same_as_recorded: bool,
) -> bool {
    let is_pushed_kind = match (name, lane) {
        (RefName::Main(_), None) | (RefName::Tag(..), _) => true,
        (RefName::Lane(ref_lane, _), Some(lane)) => ref_lane == lane,
        _ => false,
    };
    if !is_pushed_kind {
        return false;
    }
    if named.is_empty() {
        return !same_as_recorded;
    }
    let is_named = named.contains(name.component());
    is_named && (name.is_head() || !same_as_recorded)
}

/// Fails with [`Error::NoSnaps`] unless `updates` contains a head of
/// `component`.
fn require_head(updates: &[RefPush], component: &ComponentId, lane: Option<&LaneId>) -> Result<()> {
    let has_head = updates
        .iter()
        .any(|update| update.name.is_head() && update.name.component() == component);
    if has_head {
        return Ok(());
    }
    Err(Error::NoSnaps {
        component: component.clone(),
        place: lane.map_or_else(|| "main".to_owned(), LaneId::to_string),
    })
}

/// Reports whether the server may have committed an export that failed
/// with `error`. Rejections and local failures come before the commit
/// request. A broken connection may hide a commit, and a failure to record
/// the result locally comes after one.
fn may_have_committed(error: &ExportError) -> bool {
    match error {
        ExportError::Remote(RemoteError::Rejected { .. }) => false,
        ExportError::LocalObjects(_) | ExportError::Pack(_) => false,
        ExportError::Remote(_) | ExportError::LocalRefs(_) => true,
    }
}

fn export_error(remote: &Remote, journal: &Journal, error: ExportError) -> Error {
    match error {
        ExportError::Remote(RemoteError::Transport { source, .. }) => Error::ExportInterrupted {
            export_id: journal.export_id,
            remote: remote.name.clone(),
            cause: super::root_cause(&source),
        },
        ExportError::Remote(error) => scope_error(remote, &journal.scope, error),
        ExportError::LocalObjects(error) => error.into(),
        other => Error::RemoteFailed {
            remote: remote.name.clone(),
            source: Box::new(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(text: &str) -> ComponentId {
        text.parse().expect("valid component")
    }

    fn tag(text: &str, version: &str) -> RefName {
        RefName::Tag(component(text), version.parse().expect("valid version"))
    }

    #[test]
    fn unnamed_selection_pushes_what_differs() {
        let main = RefName::Main(component("acme/a"));
        assert!(is_selected(&main, None, &[], false));
        assert!(!is_selected(&main, None, &[], true));
        assert!(is_selected(&tag("acme/a", "1.0.0"), None, &[], false));
        assert!(!is_selected(&tag("acme/a", "1.0.0"), None, &[], true));
    }

    #[test]
    fn named_selection_always_pushes_heads() {
        let named = [component("acme/a")];
        let main = RefName::Main(component("acme/a"));
        assert!(is_selected(&main, None, &named, true));
        assert!(!is_selected(&tag("acme/a", "1.0.0"), None, &named, true));
        let other = RefName::Main(component("acme/b"));
        assert!(!is_selected(&other, None, &named, false));
    }

    #[test]
    fn lane_selection_skips_main_and_other_lanes() {
        let lane: LaneId = "acme/theme".parse().expect("valid lane");
        let other: LaneId = "acme/other".parse().expect("valid lane");
        let main = RefName::Main(component("acme/a"));
        let on_lane = RefName::Lane(lane.clone(), component("acme/a"));
        let on_other = RefName::Lane(other, component("acme/a"));
        assert!(!is_selected(&main, Some(&lane), &[], false));
        assert!(is_selected(&on_lane, Some(&lane), &[], false));
        assert!(!is_selected(&on_other, Some(&lane), &[], false));
        assert!(!is_selected(&on_lane, None, &[], false));
    }
}

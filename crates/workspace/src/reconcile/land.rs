//! `ferry export --rebase` and `ferry export --merge`: export, and when a
//! head diverged, fetch, reconcile and export again.
//!
//! Each attempt is a complete `ferry export`, whose every ref update is a
//! compare-and-swap on the server against the value `remote/NAME`
//! records. A diverged rejection therefore never loses anyone's snap. It
//! makes this loop fetch the remote heads, merge or rebase the rejected
//! components onto them and try again. The retry bound and the backoff are
//! [`ferry_client::land`]'s. A conflict stops the loop with every local
//! ref as the last reconcile found it: a conflicting reconcile applies
//! nothing.

use ferry_client::{land, Attempt, LandingEnd, LandingPolicy, Progress, Reconciled};
use ferry_core::protocol::Rejection;
use serde::Serialize;

use super::{ReconcileOptions, ReconcileReport, Strategy};
use crate::error::{Error, Result};
use crate::sync::export::{ExportOptions, ExportOutcome};
use crate::workspace::Workspace;

/// The settings of an export that reconciles until it lands.
#[derive(Clone, Debug)]
pub struct LandOptions {
    /// What to export.
    pub export: ExportOptions,
    /// How to combine local heads with the remote's after a rejection.
    pub strategy: Strategy,
    /// The bound on attempts and the backoff between them.
    pub policy: LandingPolicy,
}

/// The result of an export that reconciles until it lands.
#[derive(Clone, Debug, Serialize)]
pub struct LandOutcome {
    /// The strategy used after rejections.
    pub strategy: Strategy,
    /// The way the loop ended.
    pub end: LandingEnd,
    /// Exports attempted.
    pub attempts: u32,
    /// The outcome of the last export.
    pub export: ExportOutcome,
    /// Each reconcile between attempts, in order; the last one lists the
    /// conflicts when a conflict ended the loop.
    pub reconciles: Vec<ReconcileReport>,
}

impl Attempt for ExportOutcome {
    fn rejection(&self) -> Option<&Rejection> {
        self.rejection.as_ref()
    }
}

impl Workspace {
    /// Exports as `options.export` says; after each diverged rejection,
    /// fetches, reconciles the rejected components with `options.strategy`
    /// and exports again, at most `options.policy.max_attempts` times.
    pub fn export_landing(
        &self,
        options: &LandOptions,
        progress: &dyn Progress,
    ) -> Result<LandOutcome> {
        let mut reconciles = Vec::new();
        let landing = land(
            &options.policy,
            |_| self.export(&options.export, progress),
            |rejection| {
                let report = self.reconcile_rejected(rejection, options, progress)?;
                let conflicted = report.conflict_error().is_some();
                reconciles.push(report);
                Ok::<_, Error>(match conflicted {
                    true => Reconciled::Stop,
                    false => Reconciled::Retry,
                })
            },
        )?;
        Ok(LandOutcome {
            strategy: options.strategy,
            end: landing.end,
            attempts: landing.attempts,
            export: landing.last,
            reconciles,
        })
    }

    /// Fetches from the remote and reconciles the components whose refs
    /// `rejection` names.
    fn reconcile_rejected(
        &self,
        rejection: &Rejection,
        options: &LandOptions,
        progress: &dyn Progress,
    ) -> Result<ReconcileReport> {
        let remote = self.select_remote(options.export.remote.as_deref())?;
        self.fetch(Some(&remote.name), progress)?;

        let lane = self.current_lane()?;
        let mut names = Vec::with_capacity(rejection.refs.len());
        for problem in &rejection.refs {
            let component = problem.name.component();
            let head = self.head(component, lane.as_ref())?;
            if head.name != problem.name {
                return Err(Error::ReconcileElsewhere {
                    name: problem.name.key(),
                });
            }
            names.push(component.to_string());
        }
        let reconcile = ReconcileOptions {
            remote: Some(remote.name),
            strategy: options.strategy,
            merge_non_linear: true,
            write_conflicts: false,
            message: None,
        };
        self.reconcile(&names, &reconcile)
    }
}

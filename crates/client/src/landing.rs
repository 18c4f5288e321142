//! Exporting until the export lands: on a diverged head, reconcile with
//! the remote and export again, a bounded number of times.
//!
//! When several clients export the same head at once, exactly one wins
//! each compare-and-swap on the server and the others are rejected as
//! diverged. [`land`] turns such a rejection into another attempt: the
//! caller's `reconcile` fetches the remote head and merges or rebases onto
//! it, and the export runs again with the new expected value. Attempts are
//! spaced by a jittered exponential backoff, so clients that lost the same
//! race do not collide again in lockstep. Every loser makes progress
//! whenever some client wins, so with `n` racing clients the last one
//! needs about `n` attempts.
//!
//! The loop holds no lock and keeps no state between attempts besides the
//! count: each attempt is a complete export that commits all its refs or
//! none, so stopping at any point leaves the remote as one of its
//! committed states.

use std::time::Duration;

use ferry_core::protocol::{Rejection, RejectionCode};
use rand::Rng;
use serde::Serialize;

use crate::export::ExportReport;

/// When to give up and how long to wait between attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LandingPolicy {
    /// Exports to attempt at most, including the first.
    pub max_attempts: u32,
    /// The upper bound of the wait before the second attempt; it doubles
    /// for each later attempt.
    pub first_delay: Duration,
    /// The largest upper bound any wait gets.
    pub max_delay: Duration,
}

impl Default for LandingPolicy {
    /// Waits start below 10 ms and stop growing at 200 ms. An attempt
    /// itself (export, fetch, replay) takes long enough that racing
    /// clients fall out of step; longer waits only left the server idle.
    /// With 16 clients racing on one component through `ferry serve` on
    /// loopback (ferry-bench case 7), a 5 s cap took 12.6 s for all to
    /// land and this one 1.8 s.
    fn default() -> Self {
        Self {
            max_attempts: 10,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(200),
        }
    }
}

impl LandingPolicy {
    /// Returns the upper bound of the wait after failed attempt `attempt`
    /// (1 for the first): `first_delay` doubled `attempt - 1` times, at
    /// most `max_delay`.
    pub fn delay_bound(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Returns a wait drawn uniformly from zero to the bound for
    /// `attempt` ("full jitter").
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let bound = self.delay_bound(attempt);
        let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.random_range(0..=nanos))
    }
}

/// The decision of the caller's reconcile step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reconciled {
    /// The local heads now include the remote heads: export again.
    Retry,
    /// Reconciling stopped, for example on a conflict: give up.
    Stop,
}

/// The way [`land`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LandingEnd {
    /// The last export committed.
    Committed,
    /// The last export was rejected for a reason reconciling cannot fix.
    Rejected,
    /// The reconcile step stopped after a diverged rejection.
    Stopped,
    /// Every attempt was rejected as diverged.
    OutOfAttempts,
}

/// The result of [`land`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Landing<R> {
    /// The way it ended.
    pub end: LandingEnd,
    /// Exports attempted.
    pub attempts: u32,
    /// The report of the last export.
    pub last: R,
}

/// The report of one export attempt.
pub trait Attempt {
    /// Returns the server's rejection, or `None` when the export committed.
    fn rejection(&self) -> Option<&Rejection>;
}

impl Attempt for ExportReport {
    fn rejection(&self) -> Option<&Rejection> {
        self.rejection.as_ref()
    }
}

/// Reports whether reconciling with the remote can fix `rejection`: every
/// rejected ref is a head that moved on or that the new head does not
/// descend from.
pub fn is_reconcilable(rejection: &Rejection) -> bool {
    let head_problem = |code| {
        matches!(
            code,
            RejectionCode::Diverged | RejectionCode::NonFastForward
        )
    };
    head_problem(rejection.code)
        && !rejection.refs.is_empty()
        && rejection.refs.iter().all(|p| head_problem(p.code))
}

/// Runs `export` until it commits, calling `reconcile` after each
/// rejection that [`is_reconcilable`] and sleeping a jittered backoff
/// before the next attempt. A rejection of an object that garbage
/// collection was removing is retried without reconciling, since the next
/// export uploads it again. Errors of either step end the loop at once.
pub fn land<R: Attempt, E>(
    policy: &LandingPolicy,
    mut export: impl FnMut(u32) -> Result<R, E>,
    mut reconcile: impl FnMut(&Rejection) -> Result<Reconciled, E>,
) -> Result<Landing<R>, E> {
    let mut rng = rand::rng();
    let mut attempt = 1;
    loop {
        let report = export(attempt)?;
        let end = match report.rejection() {
            None => Some(LandingEnd::Committed),
            Some(_) if attempt >= policy.max_attempts => Some(LandingEnd::OutOfAttempts),
            Some(r) if r.code == RejectionCode::ObjectCollected => None,
            Some(r) if !is_reconcilable(r) => Some(LandingEnd::Rejected),
            Some(r) => match reconcile(r)? {
                Reconciled::Retry => None,
                Reconciled::Stop => Some(LandingEnd::Stopped),
            },
        };
        if let Some(end) = end {
            return Ok(Landing {
                end,
                attempts: attempt,
                last: report,
            });
        }
        let wait = policy.delay(attempt, &mut rng);
        tracing::debug!(
            attempt,
            wait_ms = wait.as_millis() as u64,
            "export diverged; retrying"
        );
        std::thread::sleep(wait);
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use ferry_core::protocol::{ExportId, RefProblem};
    use ferry_core::ObjectId;

    use super::*;

    fn fast() -> LandingPolicy {
        LandingPolicy {
            max_attempts: 4,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        }
    }

    fn problem(code: RejectionCode) -> RefProblem {
        RefProblem {
            name: "main:acme/button".parse().expect("valid ref"),
            code,
            expected: None,
            actual: Some(ObjectId::digest(b"actual")),
            new: ObjectId::digest(b"new"),
            merge_base: None,
        }
    }

    fn rejection(codes: &[RejectionCode]) -> Rejection {
        let mut rejection = Rejection::new(codes[0], "rejected");
        rejection.refs = codes.iter().map(|&code| problem(code)).collect();
        rejection
    }

    fn report(rejection: Option<Rejection>) -> ExportReport {
        ExportReport {
            export_id: ExportId::mint(),
            objects_offered: 0,
            objects_uploaded: 0,
            refs: Vec::new(),
            rejection,
        }
    }

    fn diverged() -> Option<Rejection> {
        Some(rejection(&[RejectionCode::Diverged]))
    }

    #[test]
    fn delay_bound_doubles_up_to_max() {
        let policy = LandingPolicy {
            max_attempts: 10,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        assert_eq!(policy.delay_bound(1), Duration::from_millis(100));
        assert_eq!(policy.delay_bound(2), Duration::from_millis(200));
        assert_eq!(policy.delay_bound(3), Duration::from_millis(400));
        assert_eq!(policy.delay_bound(4), Duration::from_millis(500));
        assert_eq!(policy.delay_bound(40), Duration::from_millis(500));
    }

    #[test]
    fn delay_stays_within_bound() {
        let policy = LandingPolicy::default();
        let mut rng = rand::rng();
        for attempt in 1..8 {
            let delay = policy.delay(attempt, &mut rng);
            assert!(delay <= policy.delay_bound(attempt), "{delay:?}");
        }
    }

    #[test]
    fn land_retries_diverged_until_committed() {
        let reconciles = Cell::new(0);
        let landing = land::<ExportReport, ()>(
            &fast(),
            |attempt| Ok(report(if attempt < 3 { diverged() } else { None })),
            |_| {
                reconciles.set(reconciles.get() + 1);
                Ok(Reconciled::Retry)
            },
        )
        .expect("no error");
        assert_eq!(landing.end, LandingEnd::Committed);
        assert_eq!(landing.attempts, 3);
        assert_eq!(reconciles.get(), 2);
    }

    #[test]
    fn land_stops_when_reconcile_stops() {
        let landing = land::<ExportReport, ()>(
            &fast(),
            |_| Ok(report(diverged())),
            |_| Ok(Reconciled::Stop),
        )
        .expect("no error");
        assert_eq!(landing.end, LandingEnd::Stopped);
        assert_eq!(landing.attempts, 1);
    }

    #[test]
    fn land_gives_up_after_max_attempts() {
        let landing = land::<ExportReport, ()>(
            &fast(),
            |_| Ok(report(diverged())),
            |_| Ok(Reconciled::Retry),
        )
        .expect("no error");
        assert_eq!(landing.end, LandingEnd::OutOfAttempts);
        assert_eq!(landing.attempts, 4);
    }

    #[test]
    fn land_does_not_reconcile_other_rejections() {
        let tag = rejection(&[RejectionCode::TagExists]);
        let landing = land::<ExportReport, ()>(
            &fast(),
            |_| Ok(report(Some(tag.clone()))),
            |_| panic!("a tag rejection is not reconcilable"),
        )
        .expect("no error");
        assert_eq!(landing.end, LandingEnd::Rejected);
        assert_eq!(landing.attempts, 1);
    }

    #[test]
    fn reconcilable_only_with_head_problems() {
        assert!(is_reconcilable(&rejection(&[RejectionCode::Diverged])));
        assert!(is_reconcilable(&rejection(&[
            RejectionCode::NonFastForward,
            RejectionCode::Diverged
        ])));
        assert!(!is_reconcilable(&rejection(&[
            RejectionCode::Diverged,
            RejectionCode::TagExists
        ])));
        assert!(!is_reconcilable(&Rejection::new(
            RejectionCode::Diverged,
            "no refs"
        )));
    }
}

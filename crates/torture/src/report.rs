//! The printed form of a run report: each figure with the number of cases
//! it covers.

use std::collections::BTreeMap;
use std::fmt;

use crate::run::RunReport;

fn join_counts<V: fmt::Display>(counts: &BTreeMap<String, V>) -> String {
    if counts.is_empty() {
        return "none".to_owned();
    }
    let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    parts.join(", ")
}

impl RunReport {
    fn fmt_run(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "run: {} clients, {} attempts in {:.1} s, seed {}",
            self.clients,
            self.attempts,
            self.client_phase_ms as f64 / 1000.0,
            self.seed
        )?;
        writeln!(f, "scenarios: {}", join_counts(&self.scenarios))?;
        let chaos = &self.chaos;
        writeln!(
            f,
            "server: {} starts, {} SIGKILLs ({} at random moments), {} aborts at failpoints",
            chaos.starts, chaos.kills, chaos.random_kills, chaos.aborts
        )?;
        let hit = chaos.rounds.iter().filter(|round| round.hit).count();
        writeln!(
            f,
            "failpoint rounds: {} run, {} reached their point",
            chaos.rounds.len(),
            hit
        )?;
        writeln!(f, "failpoint hits: {}", join_counts(&self.failpoint_hits))?;
        writeln!(f, "rejections: {}", join_counts(&self.rejection_codes))
    }

    fn fmt_checks(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exports = &self.exports;
        writeln!(
            f,
            "unknown outcomes resolved: {} committed, {} not; {} answered alike by key and by id",
            exports.resolved_committed,
            exports.resolved_not_committed,
            exports.resolutions_compared
        )?;
        writeln!(
            f,
            "decided exports whose server state matches the client's: {} checked",
            exports.decided_checked
        )?;
        writeln!(
            f,
            "exports of the run left live: {} after waiting {} ms for the sweep to expire \
             them; {} live at resolution",
            self.expiry.still_live, self.expiry.waited_ms, exports.left_live
        )?;
        let store = &self.fsck.store;
        writeln!(
            f,
            "fsck: {} objects verified against their ids, {} refs walked ({} snaps), {} problems",
            store.objects,
            store.refs,
            store.snaps,
            store.problems.len()
        )?;
        writeln!(
            f,
            "fsck: exports open or prepared past their lease: {} of {} live",
            self.fsck.overdue_exports.len(),
            self.fsck.live_exports
        )?;
        let fresh = if self.fresh.committed {
            "committed"
        } else {
            "NOT committed"
        };
        writeln!(
            f,
            "fresh export after the run: {fresh}, {} refs",
            self.fresh.refs
        )?;
        writeln!(f, "server errors logged: {}", self.server_errors)
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_run(f)?;
        write!(f, "{}", self.verdict)?;
        self.fmt_checks(f)?;
        if self.is_clean() {
            writeln!(f, "result: clean, {} lost", self.verdict.lost)?;
        } else {
            writeln!(f, "result: {} violations", self.violations.len())?;
            for violation in self.violations.iter().take(50) {
                writeln!(f, "  {violation}")?;
            }
        }
        writeln!(
            f,
            "records, server log and data: {}",
            self.out_dir.display()
        )
    }
}

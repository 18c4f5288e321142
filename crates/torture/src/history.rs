//! Recorded export attempts and the checks run over them.
//!
//! Every attempt pushes snaps that no other attempt pushes, so each ref
//! value identifies the one export that set it. That makes the history of
//! a ref reconstructible: the committed updates of a ref must form a single
//! chain, each replacing exactly the value the previous one set, from no
//! ref at all to the final value. A fork in that chain is a lost update; a
//! committed value missing from the chain is a lost export.

use std::collections::{HashMap, HashSet};
use std::fmt;

use ferry_core::ancestry::{is_ancestor, SnapGraph};
use ferry_core::{ObjectId, RefName};
use serde::{Deserialize, Serialize};

/// One ref update an attempt asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    /// The ref.
    pub name: RefName,
    /// The value the client expected to replace.
    pub expected: Option<ObjectId>,
    /// The value the client asked for.
    pub new: ObjectId,
}

/// A ref that a rejection named, with the value the server reported for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedRef {
    /// The ref.
    pub name: RefName,
    /// The value the server reported as current.
    pub actual: Option<ObjectId>,
}

/// The outcome of an attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outcome {
    /// The server acknowledged the commit.
    Committed,
    /// The server rejected the export.
    Rejected {
        /// The rejection's stable code.
        code: String,
        /// Refs the rejection named as having moved.
        refs: Vec<NamedRef>,
    },
    /// The client never learned the outcome: a timeout, a dropped
    /// connection or a killed server. `resolved` is filled in after the run
    /// by asking the restarted server.
    Unknown {
        /// The transport error the client saw.
        error: String,
        /// Whether the export turned out committed, once asked.
        resolved: Option<bool>,
    },
}

/// One export attempt as a client recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// The client that made the attempt.
    pub client: u32,
    /// The attempt's number within its client.
    pub seq: u32,
    /// The scenario the attempt exercised, such as `same-component` or `lane`.
    pub scenario: String,
    /// The export id the server minted, if the open succeeded.
    pub export_id: Option<String>,
    /// When the attempt started, in milliseconds since the run began.
    pub started_ms: u64,
    /// When the client saw its outcome, in milliseconds since the run began.
    pub finished_ms: u64,
    /// The ref updates the attempt asked for.
    pub updates: Vec<Update>,
    /// The outcome.
    pub outcome: Outcome,
}

impl Attempt {
    /// Reports whether the export's updates are in effect: acknowledged, or
    /// an unknown outcome resolved to committed.
    pub fn committed(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::Committed
                | Outcome::Unknown {
                    resolved: Some(true),
                    ..
                }
        )
    }

    /// Returns the latest moment the commit can have taken effect. An
    /// unknown outcome may have been applied after the client gave up, so
    /// it has no bound.
    fn applied_by(&self) -> u64 {
        match self.outcome {
            Outcome::Committed => self.finished_ms,
            _ => u64::MAX,
        }
    }
}

/// Figures from a history check, and every violation found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Verdict {
    /// Attempts checked.
    pub attempts: usize,
    /// Attempts whose updates are in effect.
    pub committed: usize,
    /// Attempts rejected by the server.
    pub rejected: usize,
    /// Attempts with an unknown outcome, all of which must be resolved.
    pub unknown: usize,
    /// Committed snaps checked for reachability from their final ref.
    pub reachable_checked: usize,
    /// Committed updates whose snap is not reachable from the final value
    /// of their ref: lost exports.
    pub lost: usize,
    /// Head moves checked to be fast-forwards.
    pub forward_checked: usize,
    /// Rejections whose named head was checked to have been current.
    pub rejections_checked: usize,
    /// Refs whose committed updates were checked to form one chain.
    pub chains_checked: usize,
    /// Rejections whose code was checked against the expected ones.
    pub codes_checked: usize,
    /// Everything that contradicts "no acknowledged export is ever lost".
    pub violations: Vec<String>,
}

impl Verdict {
    /// Reports whether the history is consistent.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "attempts {}: committed {}, rejected {}, unknown {} (all resolved: {})",
            self.attempts,
            self.committed,
            self.rejected,
            self.unknown,
            !self.violations.iter().any(|v| v.contains("unresolved"))
        )?;
        writeln!(
            f,
            "committed snaps reachable from final head: {} checked, {} lost",
            self.reachable_checked, self.lost
        )?;
        writeln!(
            f,
            "heads only moved forward: {} moves checked",
            self.forward_checked
        )?;
        writeln!(
            f,
            "rejections named a current head: {} checked",
            self.rejections_checked
        )?;
        writeln!(
            f,
            "refs with one unbroken chain of commits: {} checked",
            self.chains_checked
        )?;
        if self.codes_checked > 0 {
            writeln!(
                f,
                "rejections with an expected code: {} checked",
                self.codes_checked
            )?;
        }
        writeln!(f, "violations: {}", self.violations.len())?;
        for violation in &self.violations {
            writeln!(f, "  {violation}")?;
        }
        Ok(())
    }
}

/// Committed updates of one ref, indexed for the chain and rejection checks.
struct RefHistory<'a> {
    /// Committed update by the value it replaced.
    by_expected: HashMap<Option<ObjectId>, Vec<(&'a Attempt, &'a Update)>>,
    /// Committed update by the value it set.
    by_new: HashMap<ObjectId, &'a Attempt>,
}

/// Checks `attempts` against the `final_refs` read from the server after
/// the run, using `graph` for ancestry.
pub fn check<G: SnapGraph>(
    attempts: &[Attempt],
    final_refs: &HashMap<RefName, ObjectId>,
    graph: &G,
) -> Verdict
where
    G::Error: fmt::Display,
{
    let mut verdict = Verdict {
        attempts: attempts.len(),
        ..Verdict::default()
    };
    count_outcomes(attempts, &mut verdict);
    let histories = index_commits(attempts);
    check_reachable(attempts, final_refs, graph, &mut verdict);
    check_forward(attempts, graph, &mut verdict);
    for (name, history) in &histories {
        check_chain(name, history, final_refs.get(name).copied(), &mut verdict);
    }
    check_rejections(attempts, &histories, &mut verdict);
    verdict
}

fn count_outcomes(attempts: &[Attempt], verdict: &mut Verdict) {
    for attempt in attempts {
        match &attempt.outcome {
            Outcome::Committed => verdict.committed += 1,
            Outcome::Rejected { .. } => verdict.rejected += 1,
            Outcome::Unknown { resolved, .. } => {
                verdict.unknown += 1;
                match resolved {
                    Some(true) => verdict.committed += 1,
                    Some(false) => {}
                    None => verdict.violations.push(format!(
                        "client {} attempt {}: outcome unresolved",
                        attempt.client, attempt.seq
                    )),
                }
            }
        }
    }
}

fn index_commits(attempts: &[Attempt]) -> HashMap<RefName, RefHistory<'_>> {
    let mut histories: HashMap<RefName, RefHistory<'_>> = HashMap::new();
    for attempt in attempts.iter().filter(|a| a.committed()) {
        for update in &attempt.updates {
            let history = histories
                .entry(update.name.clone())
                .or_insert_with(|| RefHistory {
                    by_expected: HashMap::new(),
                    by_new: HashMap::new(),
                });
            history
                .by_expected
                .entry(update.expected)
                .or_default()
                .push((attempt, update));
            history.by_new.insert(update.new, attempt);
        }
    }
    histories
}

fn check_reachable<G: SnapGraph>(
    attempts: &[Attempt],
    final_refs: &HashMap<RefName, ObjectId>,
    graph: &G,
    verdict: &mut Verdict,
) where
    G::Error: fmt::Display,
{
    for attempt in attempts.iter().filter(|a| a.committed()) {
        for update in &attempt.updates {
            verdict.reachable_checked += 1;
            let Some(&head) = final_refs.get(&update.name) else {
                verdict.lost += 1;
                verdict.violations.push(format!(
                    "{}: committed by client {} attempt {}, but the ref is gone",
                    update.name, attempt.client, attempt.seq
                ));
                continue;
            };
            let reachable = if update.name.is_head() {
                is_ancestor(graph, update.new, head)
            } else {
                Ok(head == update.new)
            };
            match reachable {
                Ok(true) => {}
                Ok(false) => {
                    verdict.lost += 1;
                    verdict.violations.push(format!(
                        "{}: snap {} committed by client {} attempt {} is not reachable from {}",
                        update.name,
                        update.new.short(),
                        attempt.client,
                        attempt.seq,
                        head.short()
                    ));
                }
                Err(error) => verdict
                    .violations
                    .push(format!("{}: ancestry lookup failed: {error}", update.name)),
            }
        }
    }
}

fn check_forward<G: SnapGraph>(attempts: &[Attempt], graph: &G, verdict: &mut Verdict)
where
    G::Error: fmt::Display,
{
    for attempt in attempts.iter().filter(|a| a.committed()) {
        for update in attempt.updates.iter().filter(|u| u.name.is_head()) {
            let Some(old) = update.expected else { continue };
            verdict.forward_checked += 1;
            match is_ancestor(graph, old, update.new) {
                Ok(true) => {}
                Ok(false) => verdict.violations.push(format!(
                    "{}: moved from {} to {}, which does not descend from it",
                    update.name,
                    old.short(),
                    update.new.short()
                )),
                Err(error) => verdict
                    .violations
                    .push(format!("{}: ancestry lookup failed: {error}", update.name)),
            }
        }
    }
}

/// Follows a ref's committed updates from "no ref" and checks that they
/// form one chain that covers every committed update and ends at the final
/// value.
fn check_chain(
    name: &RefName,
    history: &RefHistory<'_>,
    final_value: Option<ObjectId>,
    verdict: &mut Verdict,
) {
    verdict.chains_checked += 1;
    for (expected, updates) in &history.by_expected {
        if updates.len() > 1 {
            verdict.violations.push(format!(
                "{name}: {} committed updates all replaced {}",
                updates.len(),
                show(*expected)
            ));
        }
    }
    let total: usize = history.by_expected.values().map(Vec::len).sum();
    let mut cursor = None;
    let mut steps = 0;
    let mut visited = HashSet::new();
    while let Some(updates) = history.by_expected.get(&cursor) {
        let next = Some(updates[0].1.new);
        if !visited.insert(next) {
            break;
        }
        cursor = next;
        steps += 1;
    }
    if steps != total {
        verdict.violations.push(format!(
            "{name}: only {steps} of {total} committed updates are on the chain from no ref"
        ));
    }
    if cursor != final_value {
        verdict.violations.push(format!(
            "{name}: chain of commits ends at {}, but the final value is {}",
            show(cursor),
            show(final_value)
        ));
    }
}

/// Checks that each ref a rejection named held the reported value at some
/// moment while the rejected attempt was running.
fn check_rejections(
    attempts: &[Attempt],
    histories: &HashMap<RefName, RefHistory<'_>>,
    verdict: &mut Verdict,
) {
    for attempt in attempts {
        let Outcome::Rejected { refs, .. } = &attempt.outcome else {
            continue;
        };
        for named in refs {
            verdict.rejections_checked += 1;
            if let Err(reason) = was_current(histories.get(&named.name), named.actual, attempt) {
                verdict.violations.push(format!(
                    "client {} attempt {}: rejection named {} = {}, but {reason}",
                    attempt.client,
                    attempt.seq,
                    named.name,
                    show(named.actual)
                ));
            }
        }
    }
}

fn was_current(
    history: Option<&RefHistory<'_>>,
    value: Option<ObjectId>,
    rejected: &Attempt,
) -> Result<(), String> {
    let setter = match (value, history) {
        (None, _) => None,
        (Some(id), Some(history)) => match history.by_new.get(&id) {
            Some(attempt) => Some(*attempt),
            None => return Err("no committed export set that value".into()),
        },
        (Some(_), None) => return Err("no export of that ref committed".into()),
    };
    if let Some(setter) = setter {
        if setter.started_ms > rejected.finished_ms {
            return Err("the export that set it started after the rejection".into());
        }
    }
    let replacer = history
        .and_then(|h| h.by_expected.get(&value))
        .and_then(|updates| updates.first());
    if let Some((replacer, _)) = replacer {
        if replacer.applied_by() < rejected.started_ms {
            return Err("it had been replaced before the rejected export started".into());
        }
    }
    Ok(())
}

/// Rejection codes that a correct server can send, under concurrency and
/// crashes, to a client that builds on the values it read. Another export
/// moved the head or created the tag first, the export outlived its lease
/// while the server was down, or garbage collection was removing an object
/// the export relied on.
pub const EXPECTED_CODES: [&str; 4] = [
    "diverged",
    "tag_exists",
    "export_expired",
    "object_collected",
];

/// Checks that every rejection in `attempts` carries one of `expected`
/// codes, and that a ref rejection named each ref with a value other than
/// the one the attempt expected, since a ref that still contains the
/// expected value gives no reason to reject.
pub fn check_codes(attempts: &[Attempt], expected: &[&str], verdict: &mut Verdict) {
    for attempt in attempts {
        let Outcome::Rejected { code, refs } = &attempt.outcome else {
            continue;
        };
        verdict.codes_checked += 1;
        let label = format!("client {} attempt {}", attempt.client, attempt.seq);
        if !expected.contains(&code.as_str()) {
            verdict
                .violations
                .push(format!("{label}: rejected with unexpected code {code}"));
            continue;
        }
        let names_refs = code == "diverged" || code == "tag_exists";
        if names_refs && refs.is_empty() {
            verdict
                .violations
                .push(format!("{label}: rejected as {code} without naming a ref"));
        }
        for named in refs {
            let update = attempt.updates.iter().find(|u| u.name == named.name);
            match update {
                Some(update) if update.expected == named.actual => {
                    verdict.violations.push(format!(
                        "{label}: rejected as {code}, but {} held the expected {}",
                        named.name,
                        show(named.actual)
                    ));
                }
                Some(_) => {}
                None => verdict.violations.push(format!(
                    "{label}: the rejection named {}, which the attempt did not update",
                    named.name
                )),
            }
        }
    }
}

fn show(value: Option<ObjectId>) -> String {
    value.map_or_else(|| "no ref".to_owned(), |id| id.short())
}

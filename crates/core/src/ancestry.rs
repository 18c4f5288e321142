//! Ancestry between snaps: is-ancestor, merge base, ahead and behind.
//!
//! Every snap carries a generation number, one more than its largest
//! parent's. The walks below visit snaps in decreasing generation, which
//! gives two properties the code relies on:
//!
//! - when a snap is taken from the queue, every snap that can reach it from
//!   the starting points has already been visited, so the flags painted on
//!   it are final;
//! - a snap whose generation is not above the target's cannot have the
//!   target as a strict ancestor, so walks stop there.
//!
//! Queries therefore cost the number of snaps between the two points, not
//! the length of the whole history.

use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap};

use crate::id::ObjectId;

/// What a graph lookup returns for one snap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapNode {
    /// The snap's generation.
    pub generation: u64,
    /// The snap's parents.
    pub parents: Vec<ObjectId>,
}

/// Read access to the parent links of snaps.
pub trait SnapGraph {
    /// The lookup error, typically a missing or unreadable object.
    type Error;

    /// Returns the generation and parents of `id`.
    fn node(&self, id: &ObjectId) -> Result<SnapNode, Self::Error>;
}

impl<G: SnapGraph + ?Sized> SnapGraph for &G {
    type Error = G::Error;

    fn node(&self, id: &ObjectId) -> Result<SnapNode, Self::Error> {
        (**self).node(id)
    }
}

/// A snap graph held in memory, for tests and benchmarks.
#[derive(Default, Debug, Clone)]
pub struct MemoryGraph {
    nodes: HashMap<ObjectId, SnapNode>,
}

/// The id that a [`MemoryGraph`] lookup did not find.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("snap {0} is not in the graph")]
pub struct MissingSnap(pub ObjectId);

impl MemoryGraph {
    /// Adds a snap; its parents should already be present.
    pub fn insert(&mut self, id: ObjectId, parents: Vec<ObjectId>) {
        let generation = parents
            .iter()
            .filter_map(|p| self.nodes.get(p).map(|n| n.generation))
            .max()
            .unwrap_or(0)
            + 1;
        self.nodes.insert(
            id,
            SnapNode {
                generation,
                parents,
            },
        );
    }
}

impl SnapGraph for MemoryGraph {
    type Error = MissingSnap;

    fn node(&self, id: &ObjectId) -> Result<SnapNode, MissingSnap> {
        self.nodes.get(id).cloned().ok_or(MissingSnap(*id))
    }
}

/// Reports whether `ancestor` is `descendant` or one of its ancestors.
pub fn is_ancestor<G: SnapGraph>(
    graph: &G,
    ancestor: ObjectId,
    descendant: ObjectId,
) -> Result<bool, G::Error> {
    if ancestor == descendant {
        return Ok(true);
    }
    let floor = graph.node(&ancestor)?.generation;
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![descendant];
    while let Some(id) = stack.pop() {
        let node = graph.node(&id)?;
        for parent in node.parents {
            if parent == ancestor {
                return Ok(true);
            }
            if seen.insert(parent) && graph.node(&parent)?.generation > floor {
                stack.push(parent);
            }
        }
    }
    Ok(false)
}

/// Returns a best common ancestor of `a` and `b`: one with the highest
/// generation, which no other common ancestor descends from. Returns `None`
/// when the two share no history.
pub fn merge_base<G: SnapGraph>(
    graph: &G,
    a: ObjectId,
    b: ObjectId,
) -> Result<Option<ObjectId>, G::Error> {
    let mut found = None;
    paint(graph, a, b, Until::FirstCommon, |id, flags| {
        if flags == BOTH {
            found = Some(id);
            return Walk::Stop;
        }
        Walk::Continue
    })?;
    Ok(found)
}

/// Snaps reachable from one side only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Divergence {
    /// Snaps reachable from the first head and not from the second.
    pub ahead: u64,
    /// Snaps reachable from the second head and not from the first.
    pub behind: u64,
}

/// Counts the snaps that `local` has and `remote` lacks, and the reverse.
pub fn divergence<G: SnapGraph>(
    graph: &G,
    local: ObjectId,
    remote: ObjectId,
) -> Result<Divergence, G::Error> {
    let mut counts = Divergence::default();
    paint(graph, local, remote, Until::OneSidedDone, |_, flags| {
        match flags {
            SIDE_A => counts.ahead += 1,
            SIDE_B => counts.behind += 1,
            _ => {}
        }
        Walk::Continue
    })?;
    Ok(counts)
}

/// Returns the snaps reachable from `include` and not from `exclude`,
/// parents before children (increasing generation). These are the snaps
/// a rebase of `include` onto `exclude` replays.
pub fn only_in<G: SnapGraph>(
    graph: &G,
    include: ObjectId,
    exclude: ObjectId,
) -> Result<Vec<ObjectId>, G::Error> {
    let mut found = Vec::new();
    paint(graph, include, exclude, Until::OneSidedDone, |id, flags| {
        if flags == SIDE_A {
            found.push(id);
        }
        Walk::Continue
    })?;
    // The walk visits snaps in decreasing generation.
    found.reverse();
    Ok(found)
}

const SIDE_A: u8 = 1;
const SIDE_B: u8 = 2;
const BOTH: u8 = SIDE_A | SIDE_B;

enum Walk {
    Continue,
    Stop,
}

/// When [`paint`] may end on its own.
#[derive(PartialEq, Eq)]
enum Until {
    /// Once no queued snap is one-sided: enough for counting.
    OneSidedDone,
    /// Only when the queue runs dry, so the first common snap is visited.
    FirstCommon,
}

/// Walks the ancestors of `a` and `b` in decreasing generation, painting
/// each with the sides it is reachable from, and calls `visit` with the
/// final flags of each snap. With [`Until::OneSidedDone`] the walk ends once
/// every queued snap is reachable from both sides, because everything below
/// such snaps is too.
fn paint<G: SnapGraph>(
    graph: &G,
    a: ObjectId,
    b: ObjectId,
    until: Until,
    mut visit: impl FnMut(ObjectId, u8) -> Walk,
) -> Result<(), G::Error> {
    let mut flags: HashMap<ObjectId, u8> = HashMap::new();
    let mut queue = BinaryHeap::new();
    // Number of queued snaps not yet painted from both sides.
    let mut one_sided = 0usize;

    for (id, side) in [(a, SIDE_A), (b, SIDE_B)] {
        match flags.entry(id) {
            Entry::Occupied(mut entry) => {
                *entry.get_mut() |= side;
                one_sided -= 1;
            }
            Entry::Vacant(entry) => {
                entry.insert(side);
                queue.push((graph.node(&id)?.generation, id));
                one_sided += 1;
            }
        }
    }

    while one_sided > 0 || until == Until::FirstCommon {
        let Some((_, id)) = queue.pop() else { break };
        let current = flags[&id];
        if current != BOTH {
            one_sided -= 1;
        }
        if let Walk::Stop = visit(id, current) {
            return Ok(());
        }
        for parent in graph.node(&id)?.parents {
            match flags.entry(parent) {
                Entry::Occupied(mut entry) => {
                    let before = *entry.get();
                    let after = before | current;
                    // Parents are always queued when first painted and have a
                    // lower generation than `id`, so they are still queued.
                    if before != BOTH && after == BOTH {
                        one_sided -= 1;
                    }
                    *entry.get_mut() = after;
                }
                Entry::Vacant(entry) => {
                    entry.insert(current);
                    queue.push((graph.node(&parent)?.generation, parent));
                    if current != BOTH {
                        one_sided += 1;
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> ObjectId {
        ObjectId::digest(&n.to_le_bytes())
    }

    /// Builds:
    ///
    /// ```text
    /// 1 - 2 - 3 - 4 - 5        (main line)
    ///          \       \
    ///           6 - 7 - 8      (8 merges 5 and 7)
    /// 9                        (unrelated root)
    /// ```
    fn sample() -> MemoryGraph {
        let mut graph = MemoryGraph::default();
        graph.insert(id(1), vec![]);
        graph.insert(id(2), vec![id(1)]);
        graph.insert(id(3), vec![id(2)]);
        graph.insert(id(4), vec![id(3)]);
        graph.insert(id(5), vec![id(4)]);
        graph.insert(id(6), vec![id(3)]);
        graph.insert(id(7), vec![id(6)]);
        graph.insert(id(8), vec![id(7), id(5)]);
        graph.insert(id(9), vec![]);
        graph
    }

    #[test]
    fn ancestor_checks() {
        let graph = sample();
        assert_eq!(is_ancestor(&graph, id(1), id(8)), Ok(true));
        assert_eq!(is_ancestor(&graph, id(5), id(8)), Ok(true));
        assert_eq!(is_ancestor(&graph, id(6), id(5)), Ok(false));
        assert_eq!(is_ancestor(&graph, id(8), id(1)), Ok(false));
        assert_eq!(is_ancestor(&graph, id(9), id(8)), Ok(false));
        assert_eq!(is_ancestor(&graph, id(4), id(4)), Ok(true));
    }

    #[test]
    fn merge_base_of_branches() {
        let graph = sample();
        assert_eq!(merge_base(&graph, id(5), id(7)), Ok(Some(id(3))));
        assert_eq!(merge_base(&graph, id(8), id(5)), Ok(Some(id(5))));
        assert_eq!(merge_base(&graph, id(4), id(4)), Ok(Some(id(4))));
        assert_eq!(merge_base(&graph, id(9), id(5)), Ok(None));
    }

    #[test]
    fn divergence_counts() {
        let graph = sample();
        let counts = divergence(&graph, id(5), id(7)).expect("present");
        assert_eq!(
            counts,
            Divergence {
                ahead: 2,
                behind: 2
            }
        );
        let counts = divergence(&graph, id(8), id(5)).expect("present");
        assert_eq!(
            counts,
            Divergence {
                ahead: 3,
                behind: 0
            }
        );
        let counts = divergence(&graph, id(5), id(5)).expect("present");
        assert_eq!(counts, Divergence::default());
    }

    #[test]
    fn only_in_lists_one_side_oldest_first() {
        let graph = sample();
        assert_eq!(only_in(&graph, id(8), id(5)), Ok(vec![id(6), id(7), id(8)]));
        assert_eq!(only_in(&graph, id(5), id(7)), Ok(vec![id(4), id(5)]));
        assert_eq!(only_in(&graph, id(5), id(8)), Ok(vec![]));
        assert_eq!(only_in(&graph, id(2), id(9)), Ok(vec![id(1), id(2)]));
    }

    #[test]
    fn missing_snap_is_an_error() {
        let graph = sample();
        assert_eq!(
            is_ancestor(&graph, id(100), id(8)),
            Err(MissingSnap(id(100)))
        );
    }

    #[test]
    fn criss_cross_picks_highest_generation_base() {
        // 1 - 2 - 4
        //  \   X
        //   3 - 5
        let mut graph = MemoryGraph::default();
        graph.insert(id(1), vec![]);
        graph.insert(id(2), vec![id(1)]);
        graph.insert(id(3), vec![id(1)]);
        graph.insert(id(4), vec![id(2), id(3)]);
        graph.insert(id(5), vec![id(3), id(2)]);
        let base = merge_base(&graph, id(4), id(5)).expect("present");
        assert!(base == Some(id(2)) || base == Some(id(3)), "{base:?}");
    }
}

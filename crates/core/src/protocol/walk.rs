//! The objects one side must send so the other has the closure of some
//! heads.
//!
//! The walk visits snaps in decreasing generation, painting each as wanted
//! (reachable from a head to send) or had (reachable from a snap the
//! receiver has with its whole closure). Parents have a lower generation
//! than their children, so a snap leaves the queue only after every snap
//! that can reach it, and its paint is final by then. A had snap is never
//! sent, and the walk ends once only had snaps are queued. Blobs of the had
//! snaps that border the sent ones are skipped too, so an unchanged file is
//! not sent again. The result may contain objects the receiver has, but
//! never lacks one it needs, provided each had snap's closure is complete.

use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap, HashSet};

use crate::id::ObjectId;
use crate::object::Snap;

const WANTED: u8 = 1;
const HAD: u8 = 2;

/// Returns the snaps reachable from `wants` and not from `haves`, newest
/// first, followed by the blobs they name that the bordering had snaps do
/// not. `read` returns a snap by id.
pub fn objects_to_send<E>(
    mut read: impl FnMut(&ObjectId) -> Result<Snap, E>,
    wants: &[ObjectId],
    haves: &[ObjectId],
) -> Result<Vec<ObjectId>, E> {
    let mut snaps_read: HashMap<ObjectId, Snap> = HashMap::new();
    let mut fetch = |id: &ObjectId| -> Result<Snap, E> {
        if let Some(snap) = snaps_read.get(id) {
            return Ok(snap.clone());
        }
        let snap = read(id)?;
        snaps_read.insert(*id, snap.clone());
        Ok(snap)
    };

    let mut paint: HashMap<ObjectId, u8> = HashMap::new();
    let mut queue = BinaryHeap::new();
    // Number of queued snaps painted wanted and not had.
    let mut pending = 0usize;
    for (ids, colour) in [(haves, HAD), (wants, WANTED)] {
        for id in ids {
            if let Entry::Vacant(entry) = paint.entry(*id) {
                entry.insert(colour);
                queue.push((fetch(id)?.generation, *id));
                pending += usize::from(colour == WANTED);
            }
        }
    }

    let mut sent = Vec::new();
    let mut blobs = Vec::new();
    while pending > 0 {
        let Some((_, id)) = queue.pop() else { break };
        let colour = paint[&id];
        let snap = fetch(&id)?;
        if colour == WANTED {
            pending -= 1;
            sent.push(id);
            blobs.extend(snap.files.iter().map(|file| file.blob));
        }
        for parent in &snap.parents {
            match paint.entry(*parent) {
                // A painted parent is still queued, since parents have a
                // lower generation than the snap being visited.
                Entry::Occupied(mut entry) => {
                    let before = *entry.get();
                    *entry.get_mut() |= colour;
                    if before == WANTED && colour & HAD != 0 {
                        pending -= 1;
                    }
                }
                Entry::Vacant(entry) => {
                    entry.insert(colour);
                    queue.push((fetch(parent)?.generation, *parent));
                    pending += usize::from(colour == WANTED);
                }
            }
        }
    }

    let mut border: HashSet<ObjectId> = haves.iter().copied().collect();
    for id in &sent {
        let parents = fetch(id)?.parents;
        border.extend(parents.into_iter().filter(|p| paint[p] & HAD != 0));
    }
    let mut had_blobs = HashSet::new();
    for id in &border {
        had_blobs.extend(fetch(id)?.files.iter().map(|file| file.blob));
    }

    let mut seen = HashSet::new();
    let blobs = blobs
        .into_iter()
        .filter(|blob| !had_blobs.contains(blob) && seen.insert(*blob));
    sent.extend(blobs);
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Blob, FileEntry, FileMode};

    fn snap(parents: &[(ObjectId, u64)], blobs: &[&[u8]]) -> Snap {
        Snap {
            component: "acme/x".parse().expect("valid"),
            generation: Snap::generation_after(parents.iter().map(|(_, g)| *g)),
            parents: parents.iter().map(|(id, _)| *id).collect(),
            files: blobs
                .iter()
                .enumerate()
                .map(|(n, data)| FileEntry {
                    path: format!("f{n}").parse().expect("valid"),
                    mode: FileMode::Regular,
                    blob: Blob::id_of(data),
                    size: data.len() as u64,
                })
                .collect(),
            author: "a".into(),
            timestamp: 0,
            message: String::new(),
            dependencies: vec![],
        }
    }

    #[test]
    fn sends_only_new_snaps_and_changed_blobs() {
        let first = snap(&[], &[b"same", b"old"]);
        let second = snap(&[(first.id(), 1)], &[b"same", b"new"]);
        let third = snap(&[(second.id(), 2)], &[b"same", b"newer"]);
        let all: HashMap<_, _> = [&first, &second, &third]
            .into_iter()
            .map(|s| (s.id(), s.clone()))
            .collect();
        let read = |id: &ObjectId| all.get(id).cloned().ok_or(*id);

        let sent = objects_to_send(read, &[third.id()], &[first.id()]).expect("complete");
        let expected = vec![
            third.id(),
            second.id(),
            Blob::id_of(b"newer"),
            Blob::id_of(b"new"),
        ];
        assert_eq!(sent, expected);

        let everything = objects_to_send(read, &[third.id()], &[]).expect("complete");
        assert_eq!(everything.len(), 3 + 4);
        let nothing = objects_to_send(read, &[first.id()], &[third.id()]).expect("complete");
        assert!(nothing.is_empty());
    }
}

//! Differences between two file lists.

use std::cmp::Ordering;

use ferry_core::{FileEntry, FilePath};
use serde::Serialize;

/// The paths that differ between a base file list and the current one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// Paths only in the current list.
    pub added: Vec<FilePath>,
    /// Paths in both lists whose blob or mode differs.
    pub modified: Vec<FilePath>,
    /// Paths only in the base list.
    pub deleted: Vec<FilePath>,
}

impl Changes {
    /// Reports whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.deleted.is_empty()
    }

    /// Returns the number of changed paths.
    pub fn len(&self) -> usize {
        self.added.len() + self.modified.len() + self.deleted.len()
    }

    /// Returns one changed path, preferring modified, then added, then
    /// deleted ones, for use as an example in messages.
    pub fn first(&self) -> Option<&FilePath> {
        self.modified
            .first()
            .or_else(|| self.added.first())
            .or_else(|| self.deleted.first())
    }
}

/// Compares `base` with `current`; both must be sorted by path, as snap
/// file lists and scans are.
pub fn diff(base: &[FileEntry], current: &[FileEntry]) -> Changes {
    let mut changes = Changes::default();
    let (mut b, mut c) = (0, 0);
    while b < base.len() || c < current.len() {
        let order = match (base.get(b), current.get(c)) {
            (Some(old), Some(new)) => old.path.cmp(&new.path),
            (Some(_), None) => Ordering::Less,
            (None, _) => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                changes.deleted.push(base[b].path.clone());
                b += 1;
            }
            Ordering::Greater => {
                changes.added.push(current[c].path.clone());
                c += 1;
            }
            Ordering::Equal => {
                let (old, new) = (&base[b], &current[c]);
                if old.blob != new.blob || old.mode != new.mode {
                    changes.modified.push(new.path.clone());
                }
                b += 1;
                c += 1;
            }
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::{Blob, FileMode};

    fn entry(path: &str, content: &str, mode: FileMode) -> FileEntry {
        FileEntry {
            path: path.parse().expect("valid path"),
            mode,
            blob: Blob::id_of(content.as_bytes()),
            size: content.len() as u64,
        }
    }

    fn paths(list: &[FilePath]) -> Vec<&str> {
        list.iter().map(FilePath::as_str).collect()
    }

    #[test]
    fn diff_finds_each_kind() {
        let regular = FileMode::Regular;
        let base = [
            entry("a", "1", regular),
            entry("b", "2", regular),
            entry("c", "3", regular),
            entry("d", "4", regular),
        ];
        let current = [
            entry("a", "1", regular),
            entry("b", "changed", regular),
            entry("c", "3", FileMode::Executable),
            entry("e", "5", regular),
        ];
        let changes = diff(&base, &current);
        assert_eq!(paths(&changes.modified), ["b", "c"]);
        assert_eq!(paths(&changes.deleted), ["d"]);
        assert_eq!(paths(&changes.added), ["e"]);
        assert_eq!(changes.len(), 4);
        assert_eq!(changes.first().map(FilePath::as_str), Some("b"));
    }

    #[test]
    fn diff_of_equal_lists_is_empty() {
        let list = [entry("x/y", "1", FileMode::Regular)];
        assert!(diff(&list, &list).is_empty());
        assert!(diff(&[], &[]).is_empty());
    }

    #[test]
    fn diff_against_nothing_adds_everything() {
        let list = [
            entry("a", "1", FileMode::Regular),
            entry("b", "2", FileMode::Regular),
        ];
        let changes = diff(&[], &list);
        assert_eq!(paths(&changes.added), ["a", "b"]);
        let changes = diff(&list, &[]);
        assert_eq!(paths(&changes.deleted), ["a", "b"]);
    }
}

//! `ferry add`: tracking directories as components.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use ferry_core::{ComponentId, FilePath, ScopeName};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::meta::{self, TrackedComponent};
use crate::scan::FERRY_DIR;
use crate::workspace::Workspace;

/// A component that `add` started tracking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AddedComponent {
    /// The new component.
    pub id: ComponentId,
    /// Its directory relative to the workspace root.
    pub dir: FilePath,
}

impl Workspace {
    /// Tracks each of `dirs` as a component of `scope` (else the default
    /// scope). The component name is `name` or the directory's last segment.
    /// Either every directory is added or, on any error, none is.
    pub fn add(
        &self,
        dirs: &[PathBuf],
        name: Option<&str>,
        scope: Option<&ScopeName>,
    ) -> Result<Vec<AddedComponent>> {
        if name.is_some() && dirs.len() > 1 {
            return Err(Error::NameWithSeveralDirs { count: dirs.len() });
        }
        let scope = match scope {
            Some(scope) => scope.clone(),
            None => self.default_scope()?.ok_or(Error::NoScope)?,
        };
        let mut added = Vec::with_capacity(dirs.len());
        for dir in dirs {
            let relative = self.component_dir(dir)?;
            let local = name.unwrap_or_else(|| last_segment(&relative));
            let id = ComponentId::new(&scope, local)?;
            added.push(AddedComponent { id, dir: relative });
        }
        self.track(&added)?;
        Ok(added)
    }

    /// Tracks each directory of `components` as its component, in one
    /// transaction: either all are tracked or, on any error, none is.
    pub(crate) fn track_dirs(
        &self,
        components: &[(ComponentId, PathBuf)],
    ) -> Result<Vec<AddedComponent>> {
        let mut added = Vec::with_capacity(components.len());
        for (id, dir) in components {
            added.push(AddedComponent {
                id: id.clone(),
                dir: self.component_dir(dir)?,
            });
        }
        self.track(&added)?;
        Ok(added)
    }

    /// Inserts the tracking rows of `added` after checking each against
    /// the components tracked already and those before it.
    fn track(&self, added: &[AddedComponent]) -> Result<()> {
        self.write(|tx| {
            let mut tracked = TrackedIndex::default();
            for row in meta::list_components(tx)? {
                tracked.insert(row.id, row.dir);
            }
            for component in added {
                tracked.check_conflicts(component)?;
                let row = TrackedComponent {
                    id: component.id.clone(),
                    dir: component.dir.clone(),
                    base: None,
                };
                meta::insert_component(tx, &row)?;
                tracked.insert(row.id, row.dir);
            }
            Ok(())
        })
    }

    /// Returns `dir` relative to the root, checking that it is a directory
    /// strictly below the root and outside `.ferry`.
    fn component_dir(&self, dir: &Path) -> Result<FilePath> {
        let not_component = || Error::NotAComponentDirectory {
            path: dir.to_path_buf(),
            root: self.root().to_path_buf(),
        };
        let absolute = std::fs::canonicalize(dir).map_err(|_| not_component())?;
        if !absolute.is_dir() {
            return Err(not_component());
        }
        let relative = absolute
            .strip_prefix(self.root())
            .map_err(|_| not_component())?;
        if relative.as_os_str().is_empty() {
            return Err(not_component());
        }
        let relative = FilePath::from_native(relative)?;
        if relative.as_str().split('/').next() == Some(FERRY_DIR) {
            return Err(not_component());
        }
        Ok(relative)
    }
}

fn last_segment(dir: &FilePath) -> &str {
    dir.as_str().rsplit('/').next().unwrap_or(dir.as_str())
}

/// Tracked components by id and by directory, so that a new component is
/// checked against thousands of others without comparing it with each.
#[derive(Default)]
struct TrackedIndex {
    dirs_by_id: HashMap<ComponentId, FilePath>,
    ids_by_dir: BTreeMap<String, ComponentId>,
}

impl TrackedIndex {
    fn insert(&mut self, id: ComponentId, dir: FilePath) {
        self.ids_by_dir.insert(dir.as_str().to_owned(), id.clone());
        self.dirs_by_id.insert(id, dir);
    }

    /// Rejects a component whose id is taken or whose directory is inside,
    /// equal to, or a parent of another component's directory.
    fn check_conflicts(&self, new: &AddedComponent) -> Result<()> {
        if let Some(dir) = self.dirs_by_id.get(&new.id) {
            return Err(Error::ComponentExists {
                id: new.id.clone(),
                dir: dir.to_string(),
            });
        }
        if let Some((other_dir, other)) = self.overlapping(new.dir.as_str()) {
            return Err(Error::DirectoryOverlap {
                dir: new.dir.to_string(),
                other: other.clone(),
                other_dir: other_dir.to_owned(),
            });
        }
        Ok(())
    }

    /// Returns a tracked directory that equals `dir`, contains it, or lies
    /// inside it, with its component.
    fn overlapping(&self, dir: &str) -> Option<(&str, &ComponentId)> {
        let ancestors = dir
            .match_indices('/')
            .map(|(end, _)| &dir[..end])
            .chain([dir]);
        for ancestor in ancestors {
            if let Some((found, id)) = self.ids_by_dir.get_key_value(ancestor) {
                return Some((found, id));
            }
        }
        let inside = format!("{dir}/");
        self.ids_by_dir
            .range(inside.clone()..)
            .next()
            .filter(|(found, _)| found.starts_with(&inside))
            .map(|(found, id)| (found.as_str(), id))
    }
}

/// Reports whether one of two relative directories contains the other.
pub fn dirs_overlap(a: &str, b: &str) -> bool {
    let inside = |inner: &str, outer: &str| {
        inner == outer
            || inner
                .strip_prefix(outer)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    inside(a, b) || inside(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_respects_segment_boundaries() {
        assert!(dirs_overlap("a/b", "a/b"));
        assert!(dirs_overlap("a", "a/b"));
        assert!(dirs_overlap("a/b/c", "a/b"));
        assert!(!dirs_overlap("a/b", "a/bc"));
        assert!(!dirs_overlap("ab", "a"));
    }

    #[test]
    fn index_agrees_with_pairwise_overlap() {
        let tracked = ["a/b", "a/bc", "lib/x/y", "z"];
        let mut index = TrackedIndex::default();
        for (n, dir) in tracked.iter().enumerate() {
            let id: ComponentId = format!("s/c{n}").parse().expect("id");
            index.insert(id, dir.parse().expect("path"));
        }
        for new in [
            "a", "a/b", "a/b/c", "a/bb", "ab", "lib", "lib/x", "lib/xy", "z/q", "y",
        ] {
            let expected = tracked.iter().any(|dir| dirs_overlap(dir, new));
            assert_eq!(index.overlapping(new).is_some(), expected, "{new}");
        }
    }

    #[test]
    fn index_rejects_taken_id() {
        let mut index = TrackedIndex::default();
        let id: ComponentId = "s/button".parse().expect("id");
        index.insert(id.clone(), "ui/button".parse().expect("path"));
        let new = AddedComponent {
            id,
            dir: "other".parse().expect("path"),
        };
        let error = index.check_conflicts(&new).expect_err("id is taken");
        assert!(matches!(error, Error::ComponentExists { .. }), "{error:?}");
    }
}

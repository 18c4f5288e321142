//! `ferry add`: tracking directories as components.

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
        self.write(|tx| {
            let mut tracked = meta::list_components(tx)?;
            for component in &added {
                check_conflicts(&tracked, component)?;
                let row = TrackedComponent {
                    id: component.id.clone(),
                    dir: component.dir.clone(),
                    base: None,
                };
                meta::insert_component(tx, &row)?;
                tracked.push(row);
            }
            Ok(())
        })?;
        Ok(added)
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

/// Rejects a component whose id is taken or whose directory is inside,
/// equal to, or a parent of another component's directory.
fn check_conflicts(tracked: &[TrackedComponent], new: &AddedComponent) -> Result<()> {
    for other in tracked {
        if other.id == new.id {
            return Err(Error::ComponentExists {
                id: other.id.clone(),
                dir: other.dir.to_string(),
            });
        }
        if dirs_overlap(other.dir.as_str(), new.dir.as_str()) {
            return Err(Error::DirectoryOverlap {
                dir: new.dir.to_string(),
                other: other.id.clone(),
                other_dir: other.dir.to_string(),
            });
        }
    }
    Ok(())
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
}

//! `ferry tag`: semver labels on snaps, created once and never moved.
//!
//! A tag is created with a compare-and-swap that expects no ref, so of two
//! processes tagging the same version only one succeeds, and an existing
//! tag is never overwritten.

use ferry_core::{ComponentId, ObjectId, RefName};
use ferry_store::{RefEdit, RefStore, RefUpdateError};
use semver::Version;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::version::{next_version, VersionRequest};
use crate::workspace::{Workspace, LOCAL_NAMESPACE};

/// A tag that was created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TagReport {
    /// The component.
    pub component: ComponentId,
    /// The new tag.
    pub version: Version,
    /// The snap it points at.
    pub snap: ObjectId,
}

impl Workspace {
    /// Tags the head of `component` on the current lane (else main) with
    /// the requested version.
    pub fn tag(&self, component: &str, request: VersionRequest) -> Result<TagReport> {
        let component = self.resolve_component(component)?;
        let lane = self.current_lane()?;
        let head = self.head(&component, lane.as_ref())?;
        let Some(snap) = head.parent else {
            return Err(Error::NoSnaps {
                component,
                place: lane.map_or_else(|| "main".to_owned(), |lane| lane.to_string()),
            });
        };
        let version = match request {
            VersionRequest::Exact(version) => version,
            VersionRequest::Bump(bump) => {
                let existing = self.tags(&component)?;
                next_version(existing.iter().map(|(version, _)| version), bump)
            }
        };
        let edit = RefEdit {
            name: RefName::Tag(component.clone(), version.clone()),
            expected: None,
            new: Some(snap),
        };
        match self.ref_store().update_refs(LOCAL_NAMESPACE, &[edit]) {
            Ok(()) => Ok(TagReport {
                component,
                version,
                snap,
            }),
            Err(RefUpdateError::Mismatch(mismatch)) => match mismatch.actual {
                Some(target) => Err(Error::TagExists {
                    component,
                    version,
                    target,
                }),
                None => Err(Error::RefMoved {
                    name: mismatch.name,
                }),
            },
            Err(other) => Err(other.into()),
        }
    }

    /// Returns every tag of `component` with its snap, sorted by version.
    pub fn tags(&self, component: &ComponentId) -> Result<Vec<(Version, ObjectId)>> {
        let prefix = format!("tag:{component}:");
        let refs = self.ref_store().list_refs(LOCAL_NAMESPACE, &prefix)?;
        let mut tags: Vec<(Version, ObjectId)> = refs
            .into_iter()
            .filter_map(|(name, id)| match name {
                RefName::Tag(_, version) => Some((version, id)),
                _ => None,
            })
            .collect();
        tags.sort();
        Ok(tags)
    }

    /// Resolves typed text to a tracked component.
    pub fn resolve_component(&self, text: &str) -> Result<ComponentId> {
        let ids: Vec<ComponentId> = self.components()?.into_iter().map(|c| c.id).collect();
        crate::resolve::resolve_component(&ids, self.default_scope()?.as_ref(), text)
    }
}

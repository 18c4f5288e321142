//! Ref names: the mutable pointers of a scope.
//!
//! Every ref has a text key used by stores and on the wire. Names never
//! contain `:`, so the key splits back into its parts without escaping:
//!
//! | ref | key |
//! | --- | --- |
//! | main head of a component | `main:acme.ui/button` |
//! | tag of a component | `tag:acme.ui/button:1.4.0` |
//! | lane head of a component | `lane:acme.ui/new-theme:acme.ui/button` |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::name::{ComponentId, LaneId, ScopeName};

/// A mutable pointer to a snap.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum RefName {
    /// The newest snap of a component on main.
    Main(ComponentId),
    /// A version label on a snap; created once and never moved.
    Tag(ComponentId, semver::Version),
    /// The newest snap of a component on a lane.
    Lane(LaneId, ComponentId),
}

/// A ref key that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ref {value:?}: {reason}")]
pub struct RefNameError {
    /// The rejected key.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl RefName {
    /// Returns the component the ref points into.
    pub fn component(&self) -> &ComponentId {
        match self {
            RefName::Main(component) | RefName::Tag(component, _) => component,
            RefName::Lane(_, component) => component,
        }
    }

    /// Returns the scope that owns the ref: the component's scope for main
    /// heads and tags, the lane's scope for lane heads.
    pub fn owning_scope(&self) -> ScopeName {
        match self {
            RefName::Main(component) | RefName::Tag(component, _) => component.scope(),
            RefName::Lane(lane, _) => lane.scope(),
        }
    }

    /// Reports whether the ref may only move forward (heads) rather than
    /// never move at all (tags).
    pub fn is_head(&self) -> bool {
        !matches!(self, RefName::Tag(..))
    }

    /// Returns the text key.
    pub fn key(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for RefName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefName::Main(component) => write!(f, "main:{component}"),
            RefName::Tag(component, version) => write!(f, "tag:{component}:{version}"),
            RefName::Lane(lane, component) => write!(f, "lane:{lane}:{component}"),
        }
    }
}

impl fmt::Debug for RefName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RefName({self})")
    }
}

impl FromStr for RefName {
    type Err = RefNameError;

    fn from_str(value: &str) -> Result<Self, RefNameError> {
        let error = |reason: String| RefNameError {
            value: value.to_owned(),
            reason,
        };
        let parts: Vec<&str> = value.split(':').collect();
        let parsed = match parts.as_slice() {
            ["main", component] => {
                RefName::Main(component.parse().map_err(|e| error(format!("{e}")))?)
            }
            ["tag", component, version] => RefName::Tag(
                component.parse().map_err(|e| error(format!("{e}")))?,
                version
                    .parse()
                    .map_err(|e| error(format!("invalid version {version:?}: {e}")))?,
            ),
            ["lane", lane, component] => RefName::Lane(
                lane.parse().map_err(|e| error(format!("{e}")))?,
                component.parse().map_err(|e| error(format!("{e}")))?,
            ),
            _ => {
                return Err(error(
                    "expected main:COMPONENT, tag:COMPONENT:VERSION or lane:LANE:COMPONENT".into(),
                ))
            }
        };
        Ok(parsed)
    }
}

impl TryFrom<String> for RefName {
    type Error = RefNameError;

    fn try_from(value: String) -> Result<Self, RefNameError> {
        value.parse()
    }
}

impl From<RefName> for String {
    fn from(value: RefName) -> String {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for key in [
            "main:acme.ui/forms/button",
            "tag:acme.ui/button:1.4.0-beta.1",
            "lane:acme.ui/new-theme:acme.core/x",
        ] {
            let name: RefName = key.parse().expect(key);
            assert_eq!(name.key(), key);
        }
    }

    #[test]
    fn lane_ref_belongs_to_lane_scope() {
        let name: RefName = "lane:acme.ui/new-theme:acme.core/x".parse().expect("valid");
        assert_eq!(name.owning_scope().as_str(), "acme.ui");
        assert!(name.is_head());
    }

    #[test]
    fn rejects_malformed_keys() {
        for key in [
            "main:acme/../x",
            "tag:acme/x:notsemver",
            "heads:acme/x",
            "main:a:b:c",
        ] {
            assert!(key.parse::<RefName>().is_err(), "{key}");
        }
    }
}

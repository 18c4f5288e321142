//! Turning what a user typed into tracked components, lanes and snaps.
//!
//! A component or lane may be typed in full (`acme.ui/forms/button`), as
//! the name within the default scope (`forms/button`), or by its name alone
//! when exactly one known id has that name. The full form always wins, so
//! a typed id never silently means something else.

use ferry_core::id::HexPrefix;
use ferry_core::{ComponentId, LaneId, ObjectId, ScopeName};

use crate::error::{Error, Result};

/// An id with a scope part and a name part.
pub trait QualifiedId: Clone + PartialEq {
    /// Returns the full `scope/name` text.
    fn full(&self) -> &str;
    /// Returns the part after the scope.
    fn local_name(&self) -> &str;
}

impl QualifiedId for ComponentId {
    fn full(&self) -> &str {
        self.as_str()
    }
    fn local_name(&self) -> &str {
        self.name()
    }
}

impl QualifiedId for LaneId {
    fn full(&self) -> &str {
        self.as_str()
    }
    fn local_name(&self) -> &str {
        self.name()
    }
}

/// The outcome of matching typed text against known ids.
#[derive(Debug, PartialEq, Eq)]
pub enum Match<T> {
    /// Exactly one id matches.
    One(T),
    /// No id matches.
    None,
    /// Several ids match by name alone.
    Several(Vec<T>),
}

/// Matches `text` against `known`: first as a full id, then as a name in
/// `default_scope`, then as a name in any scope.
pub fn match_id<T: QualifiedId>(
    known: &[T],
    default_scope: Option<&ScopeName>,
    text: &str,
) -> Match<T> {
    if let Some(found) = known.iter().find(|id| id.full() == text) {
        return Match::One(found.clone());
    }
    if let Some(scope) = default_scope {
        let qualified = format!("{scope}/{text}");
        if let Some(found) = known.iter().find(|id| id.full() == qualified) {
            return Match::One(found.clone());
        }
    }
    let mut by_name: Vec<T> = known
        .iter()
        .filter(|id| id.local_name() == text)
        .cloned()
        .collect();
    match by_name.len() {
        0 => Match::None,
        1 => Match::One(by_name.remove(0)),
        _ => Match::Several(by_name),
    }
}

/// Resolves typed text to one of the tracked `components`.
pub fn resolve_component(
    components: &[ComponentId],
    default_scope: Option<&ScopeName>,
    text: &str,
) -> Result<ComponentId> {
    match match_id(components, default_scope, text) {
        Match::One(id) => Ok(id),
        Match::None => Err(Error::UnknownComponent {
            name: text.to_owned(),
        }),
        Match::Several(candidates) => Err(Error::AmbiguousComponent {
            name: text.to_owned(),
            candidates,
        }),
    }
}

/// Resolves typed text to one of the known `lanes`.
pub fn resolve_lane(
    lanes: &[LaneId],
    default_scope: Option<&ScopeName>,
    text: &str,
) -> Result<LaneId> {
    match match_id(lanes, default_scope, text) {
        Match::One(id) => Ok(id),
        Match::None => Err(Error::UnknownLane {
            name: text.to_owned(),
        }),
        Match::Several(candidates) => Err(Error::AmbiguousLane {
            name: text.to_owned(),
            candidates,
        }),
    }
}

/// A version of a component as typed after `@`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionSpec {
    /// `head`: the head on the current lane, else on main.
    Head,
    /// A semver tag.
    Tag(semver::Version),
    /// A full snap id.
    Id(ObjectId),
    /// At least 4 leading hex digits of a snap id.
    Prefix(HexPrefix),
}

impl VersionSpec {
    /// Parses `text`: `head`, a semver version, a full id or a hex prefix.
    /// A version such as `1.2.0` can never be mistaken for a prefix, since a
    /// prefix has no dots.
    pub fn parse(text: &str) -> Result<Self> {
        if text == "head" {
            return Ok(VersionSpec::Head);
        }
        if let Ok(version) = text.parse::<semver::Version>() {
            return Ok(VersionSpec::Tag(version));
        }
        if let Ok(id) = text.parse::<ObjectId>() {
            return Ok(VersionSpec::Id(id));
        }
        text.parse::<HexPrefix>()
            .map(VersionSpec::Prefix)
            .map_err(|_| Error::InvalidVersion {
                text: text.to_owned(),
            })
    }
}

/// Splits `COMPONENT@VERSION` at its last `@`; without one, the version is
/// `None`.
pub fn split_at_version(text: &str) -> (&str, Option<&str>) {
    match text.rsplit_once('@') {
        Some((component, version)) => (component, Some(version)),
        None => (text, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(texts: &[&str]) -> Vec<ComponentId> {
        texts.iter().map(|t| t.parse().expect("valid id")).collect()
    }

    #[test]
    fn full_id_wins_over_name() {
        let known = ids(&["a/b/c", "b/c"]);
        let found = resolve_component(&known, None, "b/c").expect("found");
        assert_eq!(found.as_str(), "b/c");
    }

    #[test]
    fn default_scope_qualifies_name() {
        let known = ids(&["acme/forms/button", "other/forms/button"]);
        let scope: ScopeName = "acme".parse().expect("valid");
        let found = resolve_component(&known, Some(&scope), "forms/button").expect("found");
        assert_eq!(found.as_str(), "acme/forms/button");
    }

    #[test]
    fn name_alone_must_be_unique() {
        let known = ids(&["acme/button", "other/button", "acme/card"]);
        let found = resolve_component(&known, None, "card").expect("unique");
        assert_eq!(found.as_str(), "acme/card");
        let error = resolve_component(&known, None, "button").expect_err("ambiguous");
        assert!(
            matches!(error, Error::AmbiguousComponent { ref candidates, .. } if candidates.len() == 2)
        );
        let error = resolve_component(&known, None, "nope").expect_err("unknown");
        assert!(matches!(error, Error::UnknownComponent { ref name } if name == "nope"));
    }

    #[test]
    fn version_spec_kinds() {
        assert_eq!(VersionSpec::parse("head").expect("head"), VersionSpec::Head);
        assert!(matches!(
            VersionSpec::parse("1.2.0"),
            Ok(VersionSpec::Tag(_))
        ));
        assert!(matches!(
            VersionSpec::parse("abcd"),
            Ok(VersionSpec::Prefix(_))
        ));
        let full = ObjectId::digest(b"x").to_hex();
        assert!(matches!(VersionSpec::parse(&full), Ok(VersionSpec::Id(_))));
        for bad in ["abc", "xyz1", "1.2", "ABCD", "../.."] {
            assert!(
                matches!(VersionSpec::parse(bad), Err(Error::InvalidVersion { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn split_uses_last_at() {
        assert_eq!(split_at_version("acme/b@1.0.0"), ("acme/b", Some("1.0.0")));
        assert_eq!(split_at_version("acme/b"), ("acme/b", None));
    }
}

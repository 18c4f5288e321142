//! Validated names: scopes, components and lanes.
//!
//! Names arrive from the command line, from workspace files and from the
//! network, and end up in ref names, SQL keys and directory names. Every
//! rule lives here, so a value of these types is safe to use anywhere:
//!
//! - a scope is one or more dot-separated words of `a-z`, `0-9`, `-` and
//!   `_`, each starting with a letter or digit (`acme`, `acme.ui`);
//! - a component or lane is `scope/name`, where the name is one or more
//!   `/`-separated segments of ASCII letters, digits, `.`, `-` and `_`, each
//!   starting with a letter or digit and none containing `..`.
//!
//! Both are at most 200 bytes, so a key built from them stays small.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Maximum length in bytes of a scope name or of a full component id.
pub const MAX_NAME_LEN: usize = 200;

/// An invalid name, with the offending text and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct NameError {
    /// What the text was meant to be: "scope", "component" or "lane".
    pub kind: &'static str,
    /// The rejected text.
    pub value: String,
    /// The rule that the text broke, phrased for a person.
    pub reason: String,
}

/// The name of a scope, such as `acme.ui`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScopeName(String);

impl ScopeName {
    /// Returns the name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ScopeName {
    type Err = NameError;

    fn from_str(value: &str) -> Result<Self, NameError> {
        check_scope(value).map_err(|reason| NameError {
            kind: "scope",
            value: value.to_owned(),
            reason,
        })?;
        Ok(Self(value.to_owned()))
    }
}

fn check_scope(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("a scope name must not be empty".into());
    }
    if value.len() > MAX_NAME_LEN {
        return Err(format!("a scope name is at most {MAX_NAME_LEN} bytes"));
    }
    for word in value.split('.') {
        let valid_chars = word
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_'));
        let starts_well = word
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !valid_chars || !starts_well {
            return Err("use dot-separated words of a-z, 0-9, '-' and '_', \
                 each starting with a letter or digit (for example acme.ui)"
                .into());
        }
    }
    Ok(())
}

/// Checks the part of a component or lane id after the scope.
fn check_local_name(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("the name after the scope must not be empty".into());
    }
    if value.contains("..") {
        return Err("a name must not contain '..'".into());
    }
    for segment in value.split('/') {
        let valid_chars = segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        let starts_well = segment
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
        if !valid_chars || !starts_well {
            return Err("use '/'-separated segments of ASCII letters, digits, '.', \
                 '-' and '_', each starting with a letter or digit"
                .into());
        }
    }
    Ok(())
}

/// Splits `scope/name` and checks both halves.
fn parse_qualified(kind: &'static str, value: &str) -> Result<(ScopeName, String), NameError> {
    let error = |reason: String| NameError {
        kind,
        value: value.to_owned(),
        reason,
    };
    if value.len() > MAX_NAME_LEN {
        return Err(error(format!(
            "a {kind} id is at most {MAX_NAME_LEN} bytes"
        )));
    }
    let Some((scope, name)) = value.split_once('/') else {
        return Err(error(format!(
            "a {kind} id has the form scope/name (for example acme.ui/button)"
        )));
    };
    let scope = ScopeName::from_str(scope).map_err(|e| error(e.reason))?;
    check_local_name(name).map_err(error)?;
    Ok((scope, name.to_owned()))
}

macro_rules! qualified_name {
    ($(#[$doc:meta])* $type:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $type {
            full: String,
            scope_len: usize,
        }

        impl $type {
            /// Builds an id from a scope and a name within it.
            pub fn new(scope: &ScopeName, name: &str) -> Result<Self, NameError> {
                format!("{}/{}", scope.as_str(), name).parse()
            }

            /// Returns the scope part.
            pub fn scope(&self) -> ScopeName {
                ScopeName(self.full[..self.scope_len].to_owned())
            }

            /// Returns the part after the scope, which may contain `/`.
            pub fn name(&self) -> &str {
                &self.full[self.scope_len + 1..]
            }

            /// Returns the full `scope/name` text.
            pub fn as_str(&self) -> &str {
                &self.full
            }
        }

        impl FromStr for $type {
            type Err = NameError;

            fn from_str(value: &str) -> Result<Self, NameError> {
                let (scope, _) = parse_qualified($kind, value)?;
                Ok(Self {
                    full: value.to_owned(),
                    scope_len: scope.as_str().len(),
                })
            }
        }

        impl TryFrom<String> for $type {
            type Error = NameError;

            fn try_from(value: String) -> Result<Self, NameError> {
                value.parse()
            }
        }

        impl From<$type> for String {
            fn from(value: $type) -> String {
                value.full
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.full)
            }
        }

        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($type), self.full)
            }
        }
    };
}

qualified_name!(
    /// A component id, `scope/name`, such as `acme.ui/forms/button`.
    ComponentId,
    "component"
);

qualified_name!(
    /// A lane id, `scope/name`, such as `acme.ui/new-theme`.
    LaneId,
    "lane"
);

impl TryFrom<String> for ScopeName {
    type Error = NameError;

    fn try_from(value: String) -> Result<Self, NameError> {
        value.parse()
    }
}

impl From<ScopeName> for String {
    fn from(value: ScopeName) -> String {
        value.0
    }
}

impl fmt::Display for ScopeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ScopeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScopeName({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_splits_scope_and_name() {
        let id: ComponentId = "acme.ui/forms/button".parse().expect("valid id");
        assert_eq!(id.scope().as_str(), "acme.ui");
        assert_eq!(id.name(), "forms/button");
    }

    #[test]
    fn corpus_style_names_are_valid() {
        for name in [
            "mui/Button",
            "mui/3dRotation",
            "mui/useAutocomplete",
            "a/b.c-d_e",
        ] {
            assert!(name.parse::<ComponentId>().is_ok(), "{name}");
        }
    }

    #[test]
    fn component_rejects_bad_names() {
        let cases = [
            "button",
            "acme/",
            "/button",
            "Acme/button",
            "acme/../etc",
            "acme/a..b",
            "acme/.hidden",
            "acme/a//b",
            "acme/a/",
            "acme/a b",
            "acme/a\\b",
            "acme/a:b",
            "acme/a\0b",
            "acme..x/button",
        ];
        for case in cases {
            let error = case.parse::<ComponentId>().expect_err(case);
            assert_eq!(error.value, case);
        }
    }

    #[test]
    fn error_quotes_value_and_rule() {
        let error = "acme/../x".parse::<ComponentId>().expect_err("has ..");
        let message = error.to_string();
        assert!(message.contains("\"acme/../x\""), "{message}");
        assert!(message.contains("'..'"), "{message}");
    }

    #[test]
    fn overlong_name_is_rejected() {
        let long = format!("acme/{}", "a".repeat(MAX_NAME_LEN));
        assert!(long.parse::<ComponentId>().is_err());
    }

    #[test]
    fn serde_validates_on_the_way_in() {
        let parsed: Result<LaneId, _> = serde_json::from_str("\"acme/../x\"");
        assert!(parsed.is_err());
        let lane: LaneId = serde_json::from_str("\"acme.ui/new-theme\"").expect("valid");
        assert_eq!(lane.name(), "new-theme");
    }
}

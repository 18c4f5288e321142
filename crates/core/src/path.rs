//! File paths inside a snap.
//!
//! A snap lists its files by path relative to the component directory. Snaps
//! come from other machines, so a path is checked when a snap is built, when
//! one is decoded, and again before a checkout joins it to a directory. A
//! valid path is `/`-separated, relative, and has no empty, `.` or `..`
//! segment, no NUL or other control byte, no backslash and no drive prefix
//! such as `C:`. Joining a valid path to a directory therefore always names
//! something inside that directory.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Maximum length in bytes of a path inside a snap.
pub const MAX_PATH_LEN: usize = 4096;

/// An invalid file path, with the text and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid file path {value:?}: {reason}")]
pub struct PathError {
    /// The rejected path.
    pub value: String,
    /// The rule that the path broke.
    pub reason: &'static str,
}

/// A normalised relative path of a file inside a component directory.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FilePath(String);

impl FilePath {
    /// Returns the path as `/`-separated text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the native path of this file under `base`.
    pub fn under(&self, base: &Path) -> PathBuf {
        let mut native = base.to_path_buf();
        native.extend(self.0.split('/'));
        native
    }

    /// Builds a path from the native path `relative`, which must be relative
    /// to a component directory.
    pub fn from_native(relative: &Path) -> Result<Self, PathError> {
        let mut text = String::new();
        for part in relative.components() {
            let std::path::Component::Normal(part) = part else {
                return Err(PathError {
                    value: relative.display().to_string(),
                    reason: "it must be relative and stay inside the component directory",
                });
            };
            let Some(part) = part.to_str() else {
                return Err(PathError {
                    value: relative.display().to_string(),
                    reason: "it must be valid UTF-8",
                });
            };
            if !text.is_empty() {
                text.push('/');
            }
            text.push_str(part);
        }
        text.parse()
    }
}

impl FromStr for FilePath {
    type Err = PathError;

    fn from_str(value: &str) -> Result<Self, PathError> {
        check(value).map_err(|reason| PathError {
            value: value.to_owned(),
            reason,
        })?;
        Ok(Self(value.to_owned()))
    }
}

fn check(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("it must not be empty");
    }
    if value.len() > MAX_PATH_LEN {
        return Err("it is longer than 4096 bytes");
    }
    if value.bytes().any(|b| b.is_ascii_control()) {
        return Err("it must not contain NUL or other control characters");
    }
    if value.contains('\\') {
        return Err("it must use '/' as separator, not '\\'");
    }
    if value.starts_with('/') {
        return Err("it must be relative, not absolute");
    }
    let bytes = value.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err("it must not start with a drive prefix");
    }
    for segment in value.split('/') {
        match segment {
            "" => return Err("it must not contain empty segments"),
            "." | ".." => return Err("it must not contain '.' or '..' segments"),
            _ => {}
        }
    }
    Ok(())
}

impl TryFrom<String> for FilePath {
    type Error = PathError;

    fn try_from(value: String) -> Result<Self, PathError> {
        value.parse()
    }
}

impl From<FilePath> for String {
    fn from(value: FilePath) -> String {
        value.0
    }
}

impl fmt::Display for FilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FilePath({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_normal_relative_paths() {
        for path in ["index.js", "Button/Button.d.ts", ".eslintrc", "a/b c/ü.txt"] {
            assert!(path.parse::<FilePath>().is_ok(), "{path}");
        }
    }

    #[test]
    fn rejects_escapes_and_odd_bytes() {
        let cases = [
            "",
            "../x",
            "a/../../x",
            "a/./b",
            "/etc/passwd",
            "a//b",
            "a/",
            "a\\b",
            "..\\x",
            "C:x",
            "c:/windows",
            "a\0b",
            "a\nb",
        ];
        for case in cases {
            assert!(case.parse::<FilePath>().is_err(), "{case:?}");
        }
    }

    #[test]
    fn under_stays_inside_base() {
        let path: FilePath = "a/b/c.txt".parse().expect("valid");
        let joined = path.under(Path::new("/tmp/comp"));
        assert_eq!(joined, Path::new("/tmp/comp/a/b/c.txt"));
    }

    #[test]
    fn from_native_rejects_parent_dir() {
        assert!(FilePath::from_native(Path::new("../x")).is_err());
        let path = FilePath::from_native(Path::new("a/b.txt")).expect("valid");
        assert_eq!(path.as_str(), "a/b.txt");
    }
}

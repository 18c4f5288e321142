//! Choosing the version of a new tag.

use semver::{Prerelease, Version};
use serde::Serialize;

/// The part of the latest version that a new tag increments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// `1.2.3` becomes `1.2.4`.
    Patch,
    /// `1.2.3` becomes `1.3.0`.
    Minor,
    /// `1.2.3` becomes `2.0.0`.
    Major,
}

/// The version a tag should get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionRequest {
    /// Exactly this version.
    Exact(Version),
    /// The latest existing tag with one part incremented.
    Bump(Bump),
}

/// Returns the version after the highest of `existing`, incremented by
/// `bump`. Without existing tags the first version is `0.0.1`, `0.1.0` or
/// `1.0.0`. A pre-release is released rather than skipped: `--patch` after
/// `1.3.0-beta.1` gives `1.3.0`, as semver orders it before `1.3.0`.
pub fn next_version<'a>(existing: impl IntoIterator<Item = &'a Version>, bump: Bump) -> Version {
    let Some(latest) = existing.into_iter().max() else {
        return match bump {
            Bump::Patch => Version::new(0, 0, 1),
            Bump::Minor => Version::new(0, 1, 0),
            Bump::Major => Version::new(1, 0, 0),
        };
    };
    let (major, minor, patch) = (latest.major, latest.minor, latest.patch);
    let release = latest.pre == Prerelease::EMPTY;
    match bump {
        Bump::Patch if release => Version::new(major, minor, patch + 1),
        Bump::Patch => Version::new(major, minor, patch),
        Bump::Minor if release || patch != 0 => Version::new(major, minor + 1, 0),
        Bump::Minor => Version::new(major, minor, 0),
        Bump::Major if release || minor != 0 || patch != 0 => Version::new(major + 1, 0, 0),
        Bump::Major => Version::new(major, 0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(texts: &[&str]) -> Vec<Version> {
        texts
            .iter()
            .map(|t| t.parse().expect("valid semver"))
            .collect()
    }

    #[test]
    fn first_versions() {
        assert_eq!(next_version(&[], Bump::Patch).to_string(), "0.0.1");
        assert_eq!(next_version(&[], Bump::Minor).to_string(), "0.1.0");
        assert_eq!(next_version(&[], Bump::Major).to_string(), "1.0.0");
    }

    #[test]
    fn bumps_from_highest_not_latest_created() {
        let existing = versions(&["1.2.3", "0.9.0", "1.10.0"]);
        assert_eq!(next_version(&existing, Bump::Patch).to_string(), "1.10.1");
        assert_eq!(next_version(&existing, Bump::Minor).to_string(), "1.11.0");
        assert_eq!(next_version(&existing, Bump::Major).to_string(), "2.0.0");
    }

    #[test]
    fn prerelease_is_released() {
        let existing = versions(&["1.3.0-beta.1"]);
        assert_eq!(next_version(&existing, Bump::Patch).to_string(), "1.3.0");
        assert_eq!(next_version(&existing, Bump::Minor).to_string(), "1.3.0");
        assert_eq!(next_version(&existing, Bump::Major).to_string(), "2.0.0");
        let major_pre = versions(&["2.0.0-rc.1"]);
        assert_eq!(next_version(&major_pre, Bump::Major).to_string(), "2.0.0");
    }
}

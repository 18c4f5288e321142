//! `ferry remote`: named servers this workspace exports to and fetches
//! from.

use ferry_store::refs::sqlite::{list_refs_in, update_refs_in};
use ferry_store::RefEdit;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::meta;
use crate::workspace::{remote_namespace, Workspace};

/// Maximum length of a remote name.
pub const MAX_REMOTE_NAME_LEN: usize = 64;

/// A configured remote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Remote {
    /// Its name.
    pub name: String,
    /// Its URL.
    pub url: String,
}

impl Remote {
    /// Returns a remote addressed by `url` alone and named after it, for
    /// commands that accept a URL in place of a remote name.
    pub fn at_url(url: &str) -> Result<Remote> {
        let url = validate_remote_url(url)?;
        Ok(Remote {
            name: url.clone(),
            url,
        })
    }
}

/// Reports whether `text` is meant as a URL rather than a remote name.
/// Remote names cannot contain `:`, so the two never overlap.
pub fn is_url(text: &str) -> bool {
    text.contains("://")
}

/// Checks a remote name: 1 to 64 characters of `a-z`, `0-9`, `-` and `_`,
/// starting with a letter or digit. The name becomes part of a ref
/// namespace, so nothing else is allowed.
pub fn validate_remote_name(name: &str) -> Result<()> {
    let valid_chars = name
        .bytes()
        .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_'));
    let starts_well = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if valid_chars && starts_well && name.len() <= MAX_REMOTE_NAME_LEN {
        Ok(())
    } else {
        Err(Error::InvalidRemoteName {
            name: name.to_owned(),
        })
    }
}

/// Checks that `text` is an absolute `http` or `https` URL with a host, and
/// returns its normalised form.
pub fn validate_remote_url(text: &str) -> Result<String> {
    let invalid = |reason: &str| Error::InvalidRemoteUrl {
        url: text.to_owned(),
        reason: reason.to_owned(),
    };
    let url = url::Url::parse(text).map_err(|error| invalid(&error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it must name a host"));
    }
    Ok(url.to_string())
}

impl Workspace {
    /// Adds remote `name` at `url`.
    pub fn remote_add(&self, name: &str, url: &str) -> Result<Remote> {
        validate_remote_name(name)?;
        let url = validate_remote_url(url)?;
        self.write(|tx| {
            if let Some(existing) = meta::get_remote(tx, name)? {
                return Err(Error::RemoteExists {
                    name: name.to_owned(),
                    url: existing,
                });
            }
            meta::insert_remote(tx, name, &url)
        })?;
        Ok(Remote {
            name: name.to_owned(),
            url,
        })
    }

    /// Lists every remote, sorted by name.
    pub fn remote_list(&self) -> Result<Vec<Remote>> {
        let remotes = self.read(meta::list_remotes)?;
        Ok(remotes
            .into_iter()
            .map(|(name, url)| Remote { name, url })
            .collect())
    }

    /// Returns remote `name`.
    pub fn remote(&self, name: &str) -> Result<Remote> {
        let url = self.read(|connection| meta::get_remote(connection, name))?;
        url.map(|url| Remote {
            name: name.to_owned(),
            url,
        })
        .ok_or_else(|| Error::UnknownRemote {
            name: name.to_owned(),
        })
    }

    /// Removes remote `name` and what it was recorded to hold, in one
    /// transaction.
    pub fn remote_remove(&self, name: &str) -> Result<Remote> {
        let remote = self.remote(name)?;
        self.write(|tx| {
            meta::delete_remote(tx, name)?;
            let namespace = remote_namespace(name);
            let edits: Vec<RefEdit> = list_refs_in(tx, &namespace, "")?
                .into_iter()
                .map(|(name, id)| RefEdit {
                    name,
                    expected: Some(id),
                    new: None,
                })
                .collect();
            Ok(update_refs_in(tx, &namespace, &edits)?)
        })?;
        Ok(remote)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_names() {
        for good in ["origin", "ci-2", "a_b"] {
            assert!(validate_remote_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Origin", "-x", "a/b", "a.b", "../x", &"a".repeat(65)] {
            assert!(validate_remote_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn remote_urls() {
        assert_eq!(
            validate_remote_url("http://127.0.0.1:8080").expect("valid"),
            "http://127.0.0.1:8080/"
        );
        for bad in ["ftp://x", "not a url", "file:///tmp/x", "http://"] {
            assert!(validate_remote_url(bad).is_err(), "{bad}");
        }
    }
}

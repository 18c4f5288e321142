//! `ferry config`: workspace settings a user may read and change.

use ferry_core::ScopeName;
use serde::Serialize;

use crate::author::{choose_author, AuthorSources};
use crate::error::{Error, Result};
use crate::meta;
use crate::workspace::{Workspace, DEFAULT_SCOPE};

/// Every key `ferry config` accepts.
pub const KEYS: [&str; 3] = ["user.name", "user.email", DEFAULT_SCOPE];

/// One setting and its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigEntry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

fn check_key(key: &str) -> Result<()> {
    if KEYS.contains(&key) {
        Ok(())
    } else {
        Err(Error::UnknownConfigKey {
            key: key.to_owned(),
        })
    }
}

impl Workspace {
    /// Returns the value of `key`.
    pub fn config_get(&self, key: &str) -> Result<Option<String>> {
        check_key(key)?;
        self.read(|connection| meta::get_setting(connection, key))
    }

    /// Sets `key` to `value`, or removes it when `value` is `None`. A
    /// default scope is validated as a scope name.
    pub fn config_set(&self, key: &str, value: Option<&str>) -> Result<()> {
        check_key(key)?;
        if let (DEFAULT_SCOPE, Some(scope)) = (key, value) {
            scope.parse::<ScopeName>()?;
        }
        self.write(|tx| meta::set_setting(tx, key, value))
    }

    /// Returns every set key with its value, in the order of [`KEYS`].
    pub fn config_list(&self) -> Result<Vec<ConfigEntry>> {
        let mut entries = Vec::new();
        for key in KEYS {
            if let Some(value) = self.config_get(key)? {
                entries.push(ConfigEntry {
                    key: key.to_owned(),
                    value,
                });
            }
        }
        Ok(entries)
    }

    /// Returns the author for new snaps: `FERRY_AUTHOR`, else `user.name`
    /// and `user.email`, else `$USER`.
    pub fn author(&self) -> Result<String> {
        let sources = AuthorSources {
            env_author: std::env::var("FERRY_AUTHOR").ok(),
            user_name: self.config_get("user.name")?,
            user_email: self.config_get("user.email")?,
            env_user: std::env::var("USER").ok(),
        };
        choose_author(sources).ok_or(Error::NoAuthor)
    }
}

//! Export ids and idempotency keys.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An export id: a UUIDv7 minted by the server, time-ordered with 74 random
/// bits, so two exports opened in the same millisecond still differ.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExportId(Uuid);

/// Text that is not an export id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid export id {value:?}: expected a UUIDv7 in lowercase hyphenated form")]
pub struct ExportIdError {
    /// The rejected text.
    pub value: String,
}

impl ExportId {
    /// Mints a new id from the system clock and random bits.
    pub fn mint() -> Self {
        Self(Uuid::now_v7())
    }

    /// Returns the UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl FromStr for ExportId {
    type Err = ExportIdError;

    /// Parses the lowercase hyphenated form only, so each id has exactly
    /// one spelling and can be used as a key as it is.
    fn from_str(value: &str) -> Result<Self, ExportIdError> {
        let invalid = || ExportIdError {
            value: value.chars().take(64).collect(),
        };
        let uuid = Uuid::try_parse(value).map_err(|_| invalid())?;
        if uuid.get_version_num() != 7 || uuid.hyphenated().to_string() != value {
            return Err(invalid());
        }
        Ok(Self(uuid))
    }
}

impl TryFrom<String> for ExportId {
    type Error = ExportIdError;

    fn try_from(value: String) -> Result<Self, ExportIdError> {
        value.parse()
    }
}

impl From<ExportId> for String {
    fn from(value: ExportId) -> String {
        value.to_string()
    }
}

impl fmt::Display for ExportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.hyphenated())
    }
}

impl fmt::Debug for ExportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExportId({self})")
    }
}

/// A client-chosen key that makes opening an export idempotent: 1 to 128
/// characters of ASCII letters, digits, `-`, `_` and `.`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

/// Text that is not a valid idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid idempotency key {value:?}: use 1 to 128 ASCII letters, digits, '-', '_' or '.'")]
pub struct IdempotencyKeyError {
    /// The rejected text, cut to 64 characters.
    pub value: String,
}

impl IdempotencyKey {
    /// Maximum length in bytes.
    pub const MAX_LEN: usize = 128;

    /// Returns a fresh key, a UUIDv7 in text form, unique with 74 random bits.
    pub fn random() -> Self {
        Self(Uuid::now_v7().to_string())
    }

    /// Returns the key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for IdempotencyKey {
    type Err = IdempotencyKeyError;

    fn from_str(value: &str) -> Result<Self, IdempotencyKeyError> {
        let valid_chars = value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if value.is_empty() || value.len() > Self::MAX_LEN || !valid_chars {
            return Err(IdempotencyKeyError {
                value: value.chars().take(64).collect(),
            });
        }
        Ok(Self(value.to_owned()))
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = IdempotencyKeyError;

    fn try_from(value: String) -> Result<Self, IdempotencyKeyError> {
        value.parse()
    }
}

impl From<IdempotencyKey> for String {
    fn from(value: IdempotencyKey) -> String {
        value.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_round_trip_and_differ() {
        let a = ExportId::mint();
        let b = ExportId::mint();
        assert_ne!(a, b);
        let parsed: ExportId = a.to_string().parse().expect("own text form parses");
        assert_eq!(parsed, a);
    }

    #[test]
    fn export_id_rejects_other_forms() {
        let id = ExportId::mint().to_string();
        let cases = [
            id.to_uppercase(),
            id.replace('-', ""),
            format!("{{{id}}}"),
            "../../etc/passwd".to_owned(),
            // A valid UUIDv4, which the server never mints.
            "0f8fad5b-d9cb-469f-a165-70867728950e".to_owned(),
        ];
        for case in cases {
            assert!(case.parse::<ExportId>().is_err(), "{case}");
        }
    }

    #[test]
    fn idempotency_key_rules() {
        assert!("ci-run-42.attempt_1".parse::<IdempotencyKey>().is_ok());
        assert!("".parse::<IdempotencyKey>().is_err());
        assert!("a/b".parse::<IdempotencyKey>().is_err());
        assert!("x".repeat(129).parse::<IdempotencyKey>().is_err());
    }
}

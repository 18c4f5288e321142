//! Object ids: BLAKE3-256 digests of an object's canonical encoding.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The content address of an object: the BLAKE3-256 digest of its encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId([u8; 32]);

/// Number of hex digits in a full object id.
pub const HEX_LEN: usize = 64;

/// An invalid object id or id prefix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid object id {value:?}: expected {expected} lowercase hex digits")]
pub struct IdError {
    /// The rejected text.
    pub value: String,
    /// What the text should have been.
    pub expected: &'static str,
}

impl ObjectId {
    /// Wraps a raw 32-byte digest.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Returns the raw digest.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Returns the id of `encoded`, which must be a full canonical encoding.
    pub fn digest(encoded: &[u8]) -> Self {
        Self(*blake3::hash(encoded).as_bytes())
    }

    /// Returns the full lowercase hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Returns the first 12 hex digits, for display to people.
    pub fn short(&self) -> String {
        let mut hex = self.to_hex();
        hex.truncate(12);
        hex
    }

    /// Reports whether this id's hex form starts with `prefix`.
    pub fn has_prefix(&self, prefix: &HexPrefix) -> bool {
        self.to_hex().starts_with(prefix.as_str())
    }
}

impl FromStr for ObjectId {
    type Err = IdError;

    fn from_str(value: &str) -> Result<Self, IdError> {
        let invalid = || IdError {
            value: value.to_owned(),
            expected: "64",
        };
        if value.len() != HEX_LEN || !is_lower_hex(value) {
            return Err(invalid());
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(value, &mut bytes).map_err(|_| invalid())?;
        Ok(Self(bytes))
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({})", self.short())
    }
}

impl Serialize for ObjectId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A prefix of an object id's hex form, at least 4 digits long, as typed by
/// a person to name a snap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexPrefix(String);

impl HexPrefix {
    /// Minimum number of digits accepted, so a prefix is rarely ambiguous.
    pub const MIN_LEN: usize = 4;

    /// Returns the prefix text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for HexPrefix {
    type Err = IdError;

    fn from_str(value: &str) -> Result<Self, IdError> {
        if value.len() < Self::MIN_LEN || value.len() > HEX_LEN || !is_lower_hex(value) {
            return Err(IdError {
                value: value.to_owned(),
                expected: "4 to 64",
            });
        }
        Ok(Self(value.to_owned()))
    }
}

fn is_lower_hex(value: &str) -> bool {
    value
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let id = ObjectId::digest(b"hello");
        let parsed: ObjectId = id.to_hex().parse().expect("own hex form parses");
        assert_eq!(parsed, id);
    }

    #[test]
    fn parse_rejects_uppercase_and_short() {
        let upper = ObjectId::digest(b"x").to_hex().to_uppercase();
        assert!(upper.parse::<ObjectId>().is_err());
        assert!("abc".parse::<ObjectId>().is_err());
        assert!("../../etc/passwd".parse::<ObjectId>().is_err());
    }

    #[test]
    fn prefix_matches_start_of_hex() {
        let id = ObjectId::digest(b"hello");
        let prefix: HexPrefix = id.to_hex()[..6].parse().expect("6 hex digits");
        assert!(id.has_prefix(&prefix));
        assert!("abc".parse::<HexPrefix>().is_err());
    }
}

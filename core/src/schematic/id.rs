//! The schematic ID: sha256 of the canonical YAML, as 64 lowercase hex
//! characters. It is also the OCI blob digest upstream stores the
//! schematic under, so it must match upstream bit for bit.
//!
//! Parsing is strict (exactly 64 of `0-9a-f`): uppercase hex names a
//! different path and blob upstream, so it is not the same ID.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// A schematic ID (64 lowercase hex characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchematicId(String);

/// A string that is not 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid schematic ID {input:?}: expected 64 lowercase hexadecimal characters")]
pub struct InvalidSchematicId {
    /// The string as received.
    pub input: String,
}

impl SchematicId {
    /// Length of an ID in characters.
    pub const LEN: usize = 64;

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ID of a canonical YAML text (sha256, lowercase hex).
    pub fn of_canonical_yaml(yaml: &str) -> SchematicId {
        SchematicId(hex::encode(Sha256::digest(yaml.as_bytes())))
    }
}

impl FromStr for SchematicId {
    type Err = InvalidSchematicId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid =
            s.len() == Self::LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if valid {
            Ok(SchematicId(s.to_owned()))
        } else {
            Err(InvalidSchematicId {
                input: s.to_owned(),
            })
        }
    }
}

impl fmt::Display for SchematicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SchematicId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

    #[test]
    fn hashes_canonical_yaml() {
        let id = SchematicId::of_canonical_yaml("customization: {}\n");
        assert_eq!(id.as_str(), EMPTY);
        assert_eq!(id.to_string(), EMPTY);
    }

    #[test]
    fn parses_strictly() {
        assert_eq!(
            EMPTY.parse::<SchematicId>().map(|id| id.to_string()),
            Ok(EMPTY.to_owned())
        );
        for bad in [
            "",
            "abc",
            &EMPTY.to_uppercase(),
            &EMPTY[..63],
            &format!("{EMPTY}0"),
            &format!("{}g", &EMPTY[..63]),
            &format!(" {}", &EMPTY[..63]),
        ] {
            assert_eq!(
                bad.parse::<SchematicId>(),
                Err(InvalidSchematicId {
                    input: bad.to_owned()
                }),
                "input {bad:?}"
            );
        }
    }
}

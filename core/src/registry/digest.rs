//! Content digests (`sha256:<hex>`), the addresses of everything in a registry.
//!
//! The OCI image spec allows any registered algorithm; we accept only the two
//! that are registered and that registries actually serve, `sha256` (64 hex
//! digits) and `sha512` (128 hex digits), and only in lowercase, which is the
//! canonical form the spec requires. Anything else is rejected when the path is
//! parsed, so handlers never see a digest they could not have produced
//! themselves. Keeping the algorithm as an enum (rather than a string) means a
//! digest can always be recomputed and compared.

use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;

/// A hash algorithm a [`Digest`] may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    /// SHA-256, 64 hex digits; what every registry uses by default.
    Sha256,
    /// SHA-512, 128 hex digits.
    Sha512,
}

impl DigestAlgorithm {
    /// The name in a digest string (`sha256`).
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }

    /// How many hex digits the encoded part has for this algorithm.
    pub fn hex_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 64,
            DigestAlgorithm::Sha512 => 128,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(DigestAlgorithm::Sha256),
            "sha512" => Some(DigestAlgorithm::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated content digest `<algorithm>:<lowercase hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    hex: String,
}

/// Why a string is not a [`Digest`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// The string is empty.
    #[error("empty digest")]
    Empty,
    /// There is no `:` between algorithm and encoded part.
    #[error("invalid digest {0:?}: expected <algorithm>:<hex>")]
    MissingSeparator(String),
    /// The algorithm is not `sha256` or `sha512`.
    #[error(
        "invalid digest {digest:?}: unsupported algorithm {algorithm:?} (supported: sha256, sha512)"
    )]
    UnsupportedAlgorithm {
        /// The whole input.
        digest: String,
        /// The part before the `:`.
        algorithm: String,
    },
    /// The encoded part has the wrong number of characters for its algorithm.
    #[error("invalid digest {digest:?}: {algorithm} needs {expected} hex digits, found {found}")]
    WrongLength {
        /// The whole input.
        digest: String,
        /// The algorithm named in the input.
        algorithm: DigestAlgorithm,
        /// How many hex digits the algorithm needs.
        expected: usize,
        /// How many characters the input has after the `:`.
        found: usize,
    },
    /// The encoded part has a character other than `0-9a-f` (upper case included).
    #[error("invalid digest {0:?}: the encoded part must be lowercase hex")]
    NotLowercaseHex(String),
}

impl Digest {
    /// The hash algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The encoded part, lowercase hex.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The SHA-256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Digest {
            algorithm: DigestAlgorithm::Sha256,
            hex: hex::encode(sha2::Sha256::digest(bytes)),
        }
    }

    /// The SHA-512 digest of `bytes`.
    pub fn sha512_of(bytes: &[u8]) -> Digest {
        Digest {
            algorithm: DigestAlgorithm::Sha512,
            hex: hex::encode(sha2::Sha512::digest(bytes)),
        }
    }

    /// Whether `bytes` hash to this digest (with this digest's algorithm).
    pub fn matches(&self, bytes: &[u8]) -> bool {
        let computed = match self.algorithm {
            DigestAlgorithm::Sha256 => Digest::sha256_of(bytes),
            DigestAlgorithm::Sha512 => Digest::sha512_of(bytes),
        };
        computed == *self
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(DigestError::Empty);
        }
        let (name, encoded) = s
            .split_once(':')
            .ok_or_else(|| DigestError::MissingSeparator(s.to_owned()))?;
        let algorithm =
            DigestAlgorithm::from_name(name).ok_or_else(|| DigestError::UnsupportedAlgorithm {
                digest: s.to_owned(),
                algorithm: name.to_owned(),
            })?;
        // Check the characters before the length so that `sha256:DEADBEEF`
        // reports the case problem rather than a length it would also have.
        if !encoded
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(DigestError::NotLowercaseHex(s.to_owned()));
        }
        if encoded.len() != algorithm.hex_len() {
            return Err(DigestError::WrongLength {
                digest: s.to_owned(),
                algorithm,
                expected: algorithm.hex_len(),
                found: encoded.len(),
            });
        }
        Ok(Digest {
            algorithm,
            hex: encoded.to_owned(),
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const HEX64: &str = "d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f";

    #[test]
    fn valid_digests_parse_and_print_unchanged() {
        let sha512 = format!("sha512:{HEX64}{HEX64}");
        for (input, algorithm) in [
            (format!("sha256:{HEX64}"), DigestAlgorithm::Sha256),
            (sha512, DigestAlgorithm::Sha512),
        ] {
            let digest: Digest = input.parse().unwrap();
            assert_eq!(digest.algorithm(), algorithm);
            assert_eq!(digest.hex().len(), algorithm.hex_len());
            assert_eq!(digest.to_string(), input);
        }
    }

    #[test]
    fn invalid_digests_are_rejected_with_the_reason() {
        let upper = format!("sha256:{}", HEX64.to_ascii_uppercase());
        let long = format!("sha256:{HEX64}0");
        let sha512_short = format!("sha512:{HEX64}");
        let cases: Vec<(&str, &str)> = vec![
            ("", "empty digest"),
            (
                "sha256",
                r#"invalid digest "sha256": expected <algorithm>:<hex>"#,
            ),
            (
                "sha256:deadbeef",
                r#"invalid digest "sha256:deadbeef": sha256 needs 64 hex digits, found 8"#,
            ),
            (
                "sha256:",
                r#"invalid digest "sha256:": sha256 needs 64 hex digits, found 0"#,
            ),
            (&long, "sha256 needs 64 hex digits, found 65"),
            (&sha512_short, "sha512 needs 128 hex digits, found 64"),
            (&upper, "the encoded part must be lowercase hex"),
            (
                "sha256:xyz",
                r#"invalid digest "sha256:xyz": the encoded part must be lowercase hex"#,
            ),
            (
                "md5:d41d8cd98f00b204e9800998ecf8427e",
                r#"unsupported algorithm "md5" (supported: sha256, sha512)"#,
            ),
            ("SHA256:abc", r#"unsupported algorithm "SHA256""#),
            (":abc", r#"unsupported algorithm """#),
        ];
        for (input, want) in cases {
            let err = input.parse::<Digest>().unwrap_err().to_string();
            assert!(
                err.contains(want),
                "{input:?}: got {err:?}, want it to contain {want:?}"
            );
        }
    }

    #[test]
    fn hashes_known_vectors() {
        assert_eq!(
            Digest::sha256_of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            Digest::sha256_of(b"{}").to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(
            Digest::sha512_of(b"abc").to_string(),
            "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        assert!(Digest::sha256_of(b"x").matches(b"x"));
        assert!(!Digest::sha256_of(b"x").matches(b"y"));
        assert!(Digest::sha512_of(b"x").matches(b"x"));
    }

    #[test]
    fn serde_uses_the_string_form() {
        let digest: Digest = format!("sha256:{HEX64}").parse().unwrap();
        let json = serde_json::to_string(&digest).unwrap();
        assert_eq!(json, format!("\"sha256:{HEX64}\""));
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), digest);
        assert!(serde_json::from_str::<Digest>("\"sha256:abc\"").is_err());
    }
}

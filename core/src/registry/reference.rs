//! Manifest references: a tag or a digest, as the last segment of
//! `/v2/<name>/manifests/<reference>`.
//!
//! The distribution spec says the reference "MUST be either (a) the digest of
//! the manifest or (b) a tag", and tags match `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
//! Since a tag can never contain `:`, a reference with a `:` is a digest and must
//! parse as one; there is no ambiguity to resolve later.

use std::fmt;
use std::str::FromStr;

use super::digest::{Digest, DigestError};

/// The longest tag the distribution spec allows.
pub const MAX_TAG_LEN: usize = 128;

/// What a manifest is requested by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    /// A tag such as `v1.10.3`, `latest` or `sha256-<hex>.sig` (already validated).
    Tag(String),
    /// A manifest digest.
    Digest(Digest),
}

/// Why a string is neither a tag nor a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Not a valid tag (and no `:`, so not meant as a digest).
    #[error("invalid tag {0:?}: must match [a-zA-Z0-9_][a-zA-Z0-9._-]{{0,127}}")]
    InvalidTag(String),
    /// Has a `:` but is not a valid digest.
    #[error(transparent)]
    InvalidDigest(#[from] DigestError),
}

/// Whether `tag` matches the distribution spec's tag grammar
/// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    tag.len() <= MAX_TAG_LEN
        && (first.is_ascii_alphanumeric() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains(':') {
            return Ok(Reference::Digest(s.parse()?));
        }
        if is_valid_tag(s) {
            Ok(Reference::Tag(s.to_owned()))
        } else {
            Err(ReferenceError::InvalidTag(s.to_owned()))
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Tag(tag) => f.write_str(tag),
            Reference::Digest(digest) => digest.fmt(f),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const HEX64: &str = "d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f";

    #[test]
    fn tag_grammar() {
        let longest = format!("a{}", "b".repeat(127));
        let too_long = format!("a{}", "b".repeat(128));
        let sig = format!("sha256-{HEX64}.sig");
        for (tag, valid) in [
            ("v1.10.3", true),
            ("latest", true),
            ("v1.14.0-rc.1", true),
            ("_underscore", true),
            ("9", true),
            (sig.as_str(), true),
            (longest.as_str(), true),
            (too_long.as_str(), false),
            ("", false),
            (".hidden", false),
            ("-dash", false),
            ("v1.10.3+build", false),
            ("a/b", false),
            ("a b", false),
            ("v%2E1", false),
            ("ü", false),
        ] {
            assert_eq!(is_valid_tag(tag), valid, "{tag:?}");
        }
    }

    #[test]
    fn parses_tags_and_digests() {
        assert_eq!(
            "v1.7.0".parse::<Reference>().unwrap(),
            Reference::Tag("v1.7.0".into())
        );
        let digest = format!("sha256:{HEX64}");
        let parsed = digest.parse::<Reference>().unwrap();
        assert_eq!(parsed, Reference::Digest(digest.parse().unwrap()));
        assert_eq!(parsed.to_string(), digest);
        assert_eq!("latest".parse::<Reference>().unwrap().to_string(), "latest");
    }

    #[test]
    fn rejects_bad_references_with_the_reason() {
        for (input, want) in [
            (
                "-x",
                r#"invalid tag "-x": must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"#,
            ),
            (
                "",
                r#"invalid tag "": must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"#,
            ),
            (
                "sha256:deadbeef",
                r#"invalid digest "sha256:deadbeef": sha256 needs 64 hex digits, found 8"#,
            ),
            (
                "v1:2",
                r#"invalid digest "v1:2": unsupported algorithm "v1" (supported: sha256, sha512)"#,
            ),
        ] {
            assert_eq!(
                input.parse::<Reference>().unwrap_err().to_string(),
                want,
                "{input:?}"
            );
        }
    }
}

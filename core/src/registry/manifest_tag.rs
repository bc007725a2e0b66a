//! What a manifest tag asks the factory to do.
//!
//! Upstream's `handleManifest` resolves `latest` to the newest stable version,
//! sends tags that do not start with `v` (cosign's `sha256-<hex>.sig`,
//! attestation tags) straight to the stored repository without building, and
//! treats every other tag as a Talos version to build. A `v` tag that is not a
//! version (`v1.5`, `vfoo`) first misses the stored repository and then fails
//! `semver.Parse`, which upstream answers with a 500. Such a tag can never
//! exist in the store (only parsed versions are built and tagged), so it gets
//! its own variant here and the frontend can answer it at once and clearly:
//! 404 `MANIFEST_UNKNOWN` with the parse error as the message.

use crate::version::{InvalidVersion, TalosVersion};

/// The meaning of a manifest tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestTag {
    /// `latest`: the newest stable (non pre-release) Talos version.
    Latest,
    /// `v<semver>`: build (or serve) the installer for this version.
    Version(TalosVersion),
    /// Starts with `v` but is not `vMAJOR.MINOR.PATCH[-PRE]`: nothing to build
    /// and nothing stored.
    InvalidVersion(InvalidVersion),
    /// Anything else: looked up in the stored repository as is, never built.
    Other(String),
}

/// Classifies a manifest tag (see [`ManifestTag`]). Only tags starting with
/// `v` are versions, as upstream: `1.10.3` is looked up as is.
pub fn classify_tag(tag: &str) -> ManifestTag {
    if tag == "latest" {
        return ManifestTag::Latest;
    }
    if !tag.starts_with('v') {
        return ManifestTag::Other(tag.to_owned());
    }
    match tag.parse::<TalosVersion>() {
        Ok(version) => ManifestTag::Version(version),
        Err(error) => ManifestTag::InvalidVersion(error),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn classifies_tags() {
        let sig = "sha256-d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f.sig";
        for (tag, want) in [
            ("latest", "latest"),
            ("v1.10.3", "version v1.10.3"),
            ("v1.14.0-rc.1", "version v1.14.0-rc.1"),
            ("v1.7.0-alpha.1", "version v1.7.0-alpha.1"),
            ("v1.5", "invalid v1.5"),
            ("v1", "invalid v1"),
            ("v", "invalid v"),
            ("vfoo", "invalid vfoo"),
            ("vv1.2.3", "invalid vv1.2.3"),
            ("v01.2.3", "invalid v01.2.3"),
            ("1.10.3", "other 1.10.3"),
            ("Latest", "other Latest"),
            ("V1.10.3", "other V1.10.3"),
            (
                sig,
                "other sha256-d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f.sig",
            ),
        ] {
            let got = match classify_tag(tag) {
                ManifestTag::Latest => "latest".to_owned(),
                ManifestTag::Version(version) => format!("version {version}"),
                ManifestTag::InvalidVersion(error) => format!("invalid {}", error.input),
                ManifestTag::Other(other) => format!("other {other}"),
            };
            assert_eq!(got, want, "{tag:?}");
        }
    }

    #[test]
    fn invalid_version_message_is_clear() {
        let ManifestTag::InvalidVersion(error) = classify_tag("v1.5") else {
            panic!("v1.5 must be an invalid version");
        };
        assert_eq!(
            error.to_string(),
            r#"invalid Talos version "v1.5": expected [v]MAJOR.MINOR.PATCH[-PRERELEASE], e.g. v1.10.3"#
        );
    }
}

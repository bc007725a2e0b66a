//! Talos versions as they appear in URLs, tags and catalogs.
//!
//! Paths accept a version with or without the leading `v` (`v1.10.3` and
//! `1.10.3` are the same release), and always print it with the `v`. Parsing
//! is strict SemVer (`MAJOR.MINOR.PATCH[-PRE][+BUILD]`), as upstream's
//! `semver.Parse`, but a malformed version is a typed error that the frontend
//! answers with 400 instead of upstream's 500. Registry tags, in contrast, are
//! parsed tolerantly (see [`TalosVersion::parse_tolerant`]) because that is how
//! upstream builds the versions list from the `imager` repository's tags.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A Talos release version (`v1.10.3`, `v1.14.0-rc.1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TalosVersion(semver::Version);

/// A version string that is not `[v]MAJOR.MINOR.PATCH[-PRERELEASE]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid Talos version {input:?}: expected [v]MAJOR.MINOR.PATCH[-PRERELEASE], e.g. v1.10.3"
)]
pub struct InvalidVersion {
    /// The string as received.
    pub input: String,
}

impl TalosVersion {
    /// Builds a release version from its three numbers.
    pub fn new(major: u64, minor: u64, patch: u64) -> Self {
        TalosVersion(semver::Version::new(major, minor, patch))
    }

    /// Parses like Go's `semver.ParseTolerant`: surrounding spaces and a `v`
    /// prefix are dropped, and missing minor/patch parts are taken as zero
    /// (`v1.5` is `1.5.0`). Used for registry tags only.
    pub fn parse_tolerant(tag: &str) -> Result<Self, InvalidVersion> {
        let invalid = || InvalidVersion {
            input: tag.to_owned(),
        };
        let trimmed = tag.trim();
        let trimmed = trimmed.strip_prefix('v').unwrap_or(trimmed);
        // Split off pre-release/build before padding the numeric core.
        let core_end = trimmed.find(['-', '+']).unwrap_or(trimmed.len());
        let (core, rest) = trimmed.split_at(core_end);
        let parts = core.split('.').count();
        let padded = match parts {
            1 => format!("{core}.0.0{rest}"),
            2 => format!("{core}.0{rest}"),
            _ => trimmed.to_owned(),
        };
        semver::Version::parse(&padded)
            .map(TalosVersion)
            .map_err(|_| invalid())
    }

    /// Major version number.
    pub fn major(&self) -> u64 {
        self.0.major
    }

    /// Minor version number.
    pub fn minor(&self) -> u64 {
        self.0.minor
    }

    /// Patch version number.
    pub fn patch(&self) -> u64 {
        self.0.patch
    }

    /// The pre-release part (`rc.1`), empty for a release.
    pub fn pre_release(&self) -> &str {
        self.0.pre.as_str()
    }

    /// Whether this is a pre-release (alpha, beta, rc).
    pub fn is_pre_release(&self) -> bool {
        !self.0.pre.is_empty()
    }

    /// `major.minor.patch` with the pre-release and build parts dropped; this
    /// is what version quirks compare.
    pub fn release_core(&self) -> (u64, u64, u64) {
        (self.0.major, self.0.minor, self.0.patch)
    }

    /// The version without the `v` prefix (`1.10.3`), as upstream prints it in
    /// `version X is not available`.
    pub fn without_v(&self) -> String {
        self.0.to_string()
    }

    /// The tag form with the `v` prefix (`v1.10.3`), used in URLs and image tags.
    pub fn tag(&self) -> String {
        format!("v{}", self.0)
    }

    /// Whether this version is at least `major.minor.patch`, comparing the
    /// release core only (a pre-release of 1.14.0 counts as 1.14.0).
    pub fn core_at_least(&self, major: u64, minor: u64, patch: u64) -> bool {
        self.release_core() >= (major, minor, patch)
    }
}

impl FromStr for TalosVersion {
    type Err = InvalidVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bare = s.strip_prefix('v').unwrap_or(s);
        semver::Version::parse(bare)
            .map(TalosVersion)
            .map_err(|_| InvalidVersion {
                input: s.to_owned(),
            })
    }
}

impl fmt::Display for TalosVersion {
    /// Prints the tag form, `v1.10.3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

impl Ord for TalosVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        // SemVer precedence; build metadata only breaks ties so the order is total.
        self.0
            .cmp_precedence(&other.0)
            .then_with(|| self.0.build.cmp(&other.0.build))
    }
}

impl PartialOrd for TalosVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl serde::Serialize for TalosVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> TalosVersion {
        s.parse().unwrap()
    }

    #[test]
    fn accepts_with_and_without_v() {
        assert_eq!(v("v1.10.3"), v("1.10.3"));
        assert_eq!(v("1.10.3").to_string(), "v1.10.3");
        assert_eq!(v("v1.10.3").without_v(), "1.10.3");
        assert_eq!(v("v1.14.0-rc.1").tag(), "v1.14.0-rc.1");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "1.5", "v1", "", "v", "latest", "1.5.0.1", "01.5.0", "1.5.0-", "vv1.5.0",
        ] {
            let err = bad.parse::<TalosVersion>().unwrap_err();
            assert!(
                err.to_string().starts_with("invalid Talos version"),
                "{bad}"
            );
        }
    }

    #[test]
    fn orders_pre_releases_before_release() {
        let mut vs = [
            v("1.14.0"),
            v("1.14.0-rc.1"),
            v("1.14.0-alpha.2"),
            v("1.13.9"),
            v("1.14.0-beta.0"),
        ];
        vs.sort();
        let tags: Vec<String> = vs.iter().map(|x| x.tag()).collect();
        assert_eq!(
            tags,
            [
                "v1.13.9",
                "v1.14.0-alpha.2",
                "v1.14.0-beta.0",
                "v1.14.0-rc.1",
                "v1.14.0"
            ]
        );
    }

    #[test]
    fn tolerant_parse_pads_and_strips() {
        assert_eq!(TalosVersion::parse_tolerant(" v1.5 ").unwrap(), v("1.5.0"));
        assert_eq!(TalosVersion::parse_tolerant("v2").unwrap(), v("2.0.0"));
        assert_eq!(
            TalosVersion::parse_tolerant("v1.7-alpha.1").unwrap(),
            v("1.7.0-alpha.1")
        );
        assert!(TalosVersion::parse_tolerant("latest").is_err());
        assert!(TalosVersion::parse_tolerant("sha256-abc.sig").is_err());
    }

    #[test]
    fn core_comparison_ignores_pre_release() {
        assert!(v("1.14.0-alpha.1").core_at_least(1, 14, 0));
        assert!(!v("1.13.99").core_at_least(1, 14, 0));
    }
}

//! Checksum side files: `<asset>.sha256` and `<asset>.sha512` answer
//! `<hex>  <filename>\n` (the `sha256sum` format) for the asset they suffix.
//!
//! They are split off before the asset path is parsed, as upstream does, so
//! the checksum of any valid asset path is itself a valid path.

use std::fmt;

/// A checksum algorithm offered as a path suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Checksum {
    /// SHA-256 (`.sha256`).
    Sha256,
    /// SHA-512 (`.sha512`).
    Sha512,
}

impl Checksum {
    /// Every algorithm.
    pub const ALL: [Checksum; 2] = [Checksum::Sha256, Checksum::Sha512];

    /// The algorithm name (`sha256`, `sha512`).
    pub fn as_str(self) -> &'static str {
        match self {
            Checksum::Sha256 => "sha256",
            Checksum::Sha512 => "sha512",
        }
    }

    /// The path suffix that requests it (`.sha256`, `.sha512`).
    pub fn suffix(self) -> &'static str {
        match self {
            Checksum::Sha256 => ".sha256",
            Checksum::Sha512 => ".sha512",
        }
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Splits `.sha256` / `.sha512` off a requested path (they answer
/// `<hex>  <filename>\n`). Only one suffix is removed; a path without one is
/// returned unchanged with `None`.
pub fn split_checksum_suffix(path: &str) -> (&str, Option<Checksum>) {
    Checksum::ALL
        .into_iter()
        .find_map(|c| path.strip_suffix(c.suffix()).map(|rest| (rest, Some(c))))
        .unwrap_or((path, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_one_suffix() {
        for (input, want_path, want_sum) in [
            (
                "metal-amd64.iso.sha256",
                "metal-amd64.iso",
                Some(Checksum::Sha256),
            ),
            (
                "metal-amd64.raw.zst.sha512",
                "metal-amd64.raw.zst",
                Some(Checksum::Sha512),
            ),
            ("kernel-amd64", "kernel-amd64", None),
            ("x.sha256.sha512", "x.sha256", Some(Checksum::Sha512)),
            (".sha256", "", Some(Checksum::Sha256)),
            ("metal-amd64.iso.SHA256", "metal-amd64.iso.SHA256", None),
            ("metal-amd64.iso.sha1", "metal-amd64.iso.sha1", None),
        ] {
            assert_eq!(
                split_checksum_suffix(input),
                (want_path, want_sum),
                "{input}"
            );
        }
    }

    #[test]
    fn names() {
        assert_eq!(Checksum::Sha256.to_string(), "sha256");
        assert_eq!(Checksum::Sha512.suffix(), ".sha512");
    }
}

//! CPU architectures Talos is built for.
//!
//! Talos ships `amd64` and `arm64` only. Requests may also use the names iPXE
//! substitutes for `${buildarch}` (`x86_64`, `i386`), which upstream maps to
//! `amd64`; we additionally accept `aarch64` (iPXE's arm64 name), which upstream
//! rejects, so that `metal-${buildarch}` works on arm64 iPXE builds too.

use std::fmt;
use std::str::FromStr;

/// A Talos target architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    /// 64-bit x86.
    Amd64,
    /// 64-bit ARM.
    Arm64,
}

/// An architecture name that is neither a Talos arch nor a known alias.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid architecture: {0:?}")]
pub struct InvalidArch(pub String);

impl Arch {
    /// Every architecture, in the order upstream lists them.
    pub const ALL: [Arch; 2] = [Arch::Amd64, Arch::Arm64];

    /// The canonical (Go `GOARCH`) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }
}

impl FromStr for Arch {
    type Err = InvalidArch;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "amd64" | "x86_64" | "i386" => Ok(Arch::Amd64),
            "arm64" | "aarch64" => Ok(Arch::Arm64),
            other => Err(InvalidArch(other.to_owned())),
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_normalise() {
        for (input, want) in [
            ("amd64", Arch::Amd64),
            ("x86_64", Arch::Amd64),
            ("i386", Arch::Amd64),
            ("arm64", Arch::Arm64),
            ("aarch64", Arch::Arm64),
        ] {
            assert_eq!(input.parse::<Arch>(), Ok(want), "{input}");
        }
    }

    #[test]
    fn unknown_arch_is_named_in_the_error() {
        let err = "rpi_generic-arm64".parse::<Arch>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid architecture: "rpi_generic-arm64""#
        );
    }
}

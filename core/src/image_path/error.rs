//! Why an image path was refused.
//!
//! Every variant is a client error (HTTP 400). The texts are upstream's where
//! upstream has one; the frontend prefixes them with
//! `error parsing profile from path: `, as upstream does.

use crate::arch::InvalidArch;
use crate::platform::InvalidPlatform;

/// An image path that does not name a boot asset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A `<platform>-<arch>` part without any `-` (upstream text).
    #[error("invalid platform-arch: {0:?}")]
    InvalidPlatformArch(String),
    /// The architecture part is not a known architecture or alias (upstream text).
    #[error(transparent)]
    InvalidArch(#[from] InvalidArch),
    /// A disk image path without a `.raw`, `.qcow2`, `.vhd` or `.ova` extension;
    /// carries the path with its compression suffix already removed (upstream text).
    #[error("invalid profile path: {0:?}")]
    InvalidProfilePath(String),
    /// The platform part is not a Talos platform. Upstream accepts any string
    /// here and fails later with a 500; we refuse early and list valid names.
    #[error(transparent)]
    InvalidPlatform(#[from] InvalidPlatform),
}

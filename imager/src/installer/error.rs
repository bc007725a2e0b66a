//! Failures of building an installer image, each naming the input at fault.

use std::path::PathBuf;

use factory_core::arch::Arch;
use factory_core::registry::Digest;

use crate::oci_write::OciWriteError;
use crate::pull::PullError;

/// A failure while building an installer image or its index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallerError {
    /// Pulling the base image failed.
    #[error("pulling the base installer: {0}")]
    Pull(#[from] PullError),
    /// Writing a layer, the image or its index failed.
    #[error(transparent)]
    Write(#[from] OciWriteError),
    /// Local file I/O failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The base image's config blob is unusable.
    #[error("base installer config {digest}: {reason}")]
    BaseConfig {
        /// The config blob.
        digest: Digest,
        /// What is wrong.
        reason: String,
    },
    /// The base image is for another platform than the one being built.
    #[error("base installer {digest} is for {found}, not linux/{expected}")]
    BasePlatform {
        /// The base image manifest.
        digest: Digest,
        /// `os/architecture` of the base config.
        found: String,
        /// The architecture being built.
        expected: Arch,
    },
    /// The base image's manifest, config and layer files disagree.
    #[error("base installer {digest}: {reason}")]
    BaseLayers {
        /// The base image manifest.
        digest: Digest,
        /// What disagrees.
        reason: String,
    },
    /// A base layer has a media type an OCI image cannot carry.
    #[error("base installer layer {digest} has unsupported media type {media_type:?}")]
    UnsupportedLayer {
        /// The layer.
        digest: Digest,
        /// Its media type.
        media_type: String,
    },
    /// The boot artifacts do not match what the Talos version installs.
    #[error("Talos {version}{secureboot} installers carry {needs}")]
    WrongArtifacts {
        /// The version being built.
        version: String,
        /// ` (SecureBoot)` or nothing.
        secureboot: &'static str,
        /// What they carry.
        needs: &'static str,
    },
    /// A file to put in a layer is not what it must be.
    #[error("{path}: {reason}")]
    BadInput {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
    /// A symbolic link in the overlay points outside it.
    #[error("{link} points outside the overlay root {root}")]
    LinkEscapes {
        /// The link.
        link: PathBuf,
        /// The overlay root.
        root: PathBuf,
    },
    /// The overlay installer name is not a single file name.
    #[error("overlay installer name {0:?} must be one path component")]
    InvalidOverlayInstaller(String),
    /// A walked tree or an input is over a limit.
    #[error("{what} exceeds the limit of {limit}")]
    Limit {
        /// What is over.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// Two inputs would land on the same path in one layer.
    #[error("two inputs for {0} in one layer")]
    DuplicatePath(String),
    /// The images given for an index are not one linux/amd64 and one
    /// linux/arm64.
    #[error("an installer index needs exactly linux/amd64 and linux/arm64, got [{0}]")]
    IndexPlatforms(String),
}

impl InstallerError {
    /// An [`InstallerError::Io`] maker for `map_err`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| InstallerError::Io {
            action,
            path,
            source,
        }
    }
}

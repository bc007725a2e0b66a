//! Failures of mirroring, each naming the version, image or file involved.

use std::path::PathBuf;

use factory_core::registry::Digest;
use factory_core::version::TalosVersion;

use crate::catalog::CatalogError;
use crate::pull::PullError;

/// A failure while mirroring releases.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// The release's catalog could not be read from the source.
    #[error("reading the catalog of {version}: {source}")]
    Catalog {
        /// The release.
        version: TalosVersion,
        /// The error.
        #[source]
        source: CatalogError,
    },
    /// Pulling from the source failed.
    #[error("pulling {what}: {source}")]
    Pull {
        /// What was being pulled (`siderolabs/imager:v1.12.4`, ...).
        what: String,
        /// The error.
        #[source]
        source: PullError,
    },
    /// The target registry refused or failed a request.
    #[error("{action} {reference}: {source}")]
    Push {
        /// What was being done (`pushing blob to`, ...).
        action: &'static str,
        /// The target reference.
        reference: String,
        /// The client's error.
        #[source]
        source: Box<oci_client::errors::OciDistributionError>,
    },
    /// Writing the target layout failed.
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
    /// An index nests deeper than an image index of image manifests.
    #[error("{repository}@{digest}: indexes nested more than {limit} deep")]
    TooDeep {
        /// The repository.
        repository: String,
        /// The manifest at the limit.
        digest: Digest,
        /// The nesting limit.
        limit: usize,
    },
    /// A catalog reference has no tag to mirror it under.
    #[error("catalog reference {reference:?} has no tag")]
    Untagged {
        /// The reference.
        reference: String,
    },
}

impl MirrorError {
    pub(super) fn pull(what: impl Into<String>) -> impl FnOnce(PullError) -> Self {
        let what = what.into();
        move |source| MirrorError::Pull { what, source }
    }

    pub(super) fn io(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_owned();
        move |source| MirrorError::Io {
            action,
            path,
            source,
        }
    }

    pub(super) fn push(
        action: &'static str,
        reference: &oci_client::Reference,
    ) -> impl FnOnce(oci_client::errors::OciDistributionError) -> Self {
        let reference = reference.whole();
        move |source| MirrorError::Push {
            action,
            reference,
            source: Box::new(source),
        }
    }
}

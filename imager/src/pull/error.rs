//! Failures of pulling, each naming what was being fetched.

use std::path::PathBuf;

use factory_core::arch::Arch;
use factory_core::registry::Digest;

/// A failure while pulling upstream content.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The registry refused or failed a request.
    #[error("{action} {repository}: {source}")]
    Registry {
        /// What was being done (`fetching manifest of`, ...).
        action: &'static str,
        /// The upstream repository.
        repository: String,
        /// The client's error.
        #[source]
        source: Box<oci_client::errors::OciDistributionError>,
    },
    /// Content did not hash to the digest it was asked for.
    #[error("{what} failed verification: its content hashes to {actual}")]
    DigestMismatch {
        /// What was fetched.
        what: String,
        /// The digest of what arrived.
        actual: Digest,
    },
    /// An index had no `linux/<arch>` entry.
    #[error("{repository}:{reference} has no linux/{arch} image")]
    NoPlatform {
        /// The repository.
        repository: String,
        /// Tag or digest.
        reference: String,
        /// The architecture asked for.
        arch: Arch,
    },
    /// An index pointed at another index where an image was expected.
    #[error("{repository}@{digest} is an index inside an index")]
    NestedIndex {
        /// The repository.
        repository: String,
        /// The nested index.
        digest: String,
    },
    /// A manifest was not valid JSON of a known kind.
    #[error("invalid manifest {digest}: {reason}")]
    InvalidManifest {
        /// Its digest.
        digest: Digest,
        /// What is wrong.
        reason: String,
    },
    /// The tag list is longer than we are willing to walk.
    #[error("{repository} has more than {limit} tags")]
    TooManyTags {
        /// The repository.
        repository: String,
        /// The limit.
        limit: usize,
    },
    /// A signature check failed.
    #[error("signature of {repository}@{digest}: {reason}")]
    Signature {
        /// The repository.
        repository: String,
        /// The signed manifest.
        digest: Digest,
        /// Why it does not verify.
        reason: String,
    },
    /// A tag or blob asked of an OCI layout is not in it.
    #[error("{what} is not in the OCI layout {layout}")]
    NotInLayout {
        /// The layout directory.
        layout: PathBuf,
        /// What was asked for (`siderolabs/imager:v1.12.4`, `blob sha256:...`).
        what: String,
    },
    /// A directory is not a usable OCI layout.
    #[error("OCI layout {path}: {reason}")]
    InvalidLayout {
        /// The layout directory or file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file is larger than we read.
    #[error("{what} is {size} bytes (limit {limit})")]
    TooLarge {
        /// The file.
        what: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
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
}

impl PullError {
    /// Whether upstream could not be reached or would not serve: worth
    /// retrying later (a 503 to clients). Content that arrived and failed its
    /// digest is not: the registry serves the same bytes next time, and the
    /// build fails the same way.
    pub fn is_upstream_unavailable(&self) -> bool {
        match self {
            PullError::Registry { source, .. } => !matches!(
                **source,
                oci_client::errors::OciDistributionError::DigestError(_)
            ),
            _ => false,
        }
    }

    pub(crate) fn registry(
        action: &'static str,
        repository: &str,
        source: oci_client::errors::OciDistributionError,
    ) -> Self {
        PullError::Registry {
            action,
            repository: repository.to_owned(),
            source: Box::new(source),
        }
    }
}

//! Why the platform could not open, and how internal failures reach the
//! frontend as [`PlatformError`]s.

use std::path::PathBuf;

use factory_core::frontend::PlatformError;
use factory_imager::build::BuildError;
use factory_imager::pull::PullError;

use crate::store::StoreError;

/// [`StandalonePlatform::open`](super::StandalonePlatform::open) failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A directory or file of the data directory could not be made or read.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The signing key file is not a usable P-256 key (or none could be made).
    #[error("signing key {path}: {source}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: factory_imager::signing::KeyError,
    },
    /// The store could not be opened.
    #[error("opening the store: {0}")]
    Store(#[from] StoreError),
    /// The upstream puller could not be set up (its cache directory, or an
    /// OCI layout upstream that is not a layout).
    #[error("setting up the upstream puller: {0}")]
    Upstream(#[from] PullError),
}

impl OpenError {
    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_owned();
        move |source| OpenError::Io {
            action,
            path,
            source,
        }
    }
}

/// Storage failures are ours, not the client's: logged, answered with a
/// generic 500.
pub(crate) fn store_error(error: StoreError) -> PlatformError {
    tracing::error!(%error, "storage failure");
    PlatformError::Internal(error.to_string())
}

/// A blocking task that panicked or was cancelled.
pub(crate) fn join_error(error: tokio::task::JoinError) -> PlatformError {
    tracing::error!(%error, "a storage task failed");
    PlatformError::Internal(format!("a storage task failed: {error}"))
}

/// Upstream being unreachable is a 503 the client may retry; anything else
/// that stops a build is the build failing (500 with the reason).
pub(crate) fn build_error(error: BuildError) -> PlatformError {
    match &error {
        BuildError::Pull(pull) if pull.is_upstream_unavailable() => {
            PlatformError::Unavailable(format!("upstream registry: {error}"))
        }
        _ => PlatformError::BuildFailed(error.to_string()),
    }
}

//! Running the three job kinds, and how their failures are classified.
//!
//! Every job is idempotent: it first looks for a verified answer in the
//! bucket and builds only when there is none, inside the key's single
//! flight, so a retried or duplicated job costs one lookup.

pub mod asset;
pub mod catalogs;
pub mod installer;

use factory_core::dispatch::{DispatchFailure, FailureKind, JobError};
use factory_imager::build::BuildError;

use crate::store::StoreError;

/// Why a job did not produce an outcome.
#[derive(Debug, thiserror::Error)]
pub enum JobFailure {
    /// The job itself is wrong (400/409).
    #[error(transparent)]
    Job(#[from] JobError),
    /// Upstream or the bucket is unreachable (503).
    #[error("{0}")]
    Unavailable(String),
    /// The build ran and failed (500).
    #[error("{0}")]
    Failed(String),
}

impl JobFailure {
    /// The wire form.
    pub fn to_dispatch(&self) -> DispatchFailure {
        match self {
            JobFailure::Job(error) => DispatchFailure::from(error),
            JobFailure::Unavailable(message) => DispatchFailure {
                kind: FailureKind::Unavailable,
                message: message.clone(),
            },
            JobFailure::Failed(message) => DispatchFailure {
                kind: FailureKind::BuildFailed,
                message: message.clone(),
            },
        }
    }
}

impl From<StoreError> for JobFailure {
    fn from(error: StoreError) -> JobFailure {
        tracing::error!(%error, "object storage failure");
        JobFailure::Unavailable(format!("object storage: {error}"))
    }
}

impl From<BuildError> for JobFailure {
    /// Upstream being unreachable is retryable; anything else (content that
    /// fails its digest included) is the build failing, with its reason.
    fn from(error: BuildError) -> JobFailure {
        match &error {
            BuildError::Pull(pull) if pull.is_upstream_unavailable() => {
                JobFailure::Unavailable(format!("upstream registry: {error}"))
            }
            _ => JobFailure::Failed(error.to_string()),
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

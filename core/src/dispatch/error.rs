//! Errors of the dispatch protocol, and the failure body a builder answers.

use serde::{Deserialize, Serialize};

/// A job the builder cannot run as asked (answered with 400 or 409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// A field does not parse (schematic, version, path, image name).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The profile cannot be made (upstream's profile errors).
    #[error("error enhancing profile from schematic: {0}")]
    Profile(String),
    /// The builder derived another key than the edge sent: the two ran
    /// different code or catalogs, and building would store bytes under a
    /// key that does not describe them.
    #[error("asset key mismatch: the job says {expected}, the inputs give {actual}")]
    KeyMismatch {
        /// The edge's key.
        expected: String,
        /// The builder's key.
        actual: String,
    },
}

/// A builder answer the edge must not store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeError {
    /// The answer is not the JSON this protocol defines.
    #[error("malformed builder answer: {0}")]
    Malformed(String),
    /// The answer is for another job kind than asked.
    #[error("the builder answered a {actual} outcome to a {expected} job")]
    WrongKind {
        /// What was asked.
        expected: &'static str,
        /// What came back.
        actual: &'static str,
    },
    /// A signed record does not verify or names another key.
    #[error("asset record refused: {0}")]
    Record(String),
    /// A manifest's bytes do not hash to its digest, or it is not referenced
    /// where it must be.
    #[error("manifest refused: {0}")]
    Manifest(String),
    /// The cosign signature does not verify or signs another digest.
    #[error("installer signature refused: {0}")]
    Signature(String),
}

/// How a builder classifies a failure; the edge maps it to its own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FailureKind {
    /// The request was not authenticated (401).
    Unauthorized,
    /// The job was malformed, or its body too large (400/413).
    BadJob,
    /// The builder derived other keys than the job names (409): the edge
    /// and the builder run different code or catalogs; retrying will not
    /// help until they agree.
    KeyMismatch,
    /// The build ran and failed (500); the message is for the client.
    BuildFailed,
    /// Upstream or storage was unreachable; retry later (503).
    Unavailable,
}

/// The JSON body of every non-200 builder answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DispatchFailure {
    /// The class of failure.
    pub kind: FailureKind,
    /// A human-readable reason.
    pub message: String,
}

impl DispatchFailure {
    /// The HTTP status a builder answers this failure with.
    pub fn status(&self) -> u16 {
        match self.kind {
            FailureKind::Unauthorized => 401,
            FailureKind::BadJob => 400,
            FailureKind::KeyMismatch => 409,
            FailureKind::BuildFailed => 500,
            FailureKind::Unavailable => 503,
        }
    }
}

impl From<&JobError> for DispatchFailure {
    /// A key mismatch is [`FailureKind::KeyMismatch`]; every other job error
    /// is [`FailureKind::BadJob`].
    fn from(error: &JobError) -> DispatchFailure {
        let kind = match error {
            JobError::KeyMismatch { .. } => FailureKind::KeyMismatch,
            JobError::Invalid { .. } | JobError::Profile(_) => FailureKind::BadJob,
        };
        DispatchFailure {
            kind,
            message: error.to_string(),
        }
    }
}

//! The edge ↔ builder protocol: what an edge asks a remote builder to do,
//! what the builder answers, and how both ends authenticate a request.
//!
//! The Cloudflare Worker cannot build; on a miss it sends a [`BuildJob`] (JSON)
//! to the Lambda builder and stores what comes back. Three rules shape the
//! format:
//!
//! - **The builder recomputes, the edge does not trust.** A job carries the
//!   *inputs* (canonical schematic YAML, version, path, the release catalog the
//!   edge resolved against) and the key the edge expects. The builder derives
//!   the profile with this same crate and refuses the job if the key differs,
//!   so both ends always agree on what a key means. The answer carries signed
//!   statements ([`crate::record`]) and a cosign signature that the edge
//!   verifies with the public key alone ([`outcome`]) before storing anything.
//! - **Bytes never travel in the protocol.** Artifacts and OCI blobs are in the
//!   object store under content addresses ([`object_key`]) before the builder
//!   answers; the answer names them. Manifests (small) travel inline.
//! - **Requests are signed twice.** SigV4 for the Lambda Function URL (done
//!   by the adapter) and an HMAC over method, path, timestamp, nonce and the
//!   body hash ([`auth`]) that the builder checks itself, refusing stale and
//!   replayed requests even where IAM auth is off (local mode).

pub mod auth;
mod error;
pub mod job;
pub mod outcome;

pub use error::{DispatchFailure, FailureKind, JobError, OutcomeError};
pub use job::{AssetJob, BuildJob, InstallerJob};
pub use outcome::{
    AssetBuilt, BuildOutcome, CatalogsRefreshed, InstallerBuilt, VerifiedInstaller, WireBlob,
    WireManifest,
};

/// The builder's route for every job.
pub const BUILD_PATH: &str = "/build";

/// The largest job or outcome body either end accepts. A job is a catalog
/// (tens of KiB for a release with every extension) plus a schematic (at most
/// [`crate::schematic::MAX_SCHEMATIC_BYTES`]); a catalog refresh answers every
/// release's catalog. Larger bodies are refused unread.
pub const MAX_DISPATCH_BODY: usize = 8 * 1024 * 1024;

/// The object-store key of content-addressed bytes (an artifact or an OCI
/// blob) with this lowercase sha256 hex: `blobs/sha256/<hex>`.
pub fn object_key(sha256_hex: &str) -> String {
    format!("blobs/sha256/{sha256_hex}")
}

#[cfg(test)]
mod tests;

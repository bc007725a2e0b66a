//! The one error type of the generator.
//!
//! Every failure names what was being done and to which file or entry
//! ("writing cpio entry lib/modules/x: ..."), because the generator touches
//! hundreds of paths and a bare `No such file or directory` would be useless.
//! Variants are split by what a caller can act on: missing Debian inputs (run
//! the fetch script), an output directory that is not ours (choose another),
//! a bound that was hit, and plain I/O or format failures.

use std::io;
use std::path::PathBuf;

/// A failure of the synthetic release generator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O step failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path or entry involved.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A Debian input is missing from the inputs directory.
    #[error(
        "missing Debian input {what} (looked for {}); run tests/scripts/fetch-debian-inputs.sh first",
        looked_for.display()
    )]
    MissingInput {
        /// Which input (kernel, busybox, a module, ...).
        what: String,
        /// Where it was expected.
        looked_for: PathBuf,
    },
    /// A Debian input exists but is not what the generator expects.
    #[error("unexpected Debian input {}: {reason}", path.display())]
    BadInput {
        /// The offending file or directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Writing a squashfs image failed.
    #[error("{context}: {source}")]
    Squashfs {
        /// Which image was being written.
        context: String,
        /// backhand's error.
        source: backhand::BackhandError,
    },
    /// Encoding a JSON document failed.
    #[error("{context}: {source}")]
    Json {
        /// Which document was being encoded.
        context: String,
        /// serde_json's error.
        source: serde_json::Error,
    },
    /// A path inside a generated archive is not a clean relative path.
    #[error("invalid archive path {path:?}: {reason}")]
    InvalidPath {
        /// The rejected path.
        path: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A bound of the generator was reached; nothing past it is written.
    #[error("{what}: limit of {limit} reached")]
    Limit {
        /// What was being counted or measured.
        what: String,
        /// The bound.
        limit: u64,
    },
    /// Deriving the test key or signing with it failed.
    #[error("{context}: ECDSA failure")]
    Signing {
        /// What was being signed or encoded.
        context: String,
    },
    /// A requested version is not one of the fixture versions.
    #[error("unknown fixture version {requested:?}; known versions: {known}")]
    UnknownVersion {
        /// What was asked for.
        requested: String,
        /// The fixture versions, comma-separated.
        known: String,
    },
    /// The output directory exists and was not written by this generator, so
    /// it is left alone.
    #[error(
        "output directory {} exists and is not a synthetic release layout (no synthetic-release.json); refusing to replace it",
        path.display()
    )]
    ForeignOutput {
        /// The output directory.
        path: PathBuf,
    },
}

/// The generator's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Attaches context to `io::Result`s.
pub(crate) trait IoContext<T> {
    /// Wraps the error with `context()`, evaluated only on failure.
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io {
            context: context(),
            source,
        })
    }
}

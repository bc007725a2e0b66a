//! Failures of writing OCI content, each naming the file or entry involved.

use std::path::PathBuf;

use factory_core::registry::{Digest, DigestError};

/// A failure while writing layers, images, layouts or archives.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OciWriteError {
    /// Local file I/O failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`creating`, `reading`, ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Writing one entry of a tar stream (a layer or an archive) failed.
    #[error("writing tar entry {entry}: {source}")]
    TarEntry {
        /// The entry's path in the archive.
        entry: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Finishing a tar stream or its compression failed.
    #[error("finishing {what}: {source}")]
    Finish {
        /// What was being finished.
        what: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A path inside an archive is not a clean relative path.
    #[error("tar entry path {path:?}: {reason}")]
    InvalidEntryPath {
        /// The path (cut to a bounded length).
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An archive would get more entries than the limit.
    #[error("more than {limit} entries in one tar stream")]
    TooManyEntries {
        /// The limit.
        limit: usize,
    },
    /// A file is larger than one tar entry may hold.
    #[error("{path} is {size} bytes, more than a tar entry holds ({limit})")]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A file changed size while it was being copied into an archive.
    #[error("{path} changed while being archived: expected {expected} bytes")]
    FileChanged {
        /// The file.
        path: PathBuf,
        /// The size recorded in the entry header.
        expected: u64,
    },
    /// A blob file does not have the size its descriptor says.
    #[error("blob {digest} at {path} is {actual} bytes, its descriptor says {expected}")]
    BlobSize {
        /// The blob.
        digest: Digest,
        /// Its file.
        path: PathBuf,
        /// The descriptor's size.
        expected: u64,
        /// The file's size.
        actual: u64,
    },
    /// A creation time is not an RFC 3339 timestamp Go could write.
    #[error("created time {0:?} is not an RFC 3339 timestamp in years 0000-9999")]
    InvalidCreated(String),
    /// An image has no layers, or more than the limit.
    #[error("an image needs 1 to {limit} layers, got {count}")]
    LayerCount {
        /// How many it got.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An index was asked for with no images, or with one without a platform.
    #[error("invalid index: {0}")]
    InvalidIndex(&'static str),
    /// A tag cannot name an image in a layout or archive.
    #[error("invalid tag {tag:?}: {reason}")]
    InvalidTag {
        /// The tag (cut to a bounded length).
        tag: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// JSON encoding failed.
    #[error("encoding {what} JSON: {source}")]
    Json {
        /// What was being encoded.
        what: &'static str,
        /// The error.
        #[source]
        source: serde_json::Error,
    },
    /// A computed hash did not form a digest (cannot happen with SHA-256).
    #[error("internal: {0}")]
    Digest(#[from] DigestError),
}

impl OciWriteError {
    /// An [`OciWriteError::Io`] maker for `map_err`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| OciWriteError::Io {
            action,
            path,
            source,
        }
    }
}

/// At most this many characters of untrusted text are repeated in errors.
pub(crate) const MAX_ECHO_CHARS: usize = 256;

/// `text` cut to [`MAX_ECHO_CHARS`] characters, for error messages.
pub(crate) fn echo(text: &str) -> String {
    text.chars().take(MAX_ECHO_CHARS).collect()
}

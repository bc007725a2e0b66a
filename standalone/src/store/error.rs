//! Why a storage operation failed, naming the operation and the file or table.
//!
//! redb reports through several error types (transaction, table, storage,
//! commit); they are all folded into `redb::Error` and carried with the
//! action that failed, so a log line reads "committing schematic 3765...: ...".

use std::path::PathBuf;

/// A failure of the key-value store or the blob directory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The key-value store failed.
    #[error("{action}: {source}")]
    Db {
        /// What was being done.
        action: String,
        /// redb's error.
        #[source]
        source: Box<redb::Error>,
    },
    /// File I/O failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A stored value does not decode (written by another version, or damaged).
    #[error("stored {what} is malformed: {reason}")]
    Malformed {
        /// The value.
        what: String,
        /// Why.
        reason: String,
    },
    /// A blob name is not 64 lowercase hex digits (never turned into a path).
    #[error("invalid blob name {0:?}: expected 64 lowercase hex digits")]
    InvalidName(String),
    /// A value is larger than the store accepts.
    #[error("{what} is {len} bytes, more than the limit of {max}")]
    TooLarge {
        /// The value.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl StoreError {
    /// Wraps a redb error with the action that failed.
    pub(crate) fn db<E: Into<redb::Error>>(action: impl Into<String>) -> impl FnOnce(E) -> Self {
        let action = action.into();
        move |e| StoreError::Db {
            action,
            source: Box::new(e.into()),
        }
    }

    /// Wraps an I/O error with the action and path.
    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_owned();
        move |source| StoreError::Io {
            action,
            path,
            source,
        }
    }
}

//! Errors of the initramfs build, each naming the extension and the step.

use std::io;

use crate::extension::{TreeError, ValidationError};

use super::materialize::MaterializeError;
use super::modules_dep::ModulesDepError;
use super::squashfs::SquashfsError;

/// Why an initramfs could not be built.
#[derive(Debug, thiserror::Error)]
pub enum InitramfsError {
    /// An I/O step failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (`writing cpio entry usr/lib/firmware/x`).
        context: String,
        /// The cause.
        source: io::Error,
    },
    /// An extension is not compatible or not acceptable.
    #[error("error validating extension {extension:?}: {source}")]
    Validation {
        /// The extension's name.
        extension: String,
        /// The cause.
        source: ValidationError,
    },
    /// Following links while moving firmware or microcode failed.
    #[error("extension {extension:?}: {source}")]
    Materialize {
        /// The extension's name.
        extension: String,
        /// The cause.
        source: MaterializeError,
    },
    /// A microcode glob matched something that is not a file.
    #[error("extension {extension:?}: microcode {path} is not a regular file")]
    Microcode {
        /// The extension's name.
        extension: String,
        /// The entry.
        path: String,
    },
    /// Two extensions put a file and a directory at the same initramfs path.
    #[error(
        "extension {extension:?}: {path} is a directory in one extension and a file in another"
    )]
    Conflict {
        /// The extension's name.
        extension: String,
        /// The initramfs path.
        path: String,
    },
    /// Editing an extension tree failed.
    #[error("extension {extension:?}: {source}")]
    Tree {
        /// The extension's name.
        extension: String,
        /// The cause.
        source: TreeError,
    },
    /// Writing a squashfs image failed.
    #[error("error compressing extension {extension:?}: {source}")]
    Squashfs {
        /// The extension's name.
        extension: String,
        /// The cause.
        source: SquashfsError,
    },
    /// The segment cache could not be read or written.
    #[error("{0}")]
    SegmentCache(#[from] crate::segment_cache::SegmentCacheError),
    /// The `modules.dep` extension could not be built.
    #[error("building the modules.dep extension: {0}")]
    ModulesDep(#[from] ModulesDepError),
}

pub(crate) fn io_context(context: impl Into<String>) -> impl FnOnce(io::Error) -> InitramfsError {
    let context = context.into();
    move |source| InitramfsError::Io { context, source }
}

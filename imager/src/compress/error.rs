//! The one error type of output compression.
//!
//! Each variant names the step that failed and the format or file it failed
//! on, so a log line reads like "writing zstd stream: ..." without the caller
//! adding context. I/O errors from the underlying writer are kept as sources.
//! Errors raised inside [`std::io::Write::write`] (where only `io::Error` can
//! be returned) wrap a [`CompressError`] as the `io::Error`'s inner error, and
//! [`CompressError::from_io`] unwraps it again on the way out.

use std::io;
use std::path::PathBuf;

/// Why compressing an output failed.
#[derive(Debug, thiserror::Error)]
pub enum CompressError {
    /// The level override is outside what the format accepts.
    #[error("compression level {level} is out of range for {format} (accepted: {min}..={max})")]
    Level {
        /// The format's name (`xz`, `zstd`, `gzip`).
        format: &'static str,
        /// The requested level.
        level: u32,
        /// The lowest accepted level.
        min: u32,
        /// The highest accepted level.
        max: u32,
    },
    /// The xz encoder could not be set up (bad options or out of memory).
    #[error("creating the xz encoder: {0}")]
    XzInit(#[source] liblzma::stream::Error),
    /// The zstd encoder refused a parameter.
    #[error("creating the zstd encoder ({step}): {source}")]
    ZstdInit {
        /// Which parameter was being set.
        step: &'static str,
        /// What libzstd said.
        #[source]
        source: io::Error,
    },
    /// The zstd job size is outside the accepted range.
    #[error("zstd job size {size} is out of range (accepted: {min}..={max} bytes)")]
    ZstdJobSize {
        /// The requested size.
        size: u32,
        /// The smallest accepted size.
        min: u32,
        /// The largest accepted size.
        max: u32,
    },
    /// A gzip worker thread could not be started.
    #[error("starting gzip worker thread: {0}")]
    GzipThread(#[source] io::Error),
    /// A `.tar.gz` was asked for without [`CompressOptions::input_size`](super::CompressOptions::input_size).
    #[error("tar output needs the input size up front (CompressOptions::input_size is None)")]
    TarSizeUnknown,
    /// The tar entry name is not a plain file name that fits the header.
    #[error("tar entry name {name:?} is not accepted: {reason}")]
    TarEntryName {
        /// The rejected name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// More or fewer bytes were written than [`CompressOptions::input_size`](super::CompressOptions::input_size) declared.
    #[error("the input size was declared as {declared} bytes but {written} were written")]
    InputSize {
        /// The declared size (for tar: the size in the entry header).
        declared: u64,
        /// The bytes written (on overflow: including the refused write).
        written: u64,
    },
    /// Writing to or finishing the compressed stream failed.
    #[error("{step} {format} stream: {source}")]
    Stream {
        /// `writing` or `finishing`.
        step: &'static str,
        /// The format's name.
        format: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Opening or reading the input file failed.
    #[error("reading {}: {source}", path.display())]
    ReadInput {
        /// The input file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Creating the output file failed.
    #[error("creating {}: {source}", path.display())]
    CreateOutput {
        /// The output file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Compressing into the output file failed.
    #[error("writing {}: {source}", path.display())]
    Output {
        /// The output file.
        path: PathBuf,
        /// What went wrong in the stream.
        #[source]
        source: Box<CompressError>,
    },
}

impl CompressError {
    /// Turns an `io::Error` that came out of a stream step back into a
    /// [`CompressError`]: one raised by this module inside `write` is
    /// unwrapped, anything else becomes [`CompressError::Stream`].
    pub(crate) fn from_io(step: &'static str, format: &'static str, err: io::Error) -> Self {
        if !err
            .get_ref()
            .is_some_and(|inner| inner.is::<CompressError>())
        {
            return CompressError::Stream {
                step,
                format,
                source: err,
            };
        }
        let kind = err.kind();
        let source = match err
            .into_inner()
            .map(|inner| inner.downcast::<CompressError>())
        {
            Some(Ok(ours)) => return *ours,
            // Not reachable after the check above; kept total rather than panicking.
            Some(Err(other)) => io::Error::new(kind, other),
            None => io::Error::from(kind),
        };
        CompressError::Stream {
            step,
            format,
            source,
        }
    }

    /// Wraps this error as an `io::Error` (for `Write::write`), keeping it
    /// recoverable by [`CompressError::from_io`].
    pub(crate) fn into_io(self, kind: io::ErrorKind) -> io::Error {
        io::Error::new(kind, self)
    }
}

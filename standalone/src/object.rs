//! The handle to stored bytes that the platform hands to the HTTP server.
//!
//! An open file rather than a path: a blob that is replaced or removed while
//! a download is in flight keeps streaming the bytes the record named
//! (the blob directory only ever renames complete files into place).

/// A byte range of an open, complete file.
#[derive(Debug)]
pub struct FileSlice {
    /// The file, opened for reading.
    pub file: std::fs::File,
    /// Where the range starts.
    pub offset: u64,
    /// How many bytes to send.
    pub len: u64,
}

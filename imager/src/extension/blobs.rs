//! Content storage for flattened trees: one file per regular-file entry.
//!
//! File contents never live in memory: each regular file read from a layer
//! is copied into `<dir>/<n>` under a name we choose, so nothing an archive
//! says can influence where bytes land on disk. Hard links share a blob;
//! blobs are reference-counted so that content replaced or whited out by a
//! later layer is deleted right away and disk use stays near the size of
//! the final tree.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Identifies one stored blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlobId(u64);

/// A directory of content files with reference counts.
#[derive(Debug)]
pub struct BlobStore {
    dir: PathBuf,
    next: u64,
    refs: HashMap<BlobId, u32>,
}

impl BlobStore {
    /// Creates the store in `dir` (created if missing; it should be empty
    /// and private to this store).
    pub fn create(dir: &Path) -> io::Result<BlobStore> {
        std::fs::create_dir_all(dir)?;
        Ok(BlobStore {
            dir: dir.to_owned(),
            next: 0,
            refs: HashMap::new(),
        })
    }

    /// Copies exactly `size` bytes from `reader` into a new blob.
    pub fn store(&mut self, reader: &mut impl Read, size: u64) -> io::Result<BlobId> {
        let id = BlobId(self.next);
        self.next += 1;
        let path = self.path(id);
        let mut file = File::create_new(&path)?;
        let copied = io::copy(&mut reader.take(size), &mut file)?;
        if copied != size {
            let _ = std::fs::remove_file(&path);
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("entry ended after {copied} of {size} bytes"),
            ));
        }
        file.flush()?;
        self.refs.insert(id, 1);
        Ok(id)
    }

    /// Stores `bytes` as a new blob.
    pub fn store_bytes(&mut self, bytes: &[u8]) -> io::Result<BlobId> {
        self.store(&mut &*bytes, bytes.len() as u64)
    }

    /// Adds a reference (a hard link to the same content).
    pub fn retain(&mut self, id: BlobId) {
        if let Some(count) = self.refs.get_mut(&id) {
            *count += 1;
        }
    }

    /// Drops a reference, deleting the file with the last one.
    pub fn release(&mut self, id: BlobId) -> io::Result<()> {
        let last = match self.refs.get_mut(&id) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => true,
            None => false,
        };
        if last {
            self.refs.remove(&id);
            std::fs::remove_file(self.path(id))?;
        }
        Ok(())
    }

    /// Where the blob's bytes are.
    pub fn path(&self, id: BlobId) -> PathBuf {
        self.dir.join(id.0.to_string())
    }

    /// The directory holding the blobs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

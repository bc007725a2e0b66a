//! A writer that hashes (SHA-256) and counts what passes through it.
//!
//! A layer's two identities, the digest of the compressed blob and the
//! diff ID of the uncompressed tar, are both computed in the one pass that
//! writes the layer, by placing one of these on each side of the
//! compressor. Nothing is buffered beyond what the inner writer buffers.

use std::io::{self, Write};

use factory_core::registry::{Digest, DigestError};
use sha2::{Digest as _, Sha256};

/// See the module docs.
#[derive(Debug)]
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    /// The inner writer, the SHA-256 digest of everything written, and how
    /// many bytes that was.
    pub(crate) fn finish(self) -> Result<(W, Digest, u64), DigestError> {
        let digest = sha256_digest(&self.hasher.finalize())?;
        Ok((self.inner, digest, self.written))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let done = buf.get(..n).unwrap_or(buf);
        self.hasher.update(done);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The [`Digest`] of a raw SHA-256 output.
pub(crate) fn sha256_digest(raw: &[u8]) -> Result<Digest, DigestError> {
    format!("sha256:{}", hex::encode(raw)).parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_counts_what_passes() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"hello ").unwrap();
        w.write_all(b"world").unwrap();
        let (inner, digest, n) = w.finish().unwrap();
        assert_eq!(inner, b"hello world");
        assert_eq!(n, 11);
        assert_eq!(digest, Digest::sha256_of(b"hello world"));
    }
}

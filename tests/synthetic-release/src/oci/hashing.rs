//! A pass-through writer that computes the SHA-256 and length of everything
//! written, so blobs and diff IDs are digested while they stream.

use std::io::{self, Write};
use std::str::FromStr;

use factory_core::registry::Digest;
use sha2::{Digest as _, Sha256};

/// Hashes and counts the bytes written to `inner`.
#[derive(Debug)]
pub(crate) struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Hashing<W> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: W) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// Returns the inner writer, the digest and the byte count.
    pub(crate) fn finish(self) -> (W, Digest, u64) {
        let hex = hex::encode(self.hasher.finalize());
        (self.inner, sha256_digest(&hex), self.size)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or(buf);
        self.hasher.update(written);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `sha256:<hex>` as a [`Digest`]; `hex` comes from a SHA-256 we computed,
/// so the fallback (hashing the text) is never taken.
pub(crate) fn sha256_digest(hex: &str) -> Digest {
    Digest::from_str(&format!("sha256:{hex}")).unwrap_or_else(|_| Digest::sha256_of(hex.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_core() {
        let mut writer = Hashing::new(Vec::new());
        writer.write_all(b"synthetic").unwrap();
        let (bytes, digest, size) = writer.finish();
        assert_eq!(bytes, b"synthetic");
        assert_eq!(size, 9);
        assert_eq!(digest, Digest::sha256_of(b"synthetic"));
    }
}

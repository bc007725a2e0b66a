//! The PE image checksum, computed while the image is written.
//!
//! The `CheckSum` field is the ones'-complement-style sum of the file's
//! little-endian 16-bit words (with the field itself counted as zero), folded
//! to 16 bits, plus the file length. UEFI firmware does not check it and
//! upstream Talos leaves it zero, but the PE specification defines it, and a
//! sum that is additive over the bytes can be kept while streaming: the
//! assembler writes the field as zero, sums every byte it writes, and reports
//! the value so a caller with a seekable output can fill it in (see
//! [`UkiLayout::write_checksum`](super::UkiLayout::write_checksum)) without
//! reading a 100 MB initrd twice.

use std::io::{self, Write};

/// A running PE checksum over a byte stream split at arbitrary points.
#[derive(Debug, Default, Clone)]
pub(crate) struct PeChecksum {
    /// Sum of the completed 16-bit words; at most 2^31 words of 0xffff fit
    /// easily in 64 bits, and folding at the end gives the same value as
    /// folding after every word (both are the ones'-complement sum).
    sum: u64,
    /// The low byte of a word whose high byte has not arrived yet.
    pending: Option<u8>,
}

impl PeChecksum {
    /// Adds bytes that follow the ones already added.
    pub(crate) fn update(&mut self, mut bytes: &[u8]) {
        if let Some(low) = self.pending.take() {
            match bytes.split_first() {
                Some((&high, rest)) => {
                    self.sum += u64::from(u16::from_le_bytes([low, high]));
                    bytes = rest;
                }
                None => {
                    self.pending = Some(low);
                    return;
                }
            }
        }
        let mut words = bytes.chunks_exact(2);
        for word in &mut words {
            if let [low, high] = *word {
                self.sum += u64::from(u16::from_le_bytes([low, high]));
            }
        }
        self.pending = words.remainder().first().copied();
    }

    /// The checksum of a file of `file_len` bytes whose bytes were all added.
    pub(crate) fn finish(&self, file_len: u64) -> u32 {
        let mut sum = self.sum;
        if let Some(low) = self.pending {
            sum += u64::from(low);
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        // The file length is added modulo 2^32, as the reference algorithm does.
        (sum as u32).wrapping_add(file_len as u32)
    }
}

/// A writer that counts and checksums what passes through it.
#[derive(Debug)]
pub(crate) struct ChecksumWriter<W> {
    inner: W,
    checksum: PeChecksum,
    written: u64,
}

impl<W: Write> ChecksumWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        ChecksumWriter {
            inner,
            checksum: PeChecksum::default(),
            written: 0,
        }
    }

    /// Bytes written so far.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Writes all of `bytes`.
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.write_all(bytes)?;
        self.checksum.update(bytes);
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Writes `count` zero bytes.
    pub(crate) fn write_zeros(&mut self, mut count: u64) -> io::Result<()> {
        const ZEROS: [u8; 4096] = [0; 4096];
        while count > 0 {
            let n = count.min(ZEROS.len() as u64) as usize;
            self.write_all(ZEROS.get(..n).unwrap_or_default())?;
            count -= n as u64;
        }
        Ok(())
    }

    /// Flushes the inner writer and returns the checksum of everything written.
    pub(crate) fn finish(mut self) -> io::Result<u32> {
        self.inner.flush()?;
        Ok(self.checksum.finish(self.written))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(bytes: &[u8]) -> u32 {
        // Fold after every word, as the classic implementation does.
        let mut sum: u32 = 0;
        for chunk in bytes.chunks(2) {
            let word = u32::from(chunk[0]) | u32::from(*chunk.get(1).unwrap_or(&0)) << 8;
            sum += word;
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum.wrapping_add(bytes.len() as u32)
    }

    #[test]
    fn split_points_do_not_matter() {
        let data: Vec<u8> = (0..10_007u32).map(|i| (i * 7919 % 251) as u8).collect();
        let whole = {
            let mut c = PeChecksum::default();
            c.update(&data);
            c.finish(data.len() as u64)
        };
        assert_eq!(whole, reference(&data));
        for split in [1usize, 2, 3, 333, 4096, 10_006] {
            let mut c = PeChecksum::default();
            for chunk in data.chunks(split) {
                c.update(chunk);
                c.update(&[]);
            }
            assert_eq!(c.finish(data.len() as u64), whole, "split {split}");
        }
    }

    #[test]
    fn all_ones_folds_like_the_reference() {
        let data = vec![0xffu8; 1000];
        let mut c = PeChecksum::default();
        c.update(&data);
        assert_eq!(c.finish(1000), reference(&data));
        let empty = PeChecksum::default();
        assert_eq!(empty.finish(0), 0);
    }
}

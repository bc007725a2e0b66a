//! A tar archive holding exactly one regular file, written as a stream.
//!
//! Upstream's `.tar.gz` (the GCP image import format) is
//! `tar -cvf - --sparse --sort=name --owner=0 --group=0 --numeric-owner
//! --mtime=@$SOURCE_DATE_EPOCH disk.raw | pigz -6 --no-time`. We write the
//! same archive shape: one GNU-format header (mode 0644, uid and gid 0, no
//! user or group names, the given mtime), the data padded to 512 bytes, two
//! zero blocks, and zero padding up to GNU tar's 10240-byte record.
//!
//! Differences, on purpose:
//! - no GNU sparse entry: the `tar` crate cannot write one, and a sparse map
//!   needs the hole layout before the data, which a stream does not have. The
//!   zeros are stored, so the tar stream is as long as the disk image, but
//!   deflate packs a run of zeros about 1000:1, so a hole costs about 1 KiB of
//!   `.tar.gz` per MiB (the figures are in `benches/compress.sh`'s output),
//!   and GCP reads both forms the same;
//! - the header's size is needed before the data, so the caller must declare
//!   it ([`CompressOptions::input_size`](super::CompressOptions::input_size));
//!   writing more is refused at once, fewer is an error at `finish`. Sizes
//!   past 8 GiB use GNU's base-256 size field, which GNU tar reads.

use std::io::{self, Write};

use super::CompressError;

const BLOCK: u64 = 512;
/// GNU tar's default record: blocking factor 20 x 512 bytes.
const RECORD: u64 = 20 * BLOCK;
/// The name field of a tar header; longer names need extension entries.
const MAX_NAME_LEN: usize = 100;

/// Writes one tar entry of a declared size into `inner`.
#[derive(Debug)]
pub(crate) struct TarEntry<W: Write> {
    inner: W,
    declared: u64,
    written: u64,
}

impl<W: Write> TarEntry<W> {
    /// Checks `name` and writes the entry header for `size` bytes.
    pub(crate) fn start(
        mut inner: W,
        name: &str,
        size: u64,
        mtime: u64,
    ) -> Result<Self, CompressError> {
        let header = header(name, size, mtime)?;
        inner
            .write_all(header.as_bytes())
            .map_err(|e| CompressError::from_io("writing", "tar", e))?;
        Ok(TarEntry {
            inner,
            declared: size,
            written: 0,
        })
    }

    /// The underlying writer.
    pub(crate) fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Checks the size, pads the entry, ends the archive and returns the writer.
    pub(crate) fn finish(mut self) -> Result<W, CompressError> {
        if self.written != self.declared {
            return Err(CompressError::InputSize {
                declared: self.declared,
                written: self.written,
            });
        }
        let data_end = BLOCK + self.declared.div_ceil(BLOCK) * BLOCK;
        let archive_end = (data_end + 2 * BLOCK).div_ceil(RECORD) * RECORD;
        let padding = (data_end - BLOCK - self.declared) + (archive_end - data_end);
        let zeros = [0u8; BLOCK as usize];
        let mut left = padding;
        while left > 0 {
            let n = left.min(BLOCK);
            let chunk = zeros.get(..n as usize).unwrap_or(&zeros);
            self.inner
                .write_all(chunk)
                .map_err(|e| CompressError::from_io("finishing", "tar", e))?;
            left -= n;
        }
        Ok(self.inner)
    }
}

impl<W: Write> Write for TarEntry<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let after = self.written.saturating_add(buf.len() as u64);
        if after > self.declared {
            return Err(CompressError::InputSize {
                declared: self.declared,
                written: after,
            }
            .into_io(io::ErrorKind::InvalidInput));
        }
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn header(name: &str, size: u64, mtime: u64) -> Result<tar::Header, CompressError> {
    let reject = |reason| CompressError::TarEntryName {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() || name == "." || name == ".." {
        return Err(reject("must be a file name"));
    }
    if name.contains('/') || name.contains('\0') {
        return Err(reject("must be one path component without NUL"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(reject("longer than the 100 bytes of a tar header name"));
    }
    let mut header = tar::Header::new_gnu();
    header
        .set_path(name)
        .map_err(|_| reject("refused by the tar header"))?;
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_size(size);
    header.set_mtime(mtime);
    header.set_cksum();
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn round_trips_through_the_tar_reader() {
        let data = b"hello tar";
        let mut entry = TarEntry::start(Vec::new(), "disk.raw", 9, 1_700_000_000).unwrap();
        entry.write_all(data).unwrap();
        let bytes = entry.finish().unwrap();
        assert_eq!(bytes.len() as u64 % RECORD, 0);
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut entries = archive.entries().unwrap();
        let mut e = entries.next().unwrap().unwrap();
        assert_eq!(e.path().unwrap().to_str(), Some("disk.raw"));
        assert_eq!(e.header().mode().unwrap(), 0o644);
        assert_eq!(e.header().mtime().unwrap(), 1_700_000_000);
        let mut back = Vec::new();
        e.read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        drop(e);
        assert!(entries.next().is_none());
    }

    #[test]
    fn size_is_enforced() {
        let mut entry = TarEntry::start(Vec::new(), "disk.raw", 4, 0).unwrap();
        let err = entry.write_all(b"12345").unwrap_err();
        assert!(err.to_string().contains("declared as 4 bytes but 5"));
        let mut entry = TarEntry::start(Vec::new(), "disk.raw", 4, 0).unwrap();
        entry.write_all(b"123").unwrap();
        let err = entry.finish().unwrap_err();
        assert!(matches!(
            err,
            CompressError::InputSize {
                declared: 4,
                written: 3
            }
        ));
    }

    #[test]
    fn names_are_checked() {
        for bad in ["", "..", "a/b", &"x".repeat(101)] {
            assert!(matches!(
                TarEntry::start(Vec::new(), bad, 0, 0),
                Err(CompressError::TarEntryName { .. })
            ));
        }
    }
}

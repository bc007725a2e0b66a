//! The cpio "newc" format (`070701`), written and read as streams.
//!
//! Written like GNU `cpio -H newc --create --reproducible -R +0:+0` writes
//! it: inodes numbered from 1 in archive order, device numbers zero, owner
//! and group 0, a `TRAILER!!!` entry, and the archive padded with zeros to a
//! multiple of 512 bytes (GNU cpio's block size). All mtimes are 0 so that
//! the same inputs give the same bytes (upstream keeps the build time's).
//! Data is copied from a reader, never buffered whole.
//!
//! The reader walks an archive (the base initramfs) entry by entry, handing
//! each file's data to a callback or skipping it, with bounded names and
//! entry count.

use std::io::{self, Read, Write};

const MAGIC: &[u8; 6] = b"070701";
const TRAILER: &str = "TRAILER!!!";
const BLOCK: u64 = 512;

/// `S_IFDIR`, `S_IFREG`.
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;

/// Longest entry name accepted when reading.
pub(crate) const MAX_READ_NAME: usize = 4096;
/// Most entries read from one archive.
pub(crate) const MAX_READ_ENTRIES: usize = 1_000_000;

/// Streams newc entries into `W`.
#[derive(Debug)]
pub(crate) struct NewcWriter<W: Write> {
    out: W,
    next_ino: u32,
    written: u64,
}

impl<W: Write> NewcWriter<W> {
    pub(crate) fn new(out: W) -> Self {
        NewcWriter {
            out,
            next_ino: 1,
            written: 0,
        }
    }

    /// The sink, to act on it between entries.
    pub(crate) fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// A directory (`mode` holds permission bits).
    pub(crate) fn dir(&mut self, name: &str, mode: u32) -> io::Result<()> {
        let ino = self.take_ino();
        self.header(name, ino, S_IFDIR | (mode & 0o7777), 2, 0)?;
        Ok(())
    }

    /// A regular file of `size` bytes read from `data`.
    pub(crate) fn file(
        &mut self,
        name: &str,
        mode: u32,
        size: u64,
        data: &mut impl Read,
    ) -> io::Result<()> {
        let size32 = u32::try_from(size).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{size} bytes is too large for a newc entry (4 GiB max)"),
            )
        })?;
        let ino = self.take_ino();
        self.header(name, ino, S_IFREG | (mode & 0o7777), 1, size32)?;
        let copied = io::copy(&mut data.take(size), &mut self.out)?;
        if copied != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("source ended after {copied} of {size} bytes"),
            ));
        }
        self.written += copied;
        self.pad(4)
    }

    /// Writes the trailer and pads to 512 bytes; returns the sink and the
    /// archive's length.
    pub(crate) fn finish(mut self) -> io::Result<(W, u64)> {
        self.header(TRAILER, 0, 0, 1, 0)?;
        self.pad(BLOCK)?;
        Ok((self.out, self.written))
    }

    fn take_ino(&mut self) -> u32 {
        let ino = self.next_ino;
        self.next_ino = self.next_ino.wrapping_add(1);
        ino
    }

    fn header(&mut self, name: &str, ino: u32, mode: u32, nlink: u32, size: u32) -> io::Result<()> {
        let namesize = u32::try_from(name.len() + 1)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "name too long"))?;
        let fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, namesize, 0];
        let mut header = Vec::with_capacity(110 + name.len() + 4);
        header.extend_from_slice(MAGIC);
        for field in fields {
            header.extend_from_slice(format!("{field:08x}").as_bytes());
        }
        header.extend_from_slice(name.as_bytes());
        header.push(0);
        self.out.write_all(&header)?;
        self.written += header.len() as u64;
        self.pad(4)
    }

    fn pad(&mut self, to: u64) -> io::Result<()> {
        let rem = self.written % to;
        if rem != 0 {
            let n = to - rem;
            io::copy(&mut io::repeat(0).take(n), &mut self.out)?;
            self.written += n;
        }
        Ok(())
    }
}

/// One entry's header, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadEntry {
    pub(crate) name: String,
    pub(crate) mode: u32,
    pub(crate) size: u64,
}

/// Reads a newc archive from `r`, calling `visit` for each entry with a
/// reader over its data (what `visit` leaves unread is skipped). Stops at
/// the trailer; returns `Ok(false)` if `visit` asked to stop early.
pub(crate) fn read_newc<R: Read>(
    r: &mut R,
    mut visit: impl FnMut(&ReadEntry, &mut dyn Read) -> io::Result<bool>,
) -> io::Result<bool> {
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let mut offset: u64 = 0;
    for _ in 0..MAX_READ_ENTRIES {
        let mut head = [0u8; 110];
        r.read_exact(&mut head)?;
        offset += 110;
        if head.get(..6) != Some(MAGIC.as_slice()) {
            return Err(bad(format!("no newc magic at offset {}", offset - 110)));
        }
        let field = |i: usize| -> io::Result<u32> {
            let raw = head.get(6 + i * 8..14 + i * 8).unwrap_or_default();
            std::str::from_utf8(raw)
                .ok()
                .and_then(|s| u32::from_str_radix(s, 16).ok())
                .ok_or_else(|| bad(format!("bad newc header field {i}")))
        };
        let mode = field(1)?;
        let size = u64::from(field(6)?);
        let namesize = field(11)? as usize;
        if namesize == 0 || namesize > MAX_READ_NAME + 1 {
            return Err(bad(format!("newc name size {namesize} out of bounds")));
        }
        let mut name = vec![0u8; namesize];
        r.read_exact(&mut name)?;
        offset += namesize as u64;
        skip(r, &mut offset, 4)?;
        name.pop();
        let name = String::from_utf8(name).map_err(|_| bad("newc name is not UTF-8".into()))?;
        if name == TRAILER {
            return Ok(true);
        }
        let entry = ReadEntry { name, mode, size };
        let mut data = r.take(size);
        let go_on = visit(&entry, &mut data)?;
        io::copy(&mut data, &mut io::sink())?;
        offset += size;
        if !go_on {
            return Ok(false);
        }
        skip(r, &mut offset, 4)?;
    }
    Err(bad(format!("more than {MAX_READ_ENTRIES} newc entries")))
}

fn skip<R: Read>(r: &mut R, offset: &mut u64, align: u64) -> io::Result<()> {
    let rem = *offset % align;
    if rem != 0 {
        let n = align - rem;
        io::copy(&mut r.take(n), &mut io::sink())?;
        *offset += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_padding() {
        let mut w = NewcWriter::new(Vec::new());
        w.dir("kernel", 0o755).unwrap();
        w.file("kernel/a.bin", 0o644, 3, &mut &b"abc"[..]).unwrap();
        let (bytes, len) = w.finish().unwrap();
        assert_eq!(bytes.len() as u64, len);
        assert_eq!(len % 512, 0);
        let mut seen = Vec::new();
        let done = read_newc(&mut &bytes[..], |e, data| {
            let mut s = String::new();
            data.read_to_string(&mut s)?;
            seen.push((e.name.clone(), e.mode, s));
            Ok(true)
        })
        .unwrap();
        assert!(done);
        assert_eq!(
            seen,
            [
                ("kernel".to_owned(), 0o040755, String::new()),
                ("kernel/a.bin".to_owned(), 0o100644, "abc".to_owned()),
            ]
        );
    }
}

//! Compression of the appended initramfs segment, and decompression of the
//! base initramfs.
//!
//! Upstream appends the extensions cpio compressed with the same family as
//! the base initramfs: `zstd -T0 -18` from Talos 1.8, `xz -C crc32 -0 -e`
//! before (the kernel's xz decoder needs CRC32). This is a tiny local
//! wrapper over the `zstd` and `liblzma` crates; the crate's general
//! streaming compressors (`compress/`, written separately) should replace it
//! once merged. The base initramfs is read back (for `rootfs.sqsh`, see
//! [`super::modules_dep`]) by magic: xz starts `FD 37 7A 58 5A 00`,
//! anything else is taken as zstd, as upstream does.

use std::io::{self, BufRead, BufReader, Read, Write};

use factory_core::quirks::Quirks;

/// zstd level upstream uses (`zstd -18`).
pub const ZSTD_LEVEL: i32 = 18;

/// xz preset upstream uses (`-0 -e`).
pub const XZ_PRESET: u32 = liblzma::stream::PRESET_EXTREME;

/// The compression family of the initramfs segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentCompression {
    /// zstd level 18 with a content checksum (Talos ≥ 1.8).
    Zstd,
    /// xz preset 0 extreme, CRC32 check (Talos < 1.8).
    Xz,
}

impl SegmentCompression {
    /// The family Talos uses for `quirks`' version.
    pub fn for_quirks(quirks: &Quirks) -> SegmentCompression {
        if quirks.use_zstd_compression() {
            SegmentCompression::Zstd
        } else {
            SegmentCompression::Xz
        }
    }
}

/// A streaming encoder of either family.
pub(crate) enum SegmentEncoder<W: Write> {
    Zstd(zstd::stream::write::Encoder<'static, W>),
    Xz(liblzma::write::XzEncoder<W>),
}

impl<W: Write> SegmentEncoder<W> {
    pub(crate) fn new(kind: SegmentCompression, out: W) -> io::Result<Self> {
        match kind {
            SegmentCompression::Zstd => {
                let mut enc = zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?;
                enc.include_checksum(true)?;
                // Always the multi-threaded path, even with one worker:
                // zstd's output is then the same for any worker count, so
                // equal inputs give equal bytes on any machine.
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
                enc.multithread(u32::try_from(threads).unwrap_or(1).max(1))?;
                Ok(SegmentEncoder::Zstd(enc))
            }
            SegmentCompression::Xz => {
                let stream = liblzma::stream::Stream::new_easy_encoder(
                    XZ_PRESET,
                    liblzma::stream::Check::Crc32,
                )
                .map_err(io::Error::other)?;
                Ok(SegmentEncoder::Xz(liblzma::write::XzEncoder::new_stream(
                    out, stream,
                )))
            }
        }
    }

    pub(crate) fn finish(self) -> io::Result<W> {
        match self {
            SegmentEncoder::Zstd(enc) => enc.finish(),
            SegmentEncoder::Xz(enc) => enc.finish(),
        }
    }
}

impl<W: Write> Write for SegmentEncoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            SegmentEncoder::Zstd(enc) => enc.write(buf),
            SegmentEncoder::Xz(enc) => enc.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            SegmentEncoder::Zstd(enc) => enc.flush(),
            SegmentEncoder::Xz(enc) => enc.flush(),
        }
    }
}

/// Decompresses the first stream of a base initramfs (xz or zstd).
pub(crate) fn open_base<'a, R: Read + 'a>(r: R) -> io::Result<Box<dyn Read + 'a>> {
    let mut buffered = BufReader::with_capacity(64 * 1024, r);
    let head = buffered.fill_buf()?;
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Ok(Box::new(liblzma::bufread::XzDecoder::new(buffered)))
    } else {
        Ok(Box::new(zstd::stream::read::Decoder::with_buffer(
            buffered,
        )?))
    }
}

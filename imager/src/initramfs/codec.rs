//! Compression of the appended initramfs segment, and decompression of the
//! base initramfs.
//!
//! Upstream appends the extensions cpio compressed with the same family as
//! the base initramfs: `zstd -T0 -18` from Talos 1.8, `xz -C crc32 -0 -e`
//! before (the kernel's xz decoder needs CRC32). The base initramfs is read
//! back (for `rootfs.sqsh`, see [`super::modules_dep`]) by magic: xz starts
//! `FD 37 7A 58 5A 00`, anything else is taken as zstd, as upstream does.
//!
//! **Deliberate difference from upstream (zstd only):** the segment is a
//! sequence of zstd frames instead of one. Runs of squashfs images go into
//! frames at level [`IMAGE_FRAME_LEVEL`], everything else (`extensions.yaml`,
//! firmware, the trailer) into frames at level [`ZSTD_LEVEL`]. The images'
//! blocks are already zstd-18 inside the squashfs, so compressing them
//! again at 18 costs seconds per 10 MB for about 0.5% of size over level 9
//! (measured on binaries, libraries and text). The unpacked tree is the
//! same. Linux accepts this: `unpack_to_rootfs` calls the decompressor once
//! per compressed archive, `__unzstd` returns at the end of one frame, and
//! the next frame is taken as the next archive; each archive must end on a
//! cpio entry boundary ("junk at end of compressed archive"), so a frame
//! never ends inside an entry ([`FramedEncoder::begin`] is only called
//! between entries). `zstd -d` and `zstd -t` read concatenated frames as
//! one stream. The xz path keeps upstream's single stream.

use std::io::{self, BufRead, BufReader, Read, Write};

use factory_core::quirks::Quirks;

/// zstd level upstream uses (`zstd -18`).
pub const ZSTD_LEVEL: i32 = 18;

/// zstd level of the frames that carry squashfs images.
pub const IMAGE_FRAME_LEVEL: i32 = 9;

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
    /// An encoder of `kind`; `zstd_level` applies to zstd only.
    pub(crate) fn new(kind: SegmentCompression, zstd_level: i32, out: W) -> io::Result<Self> {
        match kind {
            SegmentCompression::Zstd => {
                let mut enc = zstd::stream::write::Encoder::new(out, zstd_level)?;
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

/// What a run of cpio entries holds, which decides its frame's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameKind {
    /// Squashfs images (already compressed).
    Images,
    /// Anything else.
    Other,
}

impl FrameKind {
    fn zstd_level(self) -> i32 {
        match self {
            FrameKind::Images => IMAGE_FRAME_LEVEL,
            FrameKind::Other => ZSTD_LEVEL,
        }
    }
}

/// The appended segment's encoder: one xz stream, or a zstd frame per run
/// of entries of one [`FrameKind`].
pub(crate) struct FramedEncoder<W: Write> {
    kind: SegmentCompression,
    /// The sink while no frame is open.
    idle: Option<W>,
    current: Option<(FrameKind, SegmentEncoder<W>)>,
}

impl<W: Write> FramedEncoder<W> {
    pub(crate) fn new(kind: SegmentCompression, out: W) -> Self {
        FramedEncoder {
            kind,
            idle: Some(out),
            current: None,
        }
    }

    /// Makes what follows go into a frame of `frame`'s kind, closing the
    /// current frame if it is of the other kind. Call only between cpio
    /// entries. With xz, the one stream stays open.
    pub(crate) fn begin(&mut self, frame: FrameKind) -> io::Result<()> {
        match (&self.current, self.kind) {
            (Some(_), SegmentCompression::Xz) => return Ok(()),
            (Some((open, _)), _) if *open == frame => return Ok(()),
            _ => {}
        }
        if let Some((_, enc)) = self.current.take() {
            self.idle = Some(enc.finish()?);
        }
        let out = self.idle.take().ok_or_else(closed)?;
        self.current = Some((
            frame,
            SegmentEncoder::new(self.kind, frame.zstd_level(), out)?,
        ));
        Ok(())
    }

    /// Closes the last frame and returns the sink.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        match self.current.take() {
            Some((_, enc)) => enc.finish(),
            None => self.idle.take().ok_or_else(closed),
        }
    }

    fn open(&mut self) -> io::Result<&mut SegmentEncoder<W>> {
        if self.current.is_none() {
            self.begin(FrameKind::Other)?;
        }
        match &mut self.current {
            Some((_, enc)) => Ok(enc),
            None => Err(closed()),
        }
    }
}

fn closed() -> io::Error {
    io::Error::other("segment encoder lost its sink after a failed frame")
}

impl<W: Write> Write for FramedEncoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.open()?.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.current {
            Some((_, enc)) => enc.flush(),
            None => Ok(()),
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

//! The two stream compressors of Talos initramfs images.
//!
//! Before 1.8 Talos compressed with `xz -C crc32 -0 -e` (the kernel's xz
//! decoder only knows CRC32 and no check), from 1.8 with `zstd -18`. Both are
//! used single-threaded here so that the bytes do not depend on the core
//! count; zstd writes a content checksum, as the `zstd` CLI does.

use std::io::{self, Write};

use liblzma::stream::{Check, PRESET_EXTREME, Stream};

use crate::error::{Error, IoContext, Result};

/// Which compressor an initramfs uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    /// xz, preset 0 extreme, CRC32 check (Talos < 1.8).
    XzCrc32,
    /// zstd level 18 (Talos ≥ 1.8).
    Zstd18,
}

/// A compressing writer; call [`Encoder::finish`] to end the stream.
pub(crate) enum Encoder<W: Write> {
    /// xz.
    Xz(liblzma::write::XzEncoder<W>),
    /// zstd.
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    /// Starts a compressed stream into `out`.
    pub(crate) fn new(compression: Compression, out: W) -> Result<Self> {
        match compression {
            Compression::XzCrc32 => {
                let stream = Stream::new_easy_encoder(PRESET_EXTREME, Check::Crc32)
                    .map_err(io::Error::from)
                    .ctx(|| "creating xz encoder".to_owned())?;
                Ok(Encoder::Xz(liblzma::write::XzEncoder::new_stream(
                    out, stream,
                )))
            }
            Compression::Zstd18 => {
                let mut encoder = zstd::stream::write::Encoder::new(out, 18)
                    .ctx(|| "creating zstd encoder".to_owned())?;
                encoder
                    .include_checksum(true)
                    .ctx(|| "enabling zstd checksums".to_owned())?;
                Ok(Encoder::Zstd(encoder))
            }
        }
    }

    /// Ends the stream and returns the inner writer.
    pub(crate) fn finish(self) -> Result<W> {
        let result = match self {
            Encoder::Xz(encoder) => encoder.finish(),
            Encoder::Zstd(encoder) => encoder.finish(),
        };
        result.map_err(|source| Error::Io {
            context: "finishing compressed stream".to_owned(),
            source,
        })
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Xz(encoder) => encoder.write(buf),
            Encoder::Zstd(encoder) => encoder.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Xz(encoder) => encoder.flush(),
            Encoder::Zstd(encoder) => encoder.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn xz_uses_crc32_and_round_trips() {
        let mut encoder = Encoder::new(Compression::XzCrc32, Vec::new()).unwrap();
        encoder.write_all(b"hello initramfs").unwrap();
        let bytes = encoder.finish().unwrap();
        // Stream flags (bytes 6..8 of the header): check type 1 = CRC32.
        assert_eq!(&bytes[..6], b"\xfd7zXZ\0");
        assert_eq!(bytes[7] & 0x0f, 1);
        let mut out = String::new();
        liblzma::read::XzDecoder::new(bytes.as_slice())
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hello initramfs");
    }

    #[test]
    fn zstd_round_trips() {
        let mut encoder = Encoder::new(Compression::Zstd18, Vec::new()).unwrap();
        encoder.write_all(b"hello initramfs").unwrap();
        let bytes = encoder.finish().unwrap();
        assert_eq!(
            zstd::decode_all(bytes.as_slice()).unwrap(),
            b"hello initramfs"
        );
    }
}

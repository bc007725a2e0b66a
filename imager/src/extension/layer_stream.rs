//! Opening one OCI layer blob as a tar stream, whatever its compression.
//!
//! Registries serve layers as `tar+gzip` (most), `tar+zstd` or plain `tar`,
//! and the media type is not always trustworthy (Docker v2 manifests say
//! gzip for everything), so the first bytes decide: `1f 8b` is gzip,
//! `28 b5 2f fd` is zstd, anything else is read as tar (a tar header starts
//! with a file name, never with those bytes). Decompression is streaming;
//! the caller's limits bound how much is read.

use std::io::{self, BufRead, BufReader, Read};

/// Compression detected at the start of a layer blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerCompression {
    /// gzip (`application/vnd.oci.image.layer.v1.tar+gzip`).
    Gzip,
    /// zstd (`application/vnd.oci.image.layer.v1.tar+zstd`).
    Zstd,
    /// An uncompressed tar.
    None,
}

/// Wraps `blob` in the decompressor its magic bytes call for.
pub fn open_layer<'a, R: Read + 'a>(blob: R) -> io::Result<(LayerCompression, Box<dyn Read + 'a>)> {
    let mut buffered = BufReader::with_capacity(64 * 1024, blob);
    let head = buffered.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok((
            LayerCompression::Gzip,
            Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        ))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Ok((
            LayerCompression::Zstd,
            Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
        ))
    } else {
        Ok((LayerCompression::None, Box::new(buffered)))
    }
}

//! Output compression: `.xz`, `.zst`, `.gz` and `.tar.gz` as upstream writes
//! them, plus the compressors of the initramfs segment.
//!
//! Everything is a streaming [`Write`] adapter ([`Encoder`]): the artifact
//! flows through in bounded buffers and is never held whole in memory, so a
//! multi-GiB disk image compresses in about 15 MiB for xz and 10 MiB for
//! gzip; zstd -18 is the exception, about 300 MiB with 2 threads as for the
//! CLI ([`CompressOptions::zstd_job_size`] lowers it). Each format uses the
//! threads it can: liblzma's multi-threaded xz encoder, libzstd's ZSTDMT,
//! and a pigz-style block-parallel gzip. In every case the output bytes are
//! independent of the thread count, so a build is reproducible on any
//! machine. Details live in the private submodules `xz`, `zst`, `gz`,
//! `deflate_pool` and `tarball`.
//!
//! Formats and their upstream commands (`pkg/imager/profile/post.go`):
//!
//! | [`OutFormat`] | upstream | here |
//! |---|---|---|
//! | `Raw` | nothing | pass-through |
//! | `Xz` | `xz -0 -T0` | liblzma MT, preset 0, CRC64 |
//! | `Zst` | `zstd -T0 -18` | libzstd MT, level 18, checksum |
//! | `Gz` | `pigz -6 --no-time` | parallel deflate, level 6 |
//! | `TarGz` | `tar --sparse ... disk.raw \| pigz -6 --no-time` | one-entry tar, not sparse, then gzip |
//!
//! The initramfs segment (see [`initramfs_encoder`]) uses `xz -C crc32 -0 -e`
//! before Talos 1.8 and `zstd -T0 -18` from 1.8.

mod deflate_pool;
mod error;
mod file;
mod gz;
mod options;
mod tarball;
mod xz;
mod zst;

use std::fmt;
use std::io::{self, Write};

use factory_core::image_path::OutFormat;
use factory_core::quirks::Quirks;

pub use error::CompressError;
pub use file::compress_file;
pub use options::{
    CompressOptions, DEFAULT_TAR_ENTRY_NAME, GZIP_LEVEL, MAX_THREADS, XZ_OUTPUT_PRESET, ZSTD_LEVEL,
};

use gz::GzEncoder;
use tarball::TarEntry;
use zst::ZstdWriter;

/// A compressing writer for one output; call [`Encoder::finish`] at the end.
///
/// Dropping it without `finish` leaves a truncated stream.
pub struct Encoder<W: Write> {
    inner: Inner<W>,
    declared: Option<u64>,
    written: u64,
}

enum Inner<W: Write> {
    Raw(W),
    Xz(liblzma::write::XzEncoder<W>),
    Zst(ZstdWriter<W>),
    Gz(GzEncoder<W>),
    TarGz(TarEntry<GzEncoder<W>>),
}

/// Which compressor the appended initramfs segment uses (`rebuild.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InitramfsCompression {
    /// `xz -C crc32 -0 -e -T 0`: CRC32, the only check the kernel's xz
    /// decoder verifies (before Talos 1.8).
    XzCrc32,
    /// `zstd -T0 -18` (from Talos 1.8).
    Zstd,
}

impl InitramfsCompression {
    /// The compressor Talos uses for a version with these quirks.
    pub fn for_quirks(quirks: &Quirks) -> Self {
        if quirks.use_zstd_compression() {
            InitramfsCompression::Zstd
        } else {
            InitramfsCompression::XzCrc32
        }
    }
}

/// Starts compressing an output in `format` into `out`.
///
/// `.tar.gz` writes the tar header at once, so it needs
/// [`CompressOptions::input_size`]; for the other formats a declared size is
/// checked at [`Encoder::finish`] (and pledged to zstd).
pub fn encoder<W: Write>(
    format: OutFormat,
    out: W,
    options: &CompressOptions,
) -> Result<Encoder<W>, CompressError> {
    let inner = match format {
        OutFormat::Raw => Inner::Raw(out),
        OutFormat::Xz => Inner::Xz(liblzma::write::XzEncoder::new_stream(
            out,
            xz::output_stream(options)?,
        )),
        OutFormat::Zst => Inner::Zst(zst::encoder(out, options)?),
        OutFormat::Gz => Inner::Gz(gzip(out, options)?),
        OutFormat::TarGz => {
            let size = options.input_size.ok_or(CompressError::TarSizeUnknown)?;
            let gz = gzip(out, options)?;
            Inner::TarGz(TarEntry::start(
                gz,
                &options.tar_entry_name,
                size,
                options.tar_mtime,
            )?)
        }
    };
    Ok(Encoder {
        inner,
        declared: options.input_size,
        written: 0,
    })
}

/// Starts compressing an initramfs segment (the newc cpio appended to the
/// base initramfs) into `out`, as upstream's `rebuild.go` does.
///
/// The level override applies (xz keeps `-e`); `tar_*` options are ignored.
pub fn initramfs_encoder<W: Write>(
    compression: InitramfsCompression,
    out: W,
    options: &CompressOptions,
) -> Result<Encoder<W>, CompressError> {
    let inner = match compression {
        InitramfsCompression::XzCrc32 => Inner::Xz(liblzma::write::XzEncoder::new_stream(
            out,
            xz::initramfs_stream(options)?,
        )),
        InitramfsCompression::Zstd => Inner::Zst(zst::encoder(out, options)?),
    };
    Ok(Encoder {
        inner,
        declared: options.input_size,
        written: 0,
    })
}

fn gzip<W: Write>(out: W, options: &CompressOptions) -> Result<GzEncoder<W>, CompressError> {
    let level = options.level_for("gzip", GZIP_LEVEL, 0, 9)?;
    GzEncoder::new(out, level, options.worker_threads())
}

impl<W: Write> Encoder<W> {
    /// The format's short name (`raw`, `xz`, `zstd`, `gzip`, `tar.gz`).
    pub fn format_name(&self) -> &'static str {
        match self.inner {
            Inner::Raw(_) => "raw",
            Inner::Xz(_) => "xz",
            Inner::Zst(_) => "zstd",
            Inner::Gz(_) => "gzip",
            Inner::TarGz(_) => "tar.gz",
        }
    }

    /// Bytes of input taken so far.
    pub fn bytes_in(&self) -> u64 {
        self.written
    }

    /// Ends the stream (trailers, tar padding), flushes the writer and
    /// returns it. Fails if a declared input size was not met.
    pub fn finish(self) -> Result<W, CompressError> {
        let format = self.format_name();
        if let Some(declared) = self.declared
            && declared != self.written
        {
            return Err(CompressError::InputSize {
                declared,
                written: self.written,
            });
        }
        let finishing = |e| CompressError::from_io("finishing", format, e);
        let mut out = match self.inner {
            Inner::Raw(w) => w,
            Inner::Xz(e) => e.finish().map_err(finishing)?,
            Inner::Zst(e) => e.finish().map_err(finishing)?,
            Inner::Gz(e) => e.finish().map_err(finishing)?,
            Inner::TarGz(t) => t.finish()?.finish().map_err(finishing)?,
        };
        out.flush().map_err(finishing)?;
        Ok(out)
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let after = self.written.saturating_add(buf.len() as u64);
        if let Some(declared) = self.declared
            && after > declared
        {
            return Err(CompressError::InputSize {
                declared,
                written: after,
            }
            .into_io(io::ErrorKind::InvalidInput));
        }
        let n = match &mut self.inner {
            Inner::Raw(w) => w.write(buf)?,
            Inner::Xz(e) => e.write(buf)?,
            Inner::Zst(e) => e.write(buf)?,
            Inner::Gz(e) => e.write(buf)?,
            Inner::TarGz(t) => t.write(buf)?,
        };
        self.written += n as u64;
        Ok(n)
    }

    /// Flushes the underlying writer without ending a compressed block:
    /// compressed bytes still inside the encoder stay there, so the output is
    /// the same whether or not (and however often) `flush` is called. Use
    /// [`Encoder::finish`] to get everything out.
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Raw(w) => w.flush(),
            Inner::Xz(e) => e.get_mut().flush(),
            Inner::Zst(e) => e.get_mut().flush(),
            Inner::Gz(e) => e.get_mut().flush(),
            Inner::TarGz(t) => t.get_mut().get_mut().flush(),
        }
    }
}

impl<W: Write> fmt::Debug for Encoder<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("format", &self.format_name())
            .field("declared", &self.declared)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

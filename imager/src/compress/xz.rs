//! xz streams from liblzma's multi-threaded encoder.
//!
//! Two flavours, both as upstream runs `xz`:
//! - outputs (`.xz`): `xz -0 -T0`, preset 0 with xz's default CRC64 check;
//! - the appended initramfs cpio before Talos 1.8: `xz -C crc32 -0 -e -T 0`
//!   (`pkg/imager/extensions/rebuild.go`). The kernel's XZ Embedded decoder
//!   checks only CRC32 (or no check), so CRC64 would not boot.
//!
//! The multi-threaded encoder is used even for one thread. It cuts the input
//! into blocks of liblzma's default size for the preset (3 x dictionary or
//! 1 MiB, whichever is larger: 1 MiB at preset 0) and compresses each
//! independently, so the bytes do not depend on the thread count; xz >= 5.4
//! behaves the same for `-T0`. Multi-block streams are what upstream's `-T 0`
//! has always produced on multi-core builders, and XZ Embedded decodes them
//! block after block, verifying the index. liblzma documents about
//! 3 x block size of buffers per thread, plus the preset's encoder state
//! (a few MiB at preset 0): memory stays a few MiB per thread.
//!
//! liblzma is linked statically from the crate's bundled source so every
//! builder produces the same bytes whatever the host's liblzma is.

use liblzma::stream::{Check, MtStreamBuilder, PRESET_EXTREME, Stream};

use super::{CompressError, CompressOptions, options::XZ_OUTPUT_PRESET};

const FORMAT: &str = "xz";
const MAX_PRESET: u32 = 9;

/// The encoder for `.xz` outputs: `xz -0 -T0` (CRC64).
pub(crate) fn output_stream(options: &CompressOptions) -> Result<Stream, CompressError> {
    let preset = options.level_for(FORMAT, XZ_OUTPUT_PRESET, 0, MAX_PRESET)?;
    mt_stream(preset, Check::Crc64, options.worker_threads())
}

/// The encoder for an initramfs segment: `xz -C crc32 -0 -e -T 0`.
pub(crate) fn initramfs_stream(options: &CompressOptions) -> Result<Stream, CompressError> {
    let preset = options.level_for(FORMAT, XZ_OUTPUT_PRESET, 0, MAX_PRESET)?;
    mt_stream(
        preset | PRESET_EXTREME,
        Check::Crc32,
        options.worker_threads(),
    )
}

fn mt_stream(preset: u32, check: Check, threads: usize) -> Result<Stream, CompressError> {
    // `threads` is at most MAX_THREADS, so the conversion cannot fail.
    let threads = u32::try_from(threads).unwrap_or(1);
    MtStreamBuilder::new()
        .threads(threads)
        .preset(preset)
        .check(check)
        // 0: `process` blocks until the input is taken or the output buffer is
        // full, which is what a `Write` adapter wants.
        .timeout_ms(0)
        .encoder()
        .map_err(CompressError::XzInit)
}

//! zstd streams from libzstd with its multi-threaded mode (ZSTDMT).
//!
//! Upstream runs `zstd -T0 -18` for outputs and for the initramfs from Talos
//! 1.8. The CLI's defaults are reproduced where the streaming API allows: a
//! content checksum is written (the CLI's `--check` default), and the
//! content size is written when the caller declares it up front
//! ([`CompressOptions::input_size`]), as the CLI does when it compresses a
//! file; without it (a pipe, as in upstream's initramfs) the frame has no
//! content size, like `zstd -c` on a pipe.
//!
//! At least one worker is always used: with ZSTDMT the output depends on the
//! job layout, not on the number of workers, so one and many threads give the
//! same bytes. Memory is zstd's weak point: at level 18 each worker keeps
//! about 50 MiB of match tables for the 8 MiB window, and libzstd buffers
//! several 32 MiB jobs (about 300 MiB peak with 2 threads, the same as the
//! CLI; see `benches/compress.sh`). Threads are clamped to
//! [`MAX_THREADS`](super::MAX_THREADS), and
//! [`CompressOptions::zstd_job_size`] trades a little ratio for less memory.

use std::io::Write;

use zstd::zstd_safe::CParameter;

use super::{CompressError, CompressOptions, options::ZSTD_LEVEL};

const FORMAT: &str = "zstd";
const MAX_LEVEL: u32 = 22;
/// Accepted [`CompressOptions::zstd_job_size`] range (libzstd itself
/// accepts 512 KiB to 512 MiB on 64-bit hosts).
const JOB_SIZE_MIN: u32 = 1 << 20;
const JOB_SIZE_MAX: u32 = 512 << 20;

/// The zstd stream writer type.
pub(crate) type ZstdWriter<W> = zstd::stream::write::Encoder<'static, W>;

/// A zstd encoder as `zstd -T0 -18` (level overridable) writing into `out`.
pub(crate) fn encoder<W: Write>(
    out: W,
    options: &CompressOptions,
) -> Result<ZstdWriter<W>, CompressError> {
    let level = options.level_for(FORMAT, ZSTD_LEVEL, 1, MAX_LEVEL)?;
    let init = |step: &'static str| move |source| CompressError::ZstdInit { step, source };
    // Levels are at most 22, so the conversion cannot fail.
    let level = i32::try_from(level).unwrap_or(i32::MAX);
    let mut enc = ZstdWriter::new(out, level).map_err(init("level"))?;
    // `worker_threads` is at most MAX_THREADS, so the conversion cannot fail.
    let workers = u32::try_from(options.worker_threads()).unwrap_or(1);
    enc.multithread(workers).map_err(init("workers"))?;
    enc.include_checksum(true).map_err(init("checksum"))?;
    enc.include_contentsize(true)
        .map_err(init("content size"))?;
    enc.set_pledged_src_size(options.input_size)
        .map_err(init("pledged size"))?;
    if let Some(size) = options.zstd_job_size {
        if !(JOB_SIZE_MIN..=JOB_SIZE_MAX).contains(&size) {
            return Err(CompressError::ZstdJobSize {
                size,
                min: JOB_SIZE_MIN,
                max: JOB_SIZE_MAX,
            });
        }
        enc.set_parameter(CParameter::JobSize(size))
            .map_err(init("job size"))?;
    }
    Ok(enc)
}

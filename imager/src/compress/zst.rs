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
//! same bytes. Memory: at level 18 each worker keeps the match tables and a
//! job buffer for an 8 MiB window, tens of MiB per worker (measured by
//! `benches/compress.sh`), which is why threads are clamped to
//! [`MAX_THREADS`](super::MAX_THREADS).

use std::io::Write;

use super::{CompressError, CompressOptions, options::ZSTD_LEVEL};

const FORMAT: &str = "zstd";
const MAX_LEVEL: u32 = 22;

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
    Ok(enc)
}

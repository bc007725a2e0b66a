//! What a caller may choose about compression, and the upstream defaults.
//!
//! The defaults reproduce Talos's post-processing (`xz -0 -T0`,
//! `zstd -T0 -18`, `pigz -6 --no-time`, `tar ... --mtime=@$SOURCE_DATE_EPOCH
//! disk.raw`). Every knob has an explicit bound: the thread count is clamped
//! to [`MAX_THREADS`] (memory grows with it, most for zstd -18), levels are
//! checked against each format's range, and the tar entry name must fit a
//! tar header without extensions, and the zstd job size (zstd's memory knob)
//! must lie in 1–512 MiB.

use std::num::NonZeroUsize;

use super::CompressError;

/// The most worker threads any encoder is given; larger requests (and what
/// `threads: 0` resolves to on a big machine) are clamped to this, because
/// each zstd -18 worker holds tens of MiB of match tables.
pub const MAX_THREADS: usize = 32;

/// The tar entry name upstream uses for `.tar.gz` (the GCP import format).
pub const DEFAULT_TAR_ENTRY_NAME: &str = "disk.raw";

/// The xz preset of upstream's output post-processing (`xz -0`).
pub const XZ_OUTPUT_PRESET: u32 = 0;
/// The zstd level of upstream's output post-processing and initramfs (`-18`).
pub const ZSTD_LEVEL: u32 = 18;
/// The gzip level of upstream's output post-processing (`pigz -6`).
pub const GZIP_LEVEL: u32 = 6;

/// Options for [`encoder`](super::encoder) and [`compress_file`](super::compress_file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressOptions {
    /// Worker threads; 0 means [`std::thread::available_parallelism`]. Clamped
    /// to [`MAX_THREADS`]. The output bytes do not depend on this number.
    pub threads: usize,
    /// Overrides the format's upstream level: xz preset 0–9, zstd 1–22,
    /// gzip 0–9. `None` keeps upstream's (xz 0, zstd 18, gzip 6).
    pub level: Option<u32>,
    /// Modification time of the tar entry, seconds since the epoch; upstream
    /// uses `SOURCE_DATE_EPOCH` (else the build time). Ignored by other formats.
    pub tar_mtime: u64,
    /// Name of the single tar entry (`disk.raw` upstream): one path component
    /// of at most 100 bytes. Ignored by other formats.
    pub tar_entry_name: String,
    /// Exact number of bytes that will be written, when known up front.
    /// Required for `.tar.gz`: a tar header carries the entry size *before*
    /// the data, and a stream cannot go back to patch it. For zstd it is
    /// pledged to the encoder so the frame header records the content size
    /// (as `zstd` does when it compresses a file). Writing a different number
    /// of bytes is an error when the stream is finished (tar: as soon as it
    /// is exceeded). [`compress_file`](super::compress_file) fills it in.
    pub input_size: Option<u64>,
    /// Input per zstd job (libzstd's `ZSTD_c_jobSize`), 1–512 MiB. `None`
    /// keeps libzstd's default, which the CLI also uses: 4 x the window,
    /// 32 MiB at level 18. Each job buffers its input and output, so this is
    /// the knob for zstd's memory: measured on 200 MiB with 2 threads at
    /// level 18, peak RSS is about 300 MiB by default, 205 MiB with 16 MiB jobs
    /// (+0.06% size) and 155 MiB with 8 MiB jobs (+0.2%). Changes the bytes.
    pub zstd_job_size: Option<u32>,
}

impl Default for CompressOptions {
    fn default() -> Self {
        CompressOptions {
            threads: 0,
            level: None,
            tar_mtime: 0,
            tar_entry_name: DEFAULT_TAR_ENTRY_NAME.to_owned(),
            input_size: None,
            zstd_job_size: None,
        }
    }
}

impl CompressOptions {
    /// The number of worker threads the encoders will use: `threads`, or the
    /// machine's available parallelism for 0, clamped to `1..=MAX_THREADS`.
    pub fn worker_threads(&self) -> usize {
        let wanted = match self.threads {
            0 => std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            n => n,
        };
        wanted.clamp(1, MAX_THREADS)
    }

    /// The level to use for `format`: the override if it lies in
    /// `min..=max`, else `default`.
    pub(crate) fn level_for(
        &self,
        format: &'static str,
        default: u32,
        min: u32,
        max: u32,
    ) -> Result<u32, CompressError> {
        match self.level {
            None => Ok(default),
            Some(level) if (min..=max).contains(&level) => Ok(level),
            Some(level) => Err(CompressError::Level {
                format,
                level,
                min,
                max,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_resolve_and_clamp() {
        let mut o = CompressOptions::default();
        assert!(o.worker_threads() >= 1);
        o.threads = 3;
        assert_eq!(o.worker_threads(), 3);
        o.threads = 10_000;
        assert_eq!(o.worker_threads(), MAX_THREADS);
    }

    #[test]
    fn level_override_is_checked() {
        let mut o = CompressOptions::default();
        assert_eq!(o.level_for("gzip", 6, 0, 9).unwrap(), 6);
        o.level = Some(9);
        assert_eq!(o.level_for("gzip", 6, 0, 9).unwrap(), 9);
        o.level = Some(10);
        let err = o.level_for("gzip", 6, 0, 9).unwrap_err();
        assert_eq!(
            err.to_string(),
            "compression level 10 is out of range for gzip (accepted: 0..=9)"
        );
    }
}

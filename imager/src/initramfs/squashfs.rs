//! One extension's rootfs as a squashfs image, written with `backhand`.
//!
//! Matches what upstream's `mksquashfs <rootfs> <n>.sqsh -all-root -noappend
//! -no-progress <comp>` produces in the ways that matter to the kernel and
//! to reproducibility: squashfs 4.0, 128 KiB blocks (mksquashfs's default;
//! upstream passes no `-b`), every inode owned by 0:0, zstd level 18 from
//! Talos 1.8 (compression options recorded in the image, as mksquashfs does
//! for a non-default level) and xz with a block-sized dictionary before
//! (`-Xdict-size 100%`, the default, so no options are recorded), duplicate
//! files stored once, the image padded to 4 KiB. Unlike upstream, all mtimes
//! (inodes and superblock) are 0 so that equal inputs give equal images,
//! which is what lets a built image be cached by content.
//!
//! Not reproduced: SELinux labels. Upstream excludes all xattrs and adds
//! back `security.selinux` only for entries whose tar headers carried one
//! (the embedded-config file); `backhand` cannot write xattrs yet.
//!
//! File contents are read lazily from their blob files during the write;
//! the image is written to a file (the writer needs `Seek`).
//!
//! Because equal inputs give equal images, [`image_key`] names an image by
//! everything it is made of (entries, contents, settings, and
//! [`IMAGE_ERRATUM`] for this writer's own code), which is what
//! [`crate::segment_cache`] stores it under.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use backhand::compression::{CompressionOptions, Compressor, Zstd};
use backhand::{
    BackhandError, DEFAULT_BLOCK_SIZE, FilesystemCompressor, FilesystemWriter, NodeHeader,
};

use crate::extension::TreePath;
use crate::segment_cache::{SegmentKey, SegmentKeyBuilder};

use super::block_pool::{PoolFile, pooled_kind, with_pool};
use super::codec::{SegmentCompression, ZSTD_LEVEL};

/// One entry to put in an image, its path relative to the image root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SquashEntry {
    Dir { mode: u32 },
    File { mode: u32, source: PathBuf },
    Symlink { target: String },
}

/// Why an image could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SquashfsError {
    /// Creating the output file failed.
    #[error("creating {path}: {source}")]
    Create {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// `backhand` refused an entry.
    #[error("adding {entry}: {source}")]
    Entry {
        /// The entry.
        entry: String,
        /// The cause.
        source: BackhandError,
    },
    /// Reading a file's content for the image's key failed.
    #[error("reading {path} to name its image: {source}")]
    Key {
        /// The entry.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing the image failed.
    #[error("writing {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The cause.
        source: BackhandError,
    },
}

fn header(mode: u32) -> NodeHeader {
    NodeHeader::new((mode & 0o7777) as u16, 0, 0, 0)
}

/// Names the image writer's output format; bump it whenever a change to
/// this module or to `backhand` changes the bytes of an image, so cached
/// images from older builders are not reused.
pub const IMAGE_ERRATUM: &str = "initramfs-squashfs/1 backhand-0.25 block-131072 mtime-0";

/// The content address of the image [`write_squashfs`] makes from the same
/// arguments: reads every file once.
pub(crate) fn image_key(
    entries: &[(TreePath, SquashEntry)],
    root_mode: u32,
    compression: SegmentCompression,
) -> Result<SegmentKey, SquashfsError> {
    let mut key = SegmentKeyBuilder::new(IMAGE_ERRATUM);
    key.field(match compression {
        SegmentCompression::Zstd => b"zstd-18",
        SegmentCompression::Xz => b"xz-dict-100%",
    })
    .number(u64::from(root_mode & 0o7777))
    .number(entries.len() as u64);
    for (path, entry) in entries {
        key.field(path.as_str().as_bytes());
        match entry {
            SquashEntry::Dir { mode } => {
                key.field(b"dir").number(u64::from(mode & 0o7777));
            }
            SquashEntry::Symlink { target } => {
                key.field(b"symlink").field(target.as_bytes());
            }
            SquashEntry::File { mode, source } => {
                key.field(b"file").number(u64::from(mode & 0o7777));
                let fail = |source| SquashfsError::Key {
                    path: path.to_string(),
                    source,
                };
                let file = File::open(source).map_err(fail)?;
                let size = file.metadata().map_err(fail)?.len();
                key.content(&mut BufReader::with_capacity(1 << 16, file), size)
                    .map_err(fail)?;
            }
        }
    }
    Ok(key.finish())
}

/// Writes `entries` (parents before children) as a squashfs image at `out`
/// and returns its size in bytes.
pub(crate) fn write_squashfs(
    entries: &[(TreePath, SquashEntry)],
    root_mode: u32,
    compression: SegmentCompression,
    out: &Path,
) -> Result<u64, SquashfsError> {
    let mut fs = FilesystemWriter::default();
    fs.set_time(0);
    fs.set_block_size(DEFAULT_BLOCK_SIZE);
    fs.set_only_root_id();
    fs.set_root_mode((root_mode & 0o7777) as u16);
    fs.set_root_uid(0);
    fs.set_root_gid(0);
    let compressor = match compression {
        SegmentCompression::Zstd => FilesystemCompressor::new(
            Compressor::Zstd,
            Some(CompressionOptions::Zstd(Zstd {
                compression_level: ZSTD_LEVEL.unsigned_abs(),
            })),
        ),
        SegmentCompression::Xz => FilesystemCompressor::new(Compressor::Xz, None),
    };
    let compressor = compressor.map_err(|source| SquashfsError::Write {
        path: out.display().to_string(),
        source,
    })?;
    fs.set_compressor(compressor);
    // zstd blocks are compressed ahead by one worker per core (see
    // `block_pool`; the writer thread mostly waits for them, as
    // mksquashfs's does); xz keeps backhand's own two-thread encoder per
    // block.
    let workers = match compression {
        SegmentCompression::Zstd => std::thread::available_parallelism().map_or(1, |n| n.get()),
        SegmentCompression::Xz => 0,
    };
    let mut pool_files: Vec<PoolFile> = Vec::new();
    if workers > 0 {
        fs.set_kind(pooled_kind());
    }
    for (path, entry) in entries {
        if workers > 0
            && let SquashEntry::File { source, .. } = entry
            && let Ok(meta) = std::fs::metadata(source)
        {
            pool_files.push((path.to_string(), source.clone(), meta.len()));
        }
        let added = match entry {
            SquashEntry::Dir { mode } => fs.push_dir(path.as_str(), header(*mode)),
            SquashEntry::File { mode, source } => {
                fs.push_file_from_path(source, path.as_str(), header(*mode))
            }
            SquashEntry::Symlink { target } => {
                fs.push_symlink(target, path.as_str(), header(0o777))
            }
        };
        added.map_err(|source| SquashfsError::Entry {
            entry: path.to_string(),
            source,
        })?;
    }
    let file = File::create(out).map_err(|source| SquashfsError::Create {
        path: out.display().to_string(),
        source,
    })?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let zstd_level = (compression == SegmentCompression::Zstd).then_some(ZSTD_LEVEL);
    let (written, _) = with_pool(
        pool_files,
        compressor,
        zstd_level,
        DEFAULT_BLOCK_SIZE,
        workers,
        || fs.write(&mut writer),
    );
    let (_, written) = written.map_err(|source| SquashfsError::Write {
        path: out.display().to_string(),
        source,
    })?;
    writer
        .into_inner()
        .map_err(|e| SquashfsError::Write {
            path: out.display().to_string(),
            source: BackhandError::StdIo(e.into_error()),
        })?
        .sync_all()
        .map_err(|source| SquashfsError::Write {
            path: out.display().to_string(),
            source: BackhandError::StdIo(source),
        })?;
    Ok(written)
}

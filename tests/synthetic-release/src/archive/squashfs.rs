//! Tree → squashfs, for the `rootfs.sqsh` inside each initramfs.
//!
//! Talos builds its root filesystem with `mksquashfs -comp zstd
//! -Xcompression-level 18` (and used xz before zstd arrived with 1.8); the
//! kernel must mount it, so only those two compressors are offered. The
//! superblock time, every inode time and every owner are fixed, so the image
//! depends only on the tree. backhand keeps file readers until `write`, and
//! on-disk sources are passed as paths, so nothing large is buffered here.

use std::io::{Seek, Write};

use backhand::compression::{CompressionOptions, Compressor, Zstd};
use backhand::{BackhandError, FilesystemCompressor, FilesystemWriter, NodeHeader};

use crate::EPOCH;
use crate::archive::compress::Compression;
use crate::error::{Error, Result};
use crate::tree::{Node, Source, Tree};

/// Writes `tree` as a squashfs 4.0 image compressed with `compression`.
pub(crate) fn write_squashfs<W: Write + Seek>(
    tree: &Tree,
    compression: Compression,
    name: &str,
    out: W,
) -> Result<()> {
    let fail = |context: String| move |source: BackhandError| Error::Squashfs { context, source };
    let mtime = u32::try_from(EPOCH).map_err(|_| Error::Limit {
        what: "squashfs mtime".to_owned(),
        limit: u64::from(u32::MAX),
    })?;
    let mut fs = FilesystemWriter::default();
    fs.set_time(mtime);
    fs.set_root_mode(0o755);
    fs.set_root_uid(0);
    fs.set_root_gid(0);
    let compressor = match compression {
        Compression::XzCrc32 => FilesystemCompressor::new(Compressor::Xz, None),
        Compression::Zstd18 => FilesystemCompressor::new(
            Compressor::Zstd,
            Some(CompressionOptions::Zstd(Zstd {
                compression_level: 18,
            })),
        ),
    }
    .map_err(fail(format!("configuring the compressor of {name}")))?;
    fs.set_compressor(compressor);

    for (path, node) in tree.iter() {
        let absolute = format!("/{path}");
        let header = |mode: u32| NodeHeader::new((mode & 0o7777) as u16, 0, 0, mtime);
        let context = format!("adding {path} to {name}");
        match node {
            Node::Dir { mode } => fs.push_dir(&absolute, header(*mode)),
            Node::File { mode, source } => match source {
                Source::Bytes(bytes) => fs.push_file(bytes.as_slice(), &absolute, header(*mode)),
                Source::Path(file) => {
                    // Checks the size bound before backhand reads it.
                    source.len()?;
                    fs.push_file_from_path(file.clone(), &absolute, header(*mode))
                }
            },
            Node::Symlink { target } => fs.push_symlink(target.as_str(), &absolute, header(0o777)),
            Node::CharDevice { mode, major, minor } => {
                // Linux's new_encode_dev layout, as squashfs stores it.
                let device = (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12);
                fs.push_char_device(device, &absolute, header(*mode))
            }
        }
        .map_err(fail(context))?;
    }
    fs.write(out).map_err(fail(format!("writing {name}")))?;
    Ok(())
}

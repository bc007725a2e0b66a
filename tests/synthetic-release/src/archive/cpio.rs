//! Tree → newc cpio, the format the kernel unpacks an initramfs from.
//!
//! Inode numbers are the entry's position (from 1), directories have two
//! links, everything else one, device numbers are zero: the same normalisation
//! as GNU `cpio --reproducible`. newc stores sizes in 32 bits, which the
//! input size limit keeps far away from.

use std::io::{self, Write};

use cpio::NewcBuilder;

use crate::EPOCH;
use crate::error::{Error, IoContext, Result};
use crate::tree::{Node, Tree, too_large};

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

/// Writes `tree` as a newc archive (with its trailer) to `out`.
pub(crate) fn write_cpio<W: Write>(tree: &Tree, mut out: W) -> Result<W> {
    let mtime = u32::try_from(EPOCH).map_err(|_| Error::Limit {
        what: "cpio mtime".to_owned(),
        limit: u64::from(u32::MAX),
    })?;
    for (index, (path, node)) in tree.iter().enumerate() {
        let context = || format!("writing cpio entry {path}");
        let ino = u32::try_from(index + 1)
            .map_err(|_| too_large("inode number"))
            .ctx(context)?;
        let builder = NewcBuilder::new(path).ino(ino).uid(0).gid(0).mtime(mtime);
        out = match node {
            Node::Dir { mode } => builder
                .mode(S_IFDIR | mode)
                .nlink(2)
                .write(out, 0)
                .finish()
                .ctx(context)?,
            Node::File { mode, source } => {
                let len = source.len()?;
                let size = u32::try_from(len)
                    .map_err(|_| too_large("file size"))
                    .ctx(context)?;
                let mut writer = builder.mode(S_IFREG | mode).write(out, size);
                let copied = io::copy(&mut source.open()?, &mut writer).ctx(context)?;
                if copied != len {
                    return Err(Error::Io {
                        context: context(),
                        source: io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("file changed size while archived ({copied} of {len} bytes)"),
                        ),
                    });
                }
                writer.finish().ctx(context)?
            }
            Node::Symlink { target } => {
                let size = u32::try_from(target.len())
                    .map_err(|_| too_large("link target"))
                    .ctx(context)?;
                let mut writer = builder.mode(S_IFLNK | 0o777).write(out, size);
                writer.write_all(target.as_bytes()).ctx(context)?;
                writer.finish().ctx(context)?
            }
            Node::CharDevice { mode, major, minor } => builder
                .mode(S_IFCHR | mode)
                .rdev_major(*major)
                .rdev_minor(*minor)
                .write(out, 0)
                .finish()
                .ctx(context)?,
        };
    }
    cpio::newc::trailer(out).ctx(|| "writing cpio trailer".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpio_round_trips_through_the_reader() {
        let mut tree = Tree::new();
        tree.bytes("init", 0o755, "#!/bin/sh\n").unwrap();
        tree.char_device("dev/console", 0o600, 5, 1).unwrap();
        tree.symlink("bin/sh", "busybox").unwrap();
        let bytes = write_cpio(&tree, Vec::new()).unwrap();
        let mut names = Vec::new();
        let mut rest = bytes.as_slice();
        loop {
            let reader = cpio::NewcReader::new(rest).unwrap();
            if reader.entry().is_trailer() {
                break;
            }
            let entry = reader.entry();
            names.push((entry.name().to_owned(), entry.mode(), entry.mtime()));
            rest = reader.finish().unwrap();
        }
        let mtime = EPOCH as u32;
        assert_eq!(
            names,
            [
                ("bin".to_owned(), S_IFDIR | 0o755, mtime),
                ("bin/sh".to_owned(), S_IFLNK | 0o777, mtime),
                ("dev".to_owned(), S_IFDIR | 0o755, mtime),
                ("dev/console".to_owned(), S_IFCHR | 0o600, mtime),
                ("init".to_owned(), S_IFREG | 0o755, mtime),
            ]
        );
    }
}

//! Taking a built initramfs apart into its concatenated segments
//! (`[early cpio] + base + compressed cpio`) and checking each compressed
//! stream with its own tool.

use std::path::Path;
use std::process::Command;

use super::tools::{require_tool, run};

/// xz stream magic.
pub const XZ_MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0];
/// zstd frame magic.
pub const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// A compressor family of an initramfs segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// xz (Talos before 1.8; CRC32 check for the kernel's decompressor).
    Xz,
    /// zstd (Talos 1.8 and later).
    Zstd,
}

impl Family {
    /// The family a stream starts with, if any.
    pub fn sniff(bytes: &[u8]) -> Option<Family> {
        if bytes.starts_with(XZ_MAGIC) {
            Some(Family::Xz)
        } else if bytes.starts_with(ZSTD_MAGIC) {
            Some(Family::Zstd)
        } else {
            None
        }
    }

    /// Tests the compressed stream in `file` with the real tool (`xz -t`
    /// plus a CRC32 check, or `zstd -t`) and returns it decompressed.
    pub fn test_and_decompress(self, file: &Path) -> Vec<u8> {
        match self {
            Family::Xz => {
                let xz = require_tool("xz", "xz-utils");
                run(Command::new(&xz).arg("-t").arg(file));
                let list =
                    String::from_utf8(run(Command::new(&xz).args(["--robot", "--list"]).arg(file)))
                        .unwrap();
                let checks: Vec<&str> = list
                    .lines()
                    .filter(|l| l.starts_with("file\t") || l.starts_with("totals\t"))
                    .filter_map(|l| l.split('\t').nth(6))
                    .collect();
                assert!(
                    !checks.is_empty() && checks.iter().all(|c| *c == "CRC32"),
                    "{}: the kernel's xz decoder needs CRC32 checks, xz --list says {checks:?}:\n{list}",
                    file.display()
                );
                run(Command::new(&xz).arg("-dc").arg(file))
            }
            Family::Zstd => {
                let zstd = require_tool("zstd", "zstd");
                run(Command::new(&zstd).args(["-t", "-q"]).arg(file));
                run(Command::new(&zstd).args(["-dc", "-q"]).arg(file))
            }
        }
    }
}

pub use factory_test_support::{NEWC_MAGIC, split_newc};

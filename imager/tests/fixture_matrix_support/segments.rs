//! Taking a built initramfs apart into its concatenated segments
//! (`[early cpio] + base + compressed cpio`) and checking each compressed
//! stream with its own tool.

use std::path::Path;
use std::process::Command;

use super::tools::{require_tool, run};

/// newc magic (`070701`).
pub const NEWC_MAGIC: &[u8] = b"070701";
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

/// Entry names of the newc archive at the start of `bytes`, and its length
/// including the trailer's padding to 512 bytes.
pub fn split_newc(bytes: &[u8]) -> (Vec<String>, usize) {
    let mut off = 0usize;
    let mut names = Vec::new();
    loop {
        assert_eq!(
            bytes.get(off..off + 6),
            Some(NEWC_MAGIC),
            "newc magic at offset {off}"
        );
        let field = |i: usize| {
            usize::from_str_radix(
                std::str::from_utf8(&bytes[off + 6 + i * 8..off + 14 + i * 8]).unwrap(),
                16,
            )
            .unwrap()
        };
        let size = field(6);
        let namesize = field(11);
        let name = std::str::from_utf8(&bytes[off + 110..off + 110 + namesize - 1])
            .unwrap()
            .to_owned();
        off = (off + 110 + namesize).div_ceil(4) * 4;
        off = (off + size).div_ceil(4) * 4;
        if name == "TRAILER!!!" {
            return (names, off.div_ceil(512) * 512);
        }
        names.push(name);
    }
}

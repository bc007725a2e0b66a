//! Parsed listings of the real tools: `unsquashfs -lls` for a squashfs
//! image and `cpio -itv` for a newc archive, as path → (type, permission
//! bits, owner, link target).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::tools::{cpio_list, require_tool, run};

/// One listed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `d`, `-` or `l` (the first character of `ls -l` modes).
    pub kind: char,
    /// Permission bits.
    pub mode: u32,
    /// `user/group` (unsquashfs) or `user group` (cpio).
    pub owner: String,
    /// The target of a symlink.
    pub target: Option<String>,
}

/// `rwxr-xr-x` → 0o755 (set-id and sticky bits are not used by fixtures).
fn perm_bits(perms: &str) -> u32 {
    perms
        .chars()
        .take(9)
        .fold(0, |acc, c| (acc << 1) | u32::from(c != '-'))
}

fn parse(kind_perms: &str, owner: String, name_field: &str) -> (String, Listed) {
    let (name, target) = match name_field.split_once(" -> ") {
        Some((name, target)) => (name.to_owned(), Some(target.to_owned())),
        None => (name_field.to_owned(), None),
    };
    let kind = kind_perms.chars().next().unwrap();
    let mode = perm_bits(&kind_perms[1..]);
    (
        name,
        Listed {
            kind,
            mode,
            owner,
            target,
        },
    )
}

/// `unsquashfs -lls image`, keyed by path relative to the image root (the
/// root itself is `""`).
pub fn unsquashfs_lls(image: &Path) -> BTreeMap<String, Listed> {
    let tool = require_tool("unsquashfs", "squashfs-tools");
    let out = String::from_utf8(run(Command::new(tool).arg("-lls").arg(image))).unwrap();
    let mut entries = BTreeMap::new();
    for line in out.lines() {
        let Some(at) = line.find("squashfs-root") else {
            continue;
        };
        let fields: Vec<&str> = line[..at].split_whitespace().collect();
        assert_eq!(fields.len(), 5, "unexpected unsquashfs -lls line: {line}");
        let rel = line[at + "squashfs-root".len()..].trim_start_matches('/');
        let (name, listed) = parse(fields[0], fields[1].to_owned(), rel);
        entries.insert(name, listed);
    }
    assert!(
        entries.contains_key(""),
        "{}: no root in listing:\n{out}",
        image.display()
    );
    entries
}

/// `unsquashfs -s image`: the superblock description.
pub fn unsquashfs_superblock(image: &Path) -> String {
    let tool = require_tool("unsquashfs", "squashfs-tools");
    String::from_utf8(run(Command::new(tool).arg("-s").arg(image))).unwrap()
}

/// `unsquashfs -cat image path`.
pub fn unsquashfs_cat(image: &Path, path: &str) -> Vec<u8> {
    let tool = require_tool("unsquashfs", "squashfs-tools");
    run(Command::new(tool).arg("-cat").arg(image).arg(path))
}

/// `cpio -itv` of a newc archive, in archive order.
pub fn cpio_lls(archive: &[u8]) -> Vec<(String, Listed)> {
    cpio_list(archive)
        .iter()
        .map(|line| {
            // mode nlink user group size month day year|time name[ -> target]
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert!(fields.len() >= 9, "unexpected cpio -itv line: {line}");
            let name_at = nth_field_offset(line, 8);
            parse(
                fields[0],
                format!("{} {}", fields[2], fields[3]),
                &line[name_at..],
            )
        })
        .collect()
}

/// Byte offset of the `n`th whitespace-separated field of `line`.
fn nth_field_offset(line: &str, n: usize) -> usize {
    let mut in_field = false;
    let mut seen = 0;
    for (at, c) in line.char_indices() {
        if c.is_whitespace() {
            in_field = false;
        } else if !in_field {
            if seen == n {
                return at;
            }
            seen += 1;
            in_field = true;
        }
    }
    panic!("cpio -itv line has fewer than {} fields: {line}", n + 1)
}

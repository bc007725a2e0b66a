//! Tree → tar, for OCI image layers.
//!
//! GNU headers so that paths longer than 100 bytes get a long-name record
//! instead of failing; directories carry a trailing `/` as every tar tool
//! writes them; the archive ends with the two zero blocks of the format.

use std::io::{self, Write};

use crate::EPOCH;
use crate::error::{IoContext, Result};
use crate::tree::{Node, Tree};

/// Writes `tree` as a tar stream to `out` and returns `out`.
pub(crate) fn write_tar<W: Write>(tree: &Tree, out: W) -> Result<W> {
    let mut builder = ::tar::Builder::new(out);
    for (path, node) in tree.iter() {
        let mut header = ::tar::Header::new_gnu();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(EPOCH);
        let context = || format!("writing tar entry {path}");
        match node {
            Node::Dir { mode } => {
                header.set_entry_type(::tar::EntryType::Directory);
                header.set_mode(*mode);
                header.set_size(0);
                builder
                    .append_data(&mut header, format!("{path}/"), io::empty())
                    .ctx(context)?;
            }
            Node::File { mode, source } => {
                header.set_entry_type(::tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_size(source.len()?);
                let reader = source.open()?;
                builder
                    .append_data(&mut header, path, reader)
                    .ctx(context)?;
            }
            Node::Symlink { target } => {
                header.set_entry_type(::tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder
                    .append_link(&mut header, path, target)
                    .ctx(context)?;
            }
            Node::CharDevice { mode, major, minor } => {
                header.set_entry_type(::tar::EntryType::Char);
                header.set_mode(*mode);
                header.set_size(0);
                header.set_device_major(*major).ctx(context)?;
                header.set_device_minor(*minor).ctx(context)?;
                builder
                    .append_data(&mut header, path, io::empty())
                    .ctx(context)?;
            }
        }
    }
    builder
        .into_inner()
        .ctx(|| "finishing tar stream".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_lists_entries_in_order_with_fixed_metadata() {
        let mut tree = Tree::new();
        tree.bytes("usr/bin/installer", 0o755, "#!/bin/sh\n")
            .unwrap();
        tree.symlink("bin", "usr/bin").unwrap();
        let long = format!("a/{}", "x".repeat(150));
        tree.bytes(&long, 0o644, "long").unwrap();
        let bytes = write_tar(&tree, Vec::new()).unwrap();
        let mut archive = ::tar::Archive::new(bytes.as_slice());
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            assert_eq!(entry.header().mtime().unwrap(), EPOCH);
            assert_eq!(entry.header().uid().unwrap(), 0);
            seen.push(entry.path().unwrap().to_string_lossy().into_owned());
        }
        assert_eq!(
            seen,
            [
                "a/",
                long.as_str(),
                "bin",
                "usr/",
                "usr/bin/",
                "usr/bin/installer"
            ]
        );
    }
}

//! Shared helpers of the initramfs tests: tiny tar layers (including
//! hostile ones), fake base initramfs images, and real-tool checks.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One entry of a synthetic layer.
pub enum E<'a> {
    Dir(&'a str, u32),
    File(&'a str, u32, &'a [u8]),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    /// A raw header: name bytes, type flag, link name, data (nothing is
    /// validated, to build hostile archives).
    Raw(&'a [u8], u8, &'a [u8], &'a [u8]),
}

/// A tar layer with the given entries.
pub fn tar_layer(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        match e {
            E::Dir(name, mode) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(*mode);
                h.set_size(0);
                b.append_data(&mut h, name, std::io::empty()).unwrap();
            }
            E::File(name, mode, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, name, *data).unwrap();
            }
            E::Symlink(name, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, name, target).unwrap();
            }
            E::Hardlink(name, target) => {
                h.set_entry_type(tar::EntryType::Link);
                h.set_mode(0o644);
                h.set_size(0);
                b.append_link(&mut h, name, target).unwrap();
            }
            E::Raw(name, kind, link, data) => {
                h.set_entry_type(tar::EntryType::new(*kind));
                h.set_mode(0o644);
                h.set_size(data.len() as u64);
                {
                    let old = h.as_old_mut();
                    old.name = [0; 100];
                    old.name[..name.len()].copy_from_slice(name);
                    old.linkname = [0; 100];
                    old.linkname[..link.len()].copy_from_slice(link);
                }
                h.set_cksum();
                b.append(&h, *data).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

/// gzip-compresses a layer (as registries serve them).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub use factory_test_support::{run_bytes as run, run_with_input, tool as require_tool};

/// Builds a fake Talos base initramfs like upstream's (`find . | sort |
/// cpio -H newc -o | zstd -18` or `xz -C crc32`): `init` and a
/// `rootfs.sqsh` holding `<modules path>/<kver>/` with one fake module.
pub fn fake_base_initramfs(dir: &Path, zstd: bool, modules_path: &str, kver: &str) -> PathBuf {
    let mksquashfs = require_tool("mksquashfs", "squashfs-tools");
    let cpio = require_tool("cpio", "cpio");
    let root = dir.join("base-rootfs");
    let mods = root.join(modules_path.trim_start_matches('/')).join(kver);
    std::fs::create_dir_all(mods.join("kernel/drivers")).unwrap();
    std::fs::write(mods.join("kernel/drivers/base.ko"), b"fake base module").unwrap();
    std::fs::write(mods.join("modules.order"), b"kernel/drivers/base.ko\n").unwrap();
    std::fs::write(mods.join("modules.builtin"), b"kernel/fs/ext4.ko\n").unwrap();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::write(root.join("usr/bin/machined"), b"#!/bin/true\n").unwrap();
    let cpio_root = dir.join("base-cpio");
    std::fs::create_dir_all(&cpio_root).unwrap();
    std::fs::write(cpio_root.join("init"), b"#!/bin/sh\necho fake init\n").unwrap();
    run(Command::new(&mksquashfs)
        .arg(&root)
        .arg(cpio_root.join("rootfs.sqsh"))
        .args(["-all-root", "-noappend", "-no-progress", "-quiet", "-comp"])
        .arg(if zstd { "zstd" } else { "xz" }));
    let listing = b"init\nrootfs.sqsh\n";
    let archive = run_with_input(
        Command::new(&cpio)
            .args(["-H", "newc", "-o", "--quiet", "--reproducible"])
            .current_dir(&cpio_root),
        listing,
    );
    let compressed = if zstd {
        let zstd = require_tool("zstd", "zstd");
        run_with_input(Command::new(zstd).args(["-18", "-c", "-q"]), &archive)
    } else {
        let xz = require_tool("xz", "xz-utils");
        run_with_input(
            Command::new(xz).args(["-C", "crc32", "-0", "-e", "-z", "-c"]),
            &archive,
        )
    };
    let path = dir.join("initramfs.xz");
    std::fs::write(&path, compressed).unwrap();
    path
}

/// A minimal manifest.
pub fn manifest(name: &str, version: &str, description: &str, range: &str) -> String {
    format!(
        "version: v1alpha1\nmetadata:\n  name: {name}\n  version: \"{version}\"\n  author: Test Author\n  description: |\n    {description}\n  compatibility:\n    talos:\n      version: \"{range}\"\n"
    )
}

#[allow(unused_imports)] // not every test binary that includes this module walks cpio
pub use factory_test_support::split_newc;

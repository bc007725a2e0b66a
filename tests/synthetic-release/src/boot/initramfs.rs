//! The base initramfs of a synthetic Talos version.
//!
//! Upstream's base initramfs is `/init` plus `/rootfs.sqsh` in a newc cpio,
//! xz-compressed (CRC32) before 1.8 and zstd-compressed from 1.8, always
//! named `initramfs.xz`. The amd64 one here is bootable: `/init` is a busybox
//! script (see `assets/init.sh`) that loads the boot modules, mounts
//! `rootfs.sqsh` and the extensions of `/extensions.yaml`, and prints one
//! machine-readable line. `/dev/console` is in the archive so that init has
//! a console before it mounts devtmpfs. The arm64 one has the same shape and
//! the same `rootfs.sqsh` layout, but its `/init` is a marked stand-in.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use factory_core::arch::Arch;
use factory_core::version::TalosVersion;

use crate::archive::compress::Encoder;
use crate::archive::cpio::write_cpio;
use crate::boot::rootfs::{compression, modules_path};
use crate::error::{IoContext, Result};
use crate::kmod::KernelModule;
use crate::tree::{Source, Tree};

/// The synthetic init script (placeholders `@MODULES@` and `@AWK@`).
const INIT_TEMPLATE: &str = include_str!("../assets/init.sh");
/// The `/extensions.yaml` reader the init script runs.
const EXTENSIONS_AWK: &str = include_str!("../assets/extensions.awk");
/// Where the awk program lives in the initramfs.
const AWK_PATH: &str = "usr/share/synthetic-release/extensions.awk";

/// What the amd64 initramfs is built from.
#[derive(Debug)]
pub(crate) struct BootPayload<'a> {
    /// The static busybox binary.
    pub(crate) busybox: &'a Path,
    /// The modules init loads, dependencies first.
    pub(crate) modules: &'a [KernelModule],
    /// The kernel release (names the module directory).
    pub(crate) kernel_release: &'a str,
}

/// The init script with the module list filled in.
pub(crate) fn init_script(version: &TalosVersion, payload: &BootPayload<'_>) -> String {
    let dir = modules_path(version, payload.kernel_release);
    let modules: Vec<String> = payload
        .modules
        .iter()
        .map(|m| format!("/{dir}/{}", m.relative))
        .collect();
    INIT_TEMPLATE
        .replace("@MODULES@", &modules.join(" "))
        .replace("@AWK@", &format!("/{AWK_PATH}"))
}

/// The initramfs tree for `arch`; `payload` is required for amd64.
pub(crate) fn initramfs_tree(
    version: &TalosVersion,
    arch: Arch,
    payload: Option<&BootPayload<'_>>,
    rootfs: &Path,
) -> Result<Tree> {
    let mut tree = Tree::new();
    tree.file("rootfs.sqsh", 0o644, Source::Path(rootfs.to_owned()))?;
    match (arch, payload) {
        (Arch::Amd64, Some(payload)) => {
            tree.bytes("init", 0o755, init_script(version, payload))?;
            tree.file(
                "bin/busybox",
                0o755,
                Source::Path(payload.busybox.to_owned()),
            )?;
            tree.char_device("dev/console", 0o600, 5, 1)?;
            for dir in ["proc", "sys", "run"] {
                tree.dir(dir, 0o755)?;
            }
            tree.dir("tmp", 0o1777)?;
            tree.bytes(AWK_PATH, 0o644, EXTENSIONS_AWK)?;
            let dir = modules_path(version, payload.kernel_release);
            for module in payload.modules {
                tree.file(
                    &format!("{dir}/{}", module.relative),
                    0o644,
                    module.source.clone(),
                )?;
            }
        }
        _ => {
            let init = format!(
                "#!/bin/sh\n# SYNTHETIC {arch} init stand-in for Talos {version} \
                 (image-factory test fixture): this initramfs is not bootable.\nexit 1\n"
            );
            tree.bytes("init", 0o755, init)?;
        }
    }
    Ok(tree)
}

/// Writes the compressed initramfs of `version`/`arch` to `out`.
pub(crate) fn write_initramfs(
    version: &TalosVersion,
    arch: Arch,
    payload: Option<&BootPayload<'_>>,
    rootfs: &Path,
    out: &Path,
) -> Result<()> {
    let tree = initramfs_tree(version, arch, payload, rootfs)?;
    let file = File::create(out).ctx(|| format!("creating {}", out.display()))?;
    let encoder = Encoder::new(compression(version), BufWriter::new(file))?;
    let encoder = write_cpio(&tree, encoder)?;
    let mut buffered = encoder.finish()?;
    buffered
        .flush()
        .ctx(|| format!("writing {}", out.display()))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn init_loads_modules_from_the_version_module_directory() {
        let modules = [KernelModule {
            name: "squashfs".to_owned(),
            relative: "kernel/fs/squashfs/squashfs.ko".to_owned(),
            source: Source::Bytes(Vec::new()),
        }];
        let payload = BootPayload {
            busybox: Path::new("/bin/busybox"),
            modules: &modules,
            kernel_release: "6.1.0-56-amd64",
        };
        let script = init_script(&"v1.12.4".parse().unwrap(), &payload);
        assert!(script.contains(
            "for module in /usr/lib/modules/6.1.0-56-amd64/kernel/fs/squashfs/squashfs.ko; do"
        ));
        assert!(script.contains("awk -f /usr/share/synthetic-release/extensions.awk"));
        assert!(!script.contains('@'));
        let tree = initramfs_tree(
            &"v1.9.6".parse().unwrap(),
            Arch::Amd64,
            Some(&payload),
            &PathBuf::from("/x/rootfs.sqsh"),
        )
        .unwrap();
        assert!(
            tree.get("lib/modules/6.1.0-56-amd64/kernel/fs/squashfs/squashfs.ko")
                .is_some()
        );
    }
}

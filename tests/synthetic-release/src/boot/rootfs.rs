//! The root filesystem squashfs of a synthetic Talos version.
//!
//! It holds what the factory and the synthetic init look at: the os-release
//! naming the version (init reports `VERSION_ID` from the merged root, which
//! proves the squashfs and overlay were mounted), and the kernel module
//! directory `<modules path>/<kernel release>/` (the factory unpacks it from
//! `rootfs.sqsh` and expects exactly one release there when it runs depmod
//! for kernel-module extensions). The module path follows Talos's usr-merge
//! at 1.10, as do the extensions.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use factory_core::arch::Arch;
use factory_core::quirks::Quirks;
use factory_core::version::TalosVersion;

use crate::archive::compress::Compression;
use crate::archive::squashfs::write_squashfs;
use crate::error::{IoContext, Result};
use crate::kmod::KernelModule;
use crate::tree::{Source, Tree};

/// Module metadata files copied from the kernel package when present.
const MODULE_METADATA: [&str; 3] = [
    "modules.builtin",
    "modules.builtin.modinfo",
    "modules.order",
];

/// What goes into one version's root filesystem.
#[derive(Debug)]
pub(crate) struct RootfsSpec<'a> {
    /// The Talos version.
    pub(crate) version: &'a TalosVersion,
    /// The architecture (only names the module directory).
    pub(crate) arch: Arch,
    /// Kernel release of this architecture.
    pub(crate) kernel_release: &'a str,
    /// Modules to include (amd64: the boot modules; arm64: none).
    pub(crate) modules: &'a [KernelModule],
    /// The kernel package's module directory, for its metadata files.
    pub(crate) modules_dir: Option<&'a Path>,
}

/// Talos's os-release for `version`, marked as synthetic.
pub(crate) fn os_release(version: &TalosVersion) -> String {
    format!(
        "# Synthetic Talos release generated for image-factory tests; not Talos.\n\
         NAME=\"Talos\"\n\
         ID=talos\n\
         VERSION_ID={version}\n\
         PRETTY_NAME=\"Talos ({version})\"\n\
         HOME_URL=\"https://www.talos.dev/\"\n\
         BUG_REPORT_URL=\"https://github.com/siderolabs/talos/issues\"\n\
         VENDOR_NAME=\"Sidero Labs\"\n\
         VENDOR_URL=\"https://www.siderolabs.com/\"\n"
    )
}

/// The squashfs compressor Talos used for `version`.
pub(crate) fn compression(version: &TalosVersion) -> Compression {
    if Quirks::new(version).use_zstd_compression() {
        Compression::Zstd18
    } else {
        Compression::XzCrc32
    }
}

/// The path of the kernel module directory of `version`, without the
/// leading `/` (`usr/lib/modules/<release>`).
pub(crate) fn modules_path(version: &TalosVersion, kernel_release: &str) -> String {
    let base = Quirks::new(version).kernel_modules_path();
    format!("{}/{kernel_release}", base.trim_start_matches('/'))
}

/// The root filesystem tree.
pub(crate) fn rootfs_tree(spec: &RootfsSpec<'_>) -> Result<Tree> {
    let mut tree = Tree::new();
    tree.bytes("usr/lib/os-release", 0o644, os_release(spec.version))?;
    tree.symlink("etc/os-release", "../usr/lib/os-release")?;
    for dir in ["dev", "proc", "sys", "run", "tmp", "var", "system"] {
        tree.dir(dir, 0o755)?;
    }
    let modules = modules_path(spec.version, spec.kernel_release);
    tree.dir(&modules, 0o755)?;
    for name in MODULE_METADATA {
        let path = format!("{modules}/{name}");
        match spec.modules_dir.map(|dir| dir.join(name)) {
            Some(file) if file.exists() => tree.file(&path, 0o644, Source::Path(file))?,
            _ => tree.bytes(&path, 0o644, Vec::new())?,
        }
    }
    for module in spec.modules {
        tree.file(
            &format!("{modules}/{}", module.relative),
            0o644,
            module.source.clone(),
        )?;
    }
    let marker = format!(
        "Synthetic Talos {} root filesystem ({}) for image-factory tests.\n",
        spec.version, spec.arch
    );
    tree.bytes("usr/share/synthetic-release/README", 0o644, marker)?;
    Ok(tree)
}

/// Writes the root filesystem of `spec` to `out` as a squashfs.
pub(crate) fn write_rootfs(spec: &RootfsSpec<'_>, out: &Path) -> Result<()> {
    let tree = rootfs_tree(spec)?;
    let file = File::create(out).ctx(|| format!("creating {}", out.display()))?;
    let name = format!("rootfs.sqsh of {} {}", spec.version, spec.arch);
    write_squashfs(
        &tree,
        compression(spec.version),
        &name,
        BufWriter::new(file),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_directory_follows_the_usr_merge() {
        let old: TalosVersion = "v1.9.6".parse().unwrap();
        let new: TalosVersion = "v1.10.7".parse().unwrap();
        assert_eq!(modules_path(&old, "k"), "lib/modules/k");
        assert_eq!(modules_path(&new, "k"), "usr/lib/modules/k");
        assert_eq!(
            compression(&"v1.7.7".parse().unwrap()),
            Compression::XzCrc32
        );
        assert_eq!(compression(&new), Compression::Zstd18);
    }

    #[test]
    fn os_release_names_the_version() {
        let text = os_release(&"v1.14.0-rc.1".parse().unwrap());
        assert!(text.contains("\nVERSION_ID=v1.14.0-rc.1\n"));
    }
}

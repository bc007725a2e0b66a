//! The boot artifacts an installer carries, and where they go in its layer.
//!
//! Talos's installer finds its boot assets under `/usr/install/<arch>/`.
//! From 1.10, and for every SecureBoot installer, those are the UKI
//! (`vmlinuz.efi`) and systemd-boot (`systemd-boot.efi`); a SecureBoot
//! installer before 1.10 names the UKI `vmlinuz.efi.signed`. Otherwise they
//! are the kernel (`vmlinuz`) and the initramfs (`initramfs.xz`). As
//! upstream's `outInstaller` writes them: regular files only, no directory
//! entries, mode 0 (upstream sets no mode; the installer runs as root), and
//! sorted by path.

use std::path::{Path, PathBuf};

use factory_core::arch::Arch;
use factory_core::quirks::Quirks;
use factory_core::version::TalosVersion;

use super::error::InstallerError;
use super::filemap::{FileEntry, Source};

/// The boot artifacts to put in an installer, as files on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallerArtifacts {
    /// Talos ≥1.10, or SecureBoot: the UKI and systemd-boot.
    Uki {
        /// The UKI (signed for SecureBoot).
        uki: PathBuf,
        /// `systemd-boot.efi` (signed for SecureBoot).
        systemd_boot: PathBuf,
    },
    /// Talos <1.10 without SecureBoot: the kernel and the initramfs.
    KernelInitramfs {
        /// The kernel (`vmlinuz`).
        kernel: PathBuf,
        /// The initramfs with extensions (`initramfs.xz`).
        initramfs: PathBuf,
    },
}

impl InstallerArtifacts {
    /// The layer entries for `arch`, checking that these are the artifacts
    /// `version` (with or without SecureBoot) installs.
    pub(crate) fn entries(
        &self,
        arch: Arch,
        version: &TalosVersion,
        secureboot: bool,
    ) -> Result<Vec<FileEntry>, InstallerError> {
        let sd_boot = Quirks::new(version).use_sd_boot_for_uefi();
        let dir = format!("usr/install/{arch}");
        let files = match (self, sd_boot || secureboot) {
            (InstallerArtifacts::Uki { uki, systemd_boot }, true) => {
                let uki_name = if secureboot && !sd_boot {
                    "vmlinuz.efi.signed"
                } else {
                    "vmlinuz.efi"
                };
                [("systemd-boot.efi", systemd_boot), (uki_name, uki)]
            }
            (InstallerArtifacts::KernelInitramfs { kernel, initramfs }, false) => {
                [("initramfs.xz", initramfs), ("vmlinuz", kernel)]
            }
            (_, uki) => {
                return Err(InstallerError::WrongArtifacts {
                    version: version.to_string(),
                    secureboot: if secureboot { " (SecureBoot)" } else { "" },
                    needs: if uki {
                        "a UKI and systemd-boot"
                    } else {
                        "a kernel and an initramfs"
                    },
                });
            }
        };
        files
            .into_iter()
            .map(|(name, path)| {
                regular_file(path)?;
                Ok(FileEntry {
                    image_path: format!("{dir}/{name}"),
                    mode: 0,
                    source: Source::File(path.clone()),
                })
            })
            .collect()
    }
}

fn regular_file(path: &Path) -> Result<(), InstallerError> {
    let meta = std::fs::metadata(path).map_err(InstallerError::io("reading", path))?;
    if meta.is_file() {
        Ok(())
    } else {
        Err(InstallerError::BadInput {
            path: path.to_owned(),
            reason: "boot artifact is not a regular file",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> (PathBuf, PathBuf) {
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::write(&a, b"a").unwrap();
        std::fs::write(&b, b"b").unwrap();
        (a, b)
    }

    fn names(entries: &[FileEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.image_path.as_str()).collect()
    }

    #[test]
    fn paths_per_version_and_secureboot() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = files(dir.path());
        let uki = InstallerArtifacts::Uki {
            uki: a.clone(),
            systemd_boot: b.clone(),
        };
        let old = InstallerArtifacts::KernelInitramfs {
            kernel: a,
            initramfs: b,
        };
        let v110: TalosVersion = "v1.10.3".parse().unwrap();
        let v19: TalosVersion = "v1.9.5".parse().unwrap();
        let e = uki.entries(Arch::Amd64, &v110, false).unwrap();
        assert_eq!(
            names(&e),
            [
                "usr/install/amd64/systemd-boot.efi",
                "usr/install/amd64/vmlinuz.efi"
            ]
        );
        assert!(e.iter().all(|e| e.mode == 0));
        assert_eq!(e[1].source, Source::File(dir.path().join("a")));
        assert_eq!(
            names(&uki.entries(Arch::Arm64, &v19, true).unwrap()),
            [
                "usr/install/arm64/systemd-boot.efi",
                "usr/install/arm64/vmlinuz.efi.signed"
            ]
        );
        assert_eq!(
            names(&uki.entries(Arch::Arm64, &v110, true).unwrap()),
            [
                "usr/install/arm64/systemd-boot.efi",
                "usr/install/arm64/vmlinuz.efi"
            ]
        );
        assert_eq!(
            names(&old.entries(Arch::Amd64, &v19, false).unwrap()),
            [
                "usr/install/amd64/initramfs.xz",
                "usr/install/amd64/vmlinuz"
            ]
        );
        for (artifacts, version, sb) in [
            (&old, &v110, false),
            (&old, &v19, true),
            (&uki, &v19, false),
        ] {
            let err = artifacts.entries(Arch::Amd64, version, sb).unwrap_err();
            assert!(
                matches!(err, InstallerError::WrongArtifacts { .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn artifacts_must_be_files() {
        let dir = tempfile::tempdir().unwrap();
        let uki = InstallerArtifacts::Uki {
            uki: dir.path().to_owned(),
            systemd_boot: dir.path().join("missing"),
        };
        let v: TalosVersion = "v1.11.0".parse().unwrap();
        assert!(uki.entries(Arch::Amd64, &v, false).is_err());
    }
}

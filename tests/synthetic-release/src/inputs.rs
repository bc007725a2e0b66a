//! The Debian inputs of the release, as `tests/scripts/fetch-debian-inputs.sh`
//! extracts them: `<cache>/root/` holds the unpacked `linux-image-*-amd64`,
//! `busybox-static` and `systemd-boot-efi` packages.
//!
//! Only paths are located here; contents are streamed when written. Both the
//! split-usr layout of bookworm packages (`/lib/modules`, `/bin/busybox`) and
//! the merged one of later releases (`/usr/lib/modules`) are accepted.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};

/// Paths of the Debian files the release is built from.
#[derive(Debug, Clone)]
pub(crate) struct DebianInputs {
    /// The kernel image (`boot/vmlinuz-<release>`).
    pub(crate) kernel: PathBuf,
    /// The kernel release (`6.1.0-56-amd64`).
    pub(crate) kernel_release: String,
    /// `lib/modules/<release>`.
    pub(crate) modules_dir: PathBuf,
    /// The static busybox binary.
    pub(crate) busybox: PathBuf,
    /// systemd's amd64 UKI stub (`linuxx64.efi.stub`).
    pub(crate) systemd_stub: PathBuf,
    /// systemd-boot for amd64 (`systemd-bootx64.efi`).
    pub(crate) systemd_boot: PathBuf,
}

impl DebianInputs {
    /// Finds the inputs under `<cache>/root`.
    pub(crate) fn locate(cache: &Path) -> Result<Self> {
        let root = cache.join("root");
        if !root.is_dir() {
            return Err(Error::MissingInput {
                what: "extracted packages".to_owned(),
                looked_for: root,
            });
        }
        let (kernel, kernel_release) = find_kernel(&root)?;
        let modules_dir = first_existing(
            "kernel modules",
            &[
                root.join("lib/modules").join(&kernel_release),
                root.join("usr/lib/modules").join(&kernel_release),
            ],
        )?;
        let busybox = first_existing(
            "busybox (busybox-static)",
            &[root.join("bin/busybox"), root.join("usr/bin/busybox")],
        )?;
        let efi = root.join("usr/lib/systemd/boot/efi");
        let systemd_stub = first_existing(
            "systemd-stub (systemd-boot-efi)",
            &[efi.join("linuxx64.efi.stub")],
        )?;
        let systemd_boot = first_existing(
            "systemd-boot (systemd-boot-efi)",
            &[efi.join("systemd-bootx64.efi")],
        )?;
        Ok(DebianInputs {
            kernel,
            kernel_release,
            modules_dir,
            busybox,
            systemd_stub,
            systemd_boot,
        })
    }
}

/// The one `boot/vmlinuz-<release>` of the kernel package.
fn find_kernel(root: &Path) -> Result<(PathBuf, String)> {
    let boot = root.join("boot");
    let missing = || Error::MissingInput {
        what: "kernel (linux-image-*-amd64)".to_owned(),
        looked_for: boot.join("vmlinuz-*"),
    };
    if !boot.is_dir() {
        return Err(missing());
    }
    let mut kernels = Vec::new();
    for entry in fs::read_dir(&boot).ctx(|| format!("listing {}", boot.display()))? {
        let entry = entry.ctx(|| format!("listing {}", boot.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(release) = name.strip_prefix("vmlinuz-") {
            kernels.push((entry.path(), release.to_owned()));
        }
    }
    match kernels.len() {
        0 => Err(missing()),
        1 => kernels.pop().ok_or_else(missing),
        n => Err(Error::BadInput {
            path: boot,
            reason: format!("{n} kernels found; the inputs must hold exactly one"),
        }),
    }
}

fn first_existing(what: &str, candidates: &[PathBuf]) -> Result<PathBuf> {
    candidates
        .iter()
        .find(|path| path.exists())
        .cloned()
        .ok_or_else(|| Error::MissingInput {
            what: what.to_owned(),
            looked_for: candidates.first().cloned().unwrap_or_default(),
        })
}

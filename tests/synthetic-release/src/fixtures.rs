//! What the synthetic release contains: its Talos versions, extensions and
//! overlay, as data that tests can read instead of repeating names.
//!
//! The versions straddle every boundary the factory's quirks care about: xz
//! before 1.8 and zstd after, the two-layer `installer` before 1.10 and
//! `installer-base` from 1.10 (also where modules and firmware move under
//! `/usr/lib`), the SBOM from 1.11, and a release candidate, which the
//! versions list keeps only because it belongs to the newest minor.
//!
//! Extensions follow upstream's naming and tagging: firmware and microcode
//! images carry a date tag and are shared by several Talos versions (one set
//! under `/lib/firmware`, one under `/usr/lib/firmware`), the kernel-module
//! image is rebuilt per Talos version (`<commit>-<talos tag>`), and the
//! service image is shared by all. `gasket-driver` is the renamed image that
//! schematics still reach as `siderolabs/gasket`.

use std::str::FromStr;

use factory_core::quirks::Quirks;
use factory_core::version::TalosVersion;

/// Tags of the Talos versions in the release, oldest first.
pub const VERSIONS: [&str; 7] = [
    "v1.7.7",
    "v1.9.6",
    "v1.10.7",
    "v1.11.5",
    "v1.12.4",
    "v1.13.2",
    "v1.14.0-rc.1",
];

/// Registry host the catalogs name (upstream's); the factory substitutes its
/// configured registry, exactly as it must for ghcr.io mirrors.
pub const CATALOG_REGISTRY: &str = "ghcr.io";

/// Repository of the Talos imager image.
pub const IMAGER_REPOSITORY: &str = "siderolabs/imager";
/// Repository of the base installer from 1.10.
pub const INSTALLER_BASE_REPOSITORY: &str = "siderolabs/installer-base";
/// Repository of the base installer before 1.10.
pub const INSTALLER_REPOSITORY: &str = "siderolabs/installer";
/// Repository of the extensions catalog image.
pub const EXTENSIONS_CATALOG_REPOSITORY: &str = "siderolabs/extensions";
/// Repository of the overlays catalog image.
pub const OVERLAYS_CATALOG_REPOSITORY: &str = "siderolabs/overlays";

/// Repository of the one overlay image.
pub const OVERLAY_REPOSITORY: &str = "siderolabs/sbc-raspberrypi";
/// Tag of the overlay image (shared by every Talos version).
pub const OVERLAY_TAG: &str = "v0.1.4";
/// The overlay's name in the catalog and in schematics.
pub const OVERLAY_NAME: &str = "rpi_generic";

/// The line the synthetic init prints once it has mounted the root filesystem
/// and every extension; see `tests/README.md` for its fields.
pub const BOOT_MARKER: &str = "SYNTHETIC-TALOS-BOOT";

/// The fixture versions, parsed.
pub fn versions() -> Vec<TalosVersion> {
    VERSIONS
        .iter()
        .filter_map(|tag| TalosVersion::from_str(tag).ok())
        .collect()
}

/// What an extension image exercises in the factory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionKind {
    /// A plain extension with an extension service (`usr/local/etc/containers`).
    Service,
    /// CPU microcode under the firmware path's `amd-ucode/`, which the imager
    /// moves into the early (uncompressed) cpio.
    Microcode,
    /// Firmware (with a symlink), which the imager moves into the initramfs.
    Firmware,
    /// Kernel modules under `<modules path>/<kver>/extras/`, which make the
    /// imager run depmod; `apex.ko` needs a symbol of `gasket.ko`.
    KernelModule,
}

/// One extension image of the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionFixture {
    /// Repository path, the name schematics use (`siderolabs/amd-ucode`).
    pub repository: &'static str,
    /// Image tag.
    pub tag: String,
    /// What the image exercises.
    pub kind: ExtensionKind,
    /// `metadata.compatibility.talos.version` of its manifest.
    pub compatibility: String,
    /// Author, in the manifest and `descriptions.yaml`.
    pub author: &'static str,
    /// Description, in the manifest and `descriptions.yaml`.
    pub description: &'static str,
}

impl ExtensionFixture {
    /// The extension's name in its manifest (the repository's last segment).
    pub fn name(&self) -> &'static str {
        self.repository
            .rsplit_once('/')
            .map_or(self.repository, |(_, name)| name)
    }

    /// `<repository>:<tag>`, the reference the registry serves it under.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.repository, self.tag)
    }
}

/// The extensions listed in the catalog of `version`, in catalog order.
pub fn extensions(version: &TalosVersion) -> Vec<ExtensionFixture> {
    let usr_merged = Quirks::new(version).usr_merged();
    // Date-tagged images rebuilt when firmware moved under /usr/lib (1.10).
    let (firmware_tag, firmware_range) = if usr_merged {
        ("20250311", ">= v1.10.0")
    } else {
        ("20240312", ">= v1.5.0")
    };
    let minor_range = format!(">= v{}.{}.0", version.major(), version.minor());
    vec![
        ExtensionFixture {
            repository: "siderolabs/amd-ucode",
            tag: firmware_tag.to_owned(),
            kind: ExtensionKind::Microcode,
            compatibility: firmware_range.to_owned(),
            author: "Sidero Labs",
            description: "[core] AMD CPU microcode binaries (synthetic test fixture).",
        },
        ExtensionFixture {
            repository: "siderolabs/gasket-driver",
            tag: format!("5815ee3-{version}"),
            kind: ExtensionKind::KernelModule,
            compatibility: minor_range,
            author: "Sidero Labs",
            description: "[extra] Gasket and Apex kernel modules for Coral Edge TPUs (synthetic test fixture).",
        },
        ExtensionFixture {
            repository: "siderolabs/intel-ice-firmware",
            tag: firmware_tag.to_owned(),
            kind: ExtensionKind::Firmware,
            compatibility: firmware_range.to_owned(),
            author: "Sidero Labs",
            description: "[extra] Intel ice network adapter DDP firmware (synthetic test fixture).",
        },
        ExtensionFixture {
            repository: "siderolabs/qemu-guest-agent",
            tag: "9.2.0".to_owned(),
            kind: ExtensionKind::Service,
            compatibility: ">= v1.5.0".to_owned(),
            author: "Markus Reiter",
            description: "[extra] QEMU guest agent as an extension service (synthetic test fixture).",
        },
    ]
}

/// The kernel release of the arm64 stand-in kernel, derived from the real
/// amd64 one (`6.1.0-56-amd64` → `6.1.0-56-arm64`).
pub fn arm64_kernel_release(amd64: &str) -> String {
    match amd64.strip_suffix("amd64") {
        Some(stem) => format!("{stem}arm64"),
        None => format!("{amd64}-arm64"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_parses_and_is_sorted() {
        let parsed = versions();
        assert_eq!(parsed.len(), VERSIONS.len());
        assert!(parsed.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn firmware_images_follow_the_usr_merge() {
        let old = extensions(&"v1.9.6".parse().unwrap());
        let new = extensions(&"v1.10.7".parse().unwrap());
        assert_eq!(old[0].reference(), "siderolabs/amd-ucode:20240312");
        assert_eq!(new[0].reference(), "siderolabs/amd-ucode:20250311");
        assert_eq!(
            new[1].reference(),
            "siderolabs/gasket-driver:5815ee3-v1.10.7"
        );
        assert_eq!(new[1].compatibility, ">= v1.10.0");
        assert_eq!(new[1].name(), "gasket-driver");
    }

    #[test]
    fn arm64_release_mirrors_amd64() {
        assert_eq!(arm64_kernel_release("6.1.0-56-amd64"), "6.1.0-56-arm64");
        assert_eq!(arm64_kernel_release("6.12.1-talos"), "6.12.1-talos-arm64");
    }
}

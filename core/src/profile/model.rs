//! The build profile and the context it is resolved in.

use crate::catalog::{ExtensionEntry, OverlayEntry, ReleaseCatalog};
use crate::image_path::ImagePath;
use crate::schematic::{Bootloader, EnrollKeys, MetaValue, OverlayOptions};
use crate::version::TalosVersion;

/// What a profile is resolved against: the Talos release, its catalog, and
/// whether this deployment can sign SecureBoot assets.
#[derive(Debug, Clone, Copy)]
pub struct ProfileContext<'a> {
    /// The requested Talos version.
    pub version: &'a TalosVersion,
    /// Extensions, overlays and image digests of that version.
    pub catalog: &'a ReleaseCatalog,
    /// Whether SecureBoot signing keys are configured.
    pub secureboot_enabled: bool,
}

/// An overlay resolved against the catalog, with the schematic's options.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedOverlay {
    /// The catalog entry (name, image, pinned digest).
    pub entry: OverlayEntry,
    /// The schematic's free-form overlay options, passed to the overlay installer.
    pub options: OverlayOptions,
}

/// Everything that decides the bytes of one boot asset.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildProfile {
    /// What to build; for disk images `disk.sector_size` carries the
    /// schematic's sector size.
    pub output: ImagePath,
    /// The Talos version.
    pub version: TalosVersion,
    /// The schematic ID, for every kind except kernel and cmdline: it names the
    /// schematic extension baked into the initramfs, so those assets differ per
    /// schematic.
    pub schematic_id: Option<String>,
    /// Extra kernel arguments in schematic order (empty where the kind cannot carry them).
    pub extra_kernel_args: Vec<String>,
    /// META values (ISO, disk image and cmdline only).
    pub meta: Vec<MetaValue>,
    /// The schematic's bootloader choice (ISO and disk image only).
    pub bootloader: Option<Bootloader>,
    /// systemd-boot key enrollment (SecureBoot ISO and disk image only).
    pub enroll_keys: Option<EnrollKeys>,
    /// Enroll Microsoft's well-known certificates too (SecureBoot only).
    pub include_well_known_certs: bool,
    /// A machine configuration to embed (every kind except kernel and cmdline; Talos ≥1.12).
    pub embedded_config: Option<String>,
    /// Official extensions, resolved in schematic order (aliases followed).
    pub extensions: Vec<ExtensionEntry>,
    /// The SBC overlay, if the schematic has one (every kind except kernel and cmdline).
    pub overlay: Option<ResolvedOverlay>,
    /// Digest of the `imager` image the kernel, initramfs and stubs come from.
    pub imager_digest: String,
    /// Digest of the base installer image (installers only).
    pub installer_base_digest: Option<String>,
}

//! The schematic data model, field for field as upstream's Go struct
//! (`pkg/schematic/schematic.go`). Field order here is the serialisation order
//! and therefore part of every schematic ID: never reorder fields.

use super::options::OverlayOptions;

/// A user's customisation of Talos, identified by the sha256 of its canonical YAML.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schematic {
    /// Owner (multi-tenant deployments only). Must be empty here.
    pub owner: String,
    /// SBC overlay.
    pub overlay: Overlay,
    /// Everything else.
    pub customization: Customization,
}

/// An SBC overlay selection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overlay {
    /// Overlay image repository (part of the ID, not used for resolution).
    pub image: String,
    /// Overlay name, resolved against the overlays catalog.
    pub name: String,
    /// Free-form options passed to the overlay installer.
    pub options: OverlayOptions,
}

/// Customisations applied to the boot assets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Customization {
    /// A machine configuration embedded into the image (Talos ≥1.12).
    pub embedded_machine_configuration: String,
    /// Extra kernel arguments, in order (order is meaningful).
    pub extra_kernel_args: Vec<String>,
    /// META partition values.
    pub meta: Vec<MetaValue>,
    /// System extensions.
    pub system_extensions: SystemExtensions,
    /// Bootloader choice; `None` lets Talos pick.
    pub bootloader: Option<Bootloader>,
    /// SecureBoot options.
    pub secureboot: SecureBoot,
    /// Disk image options.
    pub disk_image: DiskImage,
}

/// One META key/value pair.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetaValue {
    /// META key (0..=255).
    pub key: u8,
    /// Value, usually YAML or JSON text.
    pub value: String,
}

/// System extension selection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SystemExtensions {
    /// Official extension names (`siderolabs/gvisor`), in layering order.
    pub official_extensions: Vec<String>,
}

/// Bootloader kinds (Talos `imageropts.BootloaderKind`); upstream's zero value
/// `none` means "unset" and is represented here by `Option::None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bootloader {
    /// GRUB for BIOS and systemd-boot for UEFI.
    DualBoot,
    /// systemd-boot only (UEFI).
    SdBoot,
    /// GRUB only.
    Grub,
}

impl Bootloader {
    /// Every kind, in upstream's enum order.
    pub const ALL: [Bootloader; 3] = [Bootloader::DualBoot, Bootloader::SdBoot, Bootloader::Grub];

    /// The YAML name.
    pub fn as_str(self) -> &'static str {
        match self {
            Bootloader::DualBoot => "dual-boot",
            Bootloader::SdBoot => "sd-boot",
            Bootloader::Grub => "grub",
        }
    }
}

/// SecureBoot customisation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecureBoot {
    /// How systemd-boot enrolls keys; `None` means upstream's default (`if-safe`).
    pub enroll_keys: Option<EnrollKeys>,
    /// Add Microsoft's well-known certificates to the enrolled db.
    pub include_well_known_certificates: bool,
}

/// systemd-boot `secure-boot-enroll` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnrollKeys {
    /// Never enroll.
    Off,
    /// Offer enrollment in the menu.
    Manual,
    /// Enroll when it is safe (VMs); upstream's default.
    IfSafe,
    /// Always enroll.
    Force,
}

impl EnrollKeys {
    /// Every mode, in upstream's documented order.
    pub const ALL: [EnrollKeys; 4] = [
        EnrollKeys::Off,
        EnrollKeys::Manual,
        EnrollKeys::IfSafe,
        EnrollKeys::Force,
    ];

    /// The YAML name.
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollKeys::Off => "off",
            EnrollKeys::Manual => "manual",
            EnrollKeys::IfSafe => "if-safe",
            EnrollKeys::Force => "force",
        }
    }
}

/// Disk image customisation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiskImage {
    /// Sector size in bytes; 0 means the default (512).
    pub sector_size: u64,
}

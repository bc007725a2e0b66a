//! Which bootloader an asset ends up with, as Talos's imager decides it
//! (`Output.selectBootloader` and the ISO generator choice).
//!
//! The rules, for disk images and (from Talos 1.12) ISOs:
//! SecureBoot always means systemd-boot; otherwise an explicit schematic
//! choice is kept; otherwise arm64 on ≥1.10 gets systemd-boot, anything below
//! 1.10 gets GRUB, and amd64 on ≥1.10 gets dual-boot. ISOs before 1.12 ignore
//! the schematic: 1.10 and 1.11 build hybrid (dual-boot) ISOs for both
//! architectures, older versions GRUB ISOs.
//!
//! Overlay (SBC) images are the exception this function cannot see: the
//! overlay's own profile sets `bootloader: grub`, and the imager merges it
//! later.

use super::model::BuildProfile;
use crate::arch::Arch;
use crate::image_path::OutputKind;
use crate::quirks::Quirks;
use crate::schematic::Bootloader;

impl BuildProfile {
    /// The bootloader the imager uses for this output. For kinds without a
    /// boot medium of their own (kernel, initramfs, cmdline, UKI, installer)
    /// it is the default Talos would pick for this version and architecture.
    pub fn bootloader_for_output(&self) -> Bootloader {
        let quirks = Quirks::new(&self.version);
        let secureboot = self.output.secureboot;
        if self.output.kind == OutputKind::Iso
            && !secureboot
            && !quirks.iso_supports_setting_bootloader()
        {
            return if quirks.use_sd_boot_for_uefi() {
                Bootloader::DualBoot
            } else {
                Bootloader::Grub
            };
        }
        select_bootloader(self.bootloader, self.output.arch, &quirks, secureboot)
    }
}

/// Talos `selectBootloader`.
fn select_bootloader(
    explicit: Option<Bootloader>,
    arch: Arch,
    quirks: &Quirks,
    secureboot: bool,
) -> Bootloader {
    if secureboot {
        return Bootloader::SdBoot;
    }
    if let Some(choice) = explicit {
        return choice;
    }
    match (arch, quirks.use_sd_boot_for_uefi()) {
        (_, false) => Bootloader::Grub,
        (Arch::Arm64, true) => Bootloader::SdBoot,
        (Arch::Amd64, true) => Bootloader::DualBoot,
    }
}

//! Every version-gated behaviour of Talos and the factory, answered in one place.
//!
//! The thresholds mirror Talos's `pkg/machinery/imager/quirks` plus the few
//! checks the factory adds (overlays, embedded config, talosctl downloads).
//! As upstream, only `major.minor.patch` is compared: a pre-release of 1.14.0
//! behaves as 1.14.0. Keeping the table here (rather than scattering version
//! comparisons) is what lets a new Talos release be supported by editing data.

use crate::version::TalosVersion;

/// Sizes of the partitions a disk image is laid out with, in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionSizes {
    /// The EFI system partition.
    pub efi_mib: u64,
    /// The BIOS boot partition (GRUB layouts only).
    pub bios_mib: u64,
    /// The BOOT partition (kernel and initramfs for GRUB, UKIs for sd-boot).
    pub boot_mib: u64,
    /// The META partition.
    pub meta_mib: u64,
}

/// Version-dependent behaviour for one Talos version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirks {
    core: (u64, u64, u64),
}

impl Quirks {
    /// The quirks of `version` (its pre-release part is ignored).
    pub fn new(version: &TalosVersion) -> Self {
        Quirks {
            core: version.release_core(),
        }
    }

    fn at_least(&self, major: u64, minor: u64, patch: u64) -> bool {
        self.core >= (major, minor, patch)
    }

    /// GRUB has a "Reset" menu entry (≥1.4).
    pub fn supports_reset_grub_option(&self) -> bool {
        self.at_least(1, 4, 0)
    }

    /// UKIs, systemd-boot and SecureBoot assets exist (≥1.5).
    pub fn supports_uki(&self) -> bool {
        self.at_least(1, 5, 0)
    }

    /// SecureBoot assets can be built (same threshold as UKIs).
    pub fn supports_secureboot(&self) -> bool {
        self.supports_uki()
    }

    /// Machine configuration may hold several YAML documents (≥1.5).
    pub fn supports_multidoc(&self) -> bool {
        self.at_least(1, 5, 0)
    }

    /// META values on the cmdline are gzipped when long (≥1.6.3).
    pub fn supports_compressed_encoded_meta(&self) -> bool {
        self.at_least(1, 6, 3)
    }

    /// SBC overlays are supported (≥1.7).
    pub fn supports_overlay(&self) -> bool {
        self.at_least(1, 7, 0)
    }

    /// The schematic extension carries the canonical YAML as `extraInfo` (≥1.7).
    pub fn schematic_extension_has_extra_info(&self) -> bool {
        self.at_least(1, 7, 0)
    }

    /// Extension squashfs images and the appended initramfs cpio use zstd
    /// instead of xz (≥1.8).
    pub fn use_zstd_compression(&self) -> bool {
        self.at_least(1, 8, 0)
    }

    /// ISOs carry a `TALOS_V1_X_Y` volume label (≥1.8).
    pub fn supports_iso_label(&self) -> bool {
        self.at_least(1, 8, 0)
    }

    /// Metal amd64 gets `console=ttyS0` before `console=tty0` (<1.8).
    pub fn supports_metal_platform_console_ttys0(&self) -> bool {
        !self.at_least(1, 8, 0)
    }

    /// ISOs add `talos.halt_if_installed=1` (≥1.8).
    pub fn supports_halt_if_installed(&self) -> bool {
        self.at_least(1, 8, 0)
    }

    /// Disk images do not pre-create STATE and EPHEMERAL (≥1.8).
    pub fn skip_data_partitions(&self) -> bool {
        self.at_least(1, 8, 0)
    }

    /// The cmdline enables SELinux with `selinux=1` (≥1.10).
    pub fn supports_selinux(&self) -> bool {
        self.at_least(1, 10, 0)
    }

    /// UEFI boots through systemd-boot; installers carry UKI + sd-boot (≥1.10).
    pub fn use_sd_boot_for_uefi(&self) -> bool {
        self.at_least(1, 10, 0)
    }

    /// UKIs carry several `.profile` sections (≥1.10).
    pub fn supports_uki_profiles(&self) -> bool {
        self.at_least(1, 10, 0)
    }

    /// Installers are built on `installer-base` and named
    /// `<platform>-installer`; kernel args are baked into them (≥1.10).
    pub fn supports_unified_installer(&self) -> bool {
        self.at_least(1, 10, 0)
    }

    /// The root filesystem is usr-merged: modules and firmware live under
    /// `/usr/lib` (≥1.10).
    pub fn usr_merged(&self) -> bool {
        self.at_least(1, 10, 0)
    }

    /// Where kernel modules live in the root filesystem.
    pub fn kernel_modules_path(&self) -> &'static str {
        if self.usr_merged() {
            "/usr/lib/modules"
        } else {
            "/lib/modules"
        }
    }

    /// Where firmware lives in the root filesystem.
    pub fn firmware_path(&self) -> &'static str {
        if self.usr_merged() {
            "/usr/lib/firmware"
        } else {
            "/lib/firmware"
        }
    }

    /// The cmdline carries the IMA arguments (≤1.10.x).
    pub fn supports_ima(&self) -> bool {
        !self.at_least(1, 11, 0)
    }

    /// Partition sizes of disk images (BOOT grew to 2000 MiB in 1.11).
    pub fn partition_sizes(&self) -> PartitionSizes {
        PartitionSizes {
            efi_mib: 100,
            bios_mib: 1,
            boot_mib: if self.at_least(1, 11, 0) { 2000 } else { 1000 },
            meta_mib: 1,
        }
    }

    /// `talosctl` binaries are downloadable from the factory (≥1.11).
    pub fn supports_factory_talosctl_download(&self) -> bool {
        self.at_least(1, 11, 0)
    }

    /// A machine configuration can be embedded in the image (≥1.12).
    pub fn supports_embedded_config(&self) -> bool {
        self.at_least(1, 12, 0)
    }

    /// The cmdline enforces module signatures with `module.sig_enforce=1` (≥1.12).
    pub fn supports_module_sig_enforce(&self) -> bool {
        self.at_least(1, 12, 0)
    }

    /// ISOs honour the schematic's bootloader choice (≥1.12).
    pub fn iso_supports_setting_bootloader(&self) -> bool {
        self.at_least(1, 12, 0)
    }

    /// The cmdline adds `proc_mem.force_override=never` (≥1.13).
    pub fn proc_mem_override_never(&self) -> bool {
        self.at_least(1, 13, 0)
    }

    /// The XFS mkfs configuration file the imager formats with.
    pub fn xfs_mkfs_config(&self) -> &'static str {
        if self.at_least(1, 13, 0) {
            "lts_6.18"
        } else if self.at_least(1, 10, 0) {
            "lts_6.12"
        } else if self.at_least(1, 8, 0) {
            "lts_6.6"
        } else {
            "lts_6.1"
        }
    }

    /// `init_on_alloc=1` is no longer among the default args (≥1.14).
    pub fn drop_init_on_alloc_in_args(&self) -> bool {
        self.at_least(1, 14, 0)
    }

    /// `nvme_core.io_timeout` moved from the defaults to the AWS args (≥1.14).
    pub fn nvme_core_io_timeout_aws_only(&self) -> bool {
        self.at_least(1, 14, 0)
    }

    /// SecureBoot cmdlines add `lockdown=confidentiality` (<1.14).
    pub fn forces_lockdown_confidentiality(&self) -> bool {
        !self.at_least(1, 14, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(v: &str) -> Quirks {
        Quirks::new(&v.parse().unwrap())
    }

    #[test]
    fn thresholds_flip_at_the_documented_versions() {
        assert!(!q("1.4.9").supports_uki() && q("1.5.0").supports_uki());
        assert!(
            !q("1.6.2").supports_compressed_encoded_meta()
                && q("1.6.3").supports_compressed_encoded_meta()
        );
        assert!(!q("1.6.9").supports_overlay() && q("1.7.0").supports_overlay());
        assert!(!q("1.7.9").use_zstd_compression() && q("1.8.0").use_zstd_compression());
        assert!(
            q("1.7.9").supports_metal_platform_console_ttys0()
                && !q("1.8.0").supports_metal_platform_console_ttys0()
        );
        assert!(
            !q("1.9.9").supports_unified_installer() && q("1.10.0").supports_unified_installer()
        );
        assert!(q("1.10.99").supports_ima() && !q("1.11.0").supports_ima());
        assert_eq!(q("1.10.5").partition_sizes().boot_mib, 1000);
        assert_eq!(q("1.11.0").partition_sizes().boot_mib, 2000);
        assert!(!q("1.11.9").supports_embedded_config() && q("1.12.0").supports_embedded_config());
        assert!(!q("1.12.9").proc_mem_override_never() && q("1.13.0").proc_mem_override_never());
        assert!(
            q("1.13.9").forces_lockdown_confidentiality()
                && !q("1.14.0").forces_lockdown_confidentiality()
        );
        assert_eq!(q("1.9.0").kernel_modules_path(), "/lib/modules");
        assert_eq!(q("1.10.0").firmware_path(), "/usr/lib/firmware");
    }

    #[test]
    fn pre_releases_behave_as_their_release() {
        assert!(q("1.14.0-alpha.1").drop_init_on_alloc_in_args());
        assert!(q("1.10.0-beta.0").supports_selinux());
    }
}

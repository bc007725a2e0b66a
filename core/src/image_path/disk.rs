//! Per-platform disk image defaults and the disk size formula.
//!
//! Upstream's factory starts every disk image at 8192 MiB and then takes the
//! size and `qemu-img` options of Talos's default profile for the platform
//! (`pkg/imager/profile/default.go`, `profile.Default[platform]`). The table
//! below is that data. The size is the *base* size: the imager grows it for the
//! BOOT/BIOS partitions of the bootloader in use, see [`disk_size_bytes`].
//!
//! One deliberate difference: upstream copies the default profile's
//! `diskFormatOptions` whatever format was requested, so `azure-amd64.qcow2`
//! is converted with `subformat=fixed,force_size` (which qemu-img rejects for
//! qcow2) and `exoscale-amd64.vhd` with `cluster_size=8k`. We use a platform's
//! options only with the format they were written for, and otherwise
//! `cluster_size=8k` for qcow2 and nothing else. Raw and OVA outputs never
//! read the options, so every build upstream can produce is unchanged.
//!
//! The same file records which disk image the UI tells users to download for
//! each platform (Talos `pkg/machinery/platforms`), which is advisory only:
//! any platform may request any disk format.

use super::kinds::DiskFormat;
use crate::platform::Platform;
use crate::quirks::Quirks;

const MIB: u64 = 1024 * 1024;

/// Talos `MinRAWDiskSize`: the smallest disk image (metal and small clouds).
pub const MIN_RAW_DISK_SIZE: u64 = 1246 * MIB;

/// Talos `DefaultRAWDiskSize`: the size of any disk image without a platform default.
pub const DEFAULT_RAW_DISK_SIZE: u64 = 8192 * MIB;

/// The `qemu-img` option upstream adds to every qcow2 image.
const QCOW2_OPTIONS: &str = "cluster_size=8k";

/// Size and layout of one disk image request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DiskSpec {
    /// The disk format.
    pub format: DiskFormat,
    /// `qemu-img convert -o` options (empty for none).
    pub format_options: String,
    /// The base size in bytes, before the bootloader growth of [`disk_size_bytes`].
    pub base_size_bytes: u64,
    /// Sector size in bytes; `None` means the imager's default (512). Set from
    /// the schematic's `diskImage.sectorSize`, never by the path.
    pub sector_size: Option<u64>,
}

/// A platform's entry in Talos's default profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformDiskDefaults {
    /// The disk format of the platform's default image.
    pub format: DiskFormat,
    /// Base size in bytes.
    pub base_size_bytes: u64,
    /// `qemu-img` options for [`PlatformDiskDefaults::format`] (empty for none).
    pub format_options: &'static str,
}

/// The default disk profile Talos defines for `platform`, if any (Talos has
/// none for `container` and `equinixMetal`).
pub fn platform_disk_defaults(platform: Platform) -> Option<PlatformDiskDefaults> {
    let entry = |format, base_size_bytes, format_options| PlatformDiskDefaults {
        format,
        base_size_bytes,
        format_options,
    };
    let small_raw = entry(DiskFormat::Raw, MIN_RAW_DISK_SIZE, "");
    let large_raw = entry(DiskFormat::Raw, DEFAULT_RAW_DISK_SIZE, "");
    Some(match platform {
        Platform::Metal
        | Platform::Akamai
        | Platform::Hcloud
        | Platform::Nocloud
        | Platform::OpenNebula
        | Platform::OpenStack
        | Platform::Scaleway => small_raw,
        Platform::Aws
        | Platform::CloudStack
        | Platform::DigitalOcean
        | Platform::Gcp
        | Platform::UpCloud
        | Platform::Vultr => large_raw,
        Platform::AlibabaCloud => entry(DiskFormat::Qcow2, MIN_RAW_DISK_SIZE, QCOW2_OPTIONS),
        Platform::Azure => entry(
            DiskFormat::Vhd,
            DEFAULT_RAW_DISK_SIZE,
            "subformat=fixed,force_size",
        ),
        Platform::Exoscale => entry(DiskFormat::Qcow2, 10240 * MIB, QCOW2_OPTIONS),
        Platform::Oracle => entry(DiskFormat::Qcow2, DEFAULT_RAW_DISK_SIZE, QCOW2_OPTIONS),
        Platform::Vmware => entry(DiskFormat::Ova, DEFAULT_RAW_DISK_SIZE, ""),
        Platform::Container | Platform::EquinixMetal => return None,
    })
}

/// The disk spec a path `<platform>-<arch>.<format>` gets: the platform's base
/// size (8192 MiB without a default) and its options for that format.
pub fn disk_spec_for(platform: Platform, format: DiskFormat) -> DiskSpec {
    let defaults = platform_disk_defaults(platform);
    let base_size_bytes = defaults.map_or(DEFAULT_RAW_DISK_SIZE, |d| d.base_size_bytes);
    let platform_options = defaults
        .filter(|d| d.format == format && !d.format_options.is_empty())
        .map(|d| d.format_options);
    let format_options = match (platform_options, format) {
        (Some(options), _) => options,
        (None, DiskFormat::Qcow2) => QCOW2_OPTIONS,
        (None, _) => "",
    };
    DiskSpec {
        format,
        format_options: format_options.to_owned(),
        base_size_bytes,
        sector_size: None,
    }
}

/// The disk image suffix (without the leading dot) that clients are told to
/// download for `platform`, e.g. `raw.zst` for metal; `None` for platforms
/// booted only by ISO or PXE (`equinixMetal`, `vultr`) and for `container`.
pub fn disk_image_suffix(platform: Platform) -> Option<&'static str> {
    match platform {
        Platform::Metal | Platform::OpenNebula | Platform::Scaleway => Some("raw.zst"),
        Platform::Aws
        | Platform::Nocloud
        | Platform::OpenStack
        | Platform::Hcloud
        | Platform::UpCloud => Some("raw.xz"),
        Platform::Gcp => Some("raw.tar.gz"),
        Platform::Azure => Some("vhd.xz"),
        Platform::DigitalOcean | Platform::Akamai | Platform::CloudStack => Some("raw.gz"),
        Platform::Vmware => Some("ova"),
        Platform::Oracle | Platform::Exoscale | Platform::AlibabaCloud => Some("qcow2"),
        Platform::EquinixMetal | Platform::Vultr | Platform::Container => None,
    }
}

/// Whether the UI offers a disk image for `platform` at all.
pub fn has_disk_image(platform: Platform) -> bool {
    disk_image_suffix(platform).is_some()
}

/// The size the imager actually gives a disk image (Talos
/// `Output.FillDefaults`): the base size, plus the growth of BOOT beyond
/// 1000 MiB (it is 2000 MiB from Talos 1.11), plus room for the BIOS and BOOT
/// partitions when the bootloader is dual-boot.
pub fn disk_size_bytes(
    base_size_bytes: u64,
    quirks: &Quirks,
    bootloader_is_dual_boot: bool,
) -> u64 {
    let sizes = quirks.partition_sizes();
    let boot = sizes.boot_mib.saturating_mul(MIB);
    let grown = base_size_bytes
        .saturating_add(boot)
        .saturating_sub(1000 * MIB);
    if bootloader_is_dual_boot {
        grown
            .saturating_add(sizes.bios_mib.saturating_mul(MIB))
            .saturating_add(boot)
    } else {
        grown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quirks(v: &str) -> Quirks {
        Quirks::new(
            &v.parse()
                .unwrap_or_else(|_| unreachable!("test version {v}")),
        )
    }

    #[test]
    fn disk_size_matches_talos_testdata() {
        // (base MiB, version, dual-boot, expected bytes) from talos
        // pkg/imager/profile/testdata via upstream-imager.md §1.4.
        let cases: [(u64, &str, bool, u64); 15] = [
            (1246, "1.9.0", false, 1_306_525_696),
            (1246, "1.10.0", true, 2_356_150_272),
            (1246, "1.10.0", false, 1246 * MIB),
            (1246, "1.11.0", true, 4_453_302_272),
            (1246, "1.11.0", false, 2_355_101_696),
            (8192, "1.9.0", false, 8192 * MIB),
            (8192, "1.10.0", true, 9_639_559_168),
            (8192, "1.10.0", false, 8192 * MIB),
            (8192, "1.11.0", true, 11_736_711_168),
            (8192, "1.11.0", false, 9_638_510_592),
            (10240, "1.9.0", false, 10240 * MIB),
            (10240, "1.10.0", true, 11241 * MIB),
            (10240, "1.10.0", false, 10240 * MIB),
            (10240, "1.11.0", true, 13241 * MIB),
            (10240, "1.11.0", false, 11240 * MIB),
        ];
        for (base, version, dual, want) in cases {
            assert_eq!(
                disk_size_bytes(base * MIB, &quirks(version), dual),
                want,
                "{base} {version} {dual}"
            );
        }
    }

    #[test]
    fn disk_size_never_overflows() {
        assert_eq!(
            disk_size_bytes(u64::MAX, &quirks("1.11.0"), false),
            u64::MAX - 1000 * MIB
        );
        assert_eq!(disk_size_bytes(u64::MAX, &quirks("1.11.0"), true), u64::MAX);
        assert_eq!(disk_size_bytes(0, &quirks("1.9.0"), false), 0);
    }

    #[test]
    fn specs_follow_platform_defaults() {
        let spec = |p, f| {
            let s = disk_spec_for(p, f);
            (s.format_options, s.base_size_bytes)
        };
        let big = DEFAULT_RAW_DISK_SIZE;
        let small = MIN_RAW_DISK_SIZE;
        let opts = |s: &str| s.to_owned();
        assert_eq!(spec(Platform::Metal, DiskFormat::Raw), (opts(""), small));
        assert_eq!(
            spec(Platform::Metal, DiskFormat::Qcow2),
            (opts("cluster_size=8k"), small)
        );
        assert_eq!(
            spec(Platform::Aws, DiskFormat::Qcow2),
            (opts("cluster_size=8k"), big)
        );
        assert_eq!(
            spec(Platform::Azure, DiskFormat::Vhd),
            (opts("subformat=fixed,force_size"), big)
        );
        assert_eq!(
            spec(Platform::Azure, DiskFormat::Qcow2),
            (opts("cluster_size=8k"), big)
        );
        assert_eq!(spec(Platform::Azure, DiskFormat::Raw), (opts(""), big));
        assert_eq!(spec(Platform::Aws, DiskFormat::Vhd), (opts(""), big));
        assert_eq!(
            spec(Platform::Exoscale, DiskFormat::Qcow2),
            (opts("cluster_size=8k"), 10240 * MIB)
        );
        assert_eq!(
            spec(Platform::Exoscale, DiskFormat::Vhd),
            (opts(""), 10240 * MIB)
        );
        assert_eq!(
            spec(Platform::AlibabaCloud, DiskFormat::Raw),
            (opts(""), small)
        );
        assert_eq!(spec(Platform::Container, DiskFormat::Raw), (opts(""), big));
        assert_eq!(
            spec(Platform::EquinixMetal, DiskFormat::Ova),
            (opts(""), big)
        );
        assert_eq!(
            spec(Platform::DigitalOcean, DiskFormat::Raw),
            (opts(""), big)
        );
        assert_eq!(spec(Platform::Hcloud, DiskFormat::Raw), (opts(""), small));
    }

    #[test]
    fn advertised_suffixes() {
        let got: Vec<(&str, Option<&str>)> = Platform::ALL
            .iter()
            .map(|p| (p.as_str(), disk_image_suffix(*p)))
            .collect();
        assert_eq!(
            got,
            [
                ("akamai", Some("raw.gz")),
                ("alibabacloud", Some("qcow2")),
                ("aws", Some("raw.xz")),
                ("azure", Some("vhd.xz")),
                ("cloudstack", Some("raw.gz")),
                ("container", None),
                ("digital-ocean", Some("raw.gz")),
                ("equinixMetal", None),
                ("exoscale", Some("qcow2")),
                ("gcp", Some("raw.tar.gz")),
                ("hcloud", Some("raw.xz")),
                ("metal", Some("raw.zst")),
                ("nocloud", Some("raw.xz")),
                ("opennebula", Some("raw.zst")),
                ("openstack", Some("raw.xz")),
                ("oracle", Some("qcow2")),
                ("scaleway", Some("raw.zst")),
                ("upcloud", Some("raw.xz")),
                ("vmware", Some("ova")),
                ("vultr", None),
            ]
        );
        assert!(has_disk_image(Platform::Metal));
        assert!(!has_disk_image(Platform::Vultr));
    }
}

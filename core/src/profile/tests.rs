//! Each rule of `build_profile`, each error text, and the bootloader choice.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
// `OverlayOptions` is opaque here (a unit struct for now, a tree later).
#![allow(clippy::default_constructed_unit_structs)]

use super::*;
use crate::arch::Arch;
use crate::catalog::{ExtensionEntry, OverlayEntry, ReleaseCatalog};
use crate::image_path::{ImagePath, OutputKind, parse};
use crate::schematic::{
    Bootloader, Customization, DiskImage, EnrollKeys, MetaValue, Overlay, OverlayOptions,
    Schematic, SecureBoot, SystemExtensions,
};
use crate::version::TalosVersion;

const ID: &str = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

fn ext(name: &str) -> ExtensionEntry {
    ExtensionEntry {
        name: name.into(),
        reference: format!("ghcr.io/{name}:v1"),
        digest: format!("sha256:{}", name.len()),
        author: "Sidero Labs".into(),
        description: String::new(),
    }
}

fn catalog() -> ReleaseCatalog {
    ReleaseCatalog {
        extensions: vec![
            ext("siderolabs/gvisor"),
            ext("siderolabs/gasket-driver"),
            ext("siderolabs/amd-ucode"),
        ],
        overlays: vec![OverlayEntry {
            name: "rpi_generic".into(),
            image: "siderolabs/sbc-raspberrypi".into(),
            reference: "ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0".into(),
            digest: "sha256:rpi".into(),
        }],
        imager_digest: "sha256:imager".into(),
        installer_base_digest: "sha256:installer-base".into(),
    }
}

fn v(s: &str) -> TalosVersion {
    s.parse().unwrap()
}

/// A schematic using every customisation.
fn full_schematic() -> Schematic {
    Schematic {
        owner: String::new(),
        overlay: Overlay {
            image: "siderolabs/sbc-raspberrypi".into(),
            name: "rpi_generic".into(),
            options: OverlayOptions::default(),
        },
        customization: Customization {
            embedded_machine_configuration: String::new(),
            extra_kernel_args: vec!["nolapic".into(), "nomodeset".into()],
            meta: vec![MetaValue {
                key: 0x0a,
                value: "{}".into(),
            }],
            system_extensions: SystemExtensions {
                official_extensions: vec!["siderolabs/gvisor".into(), "siderolabs/gasket".into()],
            },
            bootloader: Some(Bootloader::Grub),
            secureboot: SecureBoot {
                enroll_keys: Some(EnrollKeys::Force),
                include_well_known_certificates: true,
            },
            disk_image: DiskImage { sector_size: 4096 },
        },
    }
}

fn build(
    path: &str,
    schematic: &Schematic,
    version: &str,
    secureboot_enabled: bool,
) -> Result<BuildProfile, ProfileError> {
    let version = v(version);
    let catalog = catalog();
    let ctx = ProfileContext {
        version: &version,
        catalog: &catalog,
        secureboot_enabled,
    };
    build_profile(parse(path).unwrap(), schematic, ID, &ctx)
}

fn err(path: &str, schematic: &Schematic, version: &str, secureboot_enabled: bool) -> String {
    build(path, schematic, version, secureboot_enabled)
        .unwrap_err()
        .to_string()
}

#[test]
fn embedded_config_needs_1_12_except_for_kernel_and_cmdline() {
    let mut s = Schematic::default();
    s.customization.embedded_machine_configuration = "machine: {}\n".into();
    for path in [
        "metal-amd64.iso",
        "metal-amd64.raw.zst",
        "metal-amd64-uki.efi",
        "installer-amd64.tar",
        "initramfs-amd64.xz",
    ] {
        assert_eq!(
            err(path, &s, "1.11.5", true),
            "embedding configuration is not supported for Talos version v1.11.5",
            "{path}"
        );
        let p = build(path, &s, "1.12.0", true).unwrap();
        assert_eq!(
            p.embedded_config.as_deref(),
            Some("machine: {}\n"),
            "{path}"
        );
    }
    for path in ["kernel-amd64", "cmdline-metal-amd64"] {
        for version in ["1.11.5", "1.12.0"] {
            let p = build(path, &s, version, true).unwrap();
            assert_eq!(p.embedded_config, None, "{path} {version}");
        }
    }
}

#[test]
fn secureboot_needs_the_service_and_talos_1_5() {
    let s = Schematic::default();
    for path in [
        "metal-amd64-secureboot.iso",
        "cmdline-metal-amd64-secureboot",
        "installer-amd64-secureboot.tar",
    ] {
        assert_eq!(
            err(path, &s, "1.10.0", false),
            "secure boot is disabled",
            "{path}"
        );
        assert_eq!(
            err(path, &s, "1.4.8", true),
            "secure boot is not supported for Talos version v1.4.8",
            "{path}"
        );
        assert!(build(path, &s, "1.5.0", true).is_ok(), "{path}");
    }
    // Without -secureboot the service does not matter.
    assert!(build("metal-amd64.iso", &s, "1.4.8", false).is_ok());
}

#[test]
fn rules_fail_in_upstream_order() {
    let mut s = full_schematic();
    s.customization.embedded_machine_configuration = "x".into();
    s.customization.system_extensions.official_extensions = vec!["siderolabs/foo".into()];
    // embedded config (rule 1) before secure boot (rule 2) before overlay (rule 3)
    assert_eq!(
        err("metal-amd64-secureboot.iso", &s, "1.6.0", false),
        "embedding configuration is not supported for Talos version v1.6.0"
    );
    s.customization.embedded_machine_configuration.clear();
    assert_eq!(
        err("metal-amd64-secureboot.iso", &s, "1.6.0", false),
        "secure boot is disabled"
    );
    assert_eq!(
        err("metal-amd64-secureboot.iso", &s, "1.6.0", true),
        "overlay is not supported for Talos version v1.6.0"
    );
    // the version check on overlays applies to every kind, kernel included
    assert_eq!(
        err("kernel-arm64", &s, "1.6.0", true),
        "overlay is not supported for Talos version v1.6.0"
    );
    // extensions (rule 5) before the overlay lookup
    s.overlay.name = "rpi_foo".into();
    assert_eq!(
        err("metal-arm64.raw.xz", &s, "1.7.0", true),
        r#"official extension "siderolabs/foo" is not available for Talos version v1.7.0"#
    );
    s.customization
        .system_extensions
        .official_extensions
        .clear();
    assert_eq!(
        err("metal-arm64.raw.xz", &s, "1.7.0", true),
        r#"official overlay "rpi_foo" is not available for Talos version v1.7.0"#
    );
    // kernel and cmdline never resolve extensions or overlays
    s.customization.system_extensions.official_extensions = vec!["siderolabs/foo".into()];
    for path in ["kernel-arm64", "cmdline-metal-arm64"] {
        let p = build(path, &s, "1.7.0", true).unwrap();
        assert!(p.extensions.is_empty() && p.overlay.is_none(), "{path}");
    }
}

#[test]
fn extensions_resolve_in_order_with_aliases() {
    let mut s = Schematic::default();
    s.customization.system_extensions.official_extensions = vec![
        "siderolabs/amd-ucode".into(),
        "siderolabs/gasket".into(),
        "siderolabs/gvisor".into(),
    ];
    let p = build("metal-amd64.iso", &s, "1.9.0", false).unwrap();
    let names: Vec<&str> = p.extensions.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "siderolabs/amd-ucode",
            "siderolabs/gasket-driver",
            "siderolabs/gvisor"
        ]
    );
    assert_eq!(p.extensions[1].digest, "sha256:24");
}

#[test]
fn overlay_resolves_by_name_and_keeps_options() {
    let mut s = full_schematic();
    s.overlay.image = "someone/else".into();
    let p = build("metal-arm64.raw.xz", &s, "1.7.0", false).unwrap();
    let overlay = p.overlay.unwrap();
    assert_eq!(overlay.entry.image, "siderolabs/sbc-raspberrypi");
    assert_eq!(overlay.entry.digest, "sha256:rpi");
    assert_eq!(overlay.options, OverlayOptions::default());
}

/// (path, version, args?, meta?, bootloader?, sector size?, enroll keys?)
#[test]
fn customisations_are_distributed_per_kind() {
    let s = full_schematic();
    let cases: [(&str, &str, bool, bool, bool, bool, bool); 16] = [
        ("kernel-amd64", "1.10.0", false, false, false, false, false),
        (
            "initramfs-amd64.xz",
            "1.10.0",
            false,
            false,
            false,
            false,
            false,
        ),
        (
            "installer-amd64.tar",
            "1.9.0",
            false,
            false,
            false,
            false,
            false,
        ),
        (
            "installer-amd64.tar",
            "1.10.0",
            true,
            false,
            false,
            false,
            false,
        ),
        (
            "installer-amd64-secureboot.tar",
            "1.9.0",
            true,
            false,
            false,
            false,
            false,
        ),
        (
            "aws-installer-amd64.tar",
            "1.10.0",
            true,
            false,
            false,
            false,
            false,
        ),
        (
            "metal-amd64-uki.efi",
            "1.9.0",
            false,
            false,
            false,
            false,
            false,
        ),
        (
            "metal-amd64-uki.efi",
            "1.10.0",
            true,
            false,
            false,
            false,
            false,
        ),
        (
            "metal-amd64-secureboot-uki.efi",
            "1.9.0",
            true,
            false,
            false,
            false,
            false,
        ),
        ("metal-amd64.iso", "1.9.0", true, true, true, false, false),
        (
            "metal-amd64-secureboot.iso",
            "1.9.0",
            true,
            true,
            true,
            false,
            true,
        ),
        ("metal-amd64.raw.xz", "1.9.0", true, true, true, true, false),
        (
            "metal-amd64-secureboot.raw.xz",
            "1.9.0",
            true,
            true,
            true,
            true,
            true,
        ),
        (
            "cmdline-metal-amd64",
            "1.9.0",
            true,
            true,
            false,
            false,
            false,
        ),
        (
            "cmdline-metal-amd64-secureboot",
            "1.9.0",
            true,
            true,
            false,
            false,
            false,
        ),
        (
            "cmdline-aws-arm64",
            "1.5.0",
            true,
            true,
            false,
            false,
            false,
        ),
    ];
    let mut s_no_overlay = s.clone();
    s_no_overlay.overlay = Overlay::default();
    for (path, version, args, meta, bootloader, sector, enroll) in cases {
        let p = build(path, &s_no_overlay, version, true).unwrap();
        let label = format!("{path} {version}");
        assert_eq!(
            p.extra_kernel_args == ["nolapic", "nomodeset"],
            args,
            "{label}"
        );
        assert_eq!(p.extra_kernel_args.is_empty(), !args, "{label}");
        assert_eq!(
            p.meta
                == [MetaValue {
                    key: 0x0a,
                    value: "{}".into()
                }],
            meta,
            "{label}"
        );
        assert_eq!(
            p.bootloader == Some(Bootloader::Grub),
            bootloader,
            "{label}"
        );
        let sector_size = p.output.disk.as_ref().and_then(|d| d.sector_size);
        assert_eq!(sector_size == Some(4096), sector, "{label}");
        assert_eq!(p.enroll_keys == Some(EnrollKeys::Force), enroll, "{label}");
        assert_eq!(p.include_well_known_certs, p.output.secureboot, "{label}");
    }
}

#[test]
fn schematic_id_and_digests_per_kind() {
    let s = Schematic::default();
    for path in [
        "kernel-amd64",
        "cmdline-metal-amd64",
        "initramfs-amd64.xz",
        "metal-amd64.iso",
        "metal-amd64-uki.efi",
        "installer-amd64.tar",
        "metal-amd64.raw.xz",
    ] {
        let p = build(path, &s, "1.10.0", false).unwrap();
        let has_id = !matches!(p.output.kind, OutputKind::Kernel | OutputKind::Cmdline);
        assert_eq!(p.schematic_id.as_deref(), has_id.then_some(ID), "{path}");
        assert_eq!(p.imager_digest, "sha256:imager", "{path}");
        let installer = p.output.kind == OutputKind::Installer;
        assert_eq!(
            p.installer_base_digest.as_deref(),
            installer.then_some("sha256:installer-base"),
            "{path}"
        );
        assert_eq!(p.version.to_string(), "v1.10.0");
    }
}

#[test]
fn sector_size_zero_means_default() {
    let p = build("metal-amd64.raw", &Schematic::default(), "1.10.0", false).unwrap();
    assert_eq!(p.output.disk.unwrap().sector_size, None);
}

#[test]
fn bootloader_selection() {
    let grub = Some(Bootloader::Grub);
    let cases: [(&str, &str, Option<Bootloader>, Bootloader); 16] = [
        ("metal-amd64.raw.xz", "1.9.0", None, Bootloader::Grub),
        ("metal-arm64.raw.xz", "1.9.0", None, Bootloader::Grub),
        ("metal-amd64.raw.xz", "1.10.0", None, Bootloader::DualBoot),
        ("metal-arm64.raw.xz", "1.10.0", None, Bootloader::SdBoot),
        ("metal-amd64.raw.xz", "1.10.0", grub, Bootloader::Grub),
        (
            "metal-amd64-secureboot.raw.xz",
            "1.9.0",
            None,
            Bootloader::SdBoot,
        ),
        (
            "metal-amd64-secureboot.raw.xz",
            "1.12.0",
            grub,
            Bootloader::SdBoot,
        ),
        ("metal-amd64.iso", "1.9.0", grub, Bootloader::Grub),
        (
            "metal-amd64.iso",
            "1.9.0",
            Some(Bootloader::SdBoot),
            Bootloader::Grub,
        ),
        ("metal-arm64.iso", "1.11.0", None, Bootloader::DualBoot),
        ("metal-amd64.iso", "1.11.0", grub, Bootloader::DualBoot),
        ("metal-amd64.iso", "1.12.0", grub, Bootloader::Grub),
        ("metal-arm64.iso", "1.12.0", None, Bootloader::SdBoot),
        ("metal-amd64.iso", "1.12.0", None, Bootloader::DualBoot),
        (
            "metal-amd64-secureboot.iso",
            "1.9.0",
            None,
            Bootloader::SdBoot,
        ),
        ("installer-amd64.tar", "1.10.0", None, Bootloader::DualBoot),
    ];
    for (path, version, choice, want) in cases {
        let mut s = Schematic::default();
        s.customization.bootloader = choice;
        let p = build(path, &s, version, true).unwrap();
        assert_eq!(
            p.bootloader_for_output(),
            want,
            "{path} {version} {choice:?}"
        );
    }
}

#[test]
fn registry_installer_profile() {
    let version = v("1.10.0");
    let catalog = catalog();
    let ctx = ProfileContext {
        version: &version,
        catalog: &catalog,
        secureboot_enabled: true,
    };
    let output = ImagePath::installer(crate::platform::Platform::Aws, Arch::Arm64, true);
    let p = build_profile(output, &full_schematic(), ID, &ctx).unwrap();
    assert_eq!(p.extra_kernel_args, ["nolapic", "nomodeset"]);
    assert!(p.meta.is_empty());
    assert_eq!(p.overlay.unwrap().entry.name, "rpi_generic");
    assert_eq!(p.extensions.len(), 2);
}

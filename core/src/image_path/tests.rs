//! The path table (every upstream example plus our extensions) and the
//! parse/print round-trip property.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;

use super::*;
use crate::arch::Arch;
use crate::platform::Platform;

const MIB: u64 = 1024 * 1024;

/// Expected parse result, compactly: kind, platform, arch, secureboot,
/// out format, and (disk format, options, base MiB) for images.
type Want = (
    OutputKind,
    Platform,
    Arch,
    bool,
    OutFormat,
    Option<(DiskFormat, &'static str, u64)>,
);

fn want(path: &str) -> Want {
    let p = parse(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let disk = p.disk.as_ref().map(|d| {
        assert_eq!(d.sector_size, None, "{path}");
        let options: &'static str = match d.format_options.as_str() {
            "" => "",
            "cluster_size=8k" => "cluster_size=8k",
            "subformat=fixed,force_size" => "subformat=fixed,force_size",
            other => panic!("{path}: unexpected options {other}"),
        };
        (d.format, options, d.base_size_bytes / MIB)
    });
    (p.kind, p.platform, p.arch, p.secureboot, p.out_format, disk)
}

#[test]
fn path_table() {
    use Arch::{Amd64, Arm64};
    use DiskFormat as D;
    use OutFormat as F;
    use OutputKind as K;
    use Platform as P;

    let cases: Vec<(&str, Want)> = vec![
        // profile_test.go
        (
            "kernel-amd64",
            (K::Kernel, P::Metal, Amd64, false, F::Raw, None),
        ),
        (
            "kernel-arm64",
            (K::Kernel, P::Metal, Arm64, false, F::Raw, None),
        ),
        (
            "cmdline-metal-arm64",
            (K::Cmdline, P::Metal, Arm64, false, F::Raw, None),
        ),
        (
            "cmdline-aws-amd64-secureboot",
            (K::Cmdline, P::Aws, Amd64, true, F::Raw, None),
        ),
        (
            "initramfs-amd64.xz",
            (K::Initramfs, P::Metal, Amd64, false, F::Raw, None),
        ),
        (
            "metal-arm64-secureboot.iso",
            (K::Iso, P::Metal, Arm64, true, F::Raw, None),
        ),
        (
            "metal-amd64-secureboot-uki.efi",
            (K::Uki, P::Metal, Amd64, true, F::Raw, None),
        ),
        (
            "metal-amd64-uki.efi",
            (K::Uki, P::Metal, Amd64, false, F::Raw, None),
        ),
        (
            "installer-amd64.tar",
            (K::Installer, P::Metal, Amd64, false, F::Raw, None),
        ),
        (
            "metal-installer-amd64.tar",
            (K::Installer, P::Metal, Amd64, false, F::Raw, None),
        ),
        (
            "digital-ocean-installer-amd64.tar",
            (K::Installer, P::DigitalOcean, Amd64, false, F::Raw, None),
        ),
        (
            "metal-arm64.raw.xz",
            (
                K::Image,
                P::Metal,
                Arm64,
                false,
                F::Xz,
                Some((D::Raw, "", 1246)),
            ),
        ),
        (
            "metal-arm64.raw.zst",
            (
                K::Image,
                P::Metal,
                Arm64,
                false,
                F::Zst,
                Some((D::Raw, "", 1246)),
            ),
        ),
        (
            "aws-amd64-secureboot.qcow2.tar.gz",
            (
                K::Image,
                P::Aws,
                Amd64,
                true,
                F::TarGz,
                Some((D::Qcow2, "cluster_size=8k", 8192)),
            ),
        ),
        (
            "azure-amd64.vhd",
            (
                K::Image,
                P::Azure,
                Amd64,
                false,
                F::Raw,
                Some((D::Vhd, "subformat=fixed,force_size", 8192)),
            ),
        ),
        (
            "digital-ocean-amd64.raw.gz",
            (
                K::Image,
                P::DigitalOcean,
                Amd64,
                false,
                F::Gz,
                Some((D::Raw, "", 8192)),
            ),
        ),
        // every kind with and without -secureboot
        (
            "cmdline-metal-amd64",
            (K::Cmdline, P::Metal, Amd64, false, F::Raw, None),
        ),
        (
            "cmdline-metal-amd64-secureboot",
            (K::Cmdline, P::Metal, Amd64, true, F::Raw, None),
        ),
        (
            "metal-amd64.iso",
            (K::Iso, P::Metal, Amd64, false, F::Raw, None),
        ),
        (
            "installer-arm64-secureboot.tar",
            (K::Installer, P::Metal, Arm64, true, F::Raw, None),
        ),
        (
            "aws-installer-arm64-secureboot.tar",
            (K::Installer, P::Aws, Arm64, true, F::Raw, None),
        ),
        (
            "nocloud-installer-amd64.tar",
            (K::Installer, P::Nocloud, Amd64, false, F::Raw, None),
        ),
        (
            "metal-amd64-secureboot.raw.xz",
            (
                K::Image,
                P::Metal,
                Amd64,
                true,
                F::Xz,
                Some((D::Raw, "", 1246)),
            ),
        ),
        // iPXE ${buildarch} names and our aarch64 extension
        (
            "kernel-x86_64",
            (K::Kernel, P::Metal, Amd64, false, F::Raw, None),
        ),
        (
            "kernel-i386",
            (K::Kernel, P::Metal, Amd64, false, F::Raw, None),
        ),
        (
            "kernel-aarch64",
            (K::Kernel, P::Metal, Arm64, false, F::Raw, None),
        ),
        (
            "initramfs-x86_64.xz",
            (K::Initramfs, P::Metal, Amd64, false, F::Raw, None),
        ),
        (
            "initramfs-aarch64.xz",
            (K::Initramfs, P::Metal, Arm64, false, F::Raw, None),
        ),
        (
            "cmdline-metal-i386",
            (K::Cmdline, P::Metal, Amd64, false, F::Raw, None),
        ),
        (
            "metal-aarch64-secureboot.iso",
            (K::Iso, P::Metal, Arm64, true, F::Raw, None),
        ),
        (
            "installer-x86_64.tar",
            (K::Installer, P::Metal, Amd64, false, F::Raw, None),
        ),
        // uncompressed and unusual combinations
        (
            "metal-amd64.raw",
            (
                K::Image,
                P::Metal,
                Amd64,
                false,
                F::Raw,
                Some((D::Raw, "", 1246)),
            ),
        ),
        (
            "metal-amd64.qcow2.xz",
            (
                K::Image,
                P::Metal,
                Amd64,
                false,
                F::Xz,
                Some((D::Qcow2, "cluster_size=8k", 1246)),
            ),
        ),
        (
            "metal-amd64.qcow2",
            (
                K::Image,
                P::Metal,
                Amd64,
                false,
                F::Raw,
                Some((D::Qcow2, "cluster_size=8k", 1246)),
            ),
        ),
        (
            "gcp-amd64.raw.tar.gz",
            (
                K::Image,
                P::Gcp,
                Amd64,
                false,
                F::TarGz,
                Some((D::Raw, "", 8192)),
            ),
        ),
        (
            "vmware-arm64.ova",
            (
                K::Image,
                P::Vmware,
                Arm64,
                false,
                F::Raw,
                Some((D::Ova, "", 8192)),
            ),
        ),
        (
            "azure-amd64.vhd.xz",
            (
                K::Image,
                P::Azure,
                Amd64,
                false,
                F::Xz,
                Some((D::Vhd, "subformat=fixed,force_size", 8192)),
            ),
        ),
        (
            "exoscale-amd64.qcow2",
            (
                K::Image,
                P::Exoscale,
                Amd64,
                false,
                F::Raw,
                Some((D::Qcow2, "cluster_size=8k", 10240)),
            ),
        ),
        (
            "oracle-arm64.qcow2.zst",
            (
                K::Image,
                P::Oracle,
                Arm64,
                false,
                F::Zst,
                Some((D::Qcow2, "cluster_size=8k", 8192)),
            ),
        ),
        (
            "equinixMetal-amd64.raw.gz",
            (
                K::Image,
                P::EquinixMetal,
                Amd64,
                false,
                F::Gz,
                Some((D::Raw, "", 8192)),
            ),
        ),
        (
            "packet-amd64.iso",
            (K::Iso, P::EquinixMetal, Amd64, false, F::Raw, None),
        ),
        (
            "digital-ocean-amd64-secureboot-uki.efi",
            (K::Uki, P::DigitalOcean, Amd64, true, F::Raw, None),
        ),
        (
            "cmdline-digital-ocean-amd64",
            (K::Cmdline, P::DigitalOcean, Amd64, false, F::Raw, None),
        ),
    ];
    for (path, expected) in cases {
        assert_eq!(want(path), expected, "{path}");
    }
}

#[test]
fn error_table() {
    let platform_list = Platform::names().join(", ");
    let unknown =
        |name: &str| format!("invalid platform: {name:?} (valid platforms: {platform_list})");
    let cases: Vec<(&str, String)> = vec![
        (
            "metal-rpi_generic-arm64.raw.xz",
            r#"invalid architecture: "rpi_generic-arm64""#.into(),
        ),
        ("kernel-foo", r#"invalid architecture: "foo""#.into()),
        (
            "metal-amd64.ssd",
            r#"invalid profile path: "metal-amd64.ssd""#.into(),
        ),
        // the compression suffix is already gone when the disk format is checked
        (
            "metal-amd64.ssd.xz",
            r#"invalid profile path: "metal-amd64.ssd""#.into(),
        ),
        ("", r#"invalid profile path: """#.into()),
        ("kernel-", r#"invalid architecture: """#.into()),
        (
            "kernel-amd64-secureboot",
            r#"invalid architecture: "amd64-secureboot""#.into(),
        ),
        (
            "initramfs-amd64-secureboot.xz",
            r#"invalid architecture: "amd64-secureboot""#.into(),
        ),
        (
            "initramfs-amd64",
            r#"invalid profile path: "initramfs-amd64""#.into(),
        ),
        (
            "kernel-amd64.iso",
            r#"invalid architecture: "amd64.iso""#.into(),
        ),
        ("cmdline-metal", r#"invalid platform-arch: "metal""#.into()),
        (
            "cmdline-metal-secureboot",
            r#"invalid platform-arch: "metal""#.into(),
        ),
        (
            "cmdline-digital-ocean",
            r#"invalid architecture: "ocean""#.into(),
        ),
        ("metal.iso", r#"invalid platform-arch: "metal""#.into()),
        (".raw", r#"invalid platform-arch: """#.into()),
        (
            "metal-amd64-secureboot-secureboot.iso",
            r#"invalid architecture: "amd64-secureboot""#.into(),
        ),
        ("metal-AMD64.iso", r#"invalid architecture: "AMD64""#.into()),
        (
            "metal-amd64.RAW",
            r#"invalid profile path: "metal-amd64.RAW""#.into(),
        ),
        (
            "metal-amd64.raw.bz2",
            r#"invalid profile path: "metal-amd64.raw.bz2""#.into(),
        ),
        (
            "metal-amd64.tar",
            r#"invalid profile path: "metal-amd64.tar""#.into(),
        ),
        (
            "metal-amd64.iso.sha256",
            r#"invalid profile path: "metal-amd64.iso.sha256""#.into(),
        ),
        ("../metal-amd64.iso", unknown("../metal")),
        ("amazon-amd64.raw.xz", unknown("amazon")),
        ("Metal-amd64.iso", unknown("Metal")),
        ("installer-amd64.raw", unknown("installer")),
        ("rpi_generic-arm64.raw.xz", unknown("rpi_generic")),
        ("foo-bar.iso", r#"invalid architecture: "bar""#.into()),
        (
            "metal-amd64\n.iso",
            "invalid architecture: \"amd64\\n\"".into(),
        ),
        ("métal-amd64.iso", unknown("métal")),
    ];
    for (path, expected) in cases {
        let err = parse(path).expect_err(path);
        assert_eq!(err.to_string(), expected, "{path:?}");
    }
}

#[test]
fn unknown_platform_lists_the_valid_ones() {
    let msg = parse("amazon-amd64.raw.xz").unwrap_err().to_string();
    assert!(
        msg.starts_with(
            r#"invalid platform: "amazon" (valid platforms: akamai, alibabacloud, aws,"#
        ),
        "{msg}"
    );
    assert!(msg.ends_with("vmware, vultr)"), "{msg}");
}

#[test]
fn canonical_file_names() {
    for (input, canonical) in [
        ("kernel-x86_64", "kernel-amd64"),
        ("initramfs-aarch64.xz", "initramfs-arm64.xz"),
        ("metal-installer-amd64.tar", "installer-amd64.tar"),
        (
            "metal-installer-arm64-secureboot.tar",
            "installer-arm64-secureboot.tar",
        ),
        (
            "digital-ocean-installer-amd64.tar",
            "digital-ocean-installer-amd64.tar",
        ),
        ("packet-i386.raw.xz", "equinixMetal-amd64.raw.xz"),
        (
            "aws-amd64-secureboot.qcow2.tar.gz",
            "aws-amd64-secureboot.qcow2.tar.gz",
        ),
        (
            "cmdline-metal-amd64-secureboot",
            "cmdline-metal-amd64-secureboot",
        ),
        (
            "metal-arm64-secureboot-uki.efi",
            "metal-arm64-secureboot-uki.efi",
        ),
        ("metal-amd64.raw", "metal-amd64.raw"),
    ] {
        assert_eq!(parse(input).unwrap().file_name(), canonical, "{input}");
    }
    assert_eq!(
        ImagePath::installer(Platform::Aws, Arch::Arm64, true).file_name(),
        "aws-installer-arm64-secureboot.tar"
    );
    assert_eq!(
        ImagePath::installer(Platform::Metal, Arch::Amd64, false),
        parse("installer-amd64.tar").unwrap()
    );
}

/// Strings built from the grammar's own pieces, so that a good share parse.
fn grammar_like() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "kernel-",
        "cmdline-",
        "initramfs-",
        "installer-",
        "-installer-",
        "metal",
        "aws",
        "digital",
        "-ocean",
        "digital-ocean",
        "packet",
        "equinixMetal",
        "vmware",
        "-",
        "amd64",
        "arm64",
        "x86_64",
        "i386",
        "aarch64",
        "-secureboot",
        ".iso",
        "-uki.efi",
        ".tar",
        ".raw",
        ".qcow2",
        ".vhd",
        ".ova",
        ".tar.gz",
        ".gz",
        ".xz",
        ".zst",
        ".",
        "foo",
    ]);
    prop::collection::vec(piece, 0..7).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn parse_never_panics_and_round_trips(path in prop_oneof![grammar_like(), any::<String>(), "[a-z0-9_.-]{0,40}"]) {
        if let Ok(parsed) = parse(&path) {
            let name = parsed.file_name();
            let again = parse(&name);
            prop_assert_eq!(again.as_ref(), Ok(&parsed), "{} -> {}", path, name);
            prop_assert_eq!(parsed.disk.is_some(), parsed.kind == OutputKind::Image);
        }
    }
}

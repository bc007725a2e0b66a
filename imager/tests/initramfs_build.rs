//! End-to-end initramfs builds for a pre-1.8 (xz, `/lib` paths) and a
//! ≥1.10 (zstd, `/usr/lib` paths) Talos version with four fake extensions
//! (plain service, firmware, CPU microcode, kernel module) plus the
//! schematic virtual extension; the result is split into its segments and
//! each is checked with the real tools (`cpio`, `xz`/`zstd`, `unsquashfs`).
//!
//! Needs the Debian packages squashfs-tools, cpio, xz-utils, zstd and kmod.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod initramfs_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use factory_core::quirks::Quirks;
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use factory_imager::extension::{Extension, Limits, flatten_layers};
use factory_imager::initramfs::{
    InitramfsSettings, SegmentCompression, build_initramfs, load_virtual_extension,
    schematic_extension_tar,
};
use initramfs_support::{
    E, fake_base_initramfs, gzip, manifest, require_tool, run, run_with_input, split_newc,
    tar_layer,
};

const KVER: &str = "6.1.0-talos";
const URL: &str = "http://127.0.0.1:8080/";
const SCHEMATIC: &str = "customization:\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/amd-ucode\n            - siderolabs/gasket-driver\n";

fn load(layers: Vec<Vec<u8>>, dir: &Path) -> Extension {
    let limits = Limits::default();
    let tree = flatten_layers(layers.iter().map(Vec::as_slice), dir, &limits).unwrap();
    Extension::load(tree, &limits).unwrap()
}

/// The four fake extensions, in profile order, for Talos `version`.
fn fake_extensions(work: &Path, quirks: &Quirks) -> Vec<Extension> {
    let fw = quirks.firmware_path().trim_start_matches('/');
    let mods = quirks.kernel_modules_path().trim_start_matches('/');
    let mut out = Vec::new();

    // 0: a plain extension with a service file, in two layers; the second
    // whites out a file and makes a directory opaque.
    let m = manifest(
        "hello-service",
        "1.0.0",
        "A plain extension with a service file.",
        ">= v1.7.0",
    );
    let l1 = tar_layer(&[
        E::File("manifest.yaml", 0o644, m.as_bytes()),
        E::Dir("rootfs", 0o755),
        E::Dir("rootfs/usr", 0o755),
        E::Dir("rootfs/usr/local", 0o755),
        E::File(
            "rootfs/usr/local/etc/containers/hello.yaml",
            0o644,
            b"name: hello\ncontainer:\n  entrypoint: /hello\n",
        ),
        E::File(
            "rootfs/usr/local/lib/containers/hello/hello",
            0o755,
            b"\x7fELF fake binary",
        ),
        E::File(
            "rootfs/usr/local/lib/containers/hello/stale",
            0o644,
            b"removed by a whiteout",
        ),
        E::File(
            "rootfs/usr/local/share/old/a",
            0o644,
            b"hidden by an opaque dir",
        ),
    ]);
    let l2 = tar_layer(&[
        E::File(
            "rootfs/usr/local/lib/containers/hello/.wh.stale",
            0o644,
            b"",
        ),
        E::Dir("rootfs/usr/local/share/old", 0o755),
        E::File("rootfs/usr/local/share/old/.wh..wh..opq", 0o644, b""),
        E::File("rootfs/usr/local/share/old/b", 0o644, b"kept"),
        E::Symlink(
            "rootfs/usr/local/bin/hello",
            "../lib/containers/hello/hello",
        ),
    ]);
    out.push(load(vec![gzip(&l1), l2], &work.join("ext0")));

    // 1: firmware, with a symlink that is dereferenced when moved.
    let m = manifest(
        "acme-firmware",
        "20240101",
        "Firmware for ACME devices.",
        ">= v1.0.0",
    );
    let fw_file = format!("rootfs/{fw}/acme/fw.bin");
    let fw_link = format!("rootfs/{fw}/acme/fw-alias.bin");
    let l = tar_layer(&[
        E::File("manifest.yaml", 0o644, m.as_bytes()),
        E::File(&fw_file, 0o644, b"ACME FIRMWARE"),
        E::Symlink(&fw_link, "fw.bin"),
        E::File(
            "rootfs/usr/local/share/acme/README",
            0o644,
            b"stays in the squashfs",
        ),
    ]);
    out.push(load(vec![l], &work.join("ext1")));

    // 2: CPU microcode.
    let m = manifest("ucode", "20240312", "CPU microcode.", ">= v1.0.0");
    let amd1 = format!("rootfs/{fw}/amd-ucode/microcode_amd.bin");
    let amd2 = format!("rootfs/{fw}/amd-ucode/microcode_amd_fam17h.bin");
    let amd_license = format!("rootfs/{fw}/amd-ucode/LICENSE.amd-ucode");
    let intel = format!("rootfs/{fw}/intel-ucode/06-55-04");
    let l = tar_layer(&[
        E::File("manifest.yaml", 0o644, m.as_bytes()),
        E::File(&amd2, 0o644, b"AMD-FAM17H;"),
        E::File(&amd1, 0o644, b"AMD-GENERIC;"),
        E::File(&amd_license, 0o644, b"license text"),
        E::File(&intel, 0o644, b"INTEL-06-55-04;"),
    ]);
    out.push(load(vec![l], &work.join("ext2")));

    // 3: a kernel module.
    let m = manifest("gasket-driver", "1.0-6.1.0", "Gasket driver.", ">= v1.7.0");
    let ko = format!("rootfs/{mods}/{KVER}/extras/gasket.ko");
    let l = tar_layer(&[
        E::File("manifest.yaml", 0o644, m.as_bytes()),
        E::File(&ko, 0o644, b"fake gasket module"),
    ]);
    out.push(load(vec![l], &work.join("ext3")));
    out
}

struct Built {
    output: Vec<u8>,
    base: Vec<u8>,
    schematic_id: String,
}

fn build(version: &str, work: &Path) -> Built {
    require_tool("depmod", "kmod");
    let talos: TalosVersion = version.parse().unwrap();
    let quirks = Quirks::new(&talos);
    let zstd = quirks.use_zstd_compression();
    let base = fake_base_initramfs(work, zstd, quirks.kernel_modules_path(), KVER);
    let mut extensions = fake_extensions(work, &quirks);
    let schematic = Schematic::parse(SCHEMATIC.as_bytes()).unwrap();
    let tarball = schematic_extension_tar(&schematic, &talos, URL).unwrap();
    extensions
        .push(load_virtual_extension(&tarball, &work.join("ext4"), &Limits::default()).unwrap());

    let mut settings = InitramfsSettings::new(talos);
    settings.depmod = require_tool("depmod", "kmod");
    let build_dir = work.join("build");
    std::fs::create_dir_all(&build_dir).unwrap();
    let mut output = Vec::new();
    let summary = build_initramfs(&base, extensions, &settings, &build_dir, &mut output).unwrap();
    assert!(summary.early_microcode);
    assert_eq!(
        summary.compression,
        if zstd {
            SegmentCompression::Zstd
        } else {
            SegmentCompression::Xz
        }
    );
    assert_eq!(summary.bytes, output.len() as u64);
    let images: Vec<_> = summary.layers.iter().map(|l| l.image.as_str()).collect();
    assert_eq!(
        images,
        [
            "0.sqsh",
            "1.sqsh",
            "2.sqsh",
            "3.sqsh",
            "4.sqsh",
            "modules.dep.sqsh"
        ]
    );
    Built {
        output,
        base: std::fs::read(&base).unwrap(),
        schematic_id: schematic.id().as_str().to_owned(),
    }
}

/// Splits and checks the three segments; returns the directory the
/// compressed segment was extracted to.
fn check_segments(built: &Built, zstd: bool, work: &Path) -> PathBuf {
    let cpio = require_tool("cpio", "cpio");
    let out = &built.output;

    // 1. The uncompressed early microcode cpio.
    let (names, early_len) = split_newc(out);
    assert_eq!(
        names,
        [
            "kernel",
            "kernel/x86",
            "kernel/x86/microcode",
            "kernel/x86/microcode/AuthenticAMD.bin",
            "kernel/x86/microcode/GenuineIntel.bin"
        ]
    );
    let listing = run_with_input(Command::new(&cpio).arg("-itv"), &out[..early_len]);
    let listing = String::from_utf8(listing).unwrap();
    assert!(
        listing.contains("kernel/x86/microcode/AuthenticAMD.bin"),
        "{listing}"
    );
    let early_dir = work.join("early");
    std::fs::create_dir_all(&early_dir).unwrap();
    run_with_input(
        Command::new(&cpio)
            .args(["-id", "--quiet"])
            .current_dir(&early_dir),
        &out[..early_len],
    );
    // Glob order: microcode_amd.bin before microcode_amd_fam17h.bin.
    assert_eq!(
        std::fs::read(early_dir.join("kernel/x86/microcode/AuthenticAMD.bin")).unwrap(),
        b"AMD-GENERIC;AMD-FAM17H;"
    );
    assert_eq!(
        std::fs::read(early_dir.join("kernel/x86/microcode/GenuineIntel.bin")).unwrap(),
        b"INTEL-06-55-04;"
    );

    // 2. The base initramfs, unchanged.
    let base_end = early_len + built.base.len();
    assert_eq!(&out[early_len..base_end], built.base.as_slice());

    // 3. The compressed extensions cpio.
    let segment = &out[base_end..];
    let seg_path = work.join(if zstd { "ext.cpio.zst" } else { "ext.cpio.xz" });
    std::fs::write(&seg_path, segment).unwrap();
    let decompressed = if zstd {
        assert_eq!(&segment[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
        let tool = require_tool("zstd", "zstd");
        run(Command::new(&tool).arg("-t").arg("-q").arg(&seg_path));
        run(Command::new(&tool).arg("-dc").arg(&seg_path))
    } else {
        assert_eq!(&segment[..6], &[0xfd, b'7', b'z', b'X', b'Z', 0]);
        let tool = require_tool("xz", "xz-utils");
        run(Command::new(&tool).arg("-t").arg(&seg_path));
        let robot = String::from_utf8(run(Command::new(&tool)
            .args(["--robot", "--list"])
            .arg(&seg_path)))
        .unwrap();
        assert!(
            robot.contains("CRC32"),
            "xz check must be CRC32 for the kernel: {robot}"
        );
        run(Command::new(&tool).arg("-dc").arg(&seg_path))
    };
    assert_eq!(decompressed.len() % 512, 0);
    let listing = String::from_utf8(run_with_input(
        Command::new(&cpio).arg("-itv"),
        &decompressed,
    ))
    .unwrap();
    let ext_dir = work.join("extracted");
    std::fs::create_dir_all(&ext_dir).unwrap();
    run_with_input(
        Command::new(&cpio)
            .args(["-id", "--quiet"])
            .current_dir(&ext_dir),
        &decompressed,
    );
    for line in listing.lines() {
        assert!(
            line.contains(" root ") || line.contains(" 0 "),
            "root-owned: {line}"
        );
    }
    ext_dir
}

fn unsquashfs_lls(image: &Path) -> String {
    let tool = require_tool("unsquashfs", "squashfs-tools");
    String::from_utf8(run(Command::new(tool).arg("-lls").arg(image))).unwrap()
}

fn unsquashfs_cat(image: &Path, path: &str) -> Vec<u8> {
    let tool = require_tool("unsquashfs", "squashfs-tools");
    run(Command::new(tool).arg("-cat").arg(image).arg(path))
}

fn check_common(ext_dir: &Path, fw: &str, mods: &str) {
    // Plain extension: whiteouts applied, symlink kept.
    let lls = unsquashfs_lls(&ext_dir.join("0.sqsh"));
    assert!(
        lls.contains("squashfs-root/usr/local/etc/containers/hello.yaml"),
        "{lls}"
    );
    assert!(
        lls.contains("squashfs-root/usr/local/bin/hello -> ../lib/containers/hello/hello"),
        "{lls}"
    );
    assert!(!lls.contains("stale"), "whiteout not applied: {lls}");
    assert!(lls.contains("squashfs-root/usr/local/share/old/b"), "{lls}");
    assert!(
        !lls.contains("squashfs-root/usr/local/share/old/a"),
        "opaque dir not applied: {lls}"
    );
    assert!(lls.contains("-rwxr-xr-x root/root"), "{lls}");
    assert!(lls.contains("1970-01-01 00:00"), "mtime 0: {lls}");
    assert_eq!(
        unsquashfs_cat(
            &ext_dir.join("0.sqsh"),
            "usr/local/lib/containers/hello/hello"
        ),
        b"\x7fELF fake binary"
    );

    // Firmware moved out of the squashfs into the initramfs, link dereferenced.
    let lls = unsquashfs_lls(&ext_dir.join("1.sqsh"));
    assert!(!lls.contains("firmware"), "{lls}");
    assert!(
        lls.contains("squashfs-root/usr/local/share/acme/README"),
        "{lls}"
    );
    assert_eq!(
        std::fs::read(ext_dir.join(fw).join("acme/fw.bin")).unwrap(),
        b"ACME FIRMWARE"
    );
    let alias = ext_dir.join(fw).join("acme/fw-alias.bin");
    assert!(alias.symlink_metadata().unwrap().is_file());
    assert_eq!(std::fs::read(alias).unwrap(), b"ACME FIRMWARE");

    // Microcode blobs gone; the rest of amd-ucode is firmware.
    let lls = unsquashfs_lls(&ext_dir.join("2.sqsh"));
    assert!(!lls.contains("ucode"), "{lls}");
    assert_eq!(
        std::fs::read(ext_dir.join(fw).join("amd-ucode/LICENSE.amd-ucode")).unwrap(),
        b"license text"
    );
    assert!(
        !ext_dir
            .join(fw)
            .join("amd-ucode/microcode_amd.bin")
            .exists()
    );
    assert!(ext_dir.join(fw).join("intel-ucode").is_dir());

    // The module stays in its extension's squashfs.
    let lls = unsquashfs_lls(&ext_dir.join("3.sqsh"));
    assert!(
        lls.contains(&format!("squashfs-root/{mods}/{KVER}/extras/gasket.ko")),
        "{lls}"
    );

    // The schematic marker.
    let lls = unsquashfs_lls(&ext_dir.join("4.sqsh"));
    assert!(
        lls.contains("squashfs-root/usr/local/share/schematic/"),
        "{lls}"
    );

    // modules.dep covers the base module and the extension's.
    let dep = unsquashfs_cat(
        &ext_dir.join("modules.dep.sqsh"),
        &format!("{mods}/{KVER}/modules.dep"),
    );
    let dep = String::from_utf8(dep).unwrap();
    assert!(dep.contains("extras/gasket.ko:"), "{dep}");
    assert!(dep.contains("kernel/drivers/base.ko:"), "{dep}");
    let lls = unsquashfs_lls(&ext_dir.join("modules.dep.sqsh"));
    assert!(
        lls.contains(&format!("{mods}/{KVER}/modules.order")),
        "{lls}"
    );
    assert!(
        !lls.contains(".ko"),
        "only the index goes into modules.dep: {lls}"
    );
}

fn expected_yaml(with_extra_info: bool, id: &str) -> String {
    let layer = |image: &str, name: &str, version: &str, description: &str, range: &str| {
        format!(
            "    - image: {image}\n      metadata:\n        name: {name}\n        version: {version}\n        author: Test Author\n        description: |\n            {description}\n        compatibility:\n            talos:\n                version: '{range}'\n"
        )
    };
    let mut y = String::from("layers:\n");
    y += &layer(
        "0.sqsh",
        "hello-service",
        "1.0.0",
        "A plain extension with a service file.",
        ">= v1.7.0",
    );
    y += &layer(
        "1.sqsh",
        "acme-firmware",
        "\"20240101\"",
        "Firmware for ACME devices.",
        ">= v1.0.0",
    );
    y += &layer(
        "2.sqsh",
        "ucode",
        "\"20240312\"",
        "CPU microcode.",
        ">= v1.0.0",
    );
    y += &layer(
        "3.sqsh",
        "gasket-driver",
        "1.0-6.1.0",
        "Gasket driver.",
        ">= v1.7.0",
    );
    y += &format!(
        "    - image: 4.sqsh\n      metadata:\n        name: schematic\n        version: {id}\n        author: Image Factory (http://127.0.0.1:8080/)\n        description: Virtual extension which specifies the schematic of the image\n            built with schematic.\n        compatibility:\n            talos:\n                version: '>= 1.0.0'\n"
    );
    if with_extra_info {
        y += "        extraInfo: |\n            customization:\n                systemExtensions:\n                    officialExtensions:\n                        - siderolabs/amd-ucode\n                        - siderolabs/gasket-driver\n";
    }
    y += &format!(
        "    - image: modules.dep.sqsh\n      metadata:\n        name: modules.dep\n        version: {KVER}\n        author: Talos Machinery\n        description: Combined modules.dep for all extensions\n        compatibility:\n            talos:\n                version: \"\"\n"
    );
    y
}

#[test]
fn talos_1_7_xz_with_lib_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let built = build("1.7.4", tmp.path());
    let ext_dir = check_segments(&built, false, tmp.path());
    check_common(&ext_dir, "lib/firmware", "lib/modules");
    let yaml = std::fs::read_to_string(ext_dir.join("extensions.yaml")).unwrap();
    assert_eq!(yaml, expected_yaml(true, &built.schematic_id));
    let lls = unsquashfs_lls(&ext_dir.join("0.sqsh"));
    assert!(lls.contains("usr/local"), "{lls}");
    let sb = String::from_utf8(run(Command::new(require_tool(
        "unsquashfs",
        "squashfs-tools",
    ))
    .arg("-s")
    .arg(ext_dir.join("0.sqsh"))))
    .unwrap();
    assert!(sb.contains("Compression xz"), "{sb}");
    assert!(sb.contains("Block size 131072"), "{sb}");
}

#[test]
fn talos_1_11_zstd_with_usr_lib_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let built = build("1.11.0", tmp.path());
    let ext_dir = check_segments(&built, true, tmp.path());
    check_common(&ext_dir, "usr/lib/firmware", "usr/lib/modules");
    let yaml = std::fs::read_to_string(ext_dir.join("extensions.yaml")).unwrap();
    assert_eq!(yaml, expected_yaml(true, &built.schematic_id));
    let sb = String::from_utf8(run(Command::new(require_tool(
        "unsquashfs",
        "squashfs-tools",
    ))
    .arg("-s")
    .arg(ext_dir.join("0.sqsh"))))
    .unwrap();
    assert!(sb.contains("Compression zstd"), "{sb}");
    assert!(sb.contains("compression-level 18"), "{sb}");
    // Listing order of the compressed segment (directories before children,
    // names in byte order).
    let cpio = require_tool("cpio", "cpio");
    let seg = &built.output[split_newc(&built.output).1 + built.base.len()..];
    let plain = run_with_input(Command::new(require_tool("zstd", "zstd")).arg("-dc"), seg);
    let names = String::from_utf8(run_with_input(
        Command::new(cpio).args(["-it", "--quiet"]),
        &plain,
    ))
    .unwrap();
    let names: Vec<&str> = names.lines().collect();
    assert_eq!(
        &names[..7],
        [
            "0.sqsh",
            "1.sqsh",
            "2.sqsh",
            "3.sqsh",
            "4.sqsh",
            "extensions.yaml",
            "modules.dep.sqsh"
        ]
    );
    assert_eq!(&names[7..10], ["usr", "usr/lib", "usr/lib/firmware"]);
}

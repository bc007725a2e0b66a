//! The `uki` output built by `build::build` from the synthetic Talos release
//! served by a real `docker-registry`, for every fixture version from 1.10,
//! checked with `objdump -h` (section names, order, alignment) and by
//! extracting `.cmdline`, `.osrel`, `.linux` and `.initrd` back with `objcopy`
//! (package `binutils`). The synthetic release ships systemd-stub 252, so
//! the UKIs are single-profile (`ID=main` only; see `build::uki`'s docs).
//! Needs the Debian packages `binutils`, `docker-registry`, `skopeo`, `curl`
//! and `jq` (for the registry script).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use factory_core::arch::Arch;
use factory_core::quirks::Quirks;
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use factory_imager::build::{build, imager_file};
use factory_imager::catalog;
use factory_imager::uki::{TALOS_NAME, os_release};
use factory_test_support::{
    BuildEnv, objcopy_section, objdump_sections, profile as make_profile, run, tool,
};

/// `ImageBase`, `SectionAlignment` and `FileAlignment` from `objdump -x`.
fn alignments(path: &Path) -> (u64, u64, u64) {
    let text = run(Command::new(tool("objdump", "binutils"))
        .arg("-x")
        .arg(path));
    let fields: BTreeMap<&str, u64> = text
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('\t')?;
            let value = value.split_whitespace().next()?;
            Some((key.trim(), u64::from_str_radix(value, 16).ok()?))
        })
        .collect();
    (
        fields["ImageBase"],
        fields["SectionAlignment"],
        fields["FileAlignment"],
    )
}

/// A section as the PE section table states it, read here independently
/// of the assembler (for the arm64 stand-ins, which x86 binutils cannot
/// read): name, VirtualSize, VirtualAddress (RVA), SizeOfRawData,
/// PointerToRawData.
#[derive(Debug)]
struct PeSection {
    name: String,
    virtual_size: u64,
    rva: u64,
    raw_size: u64,
    file_off: u64,
}

fn le(bytes: &[u8], at: usize, len: usize) -> u64 {
    bytes[at..at + len]
        .iter()
        .rev()
        .fold(0, |acc, b| (acc << 8) | u64::from(*b))
}

/// `(SectionAlignment, FileAlignment, sections)` of a PE32+ file.
fn pe_sections(bytes: &[u8]) -> (u64, u64, Vec<PeSection>) {
    assert_eq!(&bytes[..2], b"MZ");
    let pe = le(bytes, 0x3c, 4) as usize;
    assert_eq!(&bytes[pe..pe + 4], b"PE\0\0");
    let coff = pe + 4;
    let count = le(bytes, coff + 2, 2) as usize;
    let optional = coff + 20;
    assert_eq!(le(bytes, optional, 2), 0x20b, "PE32+");
    let table = optional + le(bytes, coff + 16, 2) as usize;
    let sections = (0..count)
        .map(|i| {
            let h = table + 40 * i;
            let name = bytes[h..h + 8].split(|b| *b == 0).next().unwrap();
            PeSection {
                name: String::from_utf8(name.to_vec()).unwrap(),
                virtual_size: le(bytes, h + 8, 4),
                rva: le(bytes, h + 12, 4),
                raw_size: le(bytes, h + 16, 4),
                file_off: le(bytes, h + 20, 4),
            }
        })
        .collect();
    (
        le(bytes, optional + 32, 4),
        le(bytes, optional + 36, 4),
        sections,
    )
}

/// The bytes of the `nth` section named `name` (its VirtualSize).
fn pe_section<'a>(bytes: &'a [u8], sections: &[PeSection], name: &str, nth: usize) -> &'a [u8] {
    let s = sections.iter().filter(|s| s.name == name).nth(nth).unwrap();
    &bytes[s.file_off as usize..(s.file_off + s.virtual_size) as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uki_outputs_for_every_version_from_1_10() {
    let env = BuildEnv::start();
    let (puller, work, ctx) = (&env.puller, &env.work, env.context());
    let plain = Schematic::parse(
        b"customization:\n  extraKernelArgs: [talos.dashboard.disabled=1, -selinux]\n  \
          systemExtensions:\n    officialExtensions: [siderolabs/qemu-guest-agent]\n",
    )
    .unwrap();
    let with_overlay = Schematic::parse(
        b"overlay:\n  name: rpi_generic\n  image: siderolabs/sbc-raspberrypi\n  \
          options: {configTxtAppend: dtoverlay=vc4-kms-v3d}\n",
    )
    .unwrap();
    let versions: Vec<TalosVersion> = synthetic_release::fixtures::versions()
        .into_iter()
        .filter(|v| Quirks::new(v).supports_uki_profiles())
        .collect();
    assert!(versions.len() >= 5, "{versions:?}");

    let mut cases: Vec<(TalosVersion, Arch, &Schematic)> = versions
        .iter()
        .map(|v| (v.clone(), Arch::Amd64, &plain))
        .collect();
    // The arm64 stand-in stub and kernel (no `.uname`), and an overlay whose
    // installer adds kernel args, once each.
    let newest = versions.last().unwrap().clone();
    cases.push((newest.clone(), Arch::Arm64, &plain));
    cases.push((newest.clone(), Arch::Arm64, &with_overlay));

    for (version, arch, schematic) in cases {
        let release = catalog::release(puller, &version).await.unwrap();
        let profile = make_profile(
            &format!("metal-{arch}-uki.efi"),
            schematic,
            &version,
            &release,
        );
        let dir = work
            .path()
            .join(format!("{version}-{arch}-{}", schematic.id()));
        std::fs::create_dir_all(&dir).unwrap();
        let uki = dir.join("uki.efi");
        let started = std::time::Instant::now();
        let built = build(&ctx, &profile, schematic, &uki).await.unwrap();
        eprintln!(
            "{version} {arch}: {} bytes in {:?}",
            built.size,
            started.elapsed()
        );
        assert_eq!(built.size, std::fs::metadata(&uki).unwrap().len());

        // Section names and order: the stub's, then ours, single-profile.
        let mut expected = vec![".osrel", ".cmdline"];
        if arch == Arch::Amd64 {
            expected.push(".uname");
        }
        expected.extend([".linux", ".initrd", ".profile"]);
        let bytes = std::fs::read(&uki).unwrap();
        let (section_alignment, file_alignment, table) = pe_sections(&bytes);
        let names: Vec<&str> = table.iter().map(|s| s.name.as_str()).collect();
        let first = names.iter().position(|n| *n == ".osrel").unwrap();
        assert_eq!(names[first..], expected, "{version} {arch}: {names:?}");
        assert_eq!(names.iter().filter(|n| **n == ".sbat").count(), 1);
        assert!(
            names[..first].contains(&".sbat"),
            "the stub keeps its .sbat"
        );

        // Alignment: appended sections follow each other on SectionAlignment
        // in memory and FileAlignment on disk.
        for pair in table[first..].windows(2) {
            assert_eq!(
                pair[1].rva,
                (pair[0].rva + pair[0].virtual_size).next_multiple_of(section_alignment),
                "{pair:?}"
            );
            assert_eq!(
                pair[1].file_off,
                pair[0].file_off + pair[0].raw_size,
                "{pair:?}"
            );
        }
        for s in &table[first..] {
            assert_eq!(s.rva % section_alignment, 0, "{s:?}");
            assert_eq!(s.file_off % file_alignment, 0, "{s:?}");
            assert_eq!(s.raw_size, s.virtual_size.next_multiple_of(file_alignment));
        }

        // binutils agrees (it reads x86-64 PE only).
        if arch == Arch::Amd64 {
            let rows = objdump_sections(&uki);
            let dumped: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
            assert_eq!(dumped, names, "objdump -h");
            let (image_base, dumped_alignment, dumped_file_alignment) = alignments(&uki);
            assert_eq!(
                (dumped_alignment, dumped_file_alignment),
                (section_alignment, file_alignment)
            );
            for (row, s) in rows.iter().zip(&table).skip(first) {
                assert_eq!(row.vma - image_base, s.rva, "{row:?}");
                assert_eq!(row.file_off, s.file_off, "{row:?}");
                assert_eq!(row.size, s.virtual_size, "{row:?}");
            }
        }
        let extract = |name: &str| -> Vec<u8> {
            let ours = pe_section(&bytes, &table, name, 0).to_vec();
            if arch == Arch::Amd64 {
                assert!(objcopy_section(&uki, name, &dir) == ours, "objcopy {name}");
            }
            ours
        };

        // Contents back out.
        let overlay_args: Vec<String> = if profile.overlay.is_some() {
            [
                "console=tty0",
                "console=ttyAMA0,115200",
                "sysctl.kernel.kexec_load_disabled=1",
                "talos.dashboard.disabled=1",
            ]
            .map(String::from)
            .to_vec()
        } else {
            Vec::new()
        };
        let cmdline = String::from_utf8(extract(".cmdline")).unwrap();
        assert_eq!(cmdline, profile.kernel_cmdline(&overlay_args));
        assert!(!cmdline.contains("talos.experimental.wipe"), "{cmdline}");
        if profile.overlay.is_some() {
            assert!(
                cmdline.contains(" console=tty0 console=ttyAMA0,115200 "),
                "{cmdline}"
            );
        } else {
            assert!(cmdline.contains(" talos.dashboard.disabled=1"), "{cmdline}");
            assert!(!cmdline.contains("selinux"), "{cmdline}");
        }
        let osrel = String::from_utf8(extract(".osrel")).unwrap();
        assert_eq!(osrel, os_release(TALOS_NAME, &version));
        assert_eq!(extract(".profile"), b"ID=main");
        let kernel = dir.join("vmlinuz");
        imager_file(puller, &version, arch, "vmlinuz", &kernel)
            .await
            .unwrap();
        assert!(
            extract(".linux") == std::fs::read(&kernel).unwrap(),
            ".linux is the imager's kernel"
        );
        let initramfs = dir.join("initramfs.xz");
        build(
            &ctx,
            &make_profile(
                &format!("initramfs-{arch}.xz"),
                schematic,
                &version,
                &release,
            ),
            schematic,
            &initramfs,
        )
        .await
        .unwrap();
        assert!(
            extract(".initrd") == std::fs::read(&initramfs).unwrap(),
            ".initrd is our initramfs"
        );
        if arch == Arch::Amd64 {
            let uname = String::from_utf8(extract(".uname")).unwrap();
            assert!(!uname.is_empty() && !uname.contains(' '), "{uname:?}");
        }

        // The same inputs give the same bytes (checked on the small arm64
        // builds; amd64 would only repeat the same code on more bytes).
        if arch == Arch::Arm64 {
            let again = dir.join("again.efi");
            let rebuilt = build(&ctx, &profile, schematic, &again).await.unwrap();
            assert_eq!(rebuilt.sha256, built.sha256, "{version} {arch}");
        }
    }
}

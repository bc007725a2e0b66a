//! UKIs assembled on Debian's real systemd-stub (`linuxx64.efi.stub` from the
//! package `systemd-boot-efi`, fetched with `apt-get download` and unpacked
//! with `dpkg-deb -x`, never installed), checked with real tools:
//! `objdump`/`objcopy` (package `binutils`), `sbverify` (package
//! `sbsigntool`) and Python's `pefile` (package `python3-pefile`).
//!
//! The stub is looked up in `$FACTORY_TEST_SD_STUB`, then at the installed
//! path, then in a cache under the test target directory, and downloaded
//! only when none has it (which needs `apt-get update` to have run once).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use factory_core::version::TalosVersion;
use factory_imager::uki::{
    MIN_SYSTEMD_FOR_PROFILES, SectionStream, TALOS_NAME, UkiLayout, UkiProfile, UkiSections,
    assemble, discover_kernel_version, os_release, profiles_for_version, stub_loader_info,
    stub_sbat, systemd_major,
};
use factory_test_support::{SectionRow as Row, objdump_sections};

const INSTALLED_STUB: &str = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub";
const KERNEL_RELEASE: &str = "6.18.45-talos";
const TIMESTAMP: u32 = 1_609_459_200;
const CMDLINE: &str = "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on \
                       consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1";

/// Runs `tool`; a missing binary fails the test naming its Debian package.
fn run(tool: &str, package: &str, args: &[&str], dir: &Path) -> Output {
    match Command::new(tool).args(args).current_dir(dir).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("{tool} not found: install the Debian package `{package}` ({e})")
        }
        Err(e) => panic!("running {tool} {args:?}: {e}"),
    }
}

/// Runs `tool` and requires success; returns stdout.
fn run_ok(tool: &str, package: &str, args: &[&str], dir: &Path) -> String {
    let output = run(tool, package, args, dir);
    assert!(
        output.status.success(),
        "{tool} {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Debian's x86-64 systemd-stub, fetched once per test process.
fn debian_stub() -> &'static [u8] {
    static STUB: OnceLock<Vec<u8>> = OnceLock::new();
    STUB.get_or_init(|| std::fs::read(stub_path()).unwrap())
}

fn stub_path() -> PathBuf {
    if let Some(path) = std::env::var_os("FACTORY_TEST_SD_STUB") {
        return PathBuf::from(path);
    }
    if Path::new(INSTALLED_STUB).exists() {
        return PathBuf::from(INSTALLED_STUB);
    }
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("systemd-boot-efi");
    let cached = cache.join(INSTALLED_STUB.trim_start_matches('/'));
    if cached.exists() {
        return cached;
    }
    let download = cache.join("deb");
    std::fs::create_dir_all(&download).unwrap();
    let output = run(
        "apt-get",
        "apt",
        &["download", "systemd-boot-efi"],
        &download,
    );
    assert!(
        output.status.success(),
        "apt-get download systemd-boot-efi failed (run `apt-get update` once, or point \
         FACTORY_TEST_SD_STUB at a linuxx64.efi.stub): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let deb = std::fs::read_dir(&download)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("apt-get download left no .deb");
    run_ok(
        "dpkg-deb",
        "dpkg",
        &["-x", deb.to_str().unwrap(), cache.to_str().unwrap()],
        &download,
    );
    assert!(cached.exists(), "{} not in the package", cached.display());
    cached
}

/// Deterministic filler bytes.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A fake x86 bzImage of a few MiB whose boot header names `KERNEL_RELEASE`.
fn fake_bzimage() -> Vec<u8> {
    let mut image = noise(3 * 1024 * 1024 + 517, 7);
    image[0x1f1] = 31; // setup_sects
    image[0x202..0x206].copy_from_slice(b"HdrS");
    image[0x20e..0x210].copy_from_slice(&0x3c00u16.to_le_bytes());
    let version = format!("{KERNEL_RELEASE} (builder@buildkitsandbox) #1 SMP PREEMPT_DYNAMIC\0");
    image[0x3e00..0x3e00 + version.len()].copy_from_slice(version.as_bytes());
    image
}

/// The hex fields of `objdump -x`'s optional header dump.
fn objdump_header(path: &Path) -> BTreeMap<String, String> {
    let text = run_ok(
        "objdump",
        "binutils",
        &["-x", path.to_str().unwrap()],
        Path::new("/"),
    );
    text.lines()
        .take_while(|line| !line.starts_with("The Data Directory"))
        .filter_map(|line| {
            let (key, value) = line.split_once('\t')?;
            Some((key.trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

fn hex_field(header: &BTreeMap<String, String>, key: &str) -> u64 {
    let value = header
        .get(key)
        .unwrap_or_else(|| panic!("objdump -x has no {key}"));
    u64::from_str_radix(value.split_whitespace().next().unwrap(), 16).unwrap()
}

/// One section's bytes as `objcopy -O binary --only-section` extracts them.
fn objcopy_section(path: &Path, name: &str, dir: &Path) -> Vec<u8> {
    let out = dir.join(format!("section{name}"));
    run_ok(
        "objcopy",
        "binutils",
        &[
            "-O",
            "binary",
            &format!("--only-section={name}"),
            path.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
        dir,
    );
    std::fs::read(out).unwrap()
}

fn align(value: u64, to: u64) -> u64 {
    value.div_ceil(to) * to
}

struct Uki {
    path: PathBuf,
    layout: UkiLayout,
    kernel: Vec<u8>,
    initrd: Vec<u8>,
}

/// Assembles a UKI from the Debian stub into `dir/name`, with the kernel
/// read from a file (release discovered from it) and the initrd streamed
/// from a file.
fn build(dir: &Path, name: &str, version: &str, kernel: Vec<u8>, extra: Vec<UkiProfile>) -> Uki {
    let version: TalosVersion = version.parse().unwrap();
    let initrd = noise(7 * 1024 * 1024 + 3, 11);
    let kernel_path = dir.join(format!("{name}.vmlinuz"));
    let initrd_path = dir.join(format!("{name}.initramfs.xz"));
    std::fs::write(&kernel_path, &kernel).unwrap();
    std::fs::write(&initrd_path, &initrd).unwrap();

    let mut kernel_file = File::open(&kernel_path).unwrap();
    let uname = discover_kernel_version(&mut kernel_file).unwrap();
    let mut initrd_file = File::open(&initrd_path).unwrap();
    let sections = UkiSections {
        osrel: os_release(TALOS_NAME, &version),
        cmdline: CMDLINE.to_owned(),
        uname,
        splash: None,
        linux: SectionStream::from_file(&mut kernel_file).unwrap(),
        initrd: SectionStream::from_file(&mut initrd_file).unwrap(),
        profiles: profiles_for_version(&version, extra),
        timestamp: TIMESTAMP,
    };
    let path = dir.join(name);
    let out = BufWriter::new(File::create(&path).unwrap());
    let layout = assemble(debian_stub(), sections, out).unwrap();
    Uki {
        path,
        layout,
        kernel,
        initrd,
    }
}

#[test]
fn debian_stub_uki_has_upstreams_sections_order_and_alignment() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let stub_file = dir.join("linuxx64.efi.stub");
    std::fs::write(&stub_file, debian_stub()).unwrap();
    let stub_rows = objdump_sections(&stub_file);
    let stub_header = objdump_header(&stub_file);
    let section_alignment = hex_field(&stub_header, "SectionAlignment");
    let file_alignment = hex_field(&stub_header, "FileAlignment");

    let reset = UkiProfile::reset_maintenance(CMDLINE);
    let uki = build(
        dir,
        "uki.efi",
        "v1.11.0",
        fake_bzimage(),
        vec![reset.clone()],
    );
    let rows = objdump_sections(&uki.path);

    // Order: the stub's sections, then upstream's.
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let mut expected: Vec<&str> = stub_rows.iter().map(|r| r.name.as_str()).collect();
    assert!(expected.contains(&".sbat"), "the stub keeps its .sbat");
    expected.extend([
        ".osrel", ".cmdline", ".uname", ".linux", ".initrd", ".profile", ".profile", ".cmdline",
    ]);
    assert_eq!(names, expected);

    // Stub sections keep their addresses and sizes.
    for (ours, theirs) in rows.iter().zip(&stub_rows) {
        assert_eq!(
            (ours.vma, ours.size),
            (theirs.vma, theirs.size),
            "{}",
            ours.name
        );
    }

    // Appended sections: aligned, in order, right after the stub's last one.
    let appended = &rows[stub_rows.len()..];
    let stub_end = stub_rows.iter().map(|r| r.vma + r.size).max().unwrap();
    assert_eq!(appended[0].vma, align(stub_end, section_alignment));
    for pair in appended.windows(2) {
        assert_eq!(
            pair[1].vma,
            align(pair[0].vma + pair[0].size, section_alignment)
        );
    }
    for row in &rows {
        assert_eq!(row.file_off % file_alignment, 0, "{} file offset", row.name);
    }
    for row in appended {
        assert_eq!(row.vma % section_alignment, 0, "{} address", row.name);
    }
    // objdump reads the same layout we report.
    for (row, ours) in rows.iter().zip(&uki.layout.sections) {
        assert_eq!(row.name, ours.name);
        assert_eq!(row.vma, u64::from(ours.virtual_address), "{}", row.name);
        assert_eq!(row.file_off, u64::from(ours.file_offset), "{}", row.name);
    }

    // Header fields.
    let header = objdump_header(&uki.path);
    let image_end = rows.iter().map(|r| r.vma + r.size).max().unwrap();
    assert_eq!(
        hex_field(&header, "SizeOfImage"),
        align(image_end, section_alignment)
    );
    assert_eq!(
        hex_field(&header, "SizeOfHeaders"),
        u64::from(uki.layout.size_of_headers)
    );
    assert!(hex_field(&header, "SizeOfHeaders") <= rows.iter().map(|r| r.vma).min().unwrap());
    assert_eq!(
        hex_field(&header, "SizeOfInitializedData"),
        u64::from(uki.layout.size_of_initialized_data)
    );
    assert_eq!(
        hex_field(&header, "SizeOfCode"),
        align(stub_rows[0].size, file_alignment),
        ".text is the only code"
    );
    assert_eq!(
        hex_field(&header, "CheckSum"),
        0,
        "upstream leaves CheckSum zero"
    );
    assert_eq!(header["MajorLinkerVersion"], "0");
    assert_eq!(header["Subsystem"], stub_header["Subsystem"]);
    assert_eq!(
        hex_field(&header, "AddressOfEntryPoint"),
        hex_field(&stub_header, "AddressOfEntryPoint")
    );

    // Contents round-trip through objcopy.
    let version: TalosVersion = "v1.11.0".parse().unwrap();
    for (name, want) in [
        (".osrel", os_release(TALOS_NAME, &version).into_bytes()),
        (".uname", KERNEL_RELEASE.as_bytes().to_vec()),
        (".linux", uki.kernel.clone()),
        (".initrd", uki.initrd.clone()),
    ] {
        assert!(
            objcopy_section(&uki.path, name, dir) == want,
            "{name} differs"
        );
    }
    // Duplicated names: read where objdump says they are.
    let bytes = std::fs::read(&uki.path).unwrap();
    let at = |row: &Row| &bytes[row.file_off as usize..(row.file_off + row.size) as usize];
    let by_name = |name: &str| {
        rows.iter()
            .filter(move |r| r.name == name)
            .collect::<Vec<_>>()
    };
    assert_eq!(at(by_name(".cmdline")[0]), CMDLINE.as_bytes());
    assert_eq!(at(by_name(".profile")[0]), b"ID=main");
    assert_eq!(
        at(by_name(".profile")[1]),
        b"ID=reset-maintenance\nTITLE=Reset to maintenance mode"
    );
    assert_eq!(
        at(by_name(".cmdline")[1]),
        reset.cmdline.as_deref().unwrap().as_bytes()
    );
    // Stub sections are byte-identical to the stub's.
    for row in &stub_rows {
        assert!(
            objcopy_section(&uki.path, &row.name, dir)
                == objcopy_section(&stub_file, &row.name, dir),
            "stub section {} changed",
            row.name
        );
    }
    assert_eq!(
        stub_sbat(debian_stub()).unwrap(),
        objcopy_section(&stub_file, ".sbat", dir)
    );

    // sbverify parses the image: no gaps, no signature yet.
    let output = run(
        "sbverify",
        "sbsigntool",
        &["--list", uki.path.to_str().unwrap()],
        dir,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let said = format!("{stdout}{stderr}");
    assert!(output.status.success(), "sbverify --list: {said}");
    // sbverify warns about data outside the sections (as it does for the
    // stub itself, whose symbol table follows them); our UKI has none.
    assert_eq!(said.trim(), "No signature table present", "sbverify --list");

    // Deterministic: the same inputs give the same bytes.
    let again = build(dir, "again.efi", "v1.11.0", fake_bzimage(), vec![reset]);
    assert!(
        std::fs::read(&again.path).unwrap() == bytes,
        "output is not deterministic"
    );
    assert_eq!(again.layout, uki.layout);
}

#[test]
fn checksum_matches_pefile_and_objdump() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let uki = build(dir, "uki.efi", "v1.12.0", fake_bzimage(), Vec::new());
    let mut file = File::options()
        .read(true)
        .write(true)
        .open(&uki.path)
        .unwrap();
    file.seek(SeekFrom::End(0)).unwrap();
    uki.layout.write_checksum(&mut file).unwrap();
    drop(file);

    let header = objdump_header(&uki.path);
    assert_eq!(
        hex_field(&header, "CheckSum"),
        u64::from(uki.layout.checksum)
    );

    let python = "/usr/bin/python3";
    assert!(
        Path::new(python).exists(),
        "{python} is missing: install the Debian packages `python3` and `python3-pefile`"
    );
    let output = run(
        python,
        "python3",
        &[
            "-c",
            "import sys\n\
             try:\n    import pefile\n\
             except ImportError:\n    sys.exit('pefile missing: install the Debian package python3-pefile')\n\
             pe = pefile.PE(sys.argv[1], fast_load=True)\n\
             print(pe.OPTIONAL_HEADER.CheckSum, pe.generate_checksum())",
            uki.path.to_str().unwrap(),
        ],
        dir,
    );
    assert!(
        output.status.success(),
        "pefile: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();
    let want = uki.layout.checksum.to_string();
    assert_eq!(printed.trim(), format!("{want} {want}"));
}

#[test]
fn before_1_10_without_a_bzimage_header_there_is_no_profile_or_uname() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // An arm64-like `Image` (no x86 boot header): the release is unknown.
    let kernel = noise(2 * 1024 * 1024 + 1, 5);
    let uki = build(
        dir,
        "uki.efi",
        "v1.9.4",
        kernel,
        vec![UkiProfile::reset("x")],
    );
    let rows = objdump_sections(&uki.path);
    let appended: Vec<&str> = rows
        .iter()
        .map(|r| r.name.as_str())
        .skip_while(|n| *n != ".osrel")
        .collect();
    assert_eq!(appended, [".osrel", ".cmdline", ".linux", ".initrd"]);
    assert!(objcopy_section(&uki.path, ".linux", dir) == uki.kernel);
    let osrel = String::from_utf8(objcopy_section(&uki.path, ".osrel", dir)).unwrap();
    assert!(
        osrel.contains("VERSION_ID=v1.9.4\nPRETTY_NAME=\"Talos (v1.9.4)\"\n"),
        "{osrel}"
    );
}

#[test]
fn debian_stub_is_too_old_for_profiles() {
    let info = stub_loader_info(debian_stub()).unwrap().unwrap();
    assert!(info.starts_with("systemd-stub 252."), "{info}");
    assert!(systemd_major(&info).unwrap() < MIN_SYSTEMD_FOR_PROFILES);
}

//! Output compression checked with the real tools: `xz`, `zstd`, `gzip`, `tar`.
//!
//! Tools come from the Debian packages `xz-utils`, `zstd`, `gzip` and `tar`
//! (preinstalled on Debian images). A missing tool fails the test with the
//! package to install; nothing is skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use factory_core::image_path::OutFormat;
use factory_core::quirks::Quirks;
use factory_core::version::TalosVersion;
use factory_imager::compress::{
    CompressError, CompressOptions, InitramfsCompression, compress_file, encoder, initramfs_encoder,
};
use factory_test_support::tool;

fn xz() -> Command {
    Command::new(tool("xz", "xz-utils"))
}
fn zstd() -> Command {
    Command::new(tool("zstd", "zstd"))
}
fn gzip() -> Command {
    Command::new(tool("gzip", "gzip"))
}
fn tar() -> Command {
    let mut c = Command::new(tool("tar", "tar"));
    c.env("TZ", "UTC");
    c
}

fn run(mut cmd: Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(cmd: Command) -> String {
    String::from_utf8(run(cmd).stdout).unwrap()
}

/// Deterministic data like a disk image: random (already compressed
/// content), zero runs (free space) and text, in uneven stripes.
fn mixed_data(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let words = [
        "talos",
        "kernel",
        "initramfs",
        "extension",
        "squashfs",
        "\n",
        "=",
        "0x1f",
    ];
    let mut stripe = 0usize;
    while out.len() < len {
        let size = 40_000 + stripe * 7_919 % 90_000;
        match stripe % 3 {
            0 => {
                for _ in 0..size / 8 {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    out.extend_from_slice(&state.to_le_bytes());
                }
            }
            1 => out.resize(out.len() + size * 2, 0),
            _ => {
                let mut n = 0;
                while n < size {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let w = words[(state % words.len() as u64) as usize];
                    out.extend_from_slice(w.as_bytes());
                    out.push(b' ');
                    n += w.len() + 1;
                }
            }
        }
        stripe += 1;
    }
    out.truncate(len);
    out
}

const MIB: usize = 1024 * 1024;

fn options(threads: usize) -> CompressOptions {
    CompressOptions {
        threads,
        ..CompressOptions::default()
    }
}

/// Compresses `data` through the public encoder in uneven writes.
fn compress(format: OutFormat, data: &[u8], options: &CompressOptions) -> Vec<u8> {
    let mut enc = encoder(format, Vec::new(), options).unwrap();
    for chunk in data.chunks(77_777) {
        enc.write_all(chunk).unwrap();
    }
    enc.finish().unwrap()
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The check type and block count from `xz --robot --list`.
fn xz_list(path: &Path) -> (String, u64) {
    let mut cmd = xz();
    cmd.args(["--robot", "--list"]).arg(path);
    let listing = stdout(cmd);
    let file = listing
        .lines()
        .find(|l| l.starts_with("file\t"))
        .expect("a file line");
    let fields: Vec<&str> = file.split('\t').collect();
    (fields[6].to_owned(), fields[2].parse().unwrap())
}

fn decompress(mut cmd: Command, args: &[&str], path: &Path) -> Vec<u8> {
    cmd.args(args).arg(path);
    run(cmd).stdout
}

#[test]
fn xz_output_is_xz_0_with_crc64() {
    let dir = tempfile::tempdir().unwrap();
    let data = mixed_data(5 * MIB);
    let file = write_file(
        dir.path(),
        "disk.raw.xz",
        &compress(OutFormat::Xz, &data, &options(2)),
    );
    let mut test = xz();
    test.arg("-t").arg(&file);
    run(test);
    let (check, blocks) = xz_list(&file);
    assert_eq!(check, "CRC64");
    // 1 MiB blocks (preset 0's multi-threaded block size), like `xz -0 -T0`.
    assert_eq!(blocks, 5);
    assert_eq!(decompress(xz(), &["-dc"], &file), data);
}

#[test]
fn initramfs_xz_has_crc32_and_appends_to_a_base() {
    let dir = tempfile::tempdir().unwrap();
    let data = mixed_data(3 * MIB + 12_345);
    let q = Quirks::new(&"v1.7.6".parse::<TalosVersion>().unwrap());
    assert_eq!(
        InitramfsCompression::for_quirks(&q),
        InitramfsCompression::XzCrc32
    );
    let mut enc =
        initramfs_encoder(InitramfsCompression::XzCrc32, Vec::new(), &options(2)).unwrap();
    enc.write_all(&data).unwrap();
    let segment = enc.finish().unwrap();
    let file = write_file(dir.path(), "segment.xz", &segment);
    let mut test = xz();
    test.arg("-t").arg(&file);
    run(test);
    let (check, _) = xz_list(&file);
    assert_eq!(
        check, "CRC32",
        "the kernel's xz decoder only verifies CRC32"
    );

    // Appended to a base initramfs stream, both streams decode in order.
    let mut base = xz();
    base.args(["-C", "crc32", "-0", "-e", "-c"])
        .arg(write_file(dir.path(), "base", b"base cpio"));
    let mut joined = run(base).stdout;
    joined.extend_from_slice(&segment);
    let joined = write_file(dir.path(), "initramfs.xz", &joined);
    let mut want = b"base cpio".to_vec();
    want.extend_from_slice(&data);
    assert_eq!(decompress(xz(), &["-dc"], &joined), want);
}

#[test]
fn initramfs_zstd_from_talos_1_8() {
    let dir = tempfile::tempdir().unwrap();
    let q = Quirks::new(&"v1.8.0".parse::<TalosVersion>().unwrap());
    let compression = InitramfsCompression::for_quirks(&q);
    assert_eq!(compression, InitramfsCompression::Zstd);
    let data = mixed_data(2 * MIB);
    let mut enc = initramfs_encoder(compression, Vec::new(), &options(2)).unwrap();
    enc.write_all(&data).unwrap();
    let file = write_file(dir.path(), "segment.zst", &enc.finish().unwrap());
    assert_eq!(decompress(zstd(), &["-dc"], &file), data);
    let mut list = zstd();
    list.arg("-lv").arg(&file);
    let listing = stdout(list);
    assert!(listing.contains("Check: XXH64"), "{listing}");
    // Like `zstd -c` reading a pipe: no content size in the frame.
    assert!(!listing.contains("Decompressed Size"), "{listing}");
}

#[test]
fn zstd_output_has_checksum_and_declared_size() {
    let dir = tempfile::tempdir().unwrap();
    let data = mixed_data(5 * MIB);
    let opts = CompressOptions {
        input_size: Some(data.len() as u64),
        ..options(2)
    };
    let file = write_file(
        dir.path(),
        "disk.raw.zst",
        &compress(OutFormat::Zst, &data, &opts),
    );
    let mut test = zstd();
    test.arg("-t").arg(&file);
    run(test);
    let mut list = zstd();
    list.arg("-lv").arg(&file);
    let listing = stdout(list);
    assert!(listing.contains("Check: XXH64"), "{listing}");
    assert!(
        listing.contains(&format!("Decompressed Size: 5.00 MiB ({} B)", data.len())),
        "{listing}"
    );
    assert_eq!(decompress(zstd(), &["-dc"], &file), data);
}

#[test]
fn zstd_job_size_bounds_memory_and_stays_valid() {
    let dir = tempfile::tempdir().unwrap();
    let data = mixed_data(3 * MIB);
    let opts = CompressOptions {
        zstd_job_size: Some(1 << 20),
        ..options(2)
    };
    let file = write_file(
        dir.path(),
        "jobs.zst",
        &compress(OutFormat::Zst, &data, &opts),
    );
    let mut test = zstd();
    test.arg("-t").arg(&file);
    run(test);
    assert_eq!(decompress(zstd(), &["-dc"], &file), data);
    let too_small = CompressOptions {
        zstd_job_size: Some(4096),
        ..options(2)
    };
    let err = encoder(OutFormat::Zst, Vec::new(), &too_small).unwrap_err();
    assert!(
        matches!(err, CompressError::ZstdJobSize { size: 4096, .. }),
        "{err}"
    );
}

#[test]
fn gzip_output_is_one_member_without_name_or_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = mixed_data(5 * MIB + 3);
    let gz = compress(OutFormat::Gz, &data, &options(3));
    // Magic, deflate, no FNAME/FEXTRA flags, mtime 0, XFL 0, OS Unix: as
    // `pigz -6 --no-time`.
    assert_eq!(gz[..10], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    let file = write_file(dir.path(), "disk.raw.gz", &gz);
    let mut test = gzip();
    test.arg("-t").arg(&file);
    run(test);
    assert_eq!(decompress(gzip(), &["-dc"], &file), data);
    // `gzip -l` reads the trailer: size modulo 2^32 and one member.
    let mut list = gzip();
    list.arg("-l").arg(&file);
    let listing = stdout(list);
    assert!(listing.contains(&format!(" {} ", data.len())), "{listing}");
}

#[test]
fn tar_gz_holds_disk_raw_owned_by_root() {
    let dir = tempfile::tempdir().unwrap();
    let data = mixed_data(3 * MIB + 100);
    let opts = CompressOptions {
        input_size: Some(data.len() as u64),
        tar_mtime: 1_700_000_000,
        ..options(2)
    };
    let file = write_file(
        dir.path(),
        "gcp-amd64.raw.tar.gz",
        &compress(OutFormat::TarGz, &data, &opts),
    );
    let mut test = gzip();
    test.arg("-t").arg(&file);
    run(test);
    let mut list = tar();
    list.args(["--numeric-owner", "--full-time", "-tvzf"])
        .arg(&file);
    let listing = stdout(list);
    let want = format!("-rw-r--r-- 0/0 {} 2023-11-14 22:13:20 disk.raw", data.len());
    let got: Vec<String> = listing
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(got, [want], "{listing}");
    let mut extract = tar();
    extract.args(["-xzOf"]).arg(&file).arg("disk.raw");
    assert_eq!(run(extract).stdout, data);
}

#[test]
fn output_does_not_depend_on_thread_count() {
    let data = mixed_data(3 * MIB);
    for format in [OutFormat::Xz, OutFormat::Zst] {
        let one = compress(format, &data, &options(1));
        let three = compress(format, &data, &options(3));
        assert!(one == three, "{format:?}: 1 and 3 threads differ");
    }
    // gzip blocks are ours to schedule: more blocks (~100), more chances for
    // a block to depend on which worker compressed it.
    let data = mixed_data(12 * MIB);
    let one = compress(OutFormat::Gz, &data, &options(1));
    for threads in [2, 3, 4] {
        let many = compress(OutFormat::Gz, &data, &options(threads));
        assert!(one == many, "gzip: 1 and {threads} threads differ");
    }
}

#[test]
fn empty_input_gives_valid_streams() {
    let dir = tempfile::tempdir().unwrap();
    let empty = CompressOptions {
        input_size: Some(0),
        ..options(2)
    };
    let xz_file = write_file(dir.path(), "e.xz", &compress(OutFormat::Xz, &[], &empty));
    assert!(decompress(xz(), &["-dc"], &xz_file).is_empty());
    let zst_file = write_file(dir.path(), "e.zst", &compress(OutFormat::Zst, &[], &empty));
    assert!(decompress(zstd(), &["-dc"], &zst_file).is_empty());
    let gz_file = write_file(dir.path(), "e.gz", &compress(OutFormat::Gz, &[], &empty));
    assert!(decompress(gzip(), &["-dc"], &gz_file).is_empty());
    let tgz = write_file(
        dir.path(),
        "e.tar.gz",
        &compress(OutFormat::TarGz, &[], &empty),
    );
    let mut list = tar();
    list.args(["-tzf"]).arg(&tgz);
    assert_eq!(stdout(list), "disk.raw\n");
}

#[test]
fn compress_file_streams_each_format() {
    let dir = tempfile::tempdir().unwrap();
    let data = mixed_data(4 * MIB + 1);
    let input = write_file(dir.path(), "disk.raw", &data);
    let cases: [(OutFormat, Command, &[&str]); 4] = [
        (OutFormat::Xz, xz(), &["-dc"]),
        (OutFormat::Zst, zstd(), &["-dc"]),
        (OutFormat::Gz, gzip(), &["-dc"]),
        (OutFormat::Raw, Command::new(tool("cat", "coreutils")), &[]),
    ];
    for (format, cmd, args) in cases {
        let output = dir.path().join(format!("out{}", format.suffix()));
        let written = compress_file(format, &input, &output, &options(0)).unwrap();
        assert_eq!(
            written,
            std::fs::metadata(&output).unwrap().len(),
            "{format:?}"
        );
        assert_eq!(decompress(cmd, args, &output), data, "{format:?}");
    }
    let output = dir.path().join("out.tar.gz");
    compress_file(OutFormat::TarGz, &input, &output, &options(0)).unwrap();
    let mut extract = tar();
    extract.args(["-xzOf"]).arg(&output).arg("disk.raw");
    assert_eq!(run(extract).stdout, data);
}

#[test]
fn errors_name_what_went_wrong() {
    let err = encoder(OutFormat::TarGz, Vec::new(), &CompressOptions::default()).unwrap_err();
    assert!(matches!(err, CompressError::TarSizeUnknown), "{err}");

    let bad_level = CompressOptions {
        level: Some(23),
        ..CompressOptions::default()
    };
    let err = encoder(OutFormat::Zst, Vec::new(), &bad_level).unwrap_err();
    assert_eq!(
        err.to_string(),
        "compression level 23 is out of range for zstd (accepted: 1..=22)"
    );

    let declared = CompressOptions {
        input_size: Some(10),
        ..CompressOptions::default()
    };
    for format in [
        OutFormat::Raw,
        OutFormat::Xz,
        OutFormat::Zst,
        OutFormat::Gz,
        OutFormat::TarGz,
    ] {
        let mut short = encoder(format, Vec::new(), &declared).unwrap();
        short.write_all(b"12345").unwrap();
        let err = short.finish().unwrap_err();
        assert!(
            matches!(
                err,
                CompressError::InputSize {
                    declared: 10,
                    written: 5
                }
            ),
            "{format:?}: {err}"
        );
        let mut long = encoder(format, Vec::new(), &declared).unwrap();
        let err = long.write_all(b"123456789012").unwrap_err();
        assert!(
            err.to_string().contains("declared as 10 bytes but 12"),
            "{format:?}: {err}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.raw");
    let err = compress_file(
        OutFormat::Xz,
        &missing,
        &dir.path().join("o.xz"),
        &options(1),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("reading {}", missing.display())),
        "{err}"
    );
    let input = write_file(dir.path(), "in.raw", b"data");
    let bad_out = dir.path().join("no/such/dir/o.xz");
    let err = compress_file(OutFormat::Xz, &input, &bad_out, &options(1)).unwrap_err();
    assert!(matches!(err, CompressError::CreateOutput { .. }), "{err}");
}

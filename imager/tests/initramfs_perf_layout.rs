//! The initramfs layout choices made for speed: the zstd segment as
//! several frames (squashfs images in their own frames), each ending on a
//! cpio entry boundary as Linux's unpacker requires, and squashfs images
//! reused from the segment cache without changing a byte of the output.
//! (`boot_synthetic.rs` boots the result in qemu.)
//!
//! Needs the Debian packages squashfs-tools, cpio and zstd.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    unreachable_pub,
    dead_code
)]

mod initramfs_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use factory_imager::extension::{Extension, Limits, flatten_layers};
use factory_imager::initramfs::{InitramfsSettings, build_initramfs};
use initramfs_support::{
    E, fake_base_initramfs, manifest, require_tool, run_with_input, tar_layer,
};

/// Deterministic bytes that compress somewhat, several squashfs blocks long.
fn payload(len: usize, seed: u8) -> Vec<u8> {
    let mut x = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if i % 3 == 0 {
                b'a' + (x % 7) as u8
            } else {
                x as u8
            }
        })
        .collect()
}

fn load(layer: Vec<u8>, dir: &Path) -> Extension {
    let limits = Limits::default();
    let tree = flatten_layers([layer.as_slice()], dir, &limits).unwrap();
    Extension::load(tree, &limits).unwrap()
}

/// Two official-like extensions (one with firmware) and a schematic-like
/// one named `tag`.
fn extensions(work: &Path, tag: &str, big_seed: u8) -> Vec<Extension> {
    static BUILDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let big = payload(300 * 1024, big_seed);
    let m0 = manifest("tools", "1.0.0", "Binaries.", ">= v1.0.0");
    let l0 = tar_layer(&[
        E::File("manifest.yaml", 0o644, m0.as_bytes()),
        E::Dir("rootfs", 0o755),
        E::File("rootfs/usr/local/bin/big", 0o755, &big),
        E::File("rootfs/usr/local/share/doc/readme", 0o644, b"hello\n"),
    ]);
    let fw = payload(200 * 1024, 7);
    let m1 = manifest("acme-firmware", "1", "Firmware.", ">= v1.0.0");
    let l1 = tar_layer(&[
        E::File("manifest.yaml", 0o644, m1.as_bytes()),
        E::Dir("rootfs", 0o755),
        E::File("rootfs/usr/lib/firmware/acme/fw.bin", 0o644, &fw),
        E::File("rootfs/usr/local/etc/acme.conf", 0o644, b"on\n"),
    ]);
    let m2 = manifest("schematic", tag, "Schematic.", "");
    let marker = format!("rootfs/usr/local/share/schematic/{tag}");
    let l2 = tar_layer(&[
        E::File("manifest.yaml", 0o644, m2.as_bytes()),
        E::Dir("rootfs", 0o755),
        E::File(&marker, 0o644, b""),
    ]);
    vec![
        load(l0, &work.join(format!("e0-{n}"))),
        load(l1, &work.join(format!("e1-{n}"))),
        load(l2, &work.join(format!("e2-{n}"))),
    ]
}

fn build(
    work: &Path,
    base: &Path,
    exts: Vec<Extension>,
    cache: Option<&Path>,
    name: &str,
) -> Vec<u8> {
    let mut settings = InitramfsSettings::new("1.12.0".parse().unwrap());
    settings.segment_cache = cache.map(Path::to_owned);
    let scratch = work.join(format!("scratch-{name}"));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut out = Vec::new();
    build_initramfs(base, exts, &settings, &scratch, &mut out).unwrap();
    out
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let base = fake_base_initramfs(work.path(), true, "/usr/lib/modules", "6.1.0-talos");
    (work, base)
}

/// Walks whole newc entries of `bytes`; panics unless it ends exactly after
/// an entry (or after the trailer and its zero padding). Returns the names.
fn whole_entries(bytes: &[u8]) -> Vec<String> {
    let mut off = 0usize;
    let mut names = Vec::new();
    while off < bytes.len() {
        assert_eq!(&bytes[off..off + 6], b"070701", "newc magic at {off}");
        let field = |i: usize| {
            let text = std::str::from_utf8(&bytes[off + 6 + i * 8..off + 14 + i * 8]).unwrap();
            usize::from_str_radix(text, 16).unwrap()
        };
        let (size, namesize) = (field(6), field(11));
        let name = String::from_utf8(bytes[off + 110..off + 110 + namesize - 1].to_vec()).unwrap();
        off = (off + 110 + namesize).div_ceil(4) * 4;
        off = (off + size).div_ceil(4) * 4;
        assert!(off <= bytes.len(), "entry {name} runs past its frame");
        if name == "TRAILER!!!" {
            assert!(
                bytes[off..].iter().all(|b| *b == 0),
                "junk after the trailer"
            );
            return names;
        }
        names.push(name);
    }
    names
}

#[test]
fn zstd_segment_is_frames_that_end_on_entry_boundaries() {
    let (work, base) = setup();
    let exts = extensions(work.path(), "a", 1);
    let out = build(work.path(), &base, exts, None, "frames");
    let base_len = std::fs::metadata(&base).unwrap().len() as usize;
    assert_eq!(out[..base_len], std::fs::read(&base).unwrap()[..]);
    let segment = &out[base_len..];

    // The real tools read the frames as one stream.
    let zstd = require_tool("zstd", "zstd");
    let seg_path = work.path().join("segment.zst");
    std::fs::write(&seg_path, segment).unwrap();
    let status = Command::new(&zstd)
        .args(["-q", "-t"])
        .arg(&seg_path)
        .status()
        .unwrap();
    assert!(status.success(), "zstd -t failed on the segment");
    let whole = run_with_input(Command::new(&zstd).args(["-d", "-c", "-q"]), segment);
    let cpio = require_tool("cpio", "cpio");
    let listing =
        String::from_utf8(run_with_input(Command::new(&cpio).arg("-it"), &whole)).unwrap();
    for name in [
        "0.sqsh",
        "1.sqsh",
        "2.sqsh",
        "extensions.yaml",
        "usr/lib/firmware/acme/fw.bin",
    ] {
        assert!(
            listing.lines().any(|l| l == name),
            "{name} missing:\n{listing}"
        );
    }

    // Frame by frame: each is whole entries; images never share a frame
    // with other entries.
    let mut frames = Vec::new();
    let mut off = 0;
    while off < segment.len() {
        let len = zstd::zstd_safe::find_frame_compressed_size(&segment[off..]).unwrap();
        let data = zstd::decode_all(&segment[off..off + len]).unwrap();
        frames.push(whole_entries(&data));
        off += len;
    }
    assert_eq!(
        frames,
        [
            vec!["0.sqsh", "1.sqsh", "2.sqsh"],
            vec![
                "extensions.yaml",
                "usr",
                "usr/lib",
                "usr/lib/firmware",
                "usr/lib/firmware/acme",
                "usr/lib/firmware/acme/fw.bin"
            ],
        ]
    );
}

#[test]
fn cached_images_are_reused_without_changing_the_output() {
    let (work, base) = setup();
    let cache = work.path().join("segments");
    let cached_sqsh = || {
        let mut names: Vec<String> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sqsh"))
            .collect();
        names.sort();
        names
    };

    let cold = build(
        work.path(),
        &base,
        extensions(work.path(), "a", 1),
        Some(&cache),
        "cold",
    );
    let after_cold = cached_sqsh();
    assert_eq!(after_cold.len(), 3, "{after_cold:?}");
    let uncached = build(
        work.path(),
        &base,
        extensions(work.path(), "a2", 1),
        None,
        "none",
    );
    let again = build(
        work.path(),
        &base,
        extensions(work.path(), "a3", 1),
        Some(&cache),
        "a3",
    );
    assert_eq!(
        cached_sqsh().len(),
        4,
        "only the new schematic image is added"
    );
    let _ = (uncached, again);

    // Same inputs with and without the cache: the same bytes.
    let hit = build(
        work.path(),
        &base,
        extensions(work.path(), "a", 1),
        Some(&cache),
        "hit",
    );
    assert!(hit == cold, "a cache hit changed the output");
    let miss = build(
        work.path(),
        &base,
        extensions(work.path(), "a", 1),
        None,
        "miss",
    );
    assert!(miss == cold, "the cache changed the output");
    assert_eq!(cached_sqsh().len(), 4);

    // Changed content is a new key.
    build(
        work.path(),
        &base,
        extensions(work.path(), "a", 2),
        Some(&cache),
        "changed",
    );
    assert_eq!(cached_sqsh().len(), 5);

    // The cached image is a valid squashfs of the extension.
    let unsquashfs = require_tool("unsquashfs", "squashfs-tools");
    let out = Command::new(unsquashfs)
        .args(["-lls", "-d", "/"])
        .arg(cache.join(&after_cold[0]))
        .output()
        .unwrap();
    assert!(out.status.success());
}

//! Checking a built initramfs against what upstream's imager would lay
//! out for the same inputs (`upstream-imager.md` §3), with the real tools:
//!
//! 1. an uncompressed newc cpio of `kernel/x86/microcode/*.bin` in front,
//!    exactly when an extension carries microcode (`cpio -itv`, contents
//!    compared with the source blobs concatenated in glob order);
//! 2. the imager's base initramfs, byte for byte (`xz -t`/`zstd -t`,
//!    `cpio -itv`);
//! 3. a newc cpio compressed like the base (`xz -t` with CRC32 before 1.8,
//!    `zstd -t` from 1.8) holding `<n>.sqsh`, `extensions.yaml`,
//!    `modules.dep.sqsh` and the firmware tree, in upstream's walk order,
//!    all root-owned (`cpio -itv`); each squashfs is listed with
//!    `unsquashfs -lls` and compared with its source image minus the
//!    firmware the imager moves out ([`super::layer_image`]), and
//!    `extensions.yaml` is read back ([`super::extensions_yaml`]);
//! 4. the firmware tree holds what the sources had under the firmware
//!    path, microcode excepted.
//!
//! Expectations come from the OCI layout ([`super::layout`]) and the
//! fixture list, never from the code under test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use factory_core::quirks::Quirks;
use factory_core::version::TalosVersion;

use super::extensions_yaml::check_extensions_yaml;
use super::layer_image::check_squashfs;
use super::layout::{SourceEntry, SourceImage, resolve_bytes, resolve_file, with_ancestors};
use super::listing::{Listed, cpio_lls};
use super::segments::{Family, NEWC_MAGIC, split_newc};
use super::tools::cpio_extract;

/// What one `extensions.yaml` layer should hold.
#[derive(Debug, Clone)]
pub struct ExpectedLayer {
    /// `0.sqsh`, …, `modules.dep.sqsh`.
    pub image: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.version`.
    pub version: String,
    /// `metadata.author`.
    pub author: String,
    /// `metadata.description`.
    pub description: String,
    /// `metadata.compatibility.talos.version`.
    pub compatibility: String,
    /// `metadata.extraInfo` (absent when `None`).
    pub extra_info: Option<String>,
    /// Where the squashfs contents come from.
    pub content: LayerContent,
}

/// The source of a layer's squashfs.
#[derive(Debug, Clone)]
pub enum LayerContent {
    /// A pulled extension image, flattened (`manifest.yaml`, `rootfs/…`).
    Image(SourceImage),
    /// The schematic virtual extension: one empty marker file named by the ID.
    SchematicMarker(String),
    /// The combined `modules.*` index of every kernel-module extension.
    ModulesDep,
}

/// One initramfs to check.
pub struct Case<'a> {
    /// Names the case in failure messages (`v1.7.7 four extensions`).
    pub label: String,
    /// The Talos version it was built for.
    pub version: &'a TalosVersion,
    /// The built initramfs.
    pub built: &'a [u8],
    /// The imager's `initramfs.xz` for the same version and arch.
    pub base: &'a [u8],
    /// Expected layers, in `extensions.yaml` order.
    pub layers: Vec<ExpectedLayer>,
    /// The fixture kernel's release (`6.1.0-56-amd64`).
    pub kernel_release: &'a str,
    /// An empty scratch directory.
    pub work: &'a Path,
}

/// A microcode glob: directory under the firmware path, name filter,
/// destination in the early cpio.
type MicrocodeGlob = (&'static str, fn(&str) -> bool, &'static str);

/// Upstream's microcode globs (`earlyCPUUcode`).
const MICROCODE: [MicrocodeGlob; 2] = [
    (
        "intel-ucode",
        |_| true,
        "kernel/x86/microcode/GenuineIntel.bin",
    ),
    (
        "amd-ucode",
        |n| n.starts_with("microcode_amd") && n.ends_with(".bin"),
        "kernel/x86/microcode/AuthenticAMD.bin",
    ),
];

/// `path` split into components, the order of a sorted directory walk
/// (parents before children, siblings by name).
fn walk_key(path: &str) -> Vec<&str> {
    path.split('/').collect()
}

/// Checks `case` completely; panics with the case label on the first
/// difference.
pub fn check(case: &Case<'_>) {
    let quirks = Quirks::new(case.version);
    let fw = quirks.firmware_path().trim_start_matches('/').to_owned();
    let label = &case.label;
    let sources: Vec<&SourceImage> = case
        .layers
        .iter()
        .filter_map(|l| match &l.content {
            LayerContent::Image(source) => Some(source),
            _ => None,
        })
        .collect();

    // Microcode the early cpio must carry, and firmware the tree must.
    let mut microcode: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    let mut microcode_sources: BTreeSet<String> = BTreeSet::new();
    for source in &sources {
        for (dir, matches, dest) in MICROCODE {
            let prefix = format!("rootfs/{fw}/{dir}/");
            let found: Vec<&String> = source
                .keys()
                .filter(|p| {
                    p.strip_prefix(&prefix)
                        .is_some_and(|n| !n.contains('/') && matches(n))
                })
                .collect();
            for path in found {
                microcode
                    .entry(dest)
                    .or_default()
                    .extend_from_slice(resolve_bytes(source, path));
                microcode_sources.insert(path.clone());
            }
        }
    }

    let early_len = check_early_cpio(case, &microcode);
    let family = check_base(case, early_len);
    let appended = &case.built[early_len + case.base.len()..];
    let (extracted, listed) =
        check_appended(case, appended, family, &fw, &sources, &microcode_sources);

    check_extensions_yaml(case, &extracted);
    for layer in &case.layers {
        check_squashfs(case, &quirks, &fw, layer, &extracted.join(&layer.image));
    }
    check_firmware(
        label,
        &fw,
        &sources,
        &microcode_sources,
        &extracted,
        &listed,
    );
}

/// The early microcode cpio; returns its length (0 when absent).
fn check_early_cpio(case: &Case<'_>, microcode: &BTreeMap<&str, Vec<u8>>) -> usize {
    let label = &case.label;
    if microcode.is_empty() {
        assert!(
            case.built.starts_with(case.base),
            "{label}: without microcode the base initramfs must come first"
        );
        return 0;
    }
    assert!(
        case.built.starts_with(NEWC_MAGIC),
        "{label}: microcode must be in an uncompressed newc cpio in front"
    );
    let (names, len) = split_newc(case.built);
    let mut expected = vec!["kernel", "kernel/x86", "kernel/x86/microcode"];
    expected.extend(microcode.keys());
    assert_eq!(names, expected, "{label}: early cpio entries");
    let early = &case.built[..len];
    let listed = cpio_lls(early);
    let listed_names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        listed_names, expected,
        "{label}: cpio -itv of the early cpio"
    );
    for (name, entry) in &listed {
        assert_eq!(entry.owner, "root root", "{label}: early cpio {name}");
        // Upstream: MkdirAll(…, 0o755) and OpenFile(…, 0o644).
        let want = if name.ends_with(".bin") {
            ('-', 0o644)
        } else {
            ('d', 0o755)
        };
        assert_eq!((entry.kind, entry.mode), want, "{label}: early cpio {name}");
    }
    let dir = case.work.join("early");
    cpio_extract(early, &dir);
    for (dest, bytes) in microcode {
        assert!(
            std::fs::read(dir.join(dest)).unwrap() == *bytes,
            "{label}: {dest} must be the source microcode blobs concatenated in name order"
        );
    }
    len
}

/// The base initramfs, unchanged after the early cpio; returns its family.
fn check_base(case: &Case<'_>, early_len: usize) -> Family {
    let label = &case.label;
    let zstd = Quirks::new(case.version).use_zstd_compression();
    let family = Family::sniff(case.base)
        .unwrap_or_else(|| panic!("{label}: the fixture's base initramfs is neither xz nor zstd"));
    assert_eq!(
        family,
        if zstd { Family::Zstd } else { Family::Xz },
        "{label}: the fixture's base initramfs family (xz before 1.8, zstd from 1.8)"
    );
    let end = early_len + case.base.len();
    assert!(
        case.built.len() >= end && &case.built[early_len..end] == case.base,
        "{label}: the base initramfs must follow, byte for byte"
    );
    let path = case.work.join("base-segment");
    std::fs::write(&path, case.base).unwrap();
    let plain = family.test_and_decompress(&path);
    let names: Vec<String> = cpio_lls(&plain).into_iter().map(|(n, _)| n).collect();
    for wanted in ["init", "rootfs.sqsh"] {
        assert!(
            names.iter().any(|n| n == wanted),
            "{label}: base cpio lacks {wanted}: {names:?}"
        );
    }
    family
}

/// The appended segment; returns the directory it was extracted to and
/// its `cpio -itv` listing by path.
fn check_appended(
    case: &Case<'_>,
    appended: &[u8],
    family: Family,
    fw: &str,
    sources: &[&SourceImage],
    microcode_sources: &BTreeSet<String>,
) -> (PathBuf, BTreeMap<String, Listed>) {
    let label = &case.label;
    assert_eq!(
        Family::sniff(appended),
        Some(family),
        "{label}: the appended segment must use the base initramfs's compressor"
    );
    let path = case.work.join("appended-segment");
    std::fs::write(&path, appended).unwrap();
    let plain = family.test_and_decompress(&path);
    let (_, cpio_len) = split_newc(&plain);
    assert_eq!(
        cpio_len,
        plain.len(),
        "{label}: the appended segment is one newc archive padded to 512 bytes"
    );

    let mut expected: Vec<String> = case.layers.iter().map(|l| l.image.clone()).collect();
    expected.push("extensions.yaml".to_owned());
    let firmware = firmware_paths(fw, sources, microcode_sources);
    if !firmware.is_empty() {
        expected.extend(with_ancestors(fw));
        expected.extend(firmware.iter().map(|rel| format!("{fw}/{rel}")));
    }
    let unique: BTreeSet<String> = expected.into_iter().collect();
    let mut expected: Vec<String> = unique.into_iter().collect();
    expected.sort_by(|a, b| walk_key(a).cmp(&walk_key(b)));

    let listed = cpio_lls(&plain);
    let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names, expected,
        "{label}: cpio -itv of the appended segment (names in upstream's walk order)"
    );
    for (name, entry) in &listed {
        assert_eq!(
            entry.owner, "root root",
            "{label}: {name} must be root-owned"
        );
        assert!(
            entry.kind == 'd' || entry.kind == '-',
            "{label}: {name} has type {} (firmware links are copied, not kept)",
            entry.kind
        );
        // Files the imager writes itself (squashfs images, extensions.yaml)
        // get 0644 from the usual umask.
        if !name.contains('/') && entry.kind == '-' {
            assert_eq!(entry.mode, 0o644, "{label}: {name} mode");
        }
    }
    let dir = case.work.join("appended");
    cpio_extract(&plain, &dir);
    (dir, listed.into_iter().collect())
}

/// Paths (relative to the firmware directory) that the source images have
/// under it once microcode is taken out, with their parents.
fn firmware_paths(
    fw: &str,
    sources: &[&SourceImage],
    microcode_sources: &BTreeSet<String>,
) -> BTreeSet<String> {
    let prefix = format!("rootfs/{fw}/");
    let mut paths = BTreeSet::new();
    for source in sources {
        for path in source.keys() {
            if microcode_sources.contains(path) {
                continue;
            }
            if let Some(rel) = path.strip_prefix(&prefix) {
                paths.extend(with_ancestors(rel));
            }
        }
    }
    paths
}

/// Firmware, moved out of the squashfs images, is in the initramfs tree
/// as upstream's `moveFiles` leaves it: directories, and regular files with
/// their source permissions and bytes; a symlink becomes a copy of its
/// target (upstream copies through `os.Stat`/`os.Open`).
fn check_firmware(
    label: &str,
    fw: &str,
    sources: &[&SourceImage],
    microcode_sources: &BTreeSet<String>,
    extracted: &Path,
    listed: &BTreeMap<String, Listed>,
) {
    let prefix = format!("rootfs/{fw}/");
    for source in sources {
        for (path, entry) in source.iter() {
            let Some(rel) = path.strip_prefix(&prefix) else {
                continue;
            };
            let on_disk = extracted.join(fw).join(rel);
            if microcode_sources.contains(path) {
                assert!(
                    std::fs::symlink_metadata(&on_disk).is_err(),
                    "{label}: microcode {path} must not stay in the firmware tree"
                );
                continue;
            }
            let got = &listed[&format!("{fw}/{rel}")];
            match entry {
                SourceEntry::Dir { .. } => {
                    assert_eq!(got.kind, 'd', "{label}: firmware directory {fw}/{rel}");
                    assert!(on_disk.is_dir(), "{label}: firmware directory {fw}/{rel}");
                }
                SourceEntry::File { .. } | SourceEntry::Symlink { .. } => {
                    let (bytes, mode) = resolve_file(source, path);
                    assert_eq!(
                        (got.kind, got.mode),
                        ('-', mode & 0o777),
                        "{label}: firmware {fw}/{rel} must be a regular file with the source's mode"
                    );
                    let on_disk = std::fs::read(&on_disk)
                        .unwrap_or_else(|e| panic!("{label}: firmware {fw}/{rel}: {e}"));
                    assert!(
                        on_disk == bytes,
                        "{label}: firmware {fw}/{rel} differs from the source image"
                    );
                }
            }
        }
    }
}

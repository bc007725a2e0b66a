//! One squashfs layer of a built initramfs, checked with `unsquashfs -s`,
//! `-lls` and `-cat`: compression by version, 128 KiB blocks, root
//! ownership, and contents equal to the source image's `rootfs/` minus the
//! firmware tree (or the schematic marker, or only the `modules.*` index).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use factory_core::quirks::Quirks;

use super::initramfs::{Case, ExpectedLayer, LayerContent};
use super::layout::{SourceEntry, SourceImage, with_ancestors};
use super::listing::{Listed, unsquashfs_cat, unsquashfs_lls, unsquashfs_superblock};

/// Checks the squashfs `image` of `layer`.
pub fn check_squashfs(
    case: &Case<'_>,
    quirks: &Quirks,
    fw: &str,
    layer: &ExpectedLayer,
    image: &Path,
) {
    let what = format!("{}: {} ({})", case.label, layer.image, layer.name);
    let superblock = unsquashfs_superblock(image);
    if quirks.use_zstd_compression() {
        assert!(
            superblock.contains("Compression zstd") && superblock.contains("compression-level 18"),
            "{what}: zstd level 18 from 1.8:\n{superblock}"
        );
    } else {
        assert!(
            superblock.contains("Compression xz"),
            "{what}: xz before 1.8:\n{superblock}"
        );
    }
    assert!(
        superblock.contains("Block size 131072"),
        "{what}: 128 KiB blocks:\n{superblock}"
    );

    let listed = unsquashfs_lls(image);
    for (path, entry) in &listed {
        assert_eq!(
            entry.owner, "root/root",
            "{what}: {path} must be root-owned"
        );
    }
    let paths: BTreeSet<&str> = listed.keys().map(String::as_str).collect();
    match &layer.content {
        LayerContent::Image(source) => check_image_squashfs(&what, fw, source, &listed),
        LayerContent::SchematicMarker(id) => {
            let marker = format!("usr/local/share/schematic/{id}");
            let mut want: BTreeSet<String> = with_ancestors(&marker).collect();
            want.insert(String::new());
            let want: BTreeSet<&str> = want.iter().map(String::as_str).collect();
            assert_eq!(paths, want, "{what}: unsquashfs -lls");
            assert_eq!(
                listed[marker.as_str()].kind,
                '-',
                "{what}: marker is a file"
            );
            assert!(
                unsquashfs_cat(image, &marker).is_empty(),
                "{what}: the marker is empty"
            );
        }
        LayerContent::ModulesDep => {
            let modules = quirks.kernel_modules_path().trim_start_matches('/');
            let kdir = format!("{modules}/{}", case.kernel_release);
            for path in &paths {
                let allowed = path.is_empty()
                    || with_ancestors(&kdir).any(|a| a == *path)
                    || path
                        .strip_prefix(&format!("{kdir}/"))
                        .is_some_and(|n| n.starts_with("modules.") && !n.contains('/'));
                assert!(
                    allowed,
                    "{what}: unexpected {path:?}; only {kdir}/modules.* belongs here"
                );
            }
            let dep =
                String::from_utf8(unsquashfs_cat(image, &format!("{kdir}/modules.dep"))).unwrap();
            for line in ["extras/gasket.ko:", "extras/apex.ko: extras/gasket.ko"] {
                assert!(
                    dep.lines().any(|l| l == line),
                    "{what}: modules.dep lacks {line:?}:\n{dep}"
                );
            }
        }
    }
}

/// An extension image's squashfs: its `rootfs/` minus the firmware tree,
/// with the same types, modes and link targets.
fn check_image_squashfs(
    what: &str,
    fw: &str,
    source: &SourceImage,
    listed: &BTreeMap<String, Listed>,
) {
    let moved = |rel: &str| rel == fw || rel.starts_with(&format!("{fw}/"));
    let mut want: BTreeSet<String> = BTreeSet::from([String::new()]);
    for path in source.keys() {
        // Moving the firmware directory leaves its parents behind.
        if let Some(rel) = path.strip_prefix("rootfs/") {
            want.extend(with_ancestors(rel).filter(|a| !moved(a)));
        }
    }
    let got: BTreeSet<String> = listed.keys().cloned().collect();
    assert_eq!(
        got, want,
        "{what}: unsquashfs -lls paths vs the source image's rootfs/ minus {fw}"
    );
    for (path, entry) in source {
        let Some(rel) = path.strip_prefix("rootfs/").filter(|r| !moved(r)) else {
            continue;
        };
        let got = &listed[rel];
        match entry {
            SourceEntry::Dir { mode } => {
                assert_eq!((got.kind, got.mode), ('d', mode & 0o777), "{what}: {rel}");
            }
            SourceEntry::File { mode, .. } => {
                assert_eq!((got.kind, got.mode), ('-', mode & 0o777), "{what}: {rel}");
            }
            SourceEntry::Symlink { target } => {
                assert_eq!(
                    (got.kind, got.target.as_deref()),
                    ('l', Some(target.as_str())),
                    "{what}: {rel}"
                );
            }
        }
    }
}

//! Build rules other than the layout: string order of extension numbers,
//! compatibility and content validation, the empty case, and the virtual
//! extensions' metadata per Talos version.
//!
//! Needs the Debian packages cpio, zstd and squashfs-tools.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod initramfs_support;

use std::process::Command;

use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use factory_imager::extension::{Extension, Limits, Node, TreePath, flatten_layers};
use factory_imager::initramfs::{
    InitramfsError, InitramfsSettings, build_initramfs, embedded_config_extension_tar,
    load_virtual_extension, schematic_extension_tar, schematic_metadata,
};
use initramfs_support::{
    E, fake_base_initramfs, manifest, require_tool, run, run_with_input, split_newc, tar_layer,
};

fn plain_extension(dir: &std::path::Path, name: &str, range: &str, file: &str) -> Extension {
    let limits = Limits::default();
    let m = manifest(name, "1.0.0", "Plain.", range);
    let layer = tar_layer(&[
        E::File("manifest.yaml", 0o644, m.as_bytes()),
        E::File(file, 0o644, name.as_bytes()),
    ]);
    let tree = flatten_layers([layer.as_slice()], &dir.join(name), &limits).unwrap();
    Extension::load(tree, &limits).unwrap()
}

#[test]
fn extension_numbers_sort_as_strings() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fake_base_initramfs(tmp.path(), true, "/usr/lib/modules", "6.1.0");
    let exts: Vec<Extension> = (0..12)
        .map(|i| {
            plain_extension(
                tmp.path(),
                &format!("ext{i}"),
                ">= v1.0.0",
                "rootfs/usr/local/x",
            )
        })
        .collect();
    let settings = InitramfsSettings::new("1.10.0".parse().unwrap());
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let mut out = Vec::new();
    let summary = build_initramfs(&base, exts, &settings, &work, &mut out).unwrap();
    assert!(!summary.early_microcode);
    let pairs: Vec<(String, String)> = summary
        .layers
        .iter()
        .map(|l| (l.image.clone(), l.metadata.name.clone()))
        .collect();
    let want: Vec<(String, String)> =
        ["0", "1", "10", "11", "2", "3", "4", "5", "6", "7", "8", "9"]
            .iter()
            .map(|n| (format!("{n}.sqsh"), format!("ext{n}")))
            .collect();
    assert_eq!(pairs, want);
    // No microcode: the output starts with the base itself.
    let base_bytes = std::fs::read(&base).unwrap();
    assert_eq!(&out[..base_bytes.len()], base_bytes.as_slice());
    let plain = run_with_input(
        Command::new(require_tool("zstd", "zstd")).arg("-dc"),
        &out[base_bytes.len()..],
    );
    let (names, _) = split_newc(&plain);
    assert_eq!(names[..3], ["0.sqsh", "1.sqsh", "10.sqsh"]);
    assert_eq!(names.last().unwrap(), "extensions.yaml");
}

#[test]
fn incompatible_extensions_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fake_base_initramfs(tmp.path(), false, "/lib/modules", "6.1.0");
    let ext = plain_extension(tmp.path(), "new-only", ">= v1.8.0", "rootfs/usr/local/x");
    let settings = InitramfsSettings::new("1.7.6".parse().unwrap());
    let err =
        build_initramfs(&base, vec![ext], &settings, tmp.path(), &mut Vec::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "error validating extension \"new-only\": version constraint >= v1.8.0 can't be satisfied with Talos version 1.7.6"
    );
    // Pre-releases are compared as their release.
    let ext = plain_extension(tmp.path(), "ok", ">= v1.8.0", "rootfs/usr/local/x");
    let settings = InitramfsSettings::new("1.8.0-alpha.1".parse().unwrap());
    let work = tmp.path().join("w2");
    std::fs::create_dir_all(&work).unwrap();
    build_initramfs(&base, vec![ext], &settings, &work, &mut Vec::new()).unwrap();
}

#[test]
fn content_check_is_opt_in() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fake_base_initramfs(tmp.path(), true, "/usr/lib/modules", "6.1.0");
    let mut settings = InitramfsSettings::new("1.12.0".parse().unwrap());
    let work = tmp.path().join("w1");
    std::fs::create_dir_all(&work).unwrap();
    let ext = plain_extension(tmp.path(), "bad", ">= v1.0.0", "rootfs/boot/vmlinuz");
    build_initramfs(&base, vec![ext], &settings, &work, &mut Vec::new()).unwrap();
    settings.check_contents = true;
    let ext = plain_extension(tmp.path(), "bad2", ">= v1.0.0", "rootfs/boot/vmlinuz");
    let err =
        build_initramfs(&base, vec![ext], &settings, tmp.path(), &mut Vec::new()).unwrap_err();
    assert!(matches!(err, InitramfsError::Validation { .. }));
    assert!(
        err.to_string()
            .ends_with("path \"/boot/vmlinuz\" is not allowed in extensions"),
        "{err}"
    );
}

#[test]
fn no_extensions_copies_the_base() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fake_base_initramfs(tmp.path(), true, "/usr/lib/modules", "6.1.0");
    let settings = InitramfsSettings::new("1.12.0".parse().unwrap());
    let mut out = Vec::new();
    let summary = build_initramfs(&base, Vec::new(), &settings, tmp.path(), &mut out).unwrap();
    assert!(summary.layers.is_empty());
    assert_eq!(out, std::fs::read(&base).unwrap());
}

#[test]
fn schematic_extension_follows_upstream() {
    let schematic = Schematic::parse(b"customization: {}\n").unwrap();
    let id = schematic.id().as_str().to_owned();
    let old: TalosVersion = "1.6.7".parse().unwrap();
    let new: TalosVersion = "1.7.0".parse().unwrap();
    let url = "https://factory.example.org";
    let m = schematic_metadata(&schematic, &old, url);
    assert_eq!(m.name, "schematic");
    assert_eq!(m.version, id);
    assert_eq!(m.author, "Image Factory (https://factory.example.org)");
    assert_eq!(
        m.description,
        "Virtual extension which specifies the schematic of the image built with schematic."
    );
    assert_eq!(m.compatibility.talos.version, ">= 1.0.0");
    assert_eq!(m.extra_info, "");
    assert_eq!(
        schematic_metadata(&schematic, &new, url).extra_info,
        "customization: {}\n"
    );

    // The tarball loads as an extension with the same metadata and the
    // empty marker file.
    let tmp = tempfile::tempdir().unwrap();
    let tar = schematic_extension_tar(&schematic, &new, url).unwrap();
    let ext = load_virtual_extension(&tar, tmp.path(), &Limits::default()).unwrap();
    assert_eq!(
        ext.manifest().metadata,
        schematic_metadata(&schematic, &new, url)
    );
    let marker =
        TreePath::from_components(["rootfs", "usr", "local", "share", "schematic", &id]).unwrap();
    assert!(matches!(
        ext.tree().get(&marker),
        Some(Node::File {
            size: 0,
            mode: 0o644,
            ..
        })
    ));
    let tar_listing =
        String::from_utf8(run_with_input(Command::new("tar").arg("-tv"), &tar)).unwrap();
    assert!(
        tar_listing.contains("rootfs/usr/local/share/schematic/\n"),
        "{tar_listing}"
    );
}

#[test]
fn embedded_config_extension_follows_upstream() {
    let config = b"version: v1alpha1\nmachine:\n  type: worker\n";
    let tar = embedded_config_extension_tar(config).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let ext = load_virtual_extension(&tar, tmp.path(), &Limits::default()).unwrap();
    let m = &ext.manifest().metadata;
    assert_eq!(m.name, "embedded-config");
    assert_eq!(m.author, "Imager");
    assert_eq!(
        m.description,
        "Virtual extension which embeds the machine configuration."
    );
    assert_eq!(m.compatibility.talos.version, ">= 1.0.0");
    let sha = String::from_utf8(run_with_input(&mut Command::new("sha256sum"), config)).unwrap();
    assert_eq!(m.version, sha.split_whitespace().next().unwrap());
    let path = TreePath::from_components(["rootfs", "usr", "local", "etc", "talos", "config.yaml"])
        .unwrap();
    let Some(Node::File { mode, blob, .. }) = ext.tree().get(&path) else {
        panic!()
    };
    assert_eq!(*mode, 0o400);
    assert_eq!(std::fs::read(ext.tree().blob_path(*blob)).unwrap(), config);
    // The SELinux label travels as a PAX record, as upstream writes it.
    let listing = run_with_input(Command::new("tar").args(["--xattrs", "-tv"]), &tar);
    assert!(String::from_utf8(listing).unwrap().contains("config.yaml"));
}

#[test]
fn firmware_only_extension_leaves_a_valid_empty_image() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fake_base_initramfs(tmp.path(), true, "/usr/lib/modules", "6.1.0");
    let ext = plain_extension(
        tmp.path(),
        "fw-only",
        ">= v1.0.0",
        "rootfs/usr/lib/firmware/x.bin",
    );
    let settings = InitramfsSettings::new("1.10.0".parse().unwrap());
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let mut out = Vec::new();
    build_initramfs(&base, vec![ext], &settings, &work, &mut out).unwrap();
    let image = work.join("initramfs/0.sqsh");
    let lls = run(Command::new(require_tool("unsquashfs", "squashfs-tools"))
        .arg("-lls")
        .arg(&image));
    let lls = String::from_utf8(lls).unwrap();
    assert!(lls.contains("squashfs-root/usr/lib\n"), "{lls}");
    assert!(!lls.contains("firmware"), "{lls}");
    // Same inputs, same bytes (mtimes are 0, zstd output is worker-count
    // independent).
    let again = tempfile::tempdir().unwrap();
    let ext = plain_extension(
        again.path(),
        "fw-only",
        ">= v1.0.0",
        "rootfs/usr/lib/firmware/x.bin",
    );
    let mut out2 = Vec::new();
    build_initramfs(&base, vec![ext], &settings, again.path(), &mut out2).unwrap();
    assert_eq!(out, out2);
}

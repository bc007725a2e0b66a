//! The SBC overlay image, `siderolabs/sbc-raspberrypi`-like.
//!
//! Layout as upstream: `installers/<name>` (programs speaking the overlay
//! protocol; here one POSIX shell script under both `default` and
//! `rpi_generic`, so it runs on either build host), `artifacts/arm64/...`
//! (firmware, DTB and u-boot stand-ins) and `profiles/rpi_generic.yaml`
//! (the imager base profile the factory merges). Both platform manifests
//! share the one layer, as the script is architecture-independent.

use factory_core::registry::Descriptor;

use crate::error::Result;
use crate::fixtures::{OVERLAY_NAME, OVERLAY_REPOSITORY, OVERLAY_TAG};
use crate::oci::image::{RuntimeConfig, write_multi_arch};
use crate::oci::layer::write_layer;
use crate::oci::layout::Layout;
use crate::tree::Tree;

/// The overlay's imager profile.
pub(crate) const PROFILE: &str = "arch: arm64\n\
platform: metal\n\
secureboot: false\n\
output:\n\
\x20 kind: image\n\
\x20 outFormat: .xz\n\
\x20 imageOptions:\n\
\x20   diskSize: 1306525696\n\
\x20   diskFormat: raw\n\
\x20   bootloader: grub\n";

/// The overlay image's tree.
pub(crate) fn overlay_tree() -> Result<Tree> {
    let mut tree = Tree::new();
    let installer = include_str!("../assets/overlay-installer.sh");
    tree.bytes("installers/default", 0o755, installer)?;
    tree.bytes(&format!("installers/{OVERLAY_NAME}"), 0o755, installer)?;
    tree.bytes(&format!("profiles/{OVERLAY_NAME}.yaml"), 0o644, PROFILE)?;
    let boot = "artifacts/arm64/firmware/boot";
    for file in [
        "bootcode.bin",
        "start4.elf",
        "fixup4.dat",
        "bcm2711-rpi-4-b.dtb",
        "overlays/vc4-kms-v3d.dtbo",
    ] {
        tree.bytes(
            &format!("{boot}/{file}"),
            0o644,
            format!("SYNTHETIC Raspberry Pi {file} stand-in (image-factory test fixture)\n"),
        )?;
    }
    tree.bytes(
        &format!("artifacts/arm64/u-boot/{OVERLAY_NAME}/u-boot.bin"),
        0o644,
        "SYNTHETIC u-boot stand-in (image-factory test fixture)\n",
    )?;
    Ok(tree)
}

/// Writes and tags the overlay image.
pub(crate) fn write_overlay(layout: &mut Layout) -> Result<Descriptor> {
    let reference = format!("{OVERLAY_REPOSITORY}:{OVERLAY_TAG}");
    let layer = write_layer(layout, &overlay_tree()?, &reference)?;
    write_multi_arch(
        layout,
        &reference,
        |_| RuntimeConfig::default(),
        |_| vec![&layer],
    )
}

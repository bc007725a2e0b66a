//! Installer images: what `talosctl upgrade` and the factory's registry
//! frontend serve.
//!
//! An installer is the base installer image for one architecture with the
//! schematic's boot artifacts on top, built as upstream's `outInstaller`
//! does:
//!
//! 1. the base layers, reused unchanged from the pull cache, without the old
//!    artifacts layer of a two-layer pre-1.10 `installer` base ([`base`]);
//! 2. one artifacts layer with `usr/install/<arch>/...` ([`InstallerArtifacts`]);
//! 3. with an SBC overlay, one overlay layer ([`OverlayInput`]);
//! 4. an OCI manifest and config: `linux/<arch>`, the base's runtime config,
//!    the diff IDs of exactly these layers.
//!
//! The new layers are gzip by default, as upstream's are
//! ([`LayerCompression`]). [`build_index`] lists the amd64 and arm64 images,
//! [`signature_for_index`] signs the index for publishing, and the result can
//! be written as an OCI layout or a docker archive (`installer-<arch>.tar`)
//! with [`oci_write`](crate::oci_write).
//!
//! Building is blocking file I/O (run it on a blocking thread); pulling the
//! base ([`BaseImage::pull`]) is async. Nothing is read into memory whole:
//! the boot artifacts and overlay files are streamed into the new layers,
//! and base layers stay where the cache has them. With `created: None` the
//! same inputs always give the same image digest.

mod artifacts;
pub mod base;
mod error;
mod filemap;
mod index;
mod overlay;
mod signature;

use std::path::Path;

use factory_core::arch::Arch;
use factory_core::registry::ImagePlatform;
use factory_core::version::TalosVersion;

pub use artifacts::InstallerArtifacts;
pub use base::{BaseImage, MAX_BASE_CONFIG_BYTES, base_repository};
pub use error::InstallerError;
pub use filemap::MAX_WALK_BYTES;
pub use index::build_index;
pub use overlay::{MAX_EXTRA_OPTIONS_BYTES, OverlayInput};
pub use signature::signature_for_index;

use crate::oci_write::{BuiltImage, ImageConfig, LayerCompression};

/// Everything besides the base image that decides an installer's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallerInput {
    /// The architecture being built.
    pub arch: Arch,
    /// The Talos version (decides the artifact names and the base layers kept).
    pub version: TalosVersion,
    /// Whether this is the SecureBoot installer.
    pub secureboot: bool,
    /// The boot artifacts.
    pub artifacts: InstallerArtifacts,
    /// The SBC overlay, if the schematic has one.
    pub overlay: Option<OverlayInput>,
    /// The image's `created` time (RFC 3339). Upstream stamps the build time;
    /// `None` writes Go's zero time and keeps the image reproducible.
    pub created: Option<String>,
    /// How the new layers are stored.
    pub compression: LayerCompression,
}

/// Builds the installer image for `input.arch` on `base`, writing its new
/// layers into `work_dir`. The returned image's layers point at the base
/// layers in the pull cache and at the new files in `work_dir`.
pub fn build_installer_image(
    base: &BaseImage,
    input: &InstallerInput,
    work_dir: &Path,
) -> Result<BuiltImage, InstallerError> {
    let kept = base::kept_base(base, input.arch, &input.version)?;
    let mut layers = kept.layers;
    let artifacts = input
        .artifacts
        .entries(input.arch, &input.version, input.secureboot)?;
    layers.push(filemap::write_layer(
        artifacts,
        work_dir,
        input.compression,
    )?);
    if let Some(overlay) = &input.overlay {
        layers.push(filemap::write_layer(
            overlay.entries()?,
            work_dir,
            input.compression,
        )?);
    }
    let config = ImageConfig {
        platform: ImagePlatform::linux(input.arch),
        created: input.created.clone(),
        runtime: kept.runtime,
    };
    Ok(BuiltImage::assemble(&config, layers)?)
}

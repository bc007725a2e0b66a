//! The upstream catalogs: which Talos versions exist, and which official
//! extensions and overlays (with pinned digests) each version has.
//!
//! Versions come from the tags of `siderolabs/imager`, filtered by the rules
//! in [`factory_core::catalog::available_versions`]. A release's catalog is
//! read from its `siderolabs/extensions:<v>` and `siderolabs/overlays:<v>`
//! images (overlays only from Talos 1.7) plus the digests of its `imager` and
//! base installer images, and returned as the typed
//! [`ReleaseCatalog`] the frontend serves and resolves schematics against.

mod entries;
mod layer_files;

use std::path::PathBuf;

use factory_core::arch::Arch;
use factory_core::catalog::{ReleaseCatalog, VersionPolicy, available_versions};
use factory_core::quirks::Quirks;
use factory_core::version::TalosVersion;

use crate::pull::{PullError, Puller};

/// Upstream repository of the imager image (kernel, initramfs, stubs).
pub const IMAGER_REPOSITORY: &str = "siderolabs/imager";
/// Upstream repository of the base installer from Talos 1.10.
pub const INSTALLER_BASE_REPOSITORY: &str = "siderolabs/installer-base";
/// Upstream repository of the installer before Talos 1.10.
pub const INSTALLER_REPOSITORY: &str = "siderolabs/installer";
/// Upstream repository of the extensions catalog.
pub const EXTENSIONS_REPOSITORY: &str = "siderolabs/extensions";
/// Upstream repository of the overlays catalog.
pub const OVERLAYS_REPOSITORY: &str = "siderolabs/overlays";

/// A failure while reading a catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Pulling failed.
    #[error(transparent)]
    Pull(#[from] PullError),
    /// A layer could not be read as a tar stream.
    #[error("reading catalog layer {path}: {source}")]
    Layer {
        /// The cached blob.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A layer has a media type we cannot unpack.
    #[error("unsupported catalog layer media type {media_type}")]
    UnsupportedLayer {
        /// The media type.
        media_type: String,
    },
    /// A catalog file is larger than the limit.
    #[error("catalog file {file} is {size} bytes (limit {limit})")]
    TooLarge {
        /// The file.
        file: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A required catalog file is missing from the image.
    #[error("{repository}:{tag} has no {file}")]
    Missing {
        /// The catalog image.
        repository: &'static str,
        /// Its tag.
        tag: String,
        /// The file.
        file: &'static str,
    },
    /// A catalog file does not parse.
    #[error("malformed {file}: {reason}")]
    Malformed {
        /// The file.
        file: &'static str,
        /// Why.
        reason: String,
    },
}

impl CatalogError {
    fn layer(path: &std::path::Path, source: std::io::Error) -> Self {
        CatalogError::Layer {
            path: path.to_owned(),
            source,
        }
    }
}

/// The Talos versions upstream offers, filtered by `policy`, ascending.
pub async fn versions(
    puller: &Puller,
    policy: &VersionPolicy,
) -> Result<Vec<TalosVersion>, CatalogError> {
    let tags = puller.tags(IMAGER_REPOSITORY).await?;
    Ok(available_versions(tags.iter().map(String::as_str), policy))
}

/// The catalog of one release.
pub async fn release(
    puller: &Puller,
    version: &TalosVersion,
) -> Result<ReleaseCatalog, CatalogError> {
    let tag = version.tag();
    let quirks = Quirks::new(version);
    let registry = puller.registry().to_owned();

    let files = image_files(
        puller,
        EXTENSIONS_REPOSITORY,
        &tag,
        &["image-digests", "descriptions.yaml"],
    )
    .await?;
    let digests = files
        .get("image-digests")
        .ok_or_else(|| CatalogError::Missing {
            repository: EXTENSIONS_REPOSITORY,
            tag: tag.clone(),
            file: "image-digests",
        })?;
    let extensions = entries::extensions(
        &String::from_utf8_lossy(digests),
        files
            .get("descriptions.yaml")
            .map(|d| String::from_utf8_lossy(d))
            .as_deref(),
        &registry,
    )?;

    let overlays = if quirks.supports_overlay() {
        let files = image_files(puller, OVERLAYS_REPOSITORY, &tag, &["overlays.yaml"]).await?;
        let yaml = files
            .get("overlays.yaml")
            .ok_or_else(|| CatalogError::Missing {
                repository: OVERLAYS_REPOSITORY,
                tag: tag.clone(),
                file: "overlays.yaml",
            })?;
        entries::overlays(&String::from_utf8_lossy(yaml), &registry)?
    } else {
        Vec::new()
    };

    let imager_digest = puller
        .manifest(IMAGER_REPOSITORY, &tag)
        .await?
        .digest
        .to_string();
    let installer = if quirks.supports_unified_installer() {
        INSTALLER_BASE_REPOSITORY
    } else {
        INSTALLER_REPOSITORY
    };
    let installer_base_digest = puller.manifest(installer, &tag).await?.digest.to_string();
    Ok(ReleaseCatalog {
        extensions,
        overlays,
        imager_digest,
        installer_base_digest,
    })
}

/// Named files from the amd64 image of `repository:tag` (catalogs are the
/// same for every architecture).
async fn image_files(
    puller: &Puller,
    repository: &'static str,
    tag: &str,
    wanted: &[&str],
) -> Result<std::collections::BTreeMap<String, Vec<u8>>, CatalogError> {
    let image = puller.image_for_arch(repository, tag, Arch::Amd64).await?;
    let mut layers = Vec::with_capacity(image.layers.len());
    for layer in &image.layers {
        layers.push((layer.clone(), puller.blob(repository, layer).await?));
    }
    let wanted: Vec<String> = wanted.iter().map(|w| (*w).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        layer_files::read_files(&layers, &wanted)
    })
    .await
    .map_err(|e| CatalogError::Layer {
        path: PathBuf::new(),
        source: std::io::Error::other(e.to_string()),
    })?
}

//! The base image an installer is built on, and the parts of it kept.
//!
//! From Talos 1.10 the base is `siderolabs/installer-base:<v>`, one layer
//! with the installer program and no boot assets. Before, it is
//! `siderolabs/installer:<v>`, which since 1.5 has exactly two layers: the
//! program, then the release's own boot assets. Upstream drops the second
//! layer of any two-layer base; we drop it only for pre-1.10 bases, where it
//! is known to be the old artifacts layer (a deliberate difference: a
//! two-layer `installer-base` would lose its second layer upstream). Older
//! `installer` images with another layer count are kept whole, as upstream
//! does (their artifacts are then shadowed by the new layer).
//!
//! Kept layers are reused byte for byte from the pull cache, with their diff
//! IDs from the base config. Docker layer media types are rewritten to their
//! OCI names (same bytes) so the new manifest is a plain OCI manifest;
//! foreign or unknown layer types are refused. The base config supplies the
//! runtime `config` (environment, entrypoint, labels) and must be for the
//! platform being built; it is read up to [`MAX_BASE_CONFIG_BYTES`].

use std::io::Read as _;
use std::path::{Path, PathBuf};

use factory_core::arch::Arch;
use factory_core::quirks::Quirks;
use factory_core::registry::media_types::{
    DOCKER_LAYER_TAR_GZIP, OCI_LAYER_TAR, OCI_LAYER_TAR_GZIP, OCI_LAYER_TAR_ZSTD,
};
use factory_core::registry::{Descriptor, Digest};
use factory_core::version::TalosVersion;
use serde::Deserialize;

use super::error::InstallerError;
use crate::catalog::{INSTALLER_BASE_REPOSITORY, INSTALLER_REPOSITORY};
use crate::oci_write::LayerBlob;
use crate::pull::{ImageManifest, Puller};

/// The largest base image config read (1 MiB; real ones are a few KiB).
pub const MAX_BASE_CONFIG_BYTES: u64 = 1 << 20;

/// Docker's name for an uncompressed layer.
const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";

/// The upstream repository of the base installer for `version`.
pub fn base_repository(version: &TalosVersion) -> &'static str {
    if Quirks::new(version).supports_unified_installer() {
        INSTALLER_BASE_REPOSITORY
    } else {
        INSTALLER_REPOSITORY
    }
}

/// A pulled base installer image for one architecture: its manifest and the
/// cached files of its config and layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImage {
    /// The image manifest.
    pub manifest: ImageManifest,
    /// The cached config blob.
    pub config: PathBuf,
    /// The cached layer blobs, in manifest order.
    pub layers: Vec<PathBuf>,
}

impl BaseImage {
    /// Pulls the `linux/<arch>` image of `repository` at `reference` (a tag
    /// or, as the factory pins it, the index digest) into the cache.
    pub async fn pull(
        puller: &Puller,
        repository: &str,
        reference: &str,
        arch: Arch,
    ) -> Result<Self, InstallerError> {
        let manifest = puller.image_for_arch(repository, reference, arch).await?;
        if manifest.config.size > MAX_BASE_CONFIG_BYTES {
            return Err(InstallerError::BaseConfig {
                digest: manifest.config.digest.clone(),
                reason: format!(
                    "{} bytes, more than the limit of {MAX_BASE_CONFIG_BYTES}",
                    manifest.config.size
                ),
            });
        }
        let config = puller.blob(repository, &manifest.config).await?;
        let mut layers = Vec::with_capacity(manifest.layers.len());
        for layer in &manifest.layers {
            layers.push(puller.blob(repository, layer).await?);
        }
        Ok(BaseImage {
            manifest,
            config,
            layers,
        })
    }
}

/// What the installer takes from its base.
#[derive(Debug)]
pub(crate) struct KeptBase {
    /// The runtime configuration to copy.
    pub(crate) runtime: serde_json::Map<String, serde_json::Value>,
    /// The layers to keep, bottom first.
    pub(crate) layers: Vec<LayerBlob>,
}

#[derive(Deserialize)]
struct ConfigJson {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    config: Option<serde_json::Map<String, serde_json::Value>>,
    rootfs: RootFsJson,
}

#[derive(Deserialize)]
struct RootFsJson {
    #[serde(default)]
    diff_ids: Vec<Digest>,
}

/// Reads the base config and picks the layers to keep for `version`.
pub(crate) fn kept_base(
    base: &BaseImage,
    arch: Arch,
    version: &TalosVersion,
) -> Result<KeptBase, InstallerError> {
    let manifest = &base.manifest;
    let config = read_config(&base.config, &manifest.config.digest)?;
    if config.os != "linux" || config.architecture != arch.as_str() {
        return Err(InstallerError::BasePlatform {
            digest: manifest.digest.clone(),
            found: format!("{}/{}", config.os, config.architecture),
            expected: arch,
        });
    }
    let mismatch = |reason: String| InstallerError::BaseLayers {
        digest: manifest.digest.clone(),
        reason,
    };
    let count = manifest.layers.len();
    if count == 0 {
        return Err(mismatch("no layers".to_owned()));
    }
    if config.rootfs.diff_ids.len() != count {
        return Err(mismatch(format!(
            "{count} layers but {} diff IDs in the config",
            config.rootfs.diff_ids.len()
        )));
    }
    if base.layers.len() != count {
        return Err(mismatch(format!(
            "{count} layers but {} layer files",
            base.layers.len()
        )));
    }
    let old_artifacts_layer = !Quirks::new(version).supports_unified_installer() && count == 2;
    let keep = if old_artifacts_layer { 1 } else { count };
    let layers = manifest
        .layers
        .iter()
        .zip(config.rootfs.diff_ids)
        .zip(&base.layers)
        .take(keep)
        .map(|((descriptor, diff_id), path)| {
            Ok(LayerBlob {
                descriptor: oci_layer(descriptor)?,
                diff_id,
                path: path.clone(),
            })
        })
        .collect::<Result<Vec<_>, InstallerError>>()?;
    Ok(KeptBase {
        runtime: config.config.unwrap_or_default(),
        layers,
    })
}

fn read_config(path: &Path, digest: &Digest) -> Result<ConfigJson, InstallerError> {
    let file = std::fs::File::open(path).map_err(InstallerError::io("opening", path))?;
    let mut bytes = Vec::new();
    file.take(MAX_BASE_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(InstallerError::io("reading", path))?;
    let fail = |reason: String| InstallerError::BaseConfig {
        digest: digest.clone(),
        reason,
    };
    if bytes.len() as u64 > MAX_BASE_CONFIG_BYTES {
        return Err(fail(format!(
            "more than the limit of {MAX_BASE_CONFIG_BYTES} bytes"
        )));
    }
    serde_json::from_slice(&bytes).map_err(|e| fail(e.to_string()))
}

/// The descriptor of a kept base layer, with an OCI media type.
fn oci_layer(descriptor: &Descriptor) -> Result<Descriptor, InstallerError> {
    let media_type = match descriptor.media_type.as_str() {
        OCI_LAYER_TAR | OCI_LAYER_TAR_GZIP | OCI_LAYER_TAR_ZSTD => &descriptor.media_type,
        DOCKER_LAYER_TAR_GZIP => OCI_LAYER_TAR_GZIP,
        DOCKER_LAYER_TAR => OCI_LAYER_TAR,
        other => {
            return Err(InstallerError::UnsupportedLayer {
                digest: descriptor.digest.clone(),
                media_type: other.to_owned(),
            });
        }
    };
    Ok(Descriptor {
        media_type: media_type.to_owned(),
        size: descriptor.size,
        digest: descriptor.digest.clone(),
        artifact_type: None,
        annotations: descriptor.annotations.clone(),
        platform: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(dir: &Path, config: &str, layers: usize) -> BaseImage {
        let config_path = dir.join("config");
        std::fs::write(&config_path, config).unwrap();
        let descriptors: Vec<Descriptor> = (0..layers)
            .map(|n| Descriptor::of(DOCKER_LAYER_TAR_GZIP, &[n as u8]))
            .collect();
        BaseImage {
            manifest: ImageManifest {
                digest: Digest::sha256_of(b"manifest"),
                config: Descriptor::of(
                    "application/vnd.oci.image.config.v1+json",
                    config.as_bytes(),
                ),
                layers: descriptors,
            },
            config: config_path,
            layers: (0..layers).map(|n| dir.join(format!("layer{n}"))).collect(),
        }
    }

    fn config(arch: &str, diff_ids: usize) -> String {
        let ids: Vec<String> = (0..diff_ids)
            .map(|n| format!("\"{}\"", Digest::sha256_of(&[n as u8, 0])))
            .collect();
        format!(
            r#"{{"architecture":"{arch}","os":"linux","config":{{"Entrypoint":["/bin/installer"]}},"rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
            ids.join(",")
        )
    }

    #[test]
    fn drops_the_old_artifacts_layer_before_1_10() {
        let dir = tempfile::tempdir().unwrap();
        let b = base(dir.path(), &config("amd64", 2), 2);
        let v19: TalosVersion = "v1.9.5".parse().unwrap();
        let v110: TalosVersion = "v1.10.0".parse().unwrap();
        let kept = kept_base(&b, Arch::Amd64, &v19).unwrap();
        assert_eq!(kept.layers.len(), 1);
        assert_eq!(kept.layers[0].diff_id, Digest::sha256_of(&[0, 0]));
        assert_eq!(kept.layers[0].descriptor.media_type, OCI_LAYER_TAR_GZIP);
        assert_eq!(kept.layers[0].path, dir.path().join("layer0"));
        assert_eq!(kept.runtime["Entrypoint"][0], "/bin/installer");
        assert_eq!(kept_base(&b, Arch::Amd64, &v110).unwrap().layers.len(), 2);
        let three = base(dir.path(), &config("amd64", 3), 3);
        assert_eq!(
            kept_base(&three, Arch::Amd64, &v19).unwrap().layers.len(),
            3
        );
        assert_eq!(base_repository(&v19), INSTALLER_REPOSITORY);
        assert_eq!(base_repository(&v110), INSTALLER_BASE_REPOSITORY);
    }

    #[test]
    fn refuses_inconsistent_bases() {
        let dir = tempfile::tempdir().unwrap();
        let v: TalosVersion = "v1.10.0".parse().unwrap();
        let wrong_arch = base(dir.path(), &config("arm64", 1), 1);
        assert!(matches!(
            kept_base(&wrong_arch, Arch::Amd64, &v),
            Err(InstallerError::BasePlatform { .. })
        ));
        let wrong_ids = base(dir.path(), &config("amd64", 2), 1);
        assert!(matches!(
            kept_base(&wrong_ids, Arch::Amd64, &v),
            Err(InstallerError::BaseLayers { .. })
        ));
        let garbage = base(dir.path(), "not json", 1);
        assert!(matches!(
            kept_base(&garbage, Arch::Amd64, &v),
            Err(InstallerError::BaseConfig { .. })
        ));
        let huge = format!(
            "{}{}",
            config("amd64", 1),
            " ".repeat(MAX_BASE_CONFIG_BYTES as usize)
        );
        let huge = base(dir.path(), &huge, 1);
        let err = kept_base(&huge, Arch::Amd64, &v).unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
        let mut foreign = base(dir.path(), &config("amd64", 1), 1);
        foreign.manifest.layers[0].media_type =
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip".into();
        assert!(matches!(
            kept_base(&foreign, Arch::Amd64, &v),
            Err(InstallerError::UnsupportedLayer { .. })
        ));
    }
}

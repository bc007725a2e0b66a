//! An image assembled from layer blobs, and an index of such images.
//!
//! The JSON is what go-containerregistry (upstream's library) writes for an
//! image built with `mutate` on `empty.Image`: the config members in its
//! `ConfigFile` order (`architecture`, `created`, `history`, `os`, `rootfs`,
//! `config`), one empty history entry per appended layer (`mutate.Append`
//! adds one whose time is Go's zero time), and compact manifests and
//! indexes with `schemaVersion`, `mediaType`, then the descriptors. The
//! diff IDs in the config come from the same [`LayerBlob`]s the manifest
//! lists, so the two cannot disagree.
//!
//! An image has 1 to [`MAX_IMAGE_LAYERS`] layers (the layer limit of Docker's
//! overlay storage); anything else is refused.

use std::path::PathBuf;

use factory_core::registry::media_types::{OCI_CONFIG, OCI_INDEX, OCI_MANIFEST};
use factory_core::registry::{Descriptor, Digest, ImagePlatform};
use serde::Serialize;

use super::error::OciWriteError;
use crate::signing::{ZERO_TIME, go_rfc3339};

/// The most layers an image may have.
pub const MAX_IMAGE_LAYERS: usize = 127;

/// One layer of an image: its manifest descriptor, its diff ID (the digest
/// of the uncompressed tar) and the file holding the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerBlob {
    /// The descriptor the manifest lists.
    pub descriptor: Descriptor,
    /// The digest of the uncompressed tar, listed in the config.
    pub diff_id: Digest,
    /// The blob, as stored (compressed or not, per the media type).
    pub path: PathBuf,
}

/// What goes into an image's config besides its layers.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageConfig {
    /// `architecture`, `os` and `variant`.
    pub platform: ImagePlatform,
    /// The `created` time, RFC 3339 (written as Go normalises it); `None`
    /// writes Go's zero time, which keeps the image reproducible.
    pub created: Option<String>,
    /// The runtime configuration (`Env`, `Entrypoint`, `Labels`, ...), copied
    /// as the `config` member.
    pub runtime: serde_json::Map<String, serde_json::Value>,
}

/// A single-platform image: config, manifest and layers, ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    platform: ImagePlatform,
    config: Vec<u8>,
    config_descriptor: Descriptor,
    manifest: Vec<u8>,
    manifest_digest: Digest,
    layers: Vec<LayerBlob>,
}

#[derive(Serialize)]
struct ConfigFile<'a> {
    architecture: &'a str,
    created: &'a str,
    history: Vec<History>,
    os: &'a str,
    rootfs: RootFs<'a>,
    config: &'a serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none", rename = "os.version")]
    os_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<&'a str>,
}

#[derive(Serialize)]
struct History {
    created: &'static str,
}

#[derive(Serialize)]
struct RootFs<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    diff_ids: Vec<&'a Digest>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManifestJson<'a> {
    schema_version: u8,
    media_type: &'static str,
    config: &'a Descriptor,
    layers: Vec<&'a Descriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IndexJson<'a> {
    schema_version: u8,
    media_type: &'static str,
    manifests: &'a [Descriptor],
}

impl BuiltImage {
    /// Assembles an OCI image of `layers` (bottom first) with `config`.
    pub fn assemble(config: &ImageConfig, layers: Vec<LayerBlob>) -> Result<Self, OciWriteError> {
        if layers.is_empty() || layers.len() > MAX_IMAGE_LAYERS {
            return Err(OciWriteError::LayerCount {
                count: layers.len(),
                limit: MAX_IMAGE_LAYERS,
            });
        }
        let created = match &config.created {
            Some(text) => {
                go_rfc3339(text).map_err(|_| OciWriteError::InvalidCreated(text.clone()))?
            }
            None => ZERO_TIME.to_owned(),
        };
        let config_json = ConfigFile {
            architecture: &config.platform.architecture,
            created: &created,
            history: layers
                .iter()
                .map(|_| History { created: ZERO_TIME })
                .collect(),
            os: &config.platform.os,
            rootfs: RootFs {
                kind: "layers",
                diff_ids: layers.iter().map(|l| &l.diff_id).collect(),
            },
            config: &config.runtime,
            os_version: config.platform.os_version.as_deref(),
            variant: config.platform.variant.as_deref(),
        };
        let config_bytes = to_json("image config", &config_json)?;
        let config_descriptor = Descriptor::of(OCI_CONFIG, &config_bytes);
        let manifest = to_json(
            "image manifest",
            &ManifestJson {
                schema_version: 2,
                media_type: OCI_MANIFEST,
                config: &config_descriptor,
                layers: layers.iter().map(|l| &l.descriptor).collect(),
            },
        )?;
        Ok(BuiltImage {
            platform: config.platform.clone(),
            manifest_digest: Digest::sha256_of(&manifest),
            config: config_bytes,
            config_descriptor,
            manifest,
            layers,
        })
    }

    /// The platform it is for.
    pub fn platform(&self) -> &ImagePlatform {
        &self.platform
    }

    /// The config blob's bytes.
    pub fn config(&self) -> &[u8] {
        &self.config
    }

    /// The config blob's descriptor.
    pub fn config_descriptor(&self) -> &Descriptor {
        &self.config_descriptor
    }

    /// The manifest's bytes.
    pub fn manifest(&self) -> &[u8] {
        &self.manifest
    }

    /// The manifest's digest: the image's digest.
    pub fn digest(&self) -> &Digest {
        &self.manifest_digest
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> &[LayerBlob] {
        &self.layers
    }

    /// The manifest's descriptor as an index lists it (with its platform).
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            platform: Some(self.platform.clone()),
            ..Descriptor::of(OCI_MANIFEST, &self.manifest)
        }
    }
}

/// An OCI image index over [`BuiltImage`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltIndex {
    bytes: Vec<u8>,
    digest: Digest,
    manifests: Vec<Descriptor>,
}

impl BuiltIndex {
    /// The index listing `images` in the order given.
    pub fn of(images: &[&BuiltImage]) -> Result<Self, OciWriteError> {
        if images.is_empty() {
            return Err(OciWriteError::InvalidIndex("no images"));
        }
        let manifests: Vec<Descriptor> = images.iter().map(|i| i.descriptor()).collect();
        let bytes = to_json(
            "image index",
            &IndexJson {
                schema_version: 2,
                media_type: OCI_INDEX,
                manifests: &manifests,
            },
        )?;
        Ok(BuiltIndex {
            digest: Digest::sha256_of(&bytes),
            bytes,
            manifests,
        })
    }

    /// The index's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The index's digest: what is signed and what tags point at.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The entries, in order.
    pub fn manifests(&self) -> &[Descriptor] {
        &self.manifests
    }

    /// The index's own descriptor.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::of(OCI_INDEX, &self.bytes)
    }
}

fn to_json<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, OciWriteError> {
    serde_json::to_vec(value).map_err(|source| OciWriteError::Json { what, source })
}

#[cfg(test)]
mod tests {
    use factory_core::arch::Arch;
    use factory_core::registry::media_types::OCI_LAYER_TAR_GZIP;

    use super::*;

    fn layer(n: u8) -> LayerBlob {
        LayerBlob {
            descriptor: Descriptor::of(OCI_LAYER_TAR_GZIP, &[n]),
            diff_id: Digest::sha256_of(&[n, n]),
            path: PathBuf::from(format!("/layers/{n}")),
        }
    }

    fn image(arch: Arch) -> BuiltImage {
        let mut runtime = serde_json::Map::new();
        runtime.insert("Entrypoint".into(), serde_json::json!(["/bin/installer"]));
        BuiltImage::assemble(
            &ImageConfig {
                platform: ImagePlatform::linux(arch),
                created: Some("2025-01-02T03:04:05.600Z".into()),
                runtime,
            },
            vec![layer(1), layer(2)],
        )
        .unwrap()
    }

    #[test]
    fn config_and_manifest_layout() {
        let img = image(Arch::Arm64);
        let d = |n: u8| Digest::sha256_of(&[n, n]);
        assert_eq!(
            String::from_utf8(img.config().to_vec()).unwrap(),
            format!(
                concat!(
                    r#"{{"architecture":"arm64","created":"2025-01-02T03:04:05.6Z","#,
                    r#""history":[{{"created":"0001-01-01T00:00:00Z"}},{{"created":"0001-01-01T00:00:00Z"}}],"#,
                    r#""os":"linux","rootfs":{{"type":"layers","diff_ids":["{}","{}"]}},"#,
                    r#""config":{{"Entrypoint":["/bin/installer"]}}}}"#
                ),
                d(1),
                d(2)
            )
        );
        assert_eq!(
            String::from_utf8(img.manifest().to_vec()).unwrap(),
            format!(
                concat!(
                    r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                    r#""config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":{},"digest":"{}"}},"#,
                    r#""layers":[{{"mediaType":"{m}","size":1,"digest":"{}"}},{{"mediaType":"{m}","size":1,"digest":"{}"}}]}}"#
                ),
                img.config().len(),
                Digest::sha256_of(img.config()),
                Digest::sha256_of(&[1]),
                Digest::sha256_of(&[2]),
                m = OCI_LAYER_TAR_GZIP
            )
        );
        assert_eq!(img.digest(), &Digest::sha256_of(img.manifest()));
    }

    #[test]
    fn index_layout() {
        let (amd, arm) = (image(Arch::Amd64), image(Arch::Arm64));
        let index = BuiltIndex::of(&[&amd, &arm]).unwrap();
        assert_eq!(
            String::from_utf8(index.bytes().to_vec()).unwrap(),
            format!(
                concat!(
                    r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":["#,
                    r#"{{"mediaType":"{m}","size":{},"digest":"{}","platform":{{"architecture":"amd64","os":"linux"}}}},"#,
                    r#"{{"mediaType":"{m}","size":{},"digest":"{}","platform":{{"architecture":"arm64","os":"linux"}}}}]}}"#
                ),
                amd.manifest().len(),
                amd.digest(),
                arm.manifest().len(),
                arm.digest(),
                m = OCI_MANIFEST
            )
        );
        assert_eq!(index.digest(), &Digest::sha256_of(index.bytes()));
        assert!(BuiltIndex::of(&[]).is_err());
    }

    #[test]
    fn refuses_bad_inputs() {
        let config = ImageConfig {
            platform: ImagePlatform::linux(Arch::Amd64),
            created: None,
            runtime: serde_json::Map::new(),
        };
        assert!(matches!(
            BuiltImage::assemble(&config, vec![]),
            Err(OciWriteError::LayerCount { count: 0, .. })
        ));
        let many = (0..=MAX_IMAGE_LAYERS).map(|n| layer(n as u8)).collect();
        assert!(matches!(
            BuiltImage::assemble(&config, many),
            Err(OciWriteError::LayerCount { count: 128, .. })
        ));
        let bad = ImageConfig {
            created: Some("yesterday".into()),
            ..config.clone()
        };
        assert!(matches!(
            BuiltImage::assemble(&bad, vec![layer(1)]),
            Err(OciWriteError::InvalidCreated(_))
        ));
        let img = BuiltImage::assemble(&config, vec![layer(1)]).unwrap();
        assert!(String::from_utf8(img.config().to_vec()).unwrap().contains(
            r#""created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}]"#
        ));
        assert!(
            String::from_utf8(img.config().to_vec())
                .unwrap()
                .ends_with(r#""config":{}}"#)
        );
    }
}

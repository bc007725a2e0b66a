//! A real, empty `docker-registry` on loopback for integration tests, with
//! helpers to push blobs, manifests and simple images.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use bytes::Bytes;
use factory_core::registry::{Digest, media_types};
use factory_test_support::SyntheticRegistry;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::{Client, Reference};

/// An empty `docker-registry` on a free loopback port
/// (`factory_test_support`'s), stopped by PID on drop.
pub struct Registry {
    pub addr: String,
    pub storage: PathBuf,
    _registry: SyntheticRegistry,
}

impl Registry {
    pub fn start() -> Registry {
        let registry = SyntheticRegistry::start_empty();
        Registry {
            addr: registry.addr.clone(),
            storage: registry.storage(),
            _registry: registry,
        }
    }

    pub fn client(&self) -> Client {
        Client::new(ClientConfig {
            protocol: ClientProtocol::HttpsExcept(vec![self.addr.clone()]),
            ..ClientConfig::default()
        })
    }

    pub fn reference(&self, repo: &str, tag_or_digest: &str) -> Reference {
        format!(
            "{}/{repo}{}{tag_or_digest}",
            self.addr,
            if tag_or_digest.contains(':') {
                "@"
            } else {
                ":"
            }
        )
        .parse()
        .unwrap()
    }

    pub async fn push_blob(&self, repo: &str, data: &[u8]) -> (Digest, u64) {
        let digest = Digest::sha256_of(data);
        self.client()
            .push_blob(
                &self.reference(repo, "x"),
                Bytes::copy_from_slice(data),
                &digest.to_string(),
            )
            .await
            .unwrap();
        (digest, data.len() as u64)
    }

    pub async fn push_manifest(
        &self,
        repo: &str,
        tag: &str,
        media_type: &'static str,
        body: &str,
    ) -> Digest {
        self.client()
            .push_manifest_raw(
                &self.reference(repo, tag),
                body.to_owned(),
                http::HeaderValue::from_static(media_type),
            )
            .await
            .unwrap();
        Digest::sha256_of(body.as_bytes())
    }

    /// Pushes a one-layer image and returns (manifest digest, layer digest).
    pub async fn push_image(
        &self,
        repo: &str,
        tag: &str,
        layer: &[u8],
        annotations: &str,
    ) -> (Digest, Digest) {
        let layer_type = "application/vnd.oci.image.layer.v1.tar";
        let (manifest, layers) = self
            .push_image_layers(repo, tag, &[(layer_type, layer, annotations)])
            .await;
        (manifest, layers.into_iter().next().unwrap())
    }

    /// Pushes an image with the given `(media type, bytes, extra descriptor
    /// JSON)` layers; returns the manifest digest and the layer digests.
    pub async fn push_image_layers(
        &self,
        repo: &str,
        tag: &str,
        layers: &[(&str, &[u8], &str)],
    ) -> (Digest, Vec<Digest>) {
        let config =
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
        let (config_digest, config_size) = self.push_blob(repo, config).await;
        let mut digests = Vec::new();
        let mut descriptors = Vec::new();
        for (media_type, bytes, extra) in layers {
            let (digest, size) = self.push_blob(repo, bytes).await;
            descriptors.push(format!(
                r#"{{"mediaType":"{media_type}","digest":"{digest}","size":{size}{extra}}}"#
            ));
            digests.push(digest);
        }
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{config_size}}},"layers":[{}]}}"#,
            media_types::OCI_MANIFEST,
            descriptors.join(",")
        );
        (
            self.push_manifest(repo, tag, media_types::OCI_MANIFEST, &manifest)
                .await,
            digests,
        )
    }

    pub fn blob_file(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.storage.join(format!(
            "docker/registry/v2/blobs/sha256/{}/{hex}/data",
            &hex[..2]
        ))
    }
}

/// A tar archive of `(path, contents)` regular files.
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, *contents).unwrap();
    }
    builder.into_inner().unwrap()
}

/// Gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

//! Publishing a built installer image into the store's registry.
//!
//! The builder (`factory_imager::build::build_installer_index`) produces an [`InstallerPublication`]: every blob as a file, every
//! manifest as bytes. [`publish`] stores them in the only order in which a
//! crash can never expose a dangling reference:
//!
//! 1. blobs (layers, configs), each verified against its digest while copied;
//! 2. the per-architecture image manifests;
//! 3. the index;
//! 4. the cosign signature of the index (its blobs, its manifest under the
//!    `sha256-<hex>.sig` tag) and the referrer entry naming it;
//! 5. the version tag, last: until it exists the index is a miss and is
//!    published again.

use std::io::{Read, Write};
use std::sync::Arc;

use factory_core::frontend::{InstallerRequest, ManifestRecord, PlatformError};
use factory_core::registry::Descriptor;
use factory_core::registry::media_types::{OCI_CONFIG, OCI_MANIFEST};
use factory_imager::build::{
    BuildContext, InstallerBuild, ManifestRole, PublishBlob, PublishManifest,
    build_installer_index, installer_reference,
};
use factory_imager::signing::CosignSignature;
use sha2::{Digest as _, Sha256};

use super::Inner;
use super::error::{build_error, store_error};
use crate::store::{Store, StoreError};

/// What one installer build publishes under `repository`
/// (`<image>/<schematic>`).
#[derive(Debug, Clone)]
pub struct InstallerPublication {
    /// `<image>/<schematic>`.
    pub repository: String,
    /// Layers and configs of every image.
    pub blobs: Vec<PublishBlob>,
    /// The per-architecture image manifests.
    pub manifests: Vec<ManifestRecord>,
    /// The multi-architecture index.
    pub index: ManifestRecord,
    /// The version tag (`v1.12.4`) to point at the index.
    pub tag: String,
    /// The build whose work directory holds the blob files (kept alive
    /// until publishing is done).
    pub build: Option<Arc<InstallerBuild>>,
}

/// Builds the installer images of `request` with
/// `factory_imager::build::build_installer_index` and describes what to
/// publish, with the index's cosign signature made by that build. The
/// build's work directory (new layers, configs) lives as long as the
/// returned publication.
pub(super) async fn produce(
    inner: &Arc<Inner>,
    request: &InstallerRequest,
) -> Result<(InstallerPublication, CosignSignature), PlatformError> {
    let first = request
        .arches
        .first()
        .ok_or_else(|| PlatformError::Internal("an installer request names no arch".into()))?;
    let schematic = inner.schematic_for(&first.profile).await?;
    let profiles: Vec<_> = request.arches.iter().map(|a| a.profile.clone()).collect();
    let repository = request.repository();
    let reference = installer_reference(&inner.settings.external_url, &repository);
    let ctx = BuildContext {
        puller: &inner.puller,
        external_url: &inner.settings.external_url,
        work_root: &inner.work_root,
    };
    let built = build_installer_index(&ctx, &profiles, &schematic, &inner.key, &reference)
        .await
        .map_err(build_error)?;
    let record = |m: &PublishManifest<'_>| ManifestRecord {
        media_type: m.media_type.to_owned(),
        digest: m.digest.clone(),
        bytes: bytes::Bytes::copy_from_slice(m.bytes),
    };
    let manifests = built.manifests();
    let images = manifests
        .iter()
        .filter(|m| matches!(m.role, ManifestRole::Image(_)))
        .map(record)
        .collect();
    let index = manifests
        .iter()
        .find(|m| m.role == ManifestRole::Index)
        .map(record)
        .ok_or_else(|| PlatformError::Internal("the installer build has no index".into()))?;
    let blobs = built.blobs().to_vec();
    drop(manifests);
    let signature = built.signature().clone();
    let publication = InstallerPublication {
        repository,
        blobs,
        manifests: images,
        index,
        tag: request.version.tag(),
        build: Some(Arc::new(built)),
    };
    Ok((publication, signature))
}

/// Stores `publication` and its cosign signature in the order of the
/// module docs. Blocking.
pub(super) fn publish(
    store: &Store,
    publication: &InstallerPublication,
    signature: &CosignSignature,
) -> Result<ManifestRecord, PlatformError> {
    let repo = publication.repository.as_str();
    for blob in &publication.blobs {
        copy_blob(store, blob).map_err(store_error)?;
    }
    for manifest in &publication.manifests {
        store.put_manifest(repo, manifest).map_err(store_error)?;
    }
    store
        .put_manifest(repo, &publication.index)
        .map_err(store_error)?;
    for blob in signature.blobs() {
        store.blobs().put_bytes(blob.bytes()).map_err(store_error)?;
    }
    let sig = signature.manifest();
    let sig_record = ManifestRecord {
        media_type: OCI_MANIFEST.to_owned(),
        digest: sig.digest().clone(),
        bytes: bytes::Bytes::copy_from_slice(sig.bytes()),
    };
    store.put_manifest(repo, &sig_record).map_err(store_error)?;
    store
        .put_tag(repo, signature.tag(), sig.digest())
        .map_err(store_error)?;
    let referrer = Descriptor {
        artifact_type: Some(OCI_CONFIG.to_owned()),
        ..sig.descriptor()
    };
    store
        .add_referrer(repo, &publication.index.digest, &referrer)
        .map_err(store_error)?;
    store
        .put_tag(repo, &publication.tag, &publication.index.digest)
        .map_err(store_error)?;
    Ok(publication.index.clone())
}

/// Copies a builder's file into the blob directory, hashing as it goes.
fn copy_blob(store: &Store, blob: &PublishBlob) -> Result<(), StoreError> {
    let blobs = store.blobs();
    let (digest, expected_size) = (&blob.descriptor.digest, blob.descriptor.size);
    let hex = digest.hex().to_owned();
    if blobs.verify(&hex)? {
        return Ok(());
    }
    let temp = blobs.temp_path();
    let result = (|| {
        let mut src =
            std::fs::File::open(&blob.path).map_err(StoreError::io("opening", &blob.path))?;
        let mut dst = std::fs::File::create(&temp).map_err(StoreError::io("creating", &temp))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut size = 0u64;
        loop {
            let n = src
                .read(&mut buf)
                .map_err(StoreError::io("reading", &blob.path))?;
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            hasher.update(chunk);
            dst.write_all(chunk)
                .map_err(StoreError::io("writing", &temp))?;
            size += n as u64;
        }
        let actual = hex::encode(hasher.finalize());
        if actual != hex || size != expected_size {
            return Err(StoreError::Malformed {
                what: format!("installer blob {}", blob.path.display()),
                reason: format!(
                    "{size} bytes hashing to sha256:{actual}, expected {} bytes of {}",
                    expected_size, digest
                ),
            });
        }
        drop(dst);
        blobs.commit_file(&temp, &hex).map(drop)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use factory_core::registry::Digest;
    use factory_imager::signing::SigningKey;

    #[test]
    fn publishes_everything_and_tags_last() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let layer = dir.path().join("layer");
        std::fs::write(&layer, b"layer bytes").unwrap();
        let manifest = bytes::Bytes::from_static(b"{\"image\":1}");
        let index = bytes::Bytes::from_static(b"{\"index\":1}");
        let record = |b: &bytes::Bytes, t: &str| ManifestRecord {
            media_type: t.to_owned(),
            digest: Digest::sha256_of(b),
            bytes: b.clone(),
        };
        let publication = InstallerPublication {
            repository: "installer/abc".into(),
            blobs: vec![PublishBlob {
                descriptor: Descriptor::of("application/x", b"layer bytes"),
                path: layer,
            }],
            manifests: vec![record(&manifest, OCI_MANIFEST)],
            index: record(&index, "application/vnd.oci.image.index.v1+json"),
            tag: "v1.12.4".into(),
            build: None,
        };
        let key = SigningKey::generate().unwrap();
        let sig = CosignSignature::new(
            &key,
            "127.0.0.1:8080/installer/abc",
            &publication.index.digest,
            None,
        )
        .unwrap();
        let out = publish(&store, &publication, &sig).unwrap();
        assert_eq!(out.digest, publication.index.digest);
        assert_eq!(
            store.get_tag("installer/abc", "v1.12.4").unwrap(),
            Some(out.digest.clone())
        );
        assert!(
            store
                .blobs()
                .verify(Digest::sha256_of(b"layer bytes").hex())
                .unwrap()
        );
        let sig_digest = store.get_tag("installer/abc", sig.tag()).unwrap().unwrap();
        assert!(
            store
                .get_manifest("installer/abc", &sig_digest)
                .unwrap()
                .is_some()
        );
        let referrers = store.get_referrers("installer/abc", &out.digest).unwrap();
        assert_eq!(referrers.len(), 1);
        assert_eq!(referrers[0].digest, sig_digest);
    }

    #[test]
    fn a_blob_with_the_wrong_digest_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let path = dir.path().join("layer");
        std::fs::write(&path, b"other").unwrap();
        // The right size, the wrong bytes.
        let blob = PublishBlob {
            descriptor: Descriptor {
                size: 5,
                ..Descriptor::of("application/x", b"layer bytes")
            },
            path,
        };
        assert!(copy_blob(&store, &blob).is_err());
    }
}

//! The [`Platform`] trait, answered from the store, the catalogs and the
//! builders. Storage calls run on the blocking pool.

use std::sync::Arc;

use factory_core::asset_key::AssetKey;
use factory_core::catalog::ReleaseCatalog;
use factory_core::frontend::{
    AssetRecord, BlobDelivery, Delivery, DeliveryRequest, InstallerRequest, ManifestRecord,
    Platform, PlatformError, Readiness,
};
use factory_core::profile::BuildProfile;
use factory_core::registry::{Descriptor, Digest, DigestAlgorithm, Reference};
use factory_core::schematic::SchematicId;
use factory_core::version::TalosVersion;

use super::error::{join_error, store_error};
use super::installer::{produce, publish};
use super::{Inner, StandalonePlatform};
use crate::object::FileSlice;
use crate::store::{BlobCheck, Store, StoreError};

/// Runs `job` on the store off the async threads.
async fn on_store<T: Send + 'static>(
    inner: &Arc<Inner>,
    job: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, PlatformError> {
    let inner = Arc::clone(inner);
    tokio::task::spawn_blocking(move || job(&inner.store))
        .await
        .map_err(join_error)?
        .map_err(store_error)
}

/// Runs a small key-value read on the calling task. A redb read of one key
/// takes microseconds from the page cache; handing it to the blocking pool
/// cost more than the read (about a third of the CPU time of cached
/// requests in `standalone/benches/serve.sh`). Writes and file work keep
/// using [`on_store`].
fn read_store<T>(
    inner: &Inner,
    job: impl FnOnce(&Store) -> Result<T, StoreError>,
) -> Result<T, PlatformError> {
    job(&inner.store).map_err(store_error)
}

impl Platform for StandalonePlatform {
    type Object = FileSlice;

    async fn get_schematic(&self, id: &SchematicId) -> Result<Option<String>, PlatformError> {
        read_store(&self.inner, |s| s.get_schematic(id.as_str()))
    }

    async fn put_schematic(
        &self,
        id: &SchematicId,
        canonical_yaml: &str,
    ) -> Result<(), PlatformError> {
        // Schematics are content-addressed: one already stored is this one,
        // and posting it again is a read, not a durable write.
        if read_store(&self.inner, |s| s.get_schematic(id.as_str()))?.is_some() {
            return Ok(());
        }
        let (id, yaml) = (id.as_str().to_owned(), canonical_yaml.to_owned());
        on_store(&self.inner, move |s| s.put_schematic(&id, &yaml)).await
    }

    async fn versions(&self) -> Result<Vec<TalosVersion>, PlatformError> {
        self.inner.catalogs.versions()
    }

    async fn broken_versions(&self) -> Result<Vec<TalosVersion>, PlatformError> {
        Ok(self.inner.settings.broken_versions.clone())
    }

    async fn release(&self, version: &TalosVersion) -> Result<ReleaseCatalog, PlatformError> {
        self.inner
            .catalogs
            .release(&self.inner.puller, version)
            .await
    }

    async fn asset(
        &self,
        key: &AssetKey,
        profile: &BuildProfile,
    ) -> Result<AssetRecord, PlatformError> {
        self.inner.asset(key, profile).await
    }

    /// Always streams (there is no object store to redirect to).
    async fn deliver(
        &self,
        record: &AssetRecord,
        request: DeliveryRequest<'_>,
    ) -> Result<Delivery<FileSlice>, PlatformError> {
        let (hex, size, key) = (record.sha256.clone(), record.size, record.key.clone());
        let check = on_store(&self.inner, move |s| s.blobs().open_sized(&hex, size)).await?;
        let BlobCheck::Ok(file) = check else {
            return Err(PlatformError::Unavailable(format!(
                "the stored bytes of {key} changed since they were looked up; retry"
            )));
        };
        let (offset, len) = match request.range {
            Some(range) if range.end < size && range.start <= range.end => {
                (range.start, range.len())
            }
            Some(range) => {
                return Err(PlatformError::Internal(format!(
                    "range {}-{} is outside the {size} bytes of {key}",
                    range.start, range.end
                )));
            }
            None => (0, size),
        };
        Ok(Delivery::Stream(FileSlice { file, offset, len }))
    }

    async fn installer_index(
        &self,
        request: &InstallerRequest,
    ) -> Result<ManifestRecord, PlatformError> {
        let repository = request.repository();
        let tag = request.version.tag();
        if let Some(found) = self.tagged(&repository, &tag).await? {
            return Ok(found);
        }
        let inner = Arc::clone(&self.inner);
        let (platform, request) = (self.clone(), request.clone());
        let flight = format!("{repository}:{tag}");
        self.inner
            .installers
            .run(&flight, "installer", move || async move {
                if let Some(found) = platform.tagged(&repository, &tag).await? {
                    return Ok(crate::builds::Outcome::Found(found));
                }
                let (publication, signature) = produce(&inner, &request).await?;
                let store_inner = Arc::clone(&inner);
                tokio::task::spawn_blocking(move || {
                    publish(&store_inner.store, &publication, &signature)
                })
                .await
                .map_err(join_error)?
                .map(crate::builds::Outcome::Built)
            })
            .await
    }

    async fn manifest(
        &self,
        repository: &str,
        reference: &Reference,
    ) -> Result<Option<ManifestRecord>, PlatformError> {
        match reference {
            Reference::Tag(tag) => self.tagged(repository, tag).await,
            Reference::Digest(digest) => {
                read_store(&self.inner, |s| s.get_manifest(repository, digest))
            }
        }
    }

    async fn blob(
        &self,
        _repository: &str,
        digest: &Digest,
    ) -> Result<Option<BlobDelivery<FileSlice>>, PlatformError> {
        if digest.algorithm() != DigestAlgorithm::Sha256 {
            return Ok(None);
        }
        let hex = digest.hex().to_owned();
        on_store(&self.inner, move |s| {
            let Ok(size) = std::fs::metadata(s.blobs().path_of(&hex)?).map(|m| m.len()) else {
                return Ok(None);
            };
            match s.blobs().open_verified(&hex, size)? {
                BlobCheck::Ok(file) => Ok(Some(BlobDelivery::Stream {
                    object: FileSlice {
                        file,
                        offset: 0,
                        len: size,
                    },
                    size,
                })),
                BlobCheck::WrongDigest { actual } => {
                    tracing::warn!(blob = %hex, %actual, "stored blob is damaged; removing it");
                    s.blobs().remove(&hex)?;
                    Ok(None)
                }
                BlobCheck::Missing | BlobCheck::WrongSize { .. } => Ok(None),
            }
        })
        .await
    }

    async fn referrers(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Vec<Descriptor>, PlatformError> {
        read_store(&self.inner, |s| s.get_referrers(repository, digest))
    }

    fn cosign_public_key_pem(&self) -> Option<String> {
        Some(self.inner.public.to_pem())
    }

    fn new_request_id(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    async fn readiness(&self) -> Readiness {
        match self.inner.catalogs.problem() {
            None => Readiness::Ready,
            Some(reason) => Readiness::NotReady(reason),
        }
    }
}

impl StandalonePlatform {
    /// The manifest a tag of `repository` points at.
    async fn tagged(
        &self,
        repository: &str,
        tag: &str,
    ) -> Result<Option<ManifestRecord>, PlatformError> {
        read_store(&self.inner, |s| match s.get_tag(repository, tag)? {
            Some(digest) => s.get_manifest(repository, &digest),
            None => Ok(None),
        })
    }
}

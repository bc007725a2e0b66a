//! `EdgePlatform`: the core frontend's `Platform` over Workers bindings.
//!
//! Reads go to KV (and the isolate's catalog copy); misses go to the
//! `BuildCoordinator` for their key, which dispatches to the builder once
//! and stores the verified answer. Bytes are never read here: `deliver` and
//! `blob` answer with presigned object-store URLs, and on the PXE host
//! `deliver` hands the adapter an [`EdgeObject`] whose body the adapter
//! passes through from the object store.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use factory_core::asset_key::AssetKey;
use factory_core::catalog::{ReleaseCatalog, available_versions};
use factory_core::dispatch::{AssetJob, BuildJob, InstallerJob, WireManifest, object_key};
use factory_core::frontend::{
    AssetRecord, BlobDelivery, ByteRange, Delivery, DeliveryRequest, InstallerRequest,
    ManifestRecord, Platform, PlatformError, Readiness,
};
use factory_core::mime;
use factory_core::profile::BuildProfile;
use factory_core::registry::{Descriptor, Digest, DigestAlgorithm, Reference};
use factory_core::schematic::SchematicId;
use factory_core::version::TalosVersion;
use worker::kv::KvStore;
use worker::{Date, Env, console_error};

use super::catalogs;
use super::coordinator;
use super::env::{RECORDS, SCHEMATICS};
use super::random;
use crate::config::EdgeConfig;
use crate::coordination::{Failure, FailureClass, Settled};
use crate::presign::{Overrides, download_url};
use crate::stored::StoredAsset;
use crate::{ids, keys};

/// An object-store download the adapter streams through natively.
#[derive(Debug, Clone)]
pub(crate) struct EdgeObject {
    /// A presigned GET URL.
    pub(crate) url: String,
    /// The range to ask the store for.
    pub(crate) range: Option<ByteRange>,
}

/// The platform for one request.
pub(crate) struct EdgePlatform {
    env: Env,
    config: Rc<EdgeConfig>,
    /// Set when a builder answer was refused, so the adapter answers 502.
    refusal: RefCell<Option<String>>,
}

impl EdgePlatform {
    pub(crate) fn new(env: Env, config: Rc<EdgeConfig>) -> EdgePlatform {
        EdgePlatform {
            env,
            config,
            refusal: RefCell::new(None),
        }
    }

    /// The reason a builder answer was refused during this request, if one was.
    pub(crate) fn refusal(&self) -> Option<String> {
        self.refusal.borrow().clone()
    }

    fn kv(&self, name: &str) -> Result<KvStore, PlatformError> {
        self.env
            .kv(name)
            .map_err(|e| PlatformError::Unavailable(format!("{name} binding: {e}")))
    }

    fn failed(&self, failure: Failure) -> PlatformError {
        if failure.class == FailureClass::Refused {
            *self.refusal.borrow_mut() = Some(failure.message.clone());
        }
        failure.to_platform_error()
    }

    async fn settle(&self, job: &BuildJob) -> Result<Settled, PlatformError> {
        coordinator::settle(&self.env, job)
            .await
            .map_err(|f| self.failed(f))
    }

    async fn get_text(&self, kv: &str, key: &str) -> Result<Option<String>, PlatformError> {
        self.kv(kv)?
            .get(key)
            .text()
            .await
            .map_err(|e| PlatformError::Unavailable(format!("reading {key}: {e}")))
    }

    fn download(&self, sha256: &str, overrides: Overrides<'_>) -> Result<String, PlatformError> {
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(Date::now().as_millis());
        download_url(&self.config.s3, &object_key(sha256), overrides, now)
            .map_err(|e| PlatformError::Internal(e.to_string()))
    }

    async fn stored_manifest(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Option<ManifestRecord>, PlatformError> {
        let Some(text) = self
            .get_text(RECORDS, &keys::manifest(repository, digest))
            .await?
        else {
            return Ok(None);
        };
        let checked = serde_json::from_str::<WireManifest>(&text)
            .map_err(|e| e.to_string())
            .and_then(|w| w.to_record().map_err(|e| e.to_string()));
        match checked {
            Ok(record) if record.digest == *digest => Ok(Some(record)),
            Ok(_) => Ok(None),
            Err(e) => {
                console_error!("stored manifest {repository}@{digest} is damaged: {e}");
                Ok(None)
            }
        }
    }

    async fn tagged(
        &self,
        repository: &str,
        tag: &str,
    ) -> Result<Option<ManifestRecord>, PlatformError> {
        match self.get_text(RECORDS, &keys::tag(repository, tag)).await? {
            Some(digest) => match digest.parse::<Digest>() {
                Ok(digest) => self.stored_manifest(repository, &digest).await,
                Err(_) => Ok(None),
            },
            None => Ok(None),
        }
    }

    async fn catalog_for(&self, version: &TalosVersion) -> Result<ReleaseCatalog, PlatformError> {
        self.release(version).await
    }
}

impl Platform for EdgePlatform {
    type Object = EdgeObject;

    async fn get_schematic(&self, id: &SchematicId) -> Result<Option<String>, PlatformError> {
        self.get_text(SCHEMATICS, &keys::schematic(id)).await
    }

    async fn put_schematic(
        &self,
        id: &SchematicId,
        canonical_yaml: &str,
    ) -> Result<(), PlatformError> {
        let key = keys::schematic(id);
        if self.get_text(SCHEMATICS, &key).await?.is_some() {
            return Ok(());
        }
        let store =
            |e: worker::kv::KvError| PlatformError::Unavailable(format!("storing schematic: {e}"));
        self.kv(SCHEMATICS)?
            .put(&key, canonical_yaml)
            .map_err(store)?
            .execute()
            .await
            .map_err(store)
    }

    async fn versions(&self) -> Result<Vec<TalosVersion>, PlatformError> {
        let tags = catalogs::tags(&self.env)
            .await
            .map_err(|f| self.failed(f))?;
        Ok(available_versions(
            tags.iter().map(String::as_str),
            &self.config.policy,
        ))
    }

    async fn broken_versions(&self) -> Result<Vec<TalosVersion>, PlatformError> {
        Ok(self.config.policy.broken.clone())
    }

    async fn release(&self, version: &TalosVersion) -> Result<ReleaseCatalog, PlatformError> {
        let tag = version.tag();
        match catalogs::release(&self.env, &tag)
            .await
            .map_err(|f| self.failed(f))?
        {
            Some(catalog) => Ok((*catalog).clone()),
            None => Err(PlatformError::Unavailable(format!(
                "no release catalog for {tag} yet"
            ))),
        }
    }

    async fn asset(
        &self,
        key: &AssetKey,
        profile: &BuildProfile,
    ) -> Result<AssetRecord, PlatformError> {
        if let Some(text) = self.get_text(RECORDS, &keys::asset(key)).await? {
            match serde_json::from_str::<StoredAsset>(&text) {
                Ok(stored) => return Ok(stored.to_record(key)),
                Err(e) => console_error!("stored record of {key} is damaged, rebuilding: {e}"),
            }
        }
        let yaml = match &profile.schematic_id {
            Some(id) => {
                let id: SchematicId = id
                    .parse()
                    .map_err(|e| PlatformError::Internal(format!("profile schematic: {e}")))?;
                self.get_schematic(&id).await?
            }
            None => None,
        };
        let catalog = self.catalog_for(&profile.version).await?;
        let job = BuildJob::Asset(AssetJob::new(key, profile, yaml, catalog, false));
        match self.settle(&job).await? {
            Settled::Asset(stored) => Ok(stored.to_record(key)),
            other => Err(PlatformError::Internal(format!(
                "the coordinator settled an asset job with {other:?}"
            ))),
        }
    }

    async fn deliver(
        &self,
        record: &AssetRecord,
        request: DeliveryRequest<'_>,
    ) -> Result<Delivery<EdgeObject>, PlatformError> {
        if request.allow_redirect {
            let disposition = mime::content_disposition(request.filename);
            let url = self.download(
                &record.sha256,
                Overrides {
                    content_disposition: Some(&disposition),
                    content_type: Some(request.content_type),
                },
            )?;
            return Ok(Delivery::Redirect(url));
        }
        let url = self.download(&record.sha256, Overrides::default())?;
        Ok(Delivery::Stream(EdgeObject {
            url,
            range: request.range,
        }))
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
        let yaml = self
            .get_schematic(&request.schematic_id)
            .await?
            .ok_or_else(|| {
                PlatformError::Internal(format!("schematic {} vanished", request.schematic_id))
            })?;
        let catalog = self.catalog_for(&request.version).await?;
        let job = BuildJob::Installer(InstallerJob::new(request, yaml, catalog, false));
        match self.settle(&job).await? {
            Settled::Installer { index } => index
                .to_record()
                .map_err(|e| PlatformError::Internal(e.to_string())),
            other => Err(PlatformError::Internal(format!(
                "the coordinator settled an installer job with {other:?}"
            ))),
        }
    }

    async fn manifest(
        &self,
        repository: &str,
        reference: &Reference,
    ) -> Result<Option<ManifestRecord>, PlatformError> {
        match reference {
            Reference::Tag(tag) => self.tagged(repository, tag).await,
            Reference::Digest(digest) => self.stored_manifest(repository, digest).await,
        }
    }

    async fn blob(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Option<BlobDelivery<EdgeObject>>, PlatformError> {
        if digest.algorithm() != DigestAlgorithm::Sha256 {
            return Ok(None);
        }
        if self
            .get_text(RECORDS, &keys::blob(repository, digest))
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let url = self.download(digest.hex(), Overrides::default())?;
        Ok(Some(BlobDelivery::Redirect(url)))
    }

    async fn referrers(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Vec<Descriptor>, PlatformError> {
        match self
            .get_text(RECORDS, &keys::referrers(repository, digest))
            .await?
        {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| PlatformError::Internal(format!("stored referrers: {e}"))),
            None => Ok(Vec::new()),
        }
    }

    fn cosign_public_key_pem(&self) -> Option<String> {
        Some(self.config.public_key.to_pem())
    }

    fn new_request_id(&self) -> String {
        random::bytes16()
            .map(ids::uuid_v4)
            .unwrap_or_else(|_| format!("edge-{}", Date::now().as_millis()))
    }

    async fn readiness(&self) -> Readiness {
        match catalogs::have_tags(&self.env).await {
            Ok(true) => Readiness::Ready,
            Ok(false) => Readiness::NotReady(
                "no version catalog yet (the cron trigger or the first request fetches it)".into(),
            ),
            Err(f) => Readiness::NotReady(f.message),
        }
    }
}

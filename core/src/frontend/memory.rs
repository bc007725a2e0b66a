//! An in-memory [`Platform`] for tests and examples.
//!
//! Schematics, catalogs, manifests and blobs live in maps; "building" an
//! asset produces small deterministic bytes derived from its key (clearly not
//! a real artifact: real builds live in the imager). It counts builds so
//! tests can assert de-duplication and caching, can hand out redirects to
//! exercise the object-store path, and can be told to fail.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use sha2::{Digest as _, Sha256, Sha512};

use crate::asset_key::AssetKey;
use crate::catalog::ReleaseCatalog;
use crate::profile::BuildProfile;
use crate::registry::{Descriptor, Digest, Reference, media_types};
use crate::schematic::SchematicId;
use crate::version::TalosVersion;

use super::platform::{
    AssetRecord, BlobDelivery, Delivery, DeliveryRequest, InstallerRequest, ManifestRecord,
    Platform, PlatformError, Readiness,
};

/// See the module docs.
#[derive(Debug, Default)]
pub struct MemoryPlatform {
    schematics: Mutex<HashMap<String, String>>,
    versions: Vec<TalosVersion>,
    broken: Vec<TalosVersion>,
    releases: HashMap<TalosVersion, ReleaseCatalog>,
    assets: Mutex<HashMap<String, (AssetRecord, Bytes)>>,
    manifests: Mutex<HashMap<(String, String), ManifestRecord>>,
    blobs: Mutex<HashMap<String, Bytes>>,
    referrers: Mutex<HashMap<String, Vec<Descriptor>>>,
    builds: AtomicU64,
    requests: AtomicU64,
    /// When set, deliveries that may redirect answer `<base><sha256>`.
    pub redirect_base: Option<String>,
    /// When set, every build fails with this reason.
    pub failing_builds: Option<String>,
    /// Readiness to report.
    pub readiness: Option<String>,
    /// talosctl binaries published for every version ≥1.11.
    pub talosctl: Vec<String>,
    /// PEM served at `/oci/cosign/signing-key.pub`.
    pub cosign_public_key: Option<String>,
    /// PEM served at `/secureboot/signing-cert.pem`.
    pub secureboot_cert: Option<String>,
}

impl MemoryPlatform {
    /// A platform serving these versions, each with its catalog.
    pub fn new(releases: Vec<(TalosVersion, ReleaseCatalog)>) -> Self {
        let mut versions: Vec<TalosVersion> = releases.iter().map(|(v, _)| v.clone()).collect();
        versions.sort();
        MemoryPlatform {
            versions,
            releases: releases.into_iter().collect(),
            ..Default::default()
        }
    }

    /// Adds configured broken versions (`/versions?broken=true`).
    pub fn with_broken(mut self, broken: Vec<TalosVersion>) -> Self {
        self.broken = broken;
        self
    }

    /// How many builds ran (assets and installer indexes).
    pub fn builds(&self) -> u64 {
        self.builds.load(Ordering::SeqCst)
    }

    /// Stores a blob (for registry tests).
    pub fn put_blob(&self, bytes: Bytes) -> Digest {
        let digest = Digest::sha256_of(&bytes);
        lock(&self.blobs).insert(digest.to_string(), bytes);
        digest
    }

    /// Records a referrer of `subject`.
    pub fn add_referrer(&self, subject: &Digest, descriptor: Descriptor) {
        lock(&self.referrers)
            .entry(subject.to_string())
            .or_default()
            .push(descriptor);
    }

    fn store_asset(&self, key: &AssetKey, bytes: Bytes) -> AssetRecord {
        let record = AssetRecord {
            key: key.clone(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
            sha512: hex::encode(Sha512::digest(&bytes)),
        };
        lock(&self.assets).insert(key.as_str().to_owned(), (record.clone(), bytes));
        record
    }

    /// The deterministic bytes the fake builder makes for a key.
    pub fn fake_asset_bytes(key: &AssetKey) -> Bytes {
        Bytes::from(format!("fake asset {key}\n"))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned map only means a test thread panicked; the data is still usable.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Platform for MemoryPlatform {
    type Object = Bytes;

    async fn get_schematic(&self, id: &SchematicId) -> Result<Option<String>, PlatformError> {
        Ok(lock(&self.schematics).get(id.as_str()).cloned())
    }

    async fn put_schematic(
        &self,
        id: &SchematicId,
        canonical_yaml: &str,
    ) -> Result<(), PlatformError> {
        lock(&self.schematics).insert(id.as_str().to_owned(), canonical_yaml.to_owned());
        Ok(())
    }

    async fn versions(&self) -> Result<Vec<TalosVersion>, PlatformError> {
        Ok(self.versions.clone())
    }

    async fn broken_versions(&self) -> Result<Vec<TalosVersion>, PlatformError> {
        Ok(self.broken.clone())
    }

    async fn release(&self, version: &TalosVersion) -> Result<ReleaseCatalog, PlatformError> {
        self.releases
            .get(version)
            .cloned()
            .ok_or_else(|| PlatformError::Internal(format!("no catalog for {version}")))
    }

    async fn asset(
        &self,
        key: &AssetKey,
        _profile: &BuildProfile,
    ) -> Result<AssetRecord, PlatformError> {
        if let Some((record, _)) = lock(&self.assets).get(key.as_str()) {
            return Ok(record.clone());
        }
        if let Some(reason) = &self.failing_builds {
            return Err(PlatformError::BuildFailed(reason.clone()));
        }
        self.builds.fetch_add(1, Ordering::SeqCst);
        Ok(self.store_asset(key, MemoryPlatform::fake_asset_bytes(key)))
    }

    async fn deliver(
        &self,
        record: &AssetRecord,
        request: DeliveryRequest<'_>,
    ) -> Result<Delivery<Bytes>, PlatformError> {
        if let (true, Some(base)) = (request.allow_redirect, &self.redirect_base) {
            return Ok(Delivery::Redirect(format!("{base}{}", record.sha256)));
        }
        let bytes = lock(&self.assets)
            .get(record.key.as_str())
            .map(|(_, b)| b.clone())
            .ok_or_else(|| PlatformError::Internal(format!("asset {} vanished", record.key)))?;
        Ok(Delivery::Stream(match request.range {
            Some(r) => bytes.slice(r.start as usize..=r.end as usize),
            None => bytes,
        }))
    }

    async fn installer_index(
        &self,
        request: &InstallerRequest,
    ) -> Result<ManifestRecord, PlatformError> {
        let repository = request.repository();
        let tag = request.version.tag();
        if let Some(found) = lock(&self.manifests).get(&(repository.clone(), tag.clone())) {
            return Ok(found.clone());
        }
        if let Some(reason) = &self.failing_builds {
            return Err(PlatformError::BuildFailed(reason.clone()));
        }
        self.builds.fetch_add(1, Ordering::SeqCst);
        let manifests: Vec<serde_json::Value> = request
            .arches
            .iter()
            .map(|a| {
                let manifest = format!("{{\"fake-installer\":\"{}\"}}", a.key);
                serde_json::json!({
                    "mediaType": media_types::OCI_MANIFEST,
                    "digest": Digest::sha256_of(manifest.as_bytes()).to_string(),
                    "size": manifest.len(),
                    "platform": {"architecture": a.arch.as_str(), "os": "linux"},
                })
            })
            .collect();
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media_types::OCI_INDEX,
            "manifests": manifests,
        });
        let bytes = Bytes::from(index.to_string());
        let record = ManifestRecord {
            media_type: media_types::OCI_INDEX.to_owned(),
            digest: Digest::sha256_of(&bytes),
            bytes,
        };
        let mut manifests = lock(&self.manifests);
        manifests.insert((repository.clone(), tag), record.clone());
        manifests.insert((repository, record.digest.to_string()), record.clone());
        Ok(record)
    }

    async fn manifest(
        &self,
        repository: &str,
        reference: &Reference,
    ) -> Result<Option<ManifestRecord>, PlatformError> {
        let key = match reference {
            Reference::Tag(tag) => tag.clone(),
            Reference::Digest(digest) => digest.to_string(),
        };
        Ok(lock(&self.manifests)
            .get(&(repository.to_owned(), key))
            .cloned())
    }

    async fn blob(
        &self,
        _repository: &str,
        digest: &Digest,
    ) -> Result<Option<BlobDelivery<Bytes>>, PlatformError> {
        let found = lock(&self.blobs).get(&digest.to_string()).cloned();
        Ok(found.map(|bytes| match &self.redirect_base {
            Some(base) => BlobDelivery::Redirect(format!("{base}{}", digest.hex())),
            None => BlobDelivery::Stream {
                size: bytes.len() as u64,
                object: bytes,
            },
        }))
    }

    async fn referrers(
        &self,
        _repository: &str,
        digest: &Digest,
    ) -> Result<Vec<Descriptor>, PlatformError> {
        Ok(lock(&self.referrers)
            .get(&digest.to_string())
            .cloned()
            .unwrap_or_default())
    }

    async fn talosctl_binaries(
        &self,
        _version: &TalosVersion,
    ) -> Result<Vec<String>, PlatformError> {
        Ok(self.talosctl.clone())
    }

    async fn talosctl_asset(
        &self,
        version: &TalosVersion,
        name: &str,
    ) -> Result<Option<AssetRecord>, PlatformError> {
        if !self.talosctl.iter().any(|n| n == name) {
            return Ok(None);
        }
        let bytes = Bytes::from(format!("fake {name} {version}\n"));
        let key: AssetKey = hex::encode(Sha256::digest(format!("talosctl/{version}/{name}")))
            .parse()
            .map_err(|_| PlatformError::Internal("asset key".into()))?;
        Ok(Some(self.store_asset(&key, bytes)))
    }

    fn cosign_public_key_pem(&self) -> Option<String> {
        self.cosign_public_key.clone()
    }

    fn secureboot_cert_pem(&self) -> Option<String> {
        self.secureboot_cert.clone()
    }

    fn new_request_id(&self) -> String {
        format!("req-{}", self.requests.fetch_add(1, Ordering::SeqCst) + 1)
    }

    async fn readiness(&self) -> Readiness {
        match &self.readiness {
            None => Readiness::Ready,
            Some(reason) => Readiness::NotReady(reason.clone()),
        }
    }
}

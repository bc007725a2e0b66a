//! [`StandalonePlatform`]: the `core` frontend's [`Platform`] over the
//! embedded store, in-process builds and an upstream registry.
//!
//! Layout of the data directory:
//!
//! | path                    | what                                              |
//! |-------------------------|---------------------------------------------------|
//! | `db/factory.redb`       | schematics, signed records, manifests, catalogs   |
//! | `blobs/sha256/<hex>`    | artifacts and OCI blobs, content-addressed        |
//! | `keys/signing-key.pem`  | the signing key (unless configured elsewhere)     |
//! | `cache/`                | the upstream puller's verified blob cache         |
//! | `work/`                 | build intermediates (emptied at every start)      |
//!
//! Every asset record read is verified with the public key and its blob is
//! checked (size on every read, digest once per process and file); anything
//! that fails is logged, counted (`corrupt_records`) and treated as a miss.
//!
//! [`Platform`]: factory_core::frontend::Platform

mod assets;
mod error;
mod impl_platform;
pub mod installer;
mod keys;
mod upstream;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use factory_core::asset_key::AssetKey;
use factory_core::catalog::VersionPolicy;
use factory_core::frontend::{AssetRecord, ManifestRecord};
use factory_core::record::PublicKey;
use factory_imager::pull::Puller;
use factory_imager::signing::SigningKey;

use crate::builds::{Builds, BuildsConfig};
use crate::catalogs::{CatalogRefreshError, Catalogs};
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::store::Store;

pub use error::OpenError;

/// See the module docs.
#[derive(Debug, Clone)]
pub struct StandalonePlatform {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: Settings,
    store: Arc<Store>,
    key: SigningKey,
    public: PublicKey,
    puller: Arc<Puller>,
    catalogs: Catalogs,
    assets: Builds<AssetKey, AssetRecord>,
    installers: Builds<String, ManifestRecord>,
    metrics: Arc<Metrics>,
    work_root: PathBuf,
}

impl StandalonePlatform {
    /// Creates the data directory layout, loads or generates the signing
    /// key, opens the store and sets up the upstream puller. Makes no
    /// network request: it succeeds with upstream unreachable.
    pub async fn open(settings: &Settings, metrics: Arc<Metrics>) -> Result<Self, OpenError> {
        let settings = settings.clone();
        tokio::task::spawn_blocking(move || Self::open_blocking(settings, metrics))
            .await
            .map_err(|e| OpenError::Io {
                action: "joining the open task for",
                path: PathBuf::new(),
                source: std::io::Error::other(e.to_string()),
            })?
    }

    fn open_blocking(settings: Settings, metrics: Arc<Metrics>) -> Result<Self, OpenError> {
        let data = settings.data_dir.clone();
        std::fs::create_dir_all(&data).map_err(OpenError::io("creating", &data))?;
        // The store first: its file lock keeps a second process off this
        // data directory before anything in it is touched.
        let store = Arc::new(Store::open(&data)?);
        let work_root = data.join("work");
        if work_root.exists() {
            std::fs::remove_dir_all(&work_root)
                .map_err(OpenError::io("emptying the work directory", &work_root))?;
        }
        std::fs::create_dir_all(&work_root).map_err(OpenError::io("creating", &work_root))?;
        let key_path = settings
            .signing_key
            .clone()
            .unwrap_or_else(|| data.join("keys").join("signing-key.pem"));
        let key = keys::load_or_generate(&key_path)?;
        let puller = Arc::new(upstream::puller_for(&settings)?);
        let catalogs = Catalogs::open(
            Arc::clone(&store),
            VersionPolicy {
                min_version: settings.min_version.clone(),
                broken: settings.broken_versions.clone(),
            },
            settings.catalog_refresh,
        );
        let config = BuildsConfig {
            concurrency: settings.build_concurrency,
            timeout: settings.build_timeout,
            failure_ttl: settings.failure_ttl,
        };
        Ok(StandalonePlatform {
            inner: Arc::new(Inner {
                public: key.public_key(),
                key,
                store,
                puller,
                catalogs,
                assets: Builds::new(config, Arc::clone(&metrics)),
                installers: Builds::new(config, Arc::clone(&metrics)),
                metrics,
                work_root,
                settings,
            }),
        })
    }

    /// Fetches the versions list from upstream (the binary calls this at
    /// start and every `Settings::catalog_refresh`). On failure the last
    /// good catalogs stay and [`readiness`](factory_core::frontend::Platform::readiness)
    /// reports why.
    pub async fn refresh_catalogs(&self) -> Result<(), CatalogRefreshError> {
        self.inner.catalogs.refresh(&self.inner.puller).await
    }

    /// Waits up to `grace` for running builds to finish (graceful
    /// shutdown); returns how many were still running. Those are abandoned
    /// when the runtime stops: their bytes never got a record, so nothing
    /// partial is ever served.
    pub async fn drain(&self, grace: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + grace;
        let assets = self.inner.assets.drain(grace).await;
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let installers = self.inner.installers.drain(left).await;
        assets + installers
    }

    /// The public key records and installer signatures verify with.
    pub fn public_key(&self) -> &PublicKey {
        &self.inner.public
    }

    /// The metrics this platform counts into.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }
}

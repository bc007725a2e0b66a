//! Versions and release catalogs: fetched from upstream, kept in the store,
//! served from memory.
//!
//! The versions list is refreshed by the binary (at start and on an
//! interval, [`Catalogs::refresh`]); a failed refresh keeps the last good
//! list (from memory, or from the store after a restart) and is reported by
//! [`Catalogs::problem`] for `/readyz`. Release catalogs are fetched on first
//! use, one fetch at a time (so a burst of requests for a new version costs
//! one fetch), kept, and re-fetched when older than the refresh interval;
//! if that re-fetch fails the stale catalog keeps being served and the next
//! attempt waits another interval.

mod stored;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use factory_core::catalog::{ReleaseCatalog, VersionPolicy};
use factory_core::frontend::PlatformError;
use factory_core::version::TalosVersion;
use factory_imager::catalog::{self as upstream, CatalogError};
use factory_imager::pull::Puller;

use crate::store::{Store, StoreError};
pub(crate) use stored::now_unix;
use stored::{StoredRelease, StoredVersions, VERSIONS_KEY, release_key};

/// A refresh of the versions list failed; the last good list stays.
#[derive(Debug, thiserror::Error)]
pub enum CatalogRefreshError {
    /// Upstream could not be read.
    #[error("fetching the Talos versions from upstream: {0}")]
    Upstream(#[from] CatalogError),
    /// The store failed.
    #[error("storing the Talos versions: {0}")]
    Store(#[from] StoreError),
}

#[derive(Debug, Default)]
struct State {
    versions: Option<Vec<TalosVersion>>,
    problem: Option<String>,
    releases: HashMap<TalosVersion, (ReleaseCatalog, u64)>,
}

/// See the module docs.
#[derive(Debug)]
pub struct Catalogs {
    store: Arc<Store>,
    policy: VersionPolicy,
    max_age: Duration,
    state: RwLock<State>,
    fetching: tokio::sync::Mutex<()>,
}

impl Catalogs {
    /// Loads the last stored versions list (if any); `max_age` is how old a
    /// release catalog may get before it is re-fetched.
    pub fn open(store: Arc<Store>, policy: VersionPolicy, max_age: Duration) -> Self {
        let mut state = State {
            problem: Some("the Talos versions have not been fetched from upstream yet".into()),
            ..State::default()
        };
        match store.get_catalog(VERSIONS_KEY) {
            Ok(Some(json)) => match serde_json::from_slice::<StoredVersions>(&json) {
                Ok(stored) => {
                    let versions: Vec<TalosVersion> = stored
                        .parsed()
                        .into_iter()
                        .filter(|v| *v >= policy.min_version && !policy.broken.contains(v))
                        .collect();
                    state.versions = Some(versions);
                }
                Err(e) => tracing::warn!(error = %e, "ignoring a malformed stored versions list"),
            },
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "reading the stored versions list"),
        }
        Catalogs {
            store,
            policy,
            max_age,
            state: RwLock::new(state),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// Fetches the versions list from upstream and stores it; on failure
    /// keeps the last good list and records why for [`problem`](Self::problem).
    pub async fn refresh(&self, puller: &Puller) -> Result<(), CatalogRefreshError> {
        let result = self.fetch_versions(puller).await;
        let mut state = self.write();
        match &result {
            Ok(versions) => {
                state.versions = Some(versions.clone());
                state.problem = None;
            }
            Err(error) => {
                tracing::warn!(%error, "catalog refresh failed; keeping the last good catalogs");
                state.problem = Some(error.to_string());
            }
        }
        result.map(drop)
    }

    async fn fetch_versions(
        &self,
        puller: &Puller,
    ) -> Result<Vec<TalosVersion>, CatalogRefreshError> {
        let versions = upstream::versions(puller, &self.policy).await?;
        let json = serde_json::to_vec(&StoredVersions::new(&versions)).map_err(|e| {
            StoreError::Malformed {
                what: "versions list".into(),
                reason: e.to_string(),
            }
        })?;
        let store = Arc::clone(&self.store);
        blocking(move || store.put_catalog(VERSIONS_KEY, &json))
            .await
            .map_err(|e| StoreError::Malformed {
                what: "versions list".into(),
                reason: e.to_string(),
            })??;
        Ok(versions)
    }

    /// Why the catalogs are not current, if they are not.
    pub fn problem(&self) -> Option<String> {
        self.read().problem.clone()
    }

    /// The available versions, ascending.
    pub fn versions(&self) -> Result<Vec<TalosVersion>, PlatformError> {
        let state = self.read();
        match &state.versions {
            Some(versions) => Ok(versions.clone()),
            None => Err(PlatformError::Unavailable(
                state
                    .problem
                    .clone()
                    .unwrap_or_else(|| "no Talos versions are known yet".into()),
            )),
        }
    }

    /// The catalog of one release: from memory or the store while fresh,
    /// else fetched from upstream (a stale copy is served if that fails).
    pub async fn release(
        &self,
        puller: &Puller,
        version: &TalosVersion,
    ) -> Result<ReleaseCatalog, PlatformError> {
        if let Some(catalog) = self.fresh(version) {
            return Ok(catalog);
        }
        let _one_at_a_time = self.fetching.lock().await;
        if let Some(catalog) = self.fresh(version) {
            return Ok(catalog);
        }
        let in_memory = self.read().releases.get(version).cloned();
        let stale = match in_memory {
            Some(found) => Some(found),
            None => self.load_release(version).await,
        };
        if let Some((catalog, at)) = &stale
            && !self.too_old(*at)
        {
            self.write()
                .releases
                .insert(version.clone(), (catalog.clone(), *at));
            return Ok(catalog.clone());
        }
        match upstream::release(puller, version).await {
            Ok(catalog) => {
                let at = now_unix();
                self.save_release(version, &catalog, at).await;
                self.write()
                    .releases
                    .insert(version.clone(), (catalog.clone(), at));
                Ok(catalog)
            }
            Err(error) => match stale {
                Some((catalog, _)) => {
                    tracing::warn!(%version, %error, "serving a stale release catalog");
                    // Next attempt after another interval, not on every
                    // request while upstream is down.
                    self.write()
                        .releases
                        .insert(version.clone(), (catalog.clone(), now_unix()));
                    Ok(catalog)
                }
                None => Err(PlatformError::Unavailable(format!(
                    "fetching the catalog of Talos {version} from upstream: {error}"
                ))),
            },
        }
    }

    fn fresh(&self, version: &TalosVersion) -> Option<ReleaseCatalog> {
        let state = self.read();
        let (catalog, at) = state.releases.get(version)?;
        (!self.too_old(*at)).then(|| catalog.clone())
    }

    fn too_old(&self, fetched_at: u64) -> bool {
        now_unix().saturating_sub(fetched_at) > self.max_age.as_secs()
    }

    async fn load_release(&self, version: &TalosVersion) -> Option<(ReleaseCatalog, u64)> {
        let store = Arc::clone(&self.store);
        let key = release_key(version);
        let json = match blocking(move || store.get_catalog(&key)).await {
            Ok(Ok(json)) => json?,
            Ok(Err(error)) => {
                tracing::warn!(%version, %error, "reading a stored release catalog");
                return None;
            }
            Err(error) => {
                tracing::warn!(%version, %error, "reading a stored release catalog");
                return None;
            }
        };
        match serde_json::from_slice::<StoredRelease>(&json) {
            Ok(stored) => Some((stored.catalog(), stored.fetched_at)),
            Err(error) => {
                tracing::warn!(%version, %error, "ignoring a malformed stored release catalog");
                None
            }
        }
    }

    async fn save_release(&self, version: &TalosVersion, catalog: &ReleaseCatalog, at: u64) {
        let Ok(json) = serde_json::to_vec(&StoredRelease::new(catalog, at)) else {
            return;
        };
        let store = Arc::clone(&self.store);
        let key = release_key(version);
        match blocking(move || store.put_catalog(&key, &json)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%version, %error, "storing a release catalog"),
            Err(error) => tracing::warn!(%version, %error, "storing a release catalog"),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // Plain data replaced whole; usable after a panic elsewhere.
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    tokio::task::spawn_blocking(job).await
}

//! Everything a request needs, made once per process (per Lambda cold
//! start) and shared by every invocation.
//!
//! The cache directory survives warm invocations: `blobs/` is the imager's
//! verified upstream blob cache (so a warm builder does not download the
//! imager image again), `work/` holds build scratch and is emptied at start
//! (a previous process may have died mid-build).

use std::path::PathBuf;
use std::sync::Mutex;

use factory_core::dispatch::auth::{DispatchSecret, ReplayGuard};
use factory_core::record::PublicKey;
use factory_imager::pull::{PullError, Puller, PullerConfig};
use factory_imager::signing::SigningKey;

use crate::config::Config;
use crate::counters::Counters;
use crate::jobs::JobFailure;
use crate::single_flight::SingleFlight;
use crate::store::{Bucket, StoreError};

/// The builder could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A cache directory could not be prepared.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The upstream puller could not be set up.
    #[error("setting up the upstream puller: {0}")]
    Upstream(#[from] PullError),
    /// The bucket client could not be set up.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// See the module docs.
#[derive(Debug)]
pub struct State {
    /// The bucket.
    pub bucket: Bucket,
    /// The signing key.
    pub key: SigningKey,
    /// Its public half (records are re-verified with it before reuse).
    pub public: PublicKey,
    /// The HMAC secret shared with the edge.
    pub secret: DispatchSecret,
    /// Nonces accepted within the replay window.
    pub replay: Mutex<ReplayGuard>,
    /// Upstream content.
    pub puller: Puller,
    /// The factory's public URL.
    pub external_url: String,
    /// Build scratch.
    pub work_root: PathBuf,
    /// The puller's cache directory.
    pub puller_root: PathBuf,
    /// Its limit ([`crate::cache_limit`]).
    pub cache_max_bytes: u64,
    /// One build per key.
    pub flights: SingleFlight,
    /// Accepted jobs and builds.
    pub counters: Counters,
    /// Builds running at once ([`MAX_CONCURRENT_BUILDS`] permits).
    pub build_slots: tokio::sync::Semaphore,
}

/// The most builds one process runs at once (a Lambda instance serves one
/// request at a time; local mode may get many). Further builds wait for a
/// slot; lookups of stored answers never wait.
pub const MAX_CONCURRENT_BUILDS: usize = 2;
/// The longest a build (with its uploads) may take: under Lambda's own
/// 15-minute ceiling, so a stuck build answers `buildFailed` instead of the
/// invocation being killed without an answer.
pub const BUILD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(14 * 60);

impl State {
    /// Runs `build` in a build slot, within [`BUILD_TIMEOUT`].
    pub async fn in_build_slot<T>(
        &self,
        what: &str,
        build: impl std::future::Future<Output = Result<T, JobFailure>>,
    ) -> Result<T, JobFailure> {
        self.trim_cache_if_idle().await;
        let _slot = self
            .build_slots
            .acquire()
            .await
            .map_err(|e| JobFailure::Failed(format!("no build slot: {e}")))?;
        tokio::time::timeout(BUILD_TIMEOUT, build)
            .await
            .map_err(|_| {
                JobFailure::Failed(format!(
                    "building {what} took longer than {} s",
                    BUILD_TIMEOUT.as_secs()
                ))
            })?
    }

    /// Applies [`crate::cache_limit::trim`] when no build runs (skipped,
    /// until the next build, while one does: it may be reading the cache).
    async fn trim_cache_if_idle(&self) {
        let Ok(_all) = self
            .build_slots
            .try_acquire_many(MAX_CONCURRENT_BUILDS as u32)
        else {
            return;
        };
        let (root, max) = (self.puller_root.clone(), self.cache_max_bytes);
        match tokio::task::spawn_blocking(move || crate::cache_limit::trim(&root, max)).await {
            Ok(Ok(Some(freed))) => {
                tracing::info!(freed, limit = max, "emptied the upstream caches");
            }
            Ok(Ok(None)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "trimming the upstream caches"),
            Err(error) => tracing::warn!(%error, "trimming the upstream caches"),
        }
    }

    /// Prepares the cache directory and the clients; makes no network
    /// request.
    pub fn open(config: Config) -> Result<State, OpenError> {
        let io = |action, path: &PathBuf| {
            let path = path.clone();
            move |source| OpenError::Io {
                action,
                path,
                source,
            }
        };
        let blobs = config.cache_dir.join("blobs");
        let work_root = config.cache_dir.join("work");
        std::fs::create_dir_all(&blobs).map_err(io("creating", &blobs))?;
        if work_root.exists() {
            std::fs::remove_dir_all(&work_root).map_err(io("emptying", &work_root))?;
        }
        std::fs::create_dir_all(&work_root).map_err(io("creating", &work_root))?;
        let puller = Puller::new(PullerConfig {
            registry: config.upstream_registry.clone(),
            namespace: config.upstream_namespace.clone(),
            insecure: config.upstream_insecure,
            cache_dir: blobs.clone(),
        })?;
        let bucket = Bucket::open(&config)?;
        Ok(State {
            bucket,
            public: config.signing_key.public_key(),
            key: config.signing_key,
            secret: config.dispatch_secret,
            replay: Mutex::new(ReplayGuard::new()),
            puller,
            external_url: config.external_url,
            work_root,
            puller_root: blobs,
            cache_max_bytes: config.cache_max_bytes,
            flights: SingleFlight::default(),
            counters: Counters::default(),
            build_slots: tokio::sync::Semaphore::new(MAX_CONCURRENT_BUILDS),
        })
    }
}

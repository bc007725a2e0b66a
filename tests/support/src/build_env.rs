//! What a build test over the synthetic release needs: the registry, a
//! puller of it with a cache of its own, and a scratch directory, owned
//! together so one value keeps them alive for the test (fields drop in
//! order: the registry stops last).

use factory_imager::build::BuildContext;
use factory_imager::pull::Puller;

use crate::registry::SyntheticRegistry;

/// The factory URL the tests' build contexts name (in the schematic
/// extension).
pub const EXTERNAL_URL: &str = "http://127.0.0.1:8080/";

/// The synthetic release in a registry of its own, a puller of it and a
/// work directory.
pub struct BuildEnv {
    /// A puller of [`BuildEnv::upstream`] caching under a temporary
    /// directory.
    pub puller: Puller,
    /// Scratch space for the test's builds and checks.
    pub work: tempfile::TempDir,
    _cache: tempfile::TempDir,
    /// The registry serving the synthetic release.
    pub upstream: SyntheticRegistry,
}

impl std::fmt::Debug for BuildEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildEnv")
            .field("upstream", &self.upstream)
            .field("work", &self.work)
            .finish_non_exhaustive()
    }
}

impl BuildEnv {
    /// Starts the registry (see [`SyntheticRegistry::start`]) and the
    /// puller.
    pub fn start() -> BuildEnv {
        let upstream = SyntheticRegistry::start();
        let cache = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let puller = upstream.puller(cache.path());
        BuildEnv {
            puller,
            work,
            _cache: cache,
            upstream,
        }
    }

    /// A build context over the puller, with intermediates under `work`.
    pub fn context(&self) -> BuildContext<'_> {
        BuildContext {
            puller: &self.puller,
            external_url: EXTERNAL_URL,
            work_root: self.work.path(),
        }
    }
}

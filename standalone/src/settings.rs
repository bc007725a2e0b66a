//! The resolved configuration of a standalone factory.
//!
//! The command line, `IF_*` environment variables and the optional config
//! file are merged into one [`Settings`] (see `config` in the binary); the
//! storage, build and server parts read only this struct, so they can be
//! tested without parsing anything.

use std::path::PathBuf;
use std::time::Duration;

use factory_core::version::TalosVersion;

/// Where upstream Talos content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// An OCI registry (`ghcr.io` by default).
    Registry {
        /// Host and port.
        host: String,
        /// Path prefix inside the registry (empty for none).
        namespace: String,
        /// Plain HTTP instead of HTTPS.
        insecure: bool,
    },
    /// An OCI image layout directory (offline mode, e.g. written by
    /// `image-factory mirror`).
    Layout(PathBuf),
}

/// Everything the factory needs to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Root of all state: the key-value store, blobs, keys, caches.
    pub data_dir: PathBuf,
    /// Public base URL (`http://127.0.0.1:8080/` by default).
    pub external_url: String,
    /// Public base URL for iPXE, if different.
    pub pxe_url: Option<String>,
    /// Upstream content.
    pub upstream: Upstream,
    /// PEM of the ECDSA P-256 key that signs records and installer
    /// signatures; `None` means `<data_dir>/keys/signing-key.pem`,
    /// generated on first start.
    pub signing_key: Option<PathBuf>,
    /// Builds running at once.
    pub build_concurrency: usize,
    /// A build taking longer is abandoned and reported as failed.
    pub build_timeout: Duration,
    /// How long a failed build is remembered (and answered without
    /// retrying) before a new request may try again.
    pub failure_ttl: Duration,
    /// How often catalogs (versions, extensions, overlays) are refreshed.
    pub catalog_refresh: Duration,
    /// Oldest Talos version served.
    pub min_version: TalosVersion,
    /// Versions withheld from `/versions` and refused for builds.
    pub broken_versions: Vec<TalosVersion>,
}

impl Settings {
    /// Defaults for a data directory: loopback URL, ghcr.io, two builds at
    /// once, 30-minute build timeout, failures remembered for a minute,
    /// catalogs refreshed every 15 minutes, versions from 1.2.0.
    pub fn new(data_dir: PathBuf) -> Self {
        Settings {
            data_dir,
            external_url: "http://127.0.0.1:8080/".to_owned(),
            pxe_url: None,
            upstream: Upstream::Registry {
                host: "ghcr.io".to_owned(),
                namespace: String::new(),
                insecure: false,
            },
            signing_key: None,
            build_concurrency: 2,
            build_timeout: Duration::from_secs(30 * 60),
            failure_ttl: Duration::from_secs(60),
            catalog_refresh: Duration::from_secs(15 * 60),
            min_version: TalosVersion::new(1, 2, 0),
            broken_versions: Vec::new(),
        }
    }
}

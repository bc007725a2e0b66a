//! Pulling upstream OCI content: manifests, per-arch images, tags and blobs.
//!
//! Everything the factory builds comes from upstream OCI content: a
//! registry (`ghcr.io` in production, Debian's `docker-registry` with our
//! synthetic release in tests) or, offline, an OCI image layout directory
//! holding several repositories (see [`layout`] for the convention; written
//! by [`crate::mirror`] or the synthetic release generator). Callers see one
//! [`Puller`] API whatever the source. Two properties matter more than speed:
//!
//! - **Integrity**: every manifest and blob is checked against the digest it
//!   was asked for, from either source; a blob that does not hash to its
//!   digest never reaches the cache (see [`cache`]).
//! - **Sharing**: blobs land in an on-disk content-addressed cache shared by
//!   all builds, and concurrent requests for the same blob wait for one
//!   download (or copy out of the layout) instead of starting their own.
//!
//! Upstream signatures can be verified with a configured public key
//! ([`signature`]); keyless (Fulcio/Rekor) verification is not implemented.

pub mod cache;
mod error;
pub mod layout;
pub mod manifest;
mod registry;
pub mod signature;

use std::path::{Path, PathBuf};

use factory_core::arch::Arch;
use factory_core::registry::{Descriptor, Digest};

pub use cache::BlobCache;
pub use error::PullError;
pub use manifest::{ImageManifest, Index, Manifest, RawManifest};
pub use signature::SignatureKey;

use layout::LayoutSource;
use registry::RegistrySource;

/// What [`Puller::registry`] reports for a layout source: content mirrored
/// from Sidero's registry keeps upstream's names in catalogs, as the
/// official factory shows them.
pub const LAYOUT_REGISTRY: &str = "ghcr.io";

/// Where upstream content comes from.
#[derive(Debug, Clone)]
pub struct PullerConfig {
    /// Registry host (and port), e.g. `ghcr.io` or `127.0.0.1:5000`.
    pub registry: String,
    /// Path prefix inside the registry, e.g. a pull-through cache project
    /// (empty for none).
    pub namespace: String,
    /// Talk plain HTTP instead of HTTPS (local test registries).
    pub insecure: bool,
    /// Directory of the shared blob cache.
    pub cache_dir: PathBuf,
}

/// The two kinds of upstream.
enum Source {
    Registry(RegistrySource),
    Layout(LayoutSource),
}

/// See the module docs.
pub struct Puller {
    source: Source,
    cache: BlobCache,
}

impl std::fmt::Debug for Puller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("Puller");
        match &self.source {
            Source::Registry(registry) => s.field("config", &registry.config),
            Source::Layout(layout) => s.field("layout", &layout.root()),
        };
        s.field("cache", &self.cache).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for BlobCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobCache")
            .field("root", &self.root())
            .finish_non_exhaustive()
    }
}

impl Puller {
    /// A puller of the registry in `config`; the cache directory is created
    /// if needed.
    pub fn new(config: PullerConfig) -> Result<Self, PullError> {
        let cache = BlobCache::open(config.cache_dir.clone())?;
        Ok(Puller {
            source: Source::Registry(RegistrySource::new(config)),
            cache,
        })
    }

    /// A puller of the multi-repository OCI layout at `layout_dir` (see
    /// [`layout`]), caching verified blobs under `cache_dir` (created if
    /// needed). Blobs are copied into the cache rather than read in place:
    /// they are verified once, on the way in, so a layout on removable or
    /// shared media that changes later cannot change what a build reads,
    /// and builds see the same cache paths whatever the source.
    pub fn from_layout(
        layout_dir: impl Into<PathBuf>,
        cache_dir: impl Into<PathBuf>,
    ) -> Result<Self, PullError> {
        let cache = BlobCache::open(cache_dir.into())?;
        Ok(Puller {
            source: Source::Layout(LayoutSource::open(layout_dir.into())?),
            cache,
        })
    }

    /// The registry host catalog references name: the configured one, or
    /// [`LAYOUT_REGISTRY`] for a layout.
    pub fn registry(&self) -> &str {
        match &self.source {
            Source::Registry(registry) => &registry.config.registry,
            Source::Layout(_) => LAYOUT_REGISTRY,
        }
    }

    /// The layout directory, when this puller reads one.
    pub fn layout_dir(&self) -> Option<&Path> {
        match &self.source {
            Source::Registry(_) => None,
            Source::Layout(layout) => Some(layout.root()),
        }
    }

    /// The shared blob cache.
    pub fn cache(&self) -> &BlobCache {
        &self.cache
    }

    /// The full repository path of an upstream repository (`siderolabs/imager`
    /// becomes `<namespace>/siderolabs/imager`; unchanged in a layout).
    pub fn repository_path(&self, repository: &str) -> String {
        match &self.source {
            Source::Registry(registry) => registry.repository_path(repository),
            Source::Layout(_) => repository.to_owned(),
        }
    }

    /// All tags of a repository (paginated as the registry allows; sorted
    /// for a layout).
    pub async fn tags(&self, repository: &str) -> Result<Vec<String>, PullError> {
        match &self.source {
            Source::Registry(registry) => registry.tags(repository).await,
            Source::Layout(layout) => layout.tags(repository).await,
        }
    }

    /// A manifest or index by tag or digest, its bytes checked against its
    /// digest (the requested one, when pulling by digest).
    pub async fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<RawManifest, PullError> {
        let (bytes, digest) = match &self.source {
            Source::Layout(layout) => layout.manifest(repository, reference).await?,
            Source::Registry(registry) => {
                let (bytes, reported) = registry.manifest(repository, reference).await?;
                let digest = Digest::sha256_of(&bytes);
                if let Ok(wanted) = reference.parse::<Digest>() {
                    if !wanted.matches(&bytes) {
                        return Err(PullError::DigestMismatch {
                            what: format!("manifest {repository}@{wanted}"),
                            actual: digest,
                        });
                    }
                    (bytes, wanted)
                } else if reported != digest.to_string() {
                    return Err(PullError::DigestMismatch {
                        what: format!("manifest {repository}:{reference}"),
                        actual: digest,
                    });
                } else {
                    (bytes, digest)
                }
            }
        };
        RawManifest::parse(bytes, digest)
    }

    /// The single-architecture image manifest of `reference` for `arch`: the
    /// matching `linux/<arch>` entry of an index, or the manifest itself when
    /// the reference is not an index.
    pub async fn image_for_arch(
        &self,
        repository: &str,
        reference: &str,
        arch: Arch,
    ) -> Result<ImageManifest, PullError> {
        let top = self.manifest(repository, reference).await?;
        match top.parsed()? {
            Manifest::Image(image) => Ok(*image),
            Manifest::Index(index) => {
                let entry = index.for_platform("linux", arch.as_str()).ok_or_else(|| {
                    PullError::NoPlatform {
                        repository: repository.to_owned(),
                        reference: reference.to_owned(),
                        arch,
                    }
                })?;
                let digest = entry.digest.to_string();
                match self.manifest(repository, &digest).await?.parsed()? {
                    Manifest::Image(image) => Ok(*image),
                    Manifest::Index(_) => Err(PullError::NestedIndex {
                        repository: repository.to_owned(),
                        digest,
                    }),
                }
            }
        }
    }

    /// A blob's path in the shared cache, fetching it (once, whatever the
    /// number of concurrent callers) if it is not there yet.
    pub async fn blob(&self, repository: &str, blob: &Descriptor) -> Result<PathBuf, PullError> {
        self.cache
            .get_or_fetch(&blob.digest, |tmp| async move {
                match &self.source {
                    Source::Registry(registry) => registry.blob_into(repository, blob, tmp).await,
                    Source::Layout(layout) => layout.blob_into(blob, tmp).await,
                }
            })
            .await
    }
}

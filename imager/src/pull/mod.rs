//! Pulling upstream OCI content: manifests, per-arch images, tags and blobs.
//!
//! Everything the factory builds comes from a registry (`ghcr.io` in
//! production, Debian's `docker-registry` with our synthetic release in
//! tests), so the puller is written once against the distribution API
//! (through `oci-client`) and configured by registry, namespace and a
//! plain-HTTP switch. Two properties matter more than speed:
//!
//! - **Integrity**: every manifest and blob is checked against the digest it
//!   was asked for; a blob that does not hash to its digest never reaches the
//!   cache (see [`cache`]).
//! - **Sharing**: blobs land in an on-disk content-addressed cache shared by
//!   all builds, and concurrent requests for the same blob wait for one
//!   download instead of starting their own.
//!
//! Upstream signatures can be verified with a configured public key
//! ([`signature`]); keyless (Fulcio/Rekor) verification is not implemented.

pub mod cache;
mod error;
pub mod manifest;
pub mod signature;

use std::path::PathBuf;

use factory_core::arch::Arch;
use factory_core::registry::{Descriptor, Digest, media_types};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

pub use cache::BlobCache;
pub use error::PullError;
pub use manifest::{ImageManifest, Index, Manifest, RawManifest};
pub use signature::SignatureKey;

/// Manifest media types we accept, in preference order.
const ACCEPTED_MANIFESTS: [&str; 4] = [
    media_types::OCI_INDEX,
    media_types::OCI_MANIFEST,
    media_types::DOCKER_MANIFEST_LIST,
    media_types::DOCKER_MANIFEST_V2,
];

/// Tags are listed in pages of this size; a repository with more than
/// [`MAX_TAG_PAGES`] pages is refused rather than walked forever.
const TAG_PAGE_SIZE: usize = 1000;
/// See [`TAG_PAGE_SIZE`].
const MAX_TAG_PAGES: usize = 100;

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

/// See the module docs.
pub struct Puller {
    client: Client,
    config: PullerConfig,
    cache: BlobCache,
}

impl std::fmt::Debug for Puller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Puller")
            .field("config", &self.config)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
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
    /// A puller for `config`; the cache directory is created if needed.
    pub fn new(config: PullerConfig) -> Result<Self, PullError> {
        let protocol = if config.insecure {
            ClientProtocol::HttpsExcept(vec![config.registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let client = Client::new(ClientConfig {
            protocol,
            ..ClientConfig::default()
        });
        let cache = BlobCache::open(config.cache_dir.clone())?;
        Ok(Puller {
            client,
            config,
            cache,
        })
    }

    /// The configured registry host, as catalog references name it.
    pub fn registry(&self) -> &str {
        &self.config.registry
    }

    /// The shared blob cache.
    pub fn cache(&self) -> &BlobCache {
        &self.cache
    }

    /// The full repository path of an upstream repository (`siderolabs/imager`
    /// becomes `<namespace>/siderolabs/imager`).
    pub fn repository_path(&self, repository: &str) -> String {
        let namespace = self.config.namespace.trim_matches('/');
        if namespace.is_empty() {
            repository.to_owned()
        } else {
            format!("{namespace}/{repository}")
        }
    }

    fn reference(&self, repository: &str, tag_or_digest: &str) -> Reference {
        let repo = self.repository_path(repository);
        if tag_or_digest.contains(':') {
            Reference::with_digest(self.config.registry.clone(), repo, tag_or_digest.to_owned())
        } else {
            Reference::with_tag(self.config.registry.clone(), repo, tag_or_digest.to_owned())
        }
    }

    /// All tags of a repository (paginated as the registry allows).
    pub async fn tags(&self, repository: &str) -> Result<Vec<String>, PullError> {
        let image = self.reference(repository, "latest");
        let mut tags = Vec::new();
        let mut last: Option<String> = None;
        for _ in 0..MAX_TAG_PAGES {
            let page = self
                .client
                .list_tags(
                    &image,
                    &RegistryAuth::Anonymous,
                    Some(TAG_PAGE_SIZE),
                    last.as_deref(),
                )
                .await
                .map_err(|source| PullError::registry("listing tags of", repository, source))?;
            let count = page.tags.len();
            last = page.tags.last().cloned();
            tags.extend(page.tags);
            if count < TAG_PAGE_SIZE {
                return Ok(tags);
            }
        }
        Err(PullError::TooManyTags {
            repository: repository.to_owned(),
            limit: TAG_PAGE_SIZE * MAX_TAG_PAGES,
        })
    }

    /// A manifest or index by tag or digest, its bytes checked against its
    /// digest (the requested one, when pulling by digest).
    pub async fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<RawManifest, PullError> {
        let image = self.reference(repository, reference);
        let (bytes, reported) = self
            .client
            .pull_manifest_raw(&image, &RegistryAuth::Anonymous, &ACCEPTED_MANIFESTS)
            .await
            .map_err(|source| PullError::registry("fetching manifest of", repository, source))?;
        let digest = Digest::sha256_of(&bytes);
        if let Ok(wanted) = reference.parse::<Digest>() {
            if wanted != digest {
                return Err(PullError::DigestMismatch {
                    what: format!("manifest {repository}@{wanted}"),
                    actual: digest,
                });
            }
        } else if reported != digest.to_string() {
            return Err(PullError::DigestMismatch {
                what: format!("manifest {repository}:{reference}"),
                actual: digest,
            });
        }
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

    /// A blob's path in the shared cache, downloading it (once, whatever the
    /// number of concurrent callers) if it is not there yet.
    pub async fn blob(&self, repository: &str, blob: &Descriptor) -> Result<PathBuf, PullError> {
        let image = self.reference(repository, &blob.digest.to_string());
        self.cache
            .get_or_fetch(&blob.digest, |tmp| async move {
                let file = tokio::fs::File::create(&tmp)
                    .await
                    .map_err(|source| PullError::Io {
                        action: "creating",
                        path: tmp.clone(),
                        source,
                    })?;
                let layer = oci_client::manifest::OciDescriptor {
                    media_type: blob.media_type.clone(),
                    digest: blob.digest.to_string(),
                    size: i64::try_from(blob.size).unwrap_or(i64::MAX),
                    ..Default::default()
                };
                self.client
                    .pull_blob(&image, &layer, file)
                    .await
                    .map_err(|source| {
                        PullError::registry("downloading a blob of", repository, source)
                    })?;
                Ok(tmp)
            })
            .await
    }
}

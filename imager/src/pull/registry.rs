//! The registry source of a [`Puller`](super::Puller): the distribution API
//! through `oci-client`, anonymous, HTTPS unless configured otherwise.
//!
//! It only moves bytes; verification (manifest digests here, blob digests in
//! the [cache](super::cache)) is the puller's job and the same for every
//! source.

use std::path::PathBuf;

use bytes::Bytes;
use factory_core::registry::{Descriptor, media_types};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::PullerConfig;
use super::error::PullError;

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

/// See the module docs.
pub(super) struct RegistrySource {
    client: Client,
    pub(super) config: PullerConfig,
}

impl RegistrySource {
    pub(super) fn new(config: PullerConfig) -> Self {
        let protocol = if config.insecure {
            ClientProtocol::HttpsExcept(vec![config.registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let client = Client::new(ClientConfig {
            protocol,
            ..ClientConfig::default()
        });
        RegistrySource { client, config }
    }

    /// The full repository path of an upstream repository.
    pub(super) fn repository_path(&self, repository: &str) -> String {
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

    pub(super) async fn tags(&self, repository: &str) -> Result<Vec<String>, PullError> {
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

    /// The manifest bytes and the digest the registry reported for them
    /// (unverified).
    pub(super) async fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<(Bytes, String), PullError> {
        let image = self.reference(repository, reference);
        let (bytes, reported) = self
            .client
            .pull_manifest_raw(&image, &RegistryAuth::Anonymous, &ACCEPTED_MANIFESTS)
            .await
            .map_err(|source| PullError::registry("fetching manifest of", repository, source))?;
        Ok((bytes, reported))
    }

    /// Downloads `blob` into the new file `tmp` (unverified).
    pub(super) async fn blob_into(
        &self,
        repository: &str,
        blob: &Descriptor,
        tmp: PathBuf,
    ) -> Result<PathBuf, PullError> {
        let image = self.reference(repository, &blob.digest.to_string());
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
            .map_err(|source| PullError::registry("downloading a blob of", repository, source))?;
        Ok(tmp)
    }
}

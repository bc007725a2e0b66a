//! Pushing mirrored content to a registry with `oci-client`: blobs (streamed
//! from the verified cache file in one monolithic upload), manifests by
//! digest, then tags.
//!
//! A blob already pushed to another repository of the target in this run
//! is mounted from there (one request, no upload) when the registry allows
//! it. What is already there is skipped (a `HEAD` per blob and manifest), so a
//! re-run only pushes what is missing. Registries refuse a manifest whose
//! blobs or child manifests are absent, and we push children first, so a
//! manifest present in the target implies its whole tree is. Access is
//! anonymous (a loopback or otherwise open registry); credentials are not
//! supported yet.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use bytes::{Bytes, BytesMut};
use factory_core::registry::Digest;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use tokio::io::AsyncReadExt as _;

use crate::pull::RawManifest;

use super::error::MirrorError;

/// Bytes read from the cache file per streamed piece of an upload.
const UPLOAD_PIECE: usize = 4 * 1024 * 1024;

/// See the module docs.
pub(super) struct RegistrySink {
    client: Client,
    host: String,
    namespace: String,
    /// A repository of the target known to hold each blob (by digest).
    known: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for RegistrySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrySink")
            .field("host", &self.host)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl RegistrySink {
    pub(super) fn new(host: String, namespace: String, insecure: bool) -> Self {
        let protocol = if insecure {
            ClientProtocol::HttpsExcept(vec![host.clone()])
        } else {
            ClientProtocol::Https
        };
        let client = Client::new(ClientConfig {
            protocol,
            use_monolithic_push: true,
            ..ClientConfig::default()
        });
        RegistrySink {
            client,
            host,
            namespace: namespace.trim_matches('/').to_owned(),
            known: Mutex::new(HashMap::new()),
        }
    }

    fn reference(&self, repository: &str, tag_or_digest: &str) -> Reference {
        let repo = if self.namespace.is_empty() {
            repository.to_owned()
        } else {
            format!("{}/{repository}", self.namespace)
        };
        if tag_or_digest.contains(':') {
            Reference::with_digest(self.host.clone(), repo, tag_or_digest.to_owned())
        } else {
            Reference::with_tag(self.host.clone(), repo, tag_or_digest.to_owned())
        }
    }

    pub(super) async fn has_blob(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<bool, MirrorError> {
        let digest = digest.to_string();
        let image = self.reference(repository, &digest);
        let exists = self
            .client
            .blob_exists(&image, &digest)
            .await
            .map_err(MirrorError::push("checking blob in", &image))?;
        if exists {
            self.remember(digest, repository);
        }
        Ok(exists)
    }

    fn remember(&self, digest: String, repository: &str) {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(digest, repository.to_owned());
    }

    /// Mounts `digest` from another repository known to hold it.
    async fn mount(&self, repository: &str, digest: &str) -> bool {
        let from = self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(digest)
            .filter(|r| r.as_str() != repository)
            .cloned();
        let Some(from) = from else {
            return false;
        };
        let image = self.reference(repository, digest);
        let source = self.reference(&from, digest);
        // A registry that will not mount answers with an upload session
        // instead, which the client reports as an error: upload then.
        self.client
            .mount_blob(&image, &source, digest)
            .await
            .is_ok()
    }

    pub(super) async fn put_blob(
        &self,
        repository: &str,
        digest: &Digest,
        size: u64,
        from: &Path,
    ) -> Result<(), MirrorError> {
        let digest = digest.to_string();
        if self.mount(repository, &digest).await {
            return Ok(());
        }
        let image = self.reference(repository, &digest);
        let file = tokio::fs::File::open(from)
            .await
            .map_err(MirrorError::io("opening", from))?;
        let pieces = futures_util::stream::try_unfold(file, |mut file| async move {
            let mut piece = BytesMut::with_capacity(UPLOAD_PIECE);
            while piece.len() < UPLOAD_PIECE {
                if file.read_buf(&mut piece).await? == 0 {
                    break;
                }
            }
            if piece.is_empty() {
                Ok::<_, OciDistributionError>(None)
            } else {
                Ok(Some((Bytes::from(piece), file)))
            }
        });
        self.client
            .push_blob_stream(&image, pieces, &digest, Some(size))
            .await
            .map_err(MirrorError::push("pushing blob to", &image))?;
        self.remember(digest, repository);
        Ok(())
    }

    /// The digest `reference` (tag or digest) resolves to now, if any.
    pub(super) async fn resolve(&self, repository: &str, reference: &str) -> Option<String> {
        let image = self.reference(repository, reference);
        self.client
            .fetch_manifest_digest(&image, &RegistryAuth::Anonymous)
            .await
            .ok()
    }

    /// Pushes `manifest` under `reference` (its digest, or a tag).
    pub(super) async fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        manifest: &RawManifest,
    ) -> Result<(), MirrorError> {
        let image = self.reference(repository, reference);
        let content_type = http::HeaderValue::from_str(&manifest.media_type).map_err(|e| {
            MirrorError::push("pushing manifest to", &image)(OciDistributionError::GenericError(
                Some(format!("media type {:?}: {e}", manifest.media_type)),
            ))
        })?;
        self.client
            .push_manifest_raw(&image, manifest.bytes.clone(), content_type)
            .await
            .map_err(MirrorError::push("pushing manifest to", &image))?;
        Ok(())
    }
}

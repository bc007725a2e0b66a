//! The OCI image layout source of a [`Puller`](super::Puller) (offline mode),
//! and the one convention for a layout that holds several repositories.
//!
//! The OCI image spec describes a layout as one image store with tags in
//! `index.json`; it says nothing about repositories. The factory needs
//! several (`siderolabs/imager`, `siderolabs/extensions`, every extension),
//! so it uses the convention the synthetic release already writes and that
//! `skopeo copy oci:<dir>:<repository>:<tag>` reads:
//!
//! ```text
//! <dir>/oci-layout            {"imageLayoutVersion":"1.0.0"}
//! <dir>/index.json            an OCI index, one entry per tag, each entry
//!                             annotated org.opencontainers.image.ref.name =
//!                             "<repository>:<tag>", e.g.
//!                             "siderolabs/imager:v1.12.4" or
//!                             "siderolabs/amd-ucode:sha256-<hex>.sig"
//! <dir>/blobs/<alg>/<hex>     every manifest, config and layer of every
//!                             repository, stored once
//! ```
//!
//! The repository is everything before the last `:` (no registry host), the
//! tag everything after it; entries whose name does not split that way (a
//! bare tag, as single-image layouts use) are ignored. Blobs are shared
//! between repositories, so a digest resolves in any repository of the
//! layout (a registry would only answer in repositories that link it); this
//! is harmless because content is addressed by its hash.
//!
//! Nothing read from a layout is trusted: manifests are hashed against the
//! digest `index.json` or the caller names, and blobs are copied into the
//! puller's cache, where they are verified before use (see [`super::cache`]).
//! `index.json` is read again on each tag lookup, so a mirror updated while
//! the factory runs is seen at the next catalog refresh.
//!
//! Limits: `index.json` up to [`MAX_INDEX_BYTES`] and [`MAX_INDEX_ENTRIES`]
//! entries, manifests up to [`MAX_MANIFEST_BYTES`]; larger ones are refused
//! with [`PullError::TooLarge`] without being read.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use factory_core::registry::{Descriptor, Digest, is_valid_tag};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt as _;

use super::error::PullError;
use crate::oci_write::REF_NAME_ANNOTATION;

/// The largest `index.json` read.
pub const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;
/// The most entries (tags) an `index.json` may list.
pub const MAX_INDEX_ENTRIES: usize = 200_000;
/// The largest manifest or index read (the distribution spec's 4 MiB).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// The content of the `oci-layout` marker file.
pub const LAYOUT_MARKER: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// One tag of a multi-repository layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutTag {
    /// Repository path, e.g. `siderolabs/imager`.
    pub repository: String,
    /// Tag, e.g. `v1.12.4`.
    pub tag: String,
    /// The tagged manifest or index (its `ref.name` annotation included).
    pub descriptor: Descriptor,
}

/// `index.json` as read and written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayoutIndex {
    /// Always 2.
    pub schema_version: u32,
    /// The OCI index media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// One entry per tag.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

/// The `ref.name` annotation value for `repository:tag`.
pub fn ref_name(repository: &str, tag: &str) -> String {
    format!("{repository}:{tag}")
}

/// Splits a `ref.name` value into repository and tag, if it follows the
/// convention (see the module docs).
pub fn split_ref_name(name: &str) -> Option<(&str, &str)> {
    let (repository, tag) = name.rsplit_once(':')?;
    let valid_repository = !repository.is_empty()
        && !repository.starts_with('/')
        && !repository.ends_with('/')
        && !repository.contains("//");
    (valid_repository && !tag.contains('/') && is_valid_tag(tag)).then_some((repository, tag))
}

/// Where `digest`'s blob lives in the layout at `root`.
pub fn blob_path(root: &Path, digest: &Digest) -> PathBuf {
    root.join("blobs")
        .join(digest.algorithm().as_str())
        .join(digest.hex())
}

/// Reads `<root>/index.json` (bounded, see the module docs); `Ok(None)`
/// when there is none yet.
pub fn read_index(root: &Path) -> Result<Option<LayoutIndex>, PullError> {
    let path = root.join("index.json");
    let io = |action: &'static str| {
        let path = path.clone();
        move |source| PullError::Io {
            action,
            path,
            source,
        }
    };
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("opening")(e)),
    };
    let size = file.metadata().map_err(io("inspecting"))?.len();
    if size > MAX_INDEX_BYTES {
        return Err(PullError::TooLarge {
            what: path.display().to_string(),
            size,
            limit: MAX_INDEX_BYTES,
        });
    }
    let index: LayoutIndex =
        serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| {
            PullError::InvalidLayout {
                path: path.clone(),
                reason: e.to_string(),
            }
        })?;
    if index.manifests.len() > MAX_INDEX_ENTRIES {
        return Err(PullError::InvalidLayout {
            path,
            reason: format!(
                "{} entries (limit {MAX_INDEX_ENTRIES})",
                index.manifests.len()
            ),
        });
    }
    Ok(Some(index))
}

/// The tags of a layout index that follow the convention, in index order.
pub fn layout_tags(index: &LayoutIndex) -> Vec<LayoutTag> {
    index
        .manifests
        .iter()
        .filter_map(|descriptor| {
            let name = descriptor.annotations.get(REF_NAME_ANNOTATION)?;
            let (repository, tag) = split_ref_name(name)?;
            Some(LayoutTag {
                repository: repository.to_owned(),
                tag: tag.to_owned(),
                descriptor: descriptor.clone(),
            })
        })
        .collect()
}

/// See the module docs.
#[derive(Debug)]
pub(super) struct LayoutSource {
    root: PathBuf,
}

impl LayoutSource {
    /// Opens the layout at `root`, which must have an `oci-layout` marker
    /// and a readable `index.json`.
    pub(super) fn open(root: PathBuf) -> Result<Self, PullError> {
        let marker = root.join("oci-layout");
        if !marker.is_file() {
            return Err(PullError::InvalidLayout {
                path: root,
                reason: "no oci-layout file: not an OCI image layout".to_owned(),
            });
        }
        if read_index(&root)?.is_none() {
            return Err(PullError::InvalidLayout {
                path: root,
                reason: "no index.json".to_owned(),
            });
        }
        Ok(LayoutSource { root })
    }

    pub(super) fn root(&self) -> &Path {
        &self.root
    }

    async fn tagged(&self) -> Result<Vec<LayoutTag>, PullError> {
        let root = self.root.clone();
        let index = tokio::task::spawn_blocking(move || read_index(&root))
            .await
            .map_err(|e| PullError::Io {
                action: "reading",
                path: self.root.join("index.json"),
                source: std::io::Error::other(e.to_string()),
            })??;
        Ok(index.as_ref().map(layout_tags).unwrap_or_default())
    }

    /// The tags of `repository`, sorted (as registries list them).
    pub(super) async fn tags(&self, repository: &str) -> Result<Vec<String>, PullError> {
        let tags: BTreeSet<String> = self
            .tagged()
            .await?
            .into_iter()
            .filter(|t| t.repository == repository)
            .map(|t| t.tag)
            .collect();
        Ok(tags.into_iter().collect())
    }

    /// The manifest named by `reference` (tag or digest), its bytes checked
    /// against the digest it is known by.
    pub(super) async fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<(Bytes, Digest), PullError> {
        let (digest, what) = match reference.parse::<Digest>() {
            Ok(digest) => (digest, format!("manifest {repository}@{reference}")),
            Err(_) => {
                let found = self
                    .tagged()
                    .await?
                    .into_iter()
                    .find(|t| t.repository == repository && t.tag == reference)
                    .ok_or_else(|| PullError::NotInLayout {
                        layout: self.root.clone(),
                        what: format!("{repository}:{reference}"),
                    })?;
                (
                    found.descriptor.digest,
                    format!("manifest {repository}:{reference}"),
                )
            }
        };
        let path = blob_path(&self.root, &digest);
        let bytes = read_bounded(&path, MAX_MANIFEST_BYTES)
            .await
            .map_err(|e| match e {
                PullError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                    PullError::NotInLayout {
                        layout: self.root.clone(),
                        what: what.clone(),
                    }
                }
                other => other,
            })?;
        if !digest.matches(&bytes) {
            return Err(PullError::DigestMismatch {
                what,
                actual: Digest::sha256_of(&bytes),
            });
        }
        Ok((bytes, digest))
    }

    /// Copies `blob` from the layout into the new file `tmp` (unverified:
    /// the cache verifies it before publishing). `std::fs::copy` uses
    /// `copy_file_range`, a reflink on filesystems that share extents.
    pub(super) async fn blob_into(
        &self,
        blob: &Descriptor,
        tmp: PathBuf,
    ) -> Result<PathBuf, PullError> {
        let from = blob_path(&self.root, &blob.digest);
        match tokio::fs::copy(&from, &tmp).await {
            Ok(_) => Ok(tmp),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(PullError::NotInLayout {
                layout: self.root.clone(),
                what: format!("blob {}", blob.digest),
            }),
            Err(source) => Err(PullError::Io {
                action: "copying",
                path: from,
                source,
            }),
        }
    }
}

/// Reads a whole file of at most `limit` bytes.
async fn read_bounded(path: &Path, limit: u64) -> Result<Bytes, PullError> {
    let io = |action: &'static str| {
        let path = path.to_owned();
        move |source| PullError::Io {
            action,
            path,
            source,
        }
    };
    let file = tokio::fs::File::open(path).await.map_err(io("opening"))?;
    let size = file.metadata().await.map_err(io("inspecting"))?.len();
    if size > limit {
        return Err(PullError::TooLarge {
            what: path.display().to_string(),
            size,
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit)
        .read_to_end(&mut bytes)
        .await
        .map_err(io("reading"))?;
    Ok(Bytes::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names_split_at_the_last_colon() {
        assert_eq!(
            split_ref_name("siderolabs/imager:v1.12.4"),
            Some(("siderolabs/imager", "v1.12.4"))
        );
        assert_eq!(
            split_ref_name("mirror/siderolabs/amd-ucode:sha256-ab.sig"),
            Some(("mirror/siderolabs/amd-ucode", "sha256-ab.sig"))
        );
        for bad in [
            "v1.12.4", ":v1", "a/:v1", "/a:v1", "a//b:v1", "a:b/c", "a:", "a:-x",
        ] {
            assert_eq!(split_ref_name(bad), None, "{bad}");
        }
        assert_eq!(ref_name("a/b", "t"), "a/b:t");
    }
}

//! Writing mirrored content into a multi-repository OCI layout, in the
//! convention [`crate::pull::layout`] reads.
//!
//! Blobs and manifests are written to a temporary name in the blob
//! directory, fsynced and renamed, so a file under `blobs/` is always
//! complete; that makes "present" a sufficient test for resuming (its size
//! is checked too; its hash is checked by every puller that reads it). A
//! manifest is written only after everything it references, and `index.json`
//! (rewritten atomically after each release) only names manifests already
//! in place, so an interrupted mirror leaves a valid layout that a re-run
//! completes. Entries of an existing `index.json` are kept; a tag mirrored
//! again is replaced. One writer at a time: two mirrors into the same
//! directory at once may lose each other's tags.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use factory_core::registry::media_types::OCI_INDEX;
use factory_core::registry::{Descriptor, Digest};

use crate::oci_write::REF_NAME_ANNOTATION;
use crate::pull::RawManifest;
use crate::pull::layout::{
    LAYOUT_MARKER, LayoutIndex, blob_path, read_index, ref_name, split_ref_name,
};

use super::error::MirrorError;

/// See the module docs.
#[derive(Debug)]
pub(super) struct LayoutSink {
    root: PathBuf,
    /// Tags by `ref.name`, sorted.
    tags: BTreeMap<String, Descriptor>,
    /// Entries of an existing `index.json` outside our convention, kept.
    others: Vec<Descriptor>,
    next_temp: AtomicU64,
}

impl LayoutSink {
    /// Opens (creating if needed) the layout at `root`.
    pub(super) fn open(root: PathBuf) -> Result<Self, MirrorError> {
        let blobs = root.join("blobs").join("sha256");
        std::fs::create_dir_all(&blobs).map_err(MirrorError::io("creating", &blobs))?;
        let marker = root.join("oci-layout");
        if !marker.is_file() {
            write_atomically(&marker, LAYOUT_MARKER, &root, 0)?;
        }
        let existing = read_index(&root).map_err(MirrorError::pull(format!(
            "the existing index of {}",
            root.display()
        )))?;
        let mut tags = BTreeMap::new();
        let mut others = Vec::new();
        for descriptor in existing.map(|i| i.manifests).unwrap_or_default() {
            match descriptor
                .annotations
                .get(REF_NAME_ANNOTATION)
                .filter(|name| split_ref_name(name).is_some())
            {
                Some(name) => {
                    tags.insert(name.clone(), descriptor);
                }
                None => others.push(descriptor),
            }
        }
        Ok(LayoutSink {
            root,
            tags,
            others,
            next_temp: AtomicU64::new(1),
        })
    }

    /// Whether a complete blob with `digest` and `size` is already there.
    pub(super) fn has(&self, digest: &Digest, size: u64) -> bool {
        std::fs::metadata(blob_path(&self.root, digest))
            .is_ok_and(|m| m.is_file() && m.len() == size)
    }

    /// Copies the (verified) blob file `from` in.
    pub(super) async fn put_blob(&self, digest: &Digest, from: &Path) -> Result<(), MirrorError> {
        let target = blob_path(&self.root, digest);
        let temp = self.temp_path(&target);
        if let Some(dir) = target.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(MirrorError::io("creating", dir))?;
        }
        let result = async {
            tokio::fs::copy(from, &temp)
                .await
                .map_err(MirrorError::io("copying into", &temp))?;
            let file = tokio::fs::File::open(&temp)
                .await
                .map_err(MirrorError::io("opening", &temp))?;
            file.sync_all()
                .await
                .map_err(MirrorError::io("syncing", &temp))?;
            tokio::fs::rename(&temp, &target)
                .await
                .map_err(MirrorError::io("renaming into", &target))
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result
    }

    /// Writes a (verified) manifest in.
    pub(super) fn put_manifest(&self, manifest: &RawManifest) -> Result<(), MirrorError> {
        let target = blob_path(&self.root, &manifest.digest);
        let n = self.next_temp.fetch_add(1, Ordering::SeqCst);
        write_atomically(&target, &manifest.bytes, &self.root, n)
    }

    /// The digest `repository:tag` names now, if any.
    pub(super) fn tagged(&self, repository: &str, tag: &str) -> Option<&Digest> {
        self.tags.get(&ref_name(repository, tag)).map(|d| &d.digest)
    }

    /// Tags `manifest` as `repository:tag` (written out by [`Self::flush`]).
    pub(super) fn tag(&mut self, repository: &str, tag: &str, manifest: &RawManifest) {
        let name = ref_name(repository, tag);
        let descriptor = Descriptor {
            media_type: manifest.media_type.clone(),
            size: manifest.bytes.len() as u64,
            digest: manifest.digest.clone(),
            artifact_type: None,
            annotations: BTreeMap::from([(REF_NAME_ANNOTATION.to_owned(), name.clone())]),
            platform: None,
        };
        self.tags.insert(name, descriptor);
    }

    /// Rewrites `index.json` with every tag, sorted by name.
    pub(super) fn flush(&self) -> Result<(), MirrorError> {
        let index = LayoutIndex {
            schema_version: 2,
            media_type: Some(OCI_INDEX.to_owned()),
            manifests: self
                .others
                .iter()
                .chain(self.tags.values())
                .cloned()
                .collect(),
        };
        let path = self.root.join("index.json");
        let bytes = serde_json::to_vec_pretty(&index)
            .map_err(|e| MirrorError::io("encoding", &path)(std::io::Error::other(e)))?;
        let n = self.next_temp.fetch_add(1, Ordering::SeqCst);
        write_atomically(&path, &bytes, &self.root, n)
    }

    fn temp_path(&self, target: &Path) -> PathBuf {
        let n = self.next_temp.fetch_add(1, Ordering::SeqCst);
        temp_next_to(target, &self.root, n)
    }
}

/// A temporary name in the directory of `target` (so the rename is atomic).
fn temp_next_to(target: &Path, root: &Path, n: u64) -> PathBuf {
    let dir = target.parent().unwrap_or(root);
    dir.join(format!(".partial-{}-{n}", std::process::id()))
}

/// Writes `bytes` to `path` through a fsynced temporary file and a rename.
fn write_atomically(path: &Path, bytes: &[u8], root: &Path, n: u64) -> Result<(), MirrorError> {
    let temp = temp_next_to(path, root, n);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(MirrorError::io("creating", dir))?;
    }
    let result = (|| {
        let mut file = std::fs::File::create(&temp).map_err(MirrorError::io("creating", &temp))?;
        file.write_all(bytes)
            .map_err(MirrorError::io("writing", &temp))?;
        file.sync_all().map_err(MirrorError::io("syncing", &temp))?;
        std::fs::rename(&temp, path).map_err(MirrorError::io("renaming into", path))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

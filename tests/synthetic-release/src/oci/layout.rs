//! The OCI image layout directory.
//!
//! Blobs are streamed into a temporary file next to their final place and
//! renamed to their digest once complete, so a crash never leaves a blob
//! whose name lies about its content. Tags are collected and written into
//! `index.json` at the end, sorted by reference name, with the
//! `org.opencontainers.image.ref.name` annotation that `skopeo copy
//! oci:<dir>:<ref>` looks up.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use factory_core::registry::Descriptor;
use factory_core::registry::media_types::OCI_INDEX;
use serde::Serialize;

use crate::error::{Error, IoContext, Result};
use crate::oci::hashing::Hashing;

/// The annotation holding a tag in `index.json`.
pub(crate) const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// An OCI image layout being written.
#[derive(Debug)]
pub(crate) struct Layout {
    root: PathBuf,
    blobs: PathBuf,
    next_temp: u64,
    tags: BTreeMap<String, Descriptor>,
}

/// A blob being streamed into the layout.
#[derive(Debug)]
pub(crate) struct BlobWriter {
    inner: Hashing<BufWriter<File>>,
    temp: PathBuf,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Index<'a> {
    schema_version: u8,
    media_type: &'a str,
    manifests: Vec<Descriptor>,
}

impl Layout {
    /// Creates an empty layout in `root` (which must not hold one already).
    pub(crate) fn create(root: &Path) -> Result<Self> {
        let blobs = root.join("blobs").join("sha256");
        fs::create_dir_all(&blobs).ctx(|| format!("creating {}", blobs.display()))?;
        let marker = root.join("oci-layout");
        fs::write(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#)
            .ctx(|| format!("writing {}", marker.display()))?;
        Ok(Layout {
            root: root.to_owned(),
            blobs,
            next_temp: 0,
            tags: BTreeMap::new(),
        })
    }

    /// Starts a blob; finish it with [`Layout::commit`].
    pub(crate) fn blob_writer(&mut self) -> Result<BlobWriter> {
        self.next_temp += 1;
        let temp = self.blobs.join(format!(".partial-{}", self.next_temp));
        let file = File::create(&temp).ctx(|| format!("creating {}", temp.display()))?;
        Ok(BlobWriter {
            inner: Hashing::new(BufWriter::new(file)),
            temp,
        })
    }

    /// Completes a blob: flushes it, names it by its digest and describes it.
    pub(crate) fn commit(&mut self, writer: BlobWriter, media_type: &str) -> Result<Descriptor> {
        let BlobWriter { inner, temp } = writer;
        let (buffered, digest, size) = inner.finish();
        let file = buffered
            .into_inner()
            .map_err(|e| e.into_error())
            .ctx(|| format!("flushing {}", temp.display()))?;
        file.sync_all()
            .ctx(|| format!("syncing {}", temp.display()))?;
        let target = self.blobs.join(digest.hex());
        fs::rename(&temp, &target).ctx(|| format!("renaming blob to {}", target.display()))?;
        Ok(Descriptor {
            media_type: media_type.to_owned(),
            size,
            digest,
            artifact_type: None,
            annotations: BTreeMap::new(),
            platform: None,
        })
    }

    /// Stores a JSON document (compact, field order as declared) as a blob.
    pub(crate) fn add_json<T: Serialize>(
        &mut self,
        media_type: &str,
        value: &T,
    ) -> Result<Descriptor> {
        let bytes = serde_json::to_vec(value).map_err(|source| Error::Json {
            context: format!("encoding a {media_type} document"),
            source,
        })?;
        let mut writer = self.blob_writer()?;
        writer
            .write_all(&bytes)
            .ctx(|| format!("writing a {media_type} blob"))?;
        self.commit(writer, media_type)
    }

    /// Tags `descriptor` as `reference` (`siderolabs/imager:v1.12.4`).
    pub(crate) fn tag(&mut self, reference: &str, descriptor: &Descriptor) -> Result<()> {
        if self.tags.contains_key(reference) {
            return Err(Error::InvalidPath {
                path: reference.to_owned(),
                reason: "reference tagged twice in the layout",
            });
        }
        self.tags.insert(reference.to_owned(), descriptor.clone());
        Ok(())
    }

    /// The tags so far, sorted by reference.
    pub(crate) fn tags(&self) -> &BTreeMap<String, Descriptor> {
        &self.tags
    }

    /// Writes `index.json` with every tag.
    pub(crate) fn finish(self) -> Result<()> {
        let manifests = self
            .tags
            .iter()
            .map(|(reference, descriptor)| {
                let mut tagged = descriptor.clone();
                tagged
                    .annotations
                    .insert(REF_NAME_ANNOTATION.to_owned(), reference.clone());
                tagged
            })
            .collect();
        let index = Index {
            schema_version: 2,
            media_type: OCI_INDEX,
            manifests,
        };
        let bytes = serde_json::to_vec_pretty(&index).map_err(|source| Error::Json {
            context: "encoding index.json".to_owned(),
            source,
        })?;
        let path = self.root.join("index.json");
        fs::write(&path, bytes).ctx(|| format!("writing {}", path.display()))
    }
}

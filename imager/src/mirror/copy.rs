//! Copying images, manifest tree first and tag last, into either target.
//!
//! An image is copied depth first: for an index, every child manifest (all
//! platforms, not just the ones the factory builds today); for an image
//! manifest, its config and layers (a few at once); then the manifest itself, by digest;
//! then its tag. Everything comes through the source [`Puller`], so every
//! manifest and blob is verified against its digest on the way. Content the
//! target already has is skipped, which is what makes a re-run cheap and an
//! interrupted run resumable. A cosign signature (`sha256-<hex>.sig`) of a
//! copied image is copied too when the source has one, so upstream
//! signature checks keep working against the mirror.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use factory_core::registry::{Descriptor, Digest, cosign_signature_tag};
use futures_util::{StreamExt as _, TryStreamExt as _};

use crate::pull::{Manifest, Puller, RawManifest};

use super::error::MirrorError;
use super::layout_sink::LayoutSink;
use super::plan::PlannedImage;
use super::registry_sink::RegistrySink;
use super::{MirrorEvent, MirrorReport};

/// How deep indexes may nest (an index of image manifests is depth 1).
const MAX_DEPTH: usize = 2;
/// Blobs of one image copied at once (downloads overlap their latency; the
/// cache still fetches each digest once).
const PARALLEL_BLOBS: usize = 4;

/// Where content goes.
#[derive(Debug)]
pub(super) enum Sink {
    Layout(LayoutSink),
    Registry(RegistrySink),
}

impl Sink {
    async fn has_blob(&self, repository: &str, blob: &Descriptor) -> Result<bool, MirrorError> {
        match self {
            Sink::Layout(layout) => Ok(layout.has(&blob.digest, blob.size)),
            Sink::Registry(registry) => registry.has_blob(repository, &blob.digest).await,
        }
    }

    async fn put_blob(
        &self,
        repository: &str,
        blob: &Descriptor,
        from: &Path,
    ) -> Result<(), MirrorError> {
        match self {
            Sink::Layout(layout) => layout.put_blob(&blob.digest, from).await,
            Sink::Registry(registry) => {
                registry
                    .put_blob(repository, &blob.digest, blob.size, from)
                    .await
            }
        }
    }

    async fn has_manifest(&self, repository: &str, manifest: &RawManifest) -> bool {
        match self {
            Sink::Layout(layout) => layout.has(&manifest.digest, manifest.bytes.len() as u64),
            Sink::Registry(registry) => {
                let digest = manifest.digest.to_string();
                registry.resolve(repository, &digest).await.as_deref() == Some(digest.as_str())
            }
        }
    }

    async fn put_manifest(
        &self,
        repository: &str,
        manifest: &RawManifest,
    ) -> Result<(), MirrorError> {
        match self {
            Sink::Layout(layout) => layout.put_manifest(manifest),
            Sink::Registry(registry) => {
                registry
                    .put_manifest(repository, &manifest.digest.to_string(), manifest)
                    .await
            }
        }
    }

    /// Points `repository:tag` at `manifest`; false if it already did.
    async fn tag(
        &mut self,
        repository: &str,
        tag: &str,
        manifest: &RawManifest,
    ) -> Result<bool, MirrorError> {
        match self {
            Sink::Layout(layout) => {
                if layout.tagged(repository, tag) == Some(&manifest.digest) {
                    return Ok(false);
                }
                layout.tag(repository, tag, manifest);
                Ok(true)
            }
            Sink::Registry(registry) => {
                let wanted = manifest.digest.to_string();
                if registry.resolve(repository, tag).await.as_deref() == Some(wanted.as_str()) {
                    return Ok(false);
                }
                registry.put_manifest(repository, tag, manifest).await?;
                Ok(true)
            }
        }
    }

    pub(super) fn flush(&self) -> Result<(), MirrorError> {
        match self {
            Sink::Layout(layout) => layout.flush(),
            Sink::Registry(_) => Ok(()),
        }
    }
}

/// One mirroring run: source, target, progress and the tallies.
pub(super) struct Copier<'a> {
    source: &'a Puller,
    pub(super) sink: Sink,
    progress: &'a mut (dyn FnMut(MirrorEvent) + Send),
    pub(super) report: MirrorReport,
    /// Manifests known complete in the target during this run.
    done: HashSet<(String, Digest)>,
    /// Source tags per repository, listed once.
    source_tags: HashMap<String, BTreeSet<String>>,
}

impl<'a> Copier<'a> {
    pub(super) fn new(
        source: &'a Puller,
        sink: Sink,
        progress: &'a mut (dyn FnMut(MirrorEvent) + Send),
    ) -> Self {
        Copier {
            source,
            sink,
            progress,
            report: MirrorReport::default(),
            done: HashSet::new(),
            source_tags: HashMap::new(),
        }
    }

    pub(super) fn emit(&mut self, event: MirrorEvent) {
        (self.progress)(event);
    }

    /// Copies one planned image, its tag and its signature if any.
    pub(super) async fn copy_image(&mut self, image: &PlannedImage) -> Result<(), MirrorError> {
        let repository = image.repository.as_str();
        self.emit(MirrorEvent::Image {
            repository: repository.to_owned(),
            reference: image.reference.clone(),
        });
        let top = self
            .source
            .manifest(repository, &image.reference)
            .await
            .map_err(MirrorError::pull(format!(
                "{repository}:{}",
                image.reference
            )))?;
        self.copy_tree(repository, top.clone(), 0).await?;
        self.set_tag(repository, &image.tag, &top).await?;
        self.report.images += 1;

        let signature_tag = cosign_signature_tag(&top.digest);
        if self.source_has_tag(repository, &signature_tag).await? {
            let signature = self
                .source
                .manifest(repository, &signature_tag)
                .await
                .map_err(MirrorError::pull(format!("{repository}:{signature_tag}")))?;
            self.copy_tree(repository, signature.clone(), 0).await?;
            self.set_tag(repository, &signature_tag, &signature).await?;
            self.report.signatures += 1;
        }
        Ok(())
    }

    async fn source_has_tag(&mut self, repository: &str, tag: &str) -> Result<bool, MirrorError> {
        if !self.source_tags.contains_key(repository) {
            let tags = self
                .source
                .tags(repository)
                .await
                .map_err(MirrorError::pull(format!("the tags of {repository}")))?;
            self.source_tags
                .insert(repository.to_owned(), tags.into_iter().collect());
        }
        Ok(self
            .source_tags
            .get(repository)
            .is_some_and(|tags| tags.contains(tag)))
    }

    async fn set_tag(
        &mut self,
        repository: &str,
        tag: &str,
        manifest: &RawManifest,
    ) -> Result<(), MirrorError> {
        let changed = self.sink.tag(repository, tag, manifest).await?;
        if changed {
            self.report.tags_written += 1;
        } else {
            self.report.tags_unchanged += 1;
        }
        self.emit(MirrorEvent::Tag {
            repository: repository.to_owned(),
            tag: tag.to_owned(),
            digest: manifest.digest.clone(),
            changed,
        });
        Ok(())
    }

    /// Copies `manifest` and everything under it (boxed: it recurses).
    fn copy_tree<'s>(
        &'s mut self,
        repository: &'s str,
        manifest: RawManifest,
        depth: usize,
    ) -> Pin<Box<dyn Future<Output = Result<(), MirrorError>> + Send + 's>> {
        Box::pin(async move {
            let key = (repository.to_owned(), manifest.digest.clone());
            if self.done.contains(&key) {
                return Ok(());
            }
            if self.sink.has_manifest(repository, &manifest).await {
                self.report.manifests_present += 1;
                self.done.insert(key);
                return Ok(());
            }
            let parsed = manifest.parsed().map_err(MirrorError::pull(format!(
                "{repository}@{}",
                manifest.digest
            )))?;
            match parsed {
                Manifest::Index(index) => {
                    if depth >= MAX_DEPTH {
                        return Err(MirrorError::TooDeep {
                            repository: repository.to_owned(),
                            digest: manifest.digest.clone(),
                            limit: MAX_DEPTH,
                        });
                    }
                    for entry in &index.manifests {
                        let child = self
                            .source
                            .manifest(repository, &entry.digest.to_string())
                            .await
                            .map_err(MirrorError::pull(format!("{repository}@{}", entry.digest)))?;
                        self.copy_tree(repository, child, depth + 1).await?;
                    }
                }
                Manifest::Image(image) => {
                    let blobs: Vec<Descriptor> = std::iter::once(&image.config)
                        .chain(&image.layers)
                        .cloned()
                        .collect();
                    let (source, sink) = (self.source, &self.sink);
                    let copied: Vec<(Descriptor, bool)> = futures_util::stream::iter(blobs)
                        .map(|blob| async move {
                            let copied = copy_blob(source, sink, repository, &blob).await?;
                            Ok::<_, MirrorError>((blob, copied))
                        })
                        .buffer_unordered(PARALLEL_BLOBS)
                        .try_collect()
                        .await?;
                    for (blob, copied) in copied {
                        self.tally(repository, blob, copied);
                    }
                }
            }
            self.sink.put_manifest(repository, &manifest).await?;
            self.report.manifests_copied += 1;
            self.done.insert(key);
            Ok(())
        })
    }

    fn tally(&mut self, repository: &str, blob: Descriptor, copied: bool) {
        if copied {
            self.report.blobs_copied += 1;
            self.report.bytes_copied += blob.size;
        } else {
            self.report.blobs_present += 1;
        }
        self.emit(MirrorEvent::Blob {
            repository: repository.to_owned(),
            digest: blob.digest,
            size: blob.size,
            copied,
        });
    }
}

/// Copies one blob unless the target has it; true if it was copied.
async fn copy_blob(
    source: &Puller,
    sink: &Sink,
    repository: &str,
    blob: &Descriptor,
) -> Result<bool, MirrorError> {
    if sink.has_blob(repository, blob).await? {
        return Ok(false);
    }
    let path = source
        .blob(repository, blob)
        .await
        .map_err(MirrorError::pull(format!("{repository}@{}", blob.digest)))?;
    sink.put_blob(repository, blob, &path).await?;
    Ok(true)
}

//! Mirroring Talos releases for air-gapped factories (`image-factory
//! mirror`).
//!
//! [`mirror_release`] copies, per Talos version, everything a factory pulls
//! for it: the `imager`, base installer, `extensions` and `overlays` images
//! under the version tag, and every extension and overlay image the
//! catalogs pin, by digest, all platforms, with cosign signatures when the
//! source has them (`plan` says which, `copy` how). The target is either
//! an OCI layout directory in the multi-repository convention that
//! [`Puller::from_layout`] reads (see [`crate::pull::layout`]), or another
//! registry, under an optional namespace, that [`Puller::new`] then reads
//! unchanged. Repository paths, digests and tags are kept, and that is all
//! the factory needs: it resolves extension images as repository path +
//! digest against whatever upstream it is configured with.
//!
//! Runs are resumable and idempotent: content already in the target is
//! skipped (see [`MirrorReport`]), and an interrupted run leaves a target
//! whose tags only name complete images. Blobs pass through the source
//! puller's cache, where they are verified; with a registry source they
//! therefore take disk space twice (cache and layout) during the run.

mod copy;
mod error;
mod layout_sink;
mod plan;
mod registry_sink;

use std::path::PathBuf;

use factory_core::registry::Digest;
use factory_core::version::TalosVersion;

use crate::pull::Puller;

pub use error::MirrorError;

use copy::{Copier, Sink};
use layout_sink::LayoutSink;
use registry_sink::RegistrySink;

/// Where a mirror writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorTarget {
    /// A multi-repository OCI layout directory (created if needed; an
    /// existing one is added to).
    Layout(PathBuf),
    /// A registry, pushed to anonymously.
    Registry {
        /// Host and port, e.g. `registry.internal:5000`.
        host: String,
        /// Path prefix for every repository (empty for none); configure the
        /// factory's upstream namespace to the same value.
        namespace: String,
        /// Plain HTTP instead of HTTPS.
        insecure: bool,
    },
}

/// What a mirror is doing, for progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorEvent {
    /// A release is starting.
    Version {
        /// The release.
        version: TalosVersion,
        /// How many images it has (release images, extensions, overlays).
        images: usize,
    },
    /// An image is starting.
    Image {
        /// Its repository.
        repository: String,
        /// The tag or digest it is copied by.
        reference: String,
    },
    /// A blob was copied or found already present.
    Blob {
        /// Its repository.
        repository: String,
        /// Its digest.
        digest: Digest,
        /// Its size.
        size: u64,
        /// False when the target already had it.
        copied: bool,
    },
    /// A tag was set or found already right.
    Tag {
        /// Its repository.
        repository: String,
        /// The tag.
        tag: String,
        /// What it names.
        digest: Digest,
        /// False when the target already had it pointing there.
        changed: bool,
    },
}

/// What a mirror run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorReport {
    /// Releases mirrored.
    pub versions: usize,
    /// Images mirrored (release images, extensions and overlays; an image
    /// shared by several releases counts once per release).
    pub images: usize,
    /// Cosign signatures mirrored along with them.
    pub signatures: usize,
    /// Manifests and indexes written.
    pub manifests_copied: usize,
    /// Manifests and indexes the target already had (with their trees).
    pub manifests_present: usize,
    /// Blobs written.
    pub blobs_copied: usize,
    /// Blobs the target already had.
    pub blobs_present: usize,
    /// Bytes of blobs written.
    pub bytes_copied: u64,
    /// Tags created or moved.
    pub tags_written: usize,
    /// Tags that already named the right manifest.
    pub tags_unchanged: usize,
}

impl MirrorReport {
    /// Whether the run wrote anything at all.
    pub fn copied_anything(&self) -> bool {
        self.manifests_copied > 0 || self.blobs_copied > 0 || self.tags_written > 0
    }
}

/// Mirrors `versions` from `source` into `target`, reporting progress to
/// `progress` (see the module docs). The future is `Send`, so it can run on
/// a spawned task.
pub async fn mirror_release(
    source: &Puller,
    versions: &[TalosVersion],
    target: MirrorTarget,
    mut progress: impl FnMut(MirrorEvent) + Send,
) -> Result<MirrorReport, MirrorError> {
    let sink = match target {
        MirrorTarget::Layout(dir) => Sink::Layout(LayoutSink::open(dir)?),
        MirrorTarget::Registry {
            host,
            namespace,
            insecure,
        } => Sink::Registry(RegistrySink::new(host, namespace, insecure)),
    };
    let mut copier = Copier::new(source, sink, &mut progress);
    let result = mirror_all(&mut copier, source, versions).await;
    // Whatever happened, record the tags of complete images.
    let flushed = copier.sink.flush();
    result?;
    flushed?;
    Ok(copier.report)
}

async fn mirror_all(
    copier: &mut Copier<'_>,
    source: &Puller,
    versions: &[TalosVersion],
) -> Result<(), MirrorError> {
    for version in versions {
        let images = plan::release_images(source, version).await?;
        copier.emit(MirrorEvent::Version {
            version: version.clone(),
            images: images.len(),
        });
        for image in &images {
            copier.copy_image(image).await?;
        }
        copier.sink.flush()?;
        copier.report.versions += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: T) {}

    /// Compiles only if the future can move to another thread (it is
    /// never polled).
    #[test]
    fn the_mirror_future_is_send() {
        fn check(puller: &Puller) {
            assert_send(mirror_release(
                puller,
                &[],
                MirrorTarget::Layout(PathBuf::new()),
                |_| {},
            ));
        }
        let _ = check;
    }
}

//! Which images make up a release, as the factory will ask for them.
//!
//! Per version: `siderolabs/imager`, the base installer
//! (`siderolabs/installer-base` from 1.10, `siderolabs/installer` before),
//! `siderolabs/extensions`, `siderolabs/overlays` (from 1.7, as
//! [`crate::catalog::release`] reads it), each under the version tag; then
//! every extension and overlay the catalogs pin, by digest, tagged with the
//! tag of its catalog reference. The factory resolves an extension as
//! repository path + digest against its configured upstream (the catalog's
//! registry host is replaced by [`Puller::registry`]), so keeping repository
//! paths, digests and tags is all a mirror needs for every reference to
//! resolve when it is used as the upstream.

use factory_core::quirks::Quirks;
use factory_core::version::TalosVersion;

use crate::catalog::{
    self, EXTENSIONS_REPOSITORY, IMAGER_REPOSITORY, INSTALLER_BASE_REPOSITORY,
    INSTALLER_REPOSITORY, OVERLAYS_REPOSITORY,
};
use crate::pull::Puller;

use super::error::MirrorError;

/// One image to mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PlannedImage {
    /// Repository path, e.g. `siderolabs/amd-ucode`.
    pub repository: String,
    /// What to pull it by: a tag, or the pinned digest.
    pub reference: String,
    /// The tag to give it in the target.
    pub tag: String,
}

/// The images of `version`, release images first.
pub(super) async fn release_images(
    source: &Puller,
    version: &TalosVersion,
) -> Result<Vec<PlannedImage>, MirrorError> {
    let tag = version.tag();
    let quirks = Quirks::new(version);
    let installer = if quirks.supports_unified_installer() {
        INSTALLER_BASE_REPOSITORY
    } else {
        INSTALLER_REPOSITORY
    };
    let mut repositories = vec![IMAGER_REPOSITORY, installer, EXTENSIONS_REPOSITORY];
    if quirks.supports_overlay() {
        repositories.push(OVERLAYS_REPOSITORY);
    }
    let mut images: Vec<PlannedImage> = repositories
        .into_iter()
        .map(|repository| PlannedImage {
            repository: repository.to_owned(),
            reference: tag.clone(),
            tag: tag.clone(),
        })
        .collect();

    let release =
        catalog::release(source, version)
            .await
            .map_err(|source| MirrorError::Catalog {
                version: version.clone(),
                source,
            })?;
    let pinned = release
        .extensions
        .iter()
        .map(|e| (&e.name, &e.reference, &e.digest))
        .chain(
            release
                .overlays
                .iter()
                .map(|o| (&o.image, &o.reference, &o.digest)),
        );
    for (repository, reference, digest) in pinned {
        let tag = tag_of(reference).ok_or_else(|| MirrorError::Untagged {
            reference: reference.clone(),
        })?;
        let image = PlannedImage {
            repository: repository.clone(),
            reference: digest.clone(),
            tag: tag.to_owned(),
        };
        if !images.contains(&image) {
            images.push(image);
        }
    }
    Ok(images)
}

/// The tag of `host/repo:tag` (after the last `/`, after its `:`).
fn tag_of(reference: &str) -> Option<&str> {
    let last = reference.rsplit('/').next()?;
    let (_, tag) = last.split_once(':')?;
    (!tag.is_empty()).then_some(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_come_from_the_last_segment() {
        assert_eq!(
            tag_of("127.0.0.1:5000/siderolabs/amd-ucode:20250311"),
            Some("20250311")
        );
        assert_eq!(
            tag_of("ghcr.io/siderolabs/gvisor:1.0-v1.6.0"),
            Some("1.0-v1.6.0")
        );
        assert_eq!(tag_of("127.0.0.1:5000/siderolabs/amd-ucode"), None);
        assert_eq!(tag_of("x:"), None);
    }
}

//! The catalog images the factory reads a version's extensions and overlays
//! from: `siderolabs/extensions:<v>` (`image-digests` and
//! `descriptions.yaml`) and `siderolabs/overlays:<v>` (`overlays.yaml`).
//!
//! References name upstream's registry (`ghcr.io/...`), because the factory
//! must replace the host with its configured one, and carry the digest of the
//! image index in this layout, which `skopeo copy --preserve-digests` keeps
//! when pushing. Lines are sorted as upstream's catalog is.

use factory_core::registry::{Descriptor, Digest};
use factory_core::version::TalosVersion;

use crate::error::Result;
use crate::fixtures::{
    CATALOG_REGISTRY, EXTENSIONS_CATALOG_REPOSITORY, ExtensionFixture, OVERLAY_NAME,
    OVERLAY_REPOSITORY, OVERLAY_TAG, OVERLAYS_CATALOG_REPOSITORY,
};
use crate::oci::image::{RuntimeConfig, write_multi_arch};
use crate::oci::layer::write_layer;
use crate::oci::layout::Layout;
use crate::tree::Tree;

/// `<registry>/<repo>:<tag>@<digest>` of one extension.
fn line(fixture: &ExtensionFixture, digest: &Digest) -> String {
    format!("{CATALOG_REGISTRY}/{}@{digest}", fixture.reference())
}

/// The `image-digests` file: one line per extension, sorted.
pub(crate) fn image_digests(entries: &[(ExtensionFixture, Digest)]) -> String {
    let mut lines: Vec<String> = entries.iter().map(|(f, d)| line(f, d)).collect();
    lines.sort();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The `descriptions.yaml` file, keyed by the full `image-digests` line.
pub(crate) fn descriptions_yaml(entries: &[(ExtensionFixture, Digest)]) -> String {
    let mut sorted: Vec<_> = entries.iter().collect();
    sorted.sort_by_key(|(f, d)| line(f, d));
    sorted
        .iter()
        .map(|(fixture, digest)| {
            format!(
                "{}:\n  author: {}\n  description: |\n    {}\n",
                line(fixture, digest),
                fixture.author,
                fixture.description
            )
        })
        .collect()
}

/// The `overlays.yaml` file.
pub(crate) fn overlays_yaml(overlay_digest: &Digest) -> String {
    format!(
        "overlays:\n  - name: {OVERLAY_NAME}\n    image: {CATALOG_REGISTRY}/{OVERLAY_REPOSITORY}:{OVERLAY_TAG}\n    digest: {overlay_digest}\n"
    )
}

/// Writes and tags `extensions:<version>`.
pub(crate) fn write_extensions_catalog(
    layout: &mut Layout,
    version: &TalosVersion,
    entries: &[(ExtensionFixture, Digest)],
) -> Result<Descriptor> {
    let mut tree = Tree::new();
    tree.bytes("image-digests", 0o644, image_digests(entries))?;
    tree.bytes("descriptions.yaml", 0o644, descriptions_yaml(entries))?;
    let reference = format!("{EXTENSIONS_CATALOG_REPOSITORY}:{version}");
    let layer = write_layer(layout, &tree, &reference)?;
    write_multi_arch(
        layout,
        &reference,
        |_| RuntimeConfig::default(),
        |_| vec![&layer],
    )
}

/// Writes and tags `overlays:<version>`.
pub(crate) fn write_overlays_catalog(
    layout: &mut Layout,
    version: &TalosVersion,
    overlay_digest: &Digest,
) -> Result<Descriptor> {
    let mut tree = Tree::new();
    tree.bytes("overlays.yaml", 0o644, overlays_yaml(overlay_digest))?;
    let reference = format!("{OVERLAYS_CATALOG_REPOSITORY}:{version}");
    let layer = write_layer(layout, &tree, &reference)?;
    write_multi_arch(
        layout,
        &reference,
        |_| RuntimeConfig::default(),
        |_| vec![&layer],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::extensions;

    #[test]
    fn catalog_files_have_upstream_shape() {
        let version: TalosVersion = "v1.12.4".parse().unwrap();
        let digest = Digest::sha256_of(b"x");
        let entries: Vec<_> = extensions(&version)
            .into_iter()
            .map(|f| (f, digest.clone()))
            .collect();
        let digests = image_digests(&entries);
        let first = digests.lines().next().unwrap();
        assert_eq!(
            first,
            format!("ghcr.io/siderolabs/amd-ucode:20250311@{digest}")
        );
        assert_eq!(digests.lines().count(), 4);
        let descriptions = descriptions_yaml(&entries);
        assert!(descriptions.starts_with(&format!(
            "{first}:\n  author: Sidero Labs\n  description: |\n    [core] "
        )));
        assert_eq!(
            overlays_yaml(&digest),
            format!(
                "overlays:\n  - name: rpi_generic\n    image: ghcr.io/siderolabs/sbc-raspberrypi:v0.1.4\n    digest: {digest}\n"
            )
        );
    }
}

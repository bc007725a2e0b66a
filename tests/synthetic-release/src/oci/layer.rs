//! A [`Tree`] as an OCI layer: tar, gzip-compressed, digested twice in one
//! pass (the compressed blob for the manifest, the uncompressed tar for the
//! config's `diff_ids`).
//!
//! gzip is flate2's pure-Rust backend at the default level with a zero
//! header mtime, so the blob bytes depend only on the tree.

use factory_core::registry::Descriptor;
use factory_core::registry::Digest;
use factory_core::registry::media_types::OCI_LAYER_TAR_GZIP;
use flate2::write::GzEncoder;

use crate::archive::tar::write_tar;
use crate::error::{IoContext, Result};
use crate::oci::hashing::Hashing;
use crate::oci::layout::Layout;
use crate::tree::Tree;

/// A layer stored in the layout.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    /// The compressed blob.
    pub(crate) descriptor: Descriptor,
    /// SHA-256 of the uncompressed tar.
    pub(crate) diff_id: Digest,
}

/// Writes `tree` as a gzip tar layer blob; `what` names it in errors.
pub(crate) fn write_layer(layout: &mut Layout, tree: &Tree, what: &str) -> Result<Layer> {
    let blob = layout.blob_writer()?;
    let gzip = GzEncoder::new(blob, flate2::Compression::default());
    let tar = write_tar(tree, Hashing::new(gzip))?;
    let (gzip, diff_id, _) = tar.finish();
    let blob = gzip
        .finish()
        .ctx(|| format!("finishing gzip stream of layer {what}"))?;
    let descriptor = layout.commit(blob, OCI_LAYER_TAR_GZIP)?;
    Ok(Layer {
        descriptor,
        diff_id,
    })
}

//! Writing an OCI image layout: content-addressed blobs, image manifests,
//! image indexes and the tagged top-level `index.json`.
//!
//! - [`hashing`]: a writer that digests what passes through it.
//! - [`layout`]: the directory (`oci-layout`, `blobs/sha256/`, `index.json`).
//! - [`layer`]: a tree as a gzip-compressed tar layer, with its diff ID.
//! - [`image`]: configs, manifests and multi-platform indexes.
//!
//! Media types are OCI's (not Docker's), as the factory writes its own
//! installers; descriptors are `factory-core`'s, so the JSON shape is the one
//! the factory's registry frontend already speaks.

pub(crate) mod hashing;
pub(crate) mod image;
pub(crate) mod layer;
pub(crate) mod layout;

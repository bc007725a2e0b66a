//! Writing OCI content: layers, image configs, manifests and indexes, and
//! the two on-disk forms images leave a build in.
//!
//! A build produces images, not pushes: [`LayerWriter`] streams a new layer
//! to disk computing its blob digest and diff ID in one pass;
//! [`BuiltImage::assemble`] puts layer blobs (new ones, or base layers
//! straight from the pull cache) under a config and manifest;
//! [`BuiltIndex::of`] lists images per platform. Those are written out as an
//! OCI image layout ([`write_oci_layout`]) or a docker archive
//! ([`write_docker_archive`]), or handed to a publisher as bytes plus blob
//! files. Layers are never held in memory: they move from file to file.
//!
//! Everything written is deterministic (fixed tar headers, sorted input
//! where order is free, no clocks), so the same inputs give the same
//! digests. The JSON layout follows go-containerregistry, which upstream
//! uses, member for member.

mod docker_archive;
mod error;
mod hashing;
mod image;
mod layer;
mod layout;
mod tar_entry;

pub use docker_archive::{MAX_REPO_TAG_LEN, MAX_REPO_TAGS, write_docker_archive};
pub use error::OciWriteError;
pub use image::{BuiltImage, BuiltIndex, ImageConfig, LayerBlob, MAX_IMAGE_LAYERS};
pub use layer::{LayerCompression, LayerWriter, MAX_LAYER_ENTRIES};
pub use layout::{REF_NAME_ANNOTATION, write_oci_layout};
pub use tar_entry::{MAX_ENTRY_PATH_LEN, MAX_ENTRY_SIZE};

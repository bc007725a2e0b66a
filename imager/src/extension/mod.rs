//! System extension images: flattening their layers safely, loading and
//! validating them as Talos does.
//!
//! An extension arrives as its ordered OCI layer blobs (already verified
//! against their digests by the puller). [`flatten_layers`] applies them into
//! a [`FlatTree`]: an in-memory index of paths in listing order whose file
//! contents are blob files in a directory the caller provides. Keeping the
//! tree as an index instead of unpacking it to disk means no archive entry
//! can make a write follow a link, modes are kept exactly whatever user the
//! builder runs as, whiteouts are range deletions, and later steps (moving
//! firmware out, writing squashfs and cpio in sorted order) are pure
//! operations on the index. [`Extension::load`] then checks the Talos
//! structure and manifest, and the build checks the compatibility range
//! ([`VersionRange`]) against the target Talos version.
//!
//! Every bound is explicit ([`Limits`]); every refusal is a typed error that
//! names the layer and the entry.

mod blobs;
mod constraint;
mod flatten;
mod layer_stream;
mod limits;
mod load;
mod manifest;
mod tree;
mod tree_path;

pub use blobs::{BlobId, BlobStore};
pub use constraint::{RangeError, VersionRange};
pub use flatten::{EntryProblem, FlattenError, MAX_PAX_HEADER_BYTES, flatten_layers};
pub use layer_stream::{LayerCompression, open_layer};
pub use limits::{
    Limits, MAX_ENTRIES, MAX_LAYERS, MAX_LINK_TARGET_BYTES, MAX_MANIFEST_BYTES, MAX_NAME_BYTES,
    MAX_PATH_BYTES, MAX_SYMLINK_HOPS, MAX_TOTAL_BYTES, MAX_TOTAL_PATH_BYTES,
};
pub use load::{ALLOWED_PATHS, Extension, LoadError, MANIFEST_VERSION, ValidationError};
pub use manifest::{
    Compatibility, Constraint, MAX_DEPTH, Manifest, ManifestError, Metadata, parse_manifest,
};
pub use tree::{FlatTree, IMPLICIT_DIR_MODE, Node, TreeError};
pub use tree_path::{PathProblem, TreePath};

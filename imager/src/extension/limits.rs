//! Explicit bounds on what an extension image may contain.
//!
//! Extension layers come from registries we do not control, so every
//! quantity that costs memory, disk or time while flattening is bounded, and
//! crossing a bound is a typed error naming the entry that crossed it (the
//! build stops there; nothing partial is returned). The defaults are far
//! above what real extensions need (the largest official ones, GPU drivers
//! and firmware, hold a few thousand entries and a few hundred MiB) and far
//! below what would exhaust a 256 MiB builder: the in-memory index is about
//! [`MAX_ENTRIES`] × (path + ~64 bytes), and [`MAX_TOTAL_PATH_BYTES`] caps the
//! path part of that.

/// Most layers one image may have (overlayfs itself stops near 128).
pub const MAX_LAYERS: usize = 128;

/// Most tar entries read across all layers of one image (files, dirs,
/// links and whiteouts all count).
pub const MAX_ENTRIES: usize = 250_000;

/// Most bytes of regular-file content read across all layers of one image
/// (counted as read, so content later whited out still counts).
pub const MAX_TOTAL_BYTES: u64 = 8 << 30;

/// Longest entry path, in bytes (Linux `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;

/// Longest single path component, in bytes (Linux `NAME_MAX`; squashfs
/// allows 256).
pub const MAX_NAME_BYTES: usize = 255;

/// Longest symlink target, in bytes.
pub const MAX_LINK_TARGET_BYTES: usize = 4096;

/// Most bytes of paths held in the flattened index at once.
pub const MAX_TOTAL_PATH_BYTES: usize = 64 << 20;

/// Largest `manifest.yaml`, in bytes (it may embed a schematic, itself at
/// most 1 MiB, as `extraInfo`).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// Most symlinks followed while resolving one path inside a tree (Linux
/// uses 40).
pub const MAX_SYMLINK_HOPS: usize = 40;

/// The bounds applied while flattening and loading one extension image.
///
/// [`Limits::default`] uses the module constants; tests and callers with
/// special needs may tighten or loosen single fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// See [`MAX_LAYERS`].
    pub max_layers: usize,
    /// See [`MAX_ENTRIES`].
    pub max_entries: usize,
    /// See [`MAX_TOTAL_BYTES`].
    pub max_total_bytes: u64,
    /// See [`MAX_PATH_BYTES`].
    pub max_path_bytes: usize,
    /// See [`MAX_NAME_BYTES`].
    pub max_name_bytes: usize,
    /// See [`MAX_LINK_TARGET_BYTES`].
    pub max_link_target_bytes: usize,
    /// See [`MAX_TOTAL_PATH_BYTES`].
    pub max_total_path_bytes: usize,
    /// See [`MAX_MANIFEST_BYTES`].
    pub max_manifest_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_layers: MAX_LAYERS,
            max_entries: MAX_ENTRIES,
            max_total_bytes: MAX_TOTAL_BYTES,
            max_path_bytes: MAX_PATH_BYTES,
            max_name_bytes: MAX_NAME_BYTES,
            max_link_target_bytes: MAX_LINK_TARGET_BYTES,
            max_total_path_bytes: MAX_TOTAL_PATH_BYTES,
            max_manifest_bytes: MAX_MANIFEST_BYTES,
        }
    }
}

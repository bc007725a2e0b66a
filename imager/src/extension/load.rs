//! A flattened image checked to be a Talos system extension.
//!
//! Structure (Talos `extensions.Load`): the image root holds exactly
//! `manifest.yaml` (a regular file) and `rootfs/` (a directory); anything
//! else is `unexpected file`. The manifest must decode and say
//! `version: v1alpha1`. Loading does not look at the Talos version; the
//! build checks compatibility ([`Extension::check_compatibility`]) and, when
//! asked, contents ([`Extension::check_contents`]), like the imager's
//! `validateExtensions`.

use std::io::Read;

use factory_core::version::TalosVersion;

use super::constraint::{RangeError, VersionRange};
use super::limits::Limits;
use super::manifest::{Manifest, ManifestError, parse_manifest};
use super::tree::{FlatTree, Node};
use super::tree_path::TreePath;

/// The manifest format version Talos accepts.
pub const MANIFEST_VERSION: &str = "v1alpha1";

/// Paths (and, by string prefix, everything below them) where Talos allows
/// files in an extension's rootfs (`extensions.AllowedPaths`).
pub const ALLOWED_PATHS: &[&str] = &[
    "/etc/cri/conf.d",
    "/usr/lib/firmware",
    "/usr/lib/modules",
    "/usr/lib/ld-linux-x86-64.so.2",
    "/usr/lib/ld-linux-aarch64.so.1",
    "/usr/bin/ldconfig",
    "/etc/ld.so.conf",
    "/etc/ld.so.cache",
    "/usr/bin/nvidia-modprobe",
    "/usr/bin/nvidia-pcc",
    "/usr/bin/nvidia-smi",
    "/usr/bin/nvidia-ctk",
    "/usr/bin/nvidia-cdi-hook",
    "/usr/bin/nvme",
    "/usr/lib/udev/rules.d",
    "/usr/local",
    "/usr/share/glvnd",
    "/usr/share/egl",
    "/etc/vulkan",
];

/// Why an image is not a loadable extension.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A top-level entry other than `manifest.yaml` and `rootfs`.
    #[error("unexpected file {0:?}")]
    UnexpectedFile(String),
    /// No `manifest.yaml`.
    #[error("extension manifest is missing")]
    MissingManifest,
    /// No `rootfs/`.
    #[error("extension rootfs is missing")]
    MissingRootfs,
    /// `manifest.yaml` or `rootfs` has the wrong type.
    #[error("{0:?} has the wrong type (manifest.yaml must be a file, rootfs a directory)")]
    WrongType(String),
    /// `manifest.yaml` is larger than the limit.
    #[error("manifest.yaml is {size} bytes, over the limit of {limit}")]
    ManifestTooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Reading `manifest.yaml` failed.
    #[error("reading manifest.yaml: {0}")]
    ReadManifest(std::io::Error),
    /// `manifest.yaml` is not valid YAML for the manifest.
    #[error("decoding manifest.yaml: {0}")]
    Manifest(#[from] ManifestError),
    /// The manifest version is not `v1alpha1`.
    #[error("unsupported manifest version: {0:?}")]
    UnsupportedVersion(String),
}

/// Why a loaded extension cannot be used with a Talos version.
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    /// The range does not parse.
    #[error("error parsing Talos version constraint: {0}")]
    Range(#[from] RangeError),
    /// The range does not hold for the Talos version (printed without `v`,
    /// as upstream's semver value prints).
    #[error("version constraint {constraint} can't be satisfied with Talos version {talos}")]
    Incompatible {
        /// The range as written.
        constraint: String,
        /// The Talos version.
        talos: String,
    },
    /// A file outside [`ALLOWED_PATHS`].
    #[error("path {0:?} is not allowed in extensions")]
    PathNotAllowed(String),
}

/// A loaded system extension: its manifest and its flattened tree (with
/// `manifest.yaml` and `rootfs/` at the top).
#[derive(Debug)]
pub struct Extension {
    manifest: Manifest,
    tree: FlatTree,
}

impl Extension {
    /// Checks the structure and decodes the manifest.
    pub fn load(tree: FlatTree, limits: &Limits) -> Result<Extension, LoadError> {
        let mut manifest_file = None;
        let mut rootfs = false;
        for (path, node) in tree.children(None) {
            match (path.as_str(), node) {
                ("manifest.yaml", Node::File { blob, size, .. }) => {
                    manifest_file = Some((*blob, *size));
                }
                ("rootfs", Node::Dir { .. }) => rootfs = true,
                (name @ ("manifest.yaml" | "rootfs"), _) => {
                    return Err(LoadError::WrongType(name.to_owned()));
                }
                (name, _) => return Err(LoadError::UnexpectedFile(name.to_owned())),
            }
        }
        let (blob, size) = manifest_file.ok_or(LoadError::MissingManifest)?;
        if size > limits.max_manifest_bytes {
            return Err(LoadError::ManifestTooLarge {
                size,
                limit: limits.max_manifest_bytes,
            });
        }
        let mut text = String::new();
        std::fs::File::open(tree.blob_path(blob))
            .and_then(|f| f.take(size).read_to_string(&mut text))
            .map_err(LoadError::ReadManifest)?;
        let manifest = parse_manifest(&text)?;
        if manifest.version != MANIFEST_VERSION {
            return Err(LoadError::UnsupportedVersion(manifest.version));
        }
        if !rootfs {
            return Err(LoadError::MissingRootfs);
        }
        Ok(Extension { manifest, tree })
    }

    /// Builds an extension from parts already known to be consistent
    /// (synthetic extensions such as `modules.dep`).
    pub(crate) fn from_parts(manifest: Manifest, tree: FlatTree) -> Extension {
        Extension { manifest, tree }
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The whole tree (`manifest.yaml` and `rootfs/...`).
    pub fn tree(&self) -> &FlatTree {
        &self.tree
    }

    /// Mutable access to the tree, for the build's moves.
    pub(crate) fn tree_mut(&mut self) -> &mut FlatTree {
        &mut self.tree
    }

    /// The path of `rootfs` in the tree.
    pub fn rootfs_path() -> TreePath {
        TreePath::known("rootfs")
    }

    /// Checks `metadata.compatibility.talos.version` against `talos`
    /// (major.minor.patch only, as Talos does). An empty range passes.
    pub fn check_compatibility(&self, talos: &TalosVersion) -> Result<(), ValidationError> {
        let constraint = &self.manifest.metadata.compatibility.talos.version;
        if constraint.is_empty() {
            return Ok(());
        }
        let range = VersionRange::parse(constraint)?;
        let (major, minor, patch) = talos.release_core();
        if range.matches_core(major, minor, patch) {
            Ok(())
        } else {
            Err(ValidationError::Incompatible {
                constraint: constraint.clone(),
                talos: talos.without_v(),
            })
        }
    }

    /// Talos's content check (`validateContents`), which the imager leaves
    /// off: every non-directory under `rootfs/` must be below one of
    /// [`ALLOWED_PATHS`] by string prefix, as upstream compares. (Upstream
    /// also means to refuse world-writable files, but its check reads the
    /// permission bits of the file *type* and never fires; special files
    /// cannot exist in a flattened tree.)
    pub fn check_contents(&self) -> Result<(), ValidationError> {
        let rootfs = Extension::rootfs_path();
        for (path, node) in self.tree.subtree(&rootfs) {
            if node.is_dir() {
                continue;
            }
            let Some(rel) = path.strip_prefix(&rootfs) else {
                continue;
            };
            let item = format!("/{rel}");
            if !ALLOWED_PATHS
                .iter()
                .any(|allowed| item.starts_with(allowed))
            {
                return Err(ValidationError::PathNotAllowed(item));
            }
        }
        Ok(())
    }
}

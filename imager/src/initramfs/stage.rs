//! Per-extension processing into a staging area, as upstream's
//! `Extension.Compress` does for each extension in order:
//!
//! 1. **Early microcode**: files matching `<fw>/intel-ucode/*` are
//!    appended, in name order, to `kernel/x86/microcode/GenuineIntel.bin`,
//!    and `<fw>/amd-ucode/microcode_amd*.bin` to `AuthenticAMD.bin`, then
//!    removed from the extension (`<fw>` is `/usr/lib/firmware` from Talos
//!    1.10, `/lib/firmware` before). These blobs accumulate across
//!    extensions and go into the uncompressed cpio in front of the base
//!    initramfs, where the kernel's early loader finds them.
//! 2. **Firmware**: what is left under `<fw>` moves out of the extension
//!    into the initramfs tree at the same path (links followed, see
//!    [`super::materialize`]); later extensions overwrite earlier files.
//! 3. **squashfs**: the rest of `rootfs/` becomes `<dir>.sqsh`.
//!
//! The staging area is an ordered map of initramfs paths to directories and
//! files on disk, so the final cpio is written in listing order.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use factory_core::quirks::Quirks;

use crate::extension::{Extension, Node, TreePath};
use crate::segment_cache::SegmentCache;

use super::codec::SegmentCompression;
use super::error::{InitramfsError, io_context};
use super::extensions_yaml::Layer;
use super::materialize::{Concrete, materialize, resolve};
use super::squashfs::{SquashEntry, image_key, write_squashfs};

/// Where the early microcode blobs go (upstream's destinations).
pub const INTEL_UCODE: &str = "kernel/x86/microcode/GenuineIntel.bin";
/// See [`INTEL_UCODE`].
pub const AMD_UCODE: &str = "kernel/x86/microcode/AuthenticAMD.bin";

/// A microcode glob: directory under the firmware path, file name filter,
/// destination.
type MicrocodeGlob = (&'static str, fn(&str) -> bool, &'static str);

/// Mode of directories the build creates (`MkdirAll(…, 0o755)`).
const DIR_MODE: u32 = 0o755;
/// Mode of files the build creates (squashfs images, `extensions.yaml`,
/// microcode: `0o644` after the usual umask).
pub(crate) const FILE_MODE: u32 = 0o644;

/// The initramfs-to-be: early microcode, compressed-segment entries and
/// the `extensions.yaml` layers.
#[derive(Debug)]
pub(crate) struct Staging {
    dir: PathBuf,
    quirks: Quirks,
    compression: SegmentCompression,
    max_entries: usize,
    /// Microcode destinations written so far (relative name → file).
    pub(crate) microcode: BTreeMap<TreePath, PathBuf>,
    /// Entries of the compressed segment.
    pub(crate) entries: BTreeMap<TreePath, Concrete>,
    /// Which of `entries` are squashfs images.
    pub(crate) images: BTreeSet<TreePath>,
    /// Where built images are kept and looked up, if anywhere.
    cache: Option<SegmentCache>,
    /// `extensions.yaml` layers, in order.
    pub(crate) layers: Vec<Layer>,
}

impl Staging {
    pub(crate) fn new(
        dir: &Path,
        quirks: Quirks,
        max_entries: usize,
        cache: Option<SegmentCache>,
    ) -> io::Result<Staging> {
        std::fs::create_dir_all(dir)?;
        Ok(Staging {
            dir: dir.to_owned(),
            quirks,
            compression: SegmentCompression::for_quirks(&quirks),
            max_entries,
            microcode: BTreeMap::new(),
            entries: BTreeMap::new(),
            images: BTreeSet::new(),
            cache,
            layers: Vec::new(),
        })
    }

    /// Processes one extension stored as directory `dir_name` (`0`, `1`,
    /// …, `modules.dep`).
    pub(crate) fn add(
        &mut self,
        dir_name: &str,
        ext: &mut Extension,
    ) -> Result<(), InitramfsError> {
        let name = ext.manifest().metadata.name.clone();
        self.microcode(&name, ext)?;
        self.firmware(&name, ext)?;
        let image = format!("{dir_name}.sqsh");
        let out = self.dir.join(&image);
        let rootfs = Extension::rootfs_path();
        let root_mode = match ext.tree().get(&rootfs) {
            Some(Node::Dir { mode }) => *mode,
            _ => DIR_MODE,
        };
        let entries: Vec<(TreePath, SquashEntry)> = ext
            .tree()
            .subtree(&rootfs)
            .filter_map(|(path, node)| {
                let rel = path.strip_prefix(&rootfs)?;
                let entry = match node {
                    Node::Dir { mode } => SquashEntry::Dir { mode: *mode },
                    Node::File { mode, blob, .. } => SquashEntry::File {
                        mode: *mode,
                        source: ext.tree().blob_path(*blob),
                    },
                    Node::Symlink { target } => SquashEntry::Symlink {
                        target: target.clone(),
                    },
                };
                Some((rel, entry))
            })
            .collect();
        let squashfs_error = |source| InitramfsError::Squashfs {
            extension: name.clone(),
            source,
        };
        let size = match &self.cache {
            Some(cache) => {
                let key =
                    image_key(&entries, root_mode, self.compression).map_err(squashfs_error)?;
                match cache.fetch(&key, "sqsh", &out)? {
                    Some(size) => size,
                    None => {
                        let size = write_squashfs(&entries, root_mode, self.compression, &out)
                            .map_err(squashfs_error)?;
                        cache.store(&key, "sqsh", &out)?;
                        size
                    }
                }
            }
            None => write_squashfs(&entries, root_mode, self.compression, &out)
                .map_err(squashfs_error)?,
        };
        let path =
            TreePath::from_components([image.as_str()]).ok_or_else(|| InitramfsError::Io {
                context: format!("naming squashfs image {image:?}"),
                source: io::Error::from(io::ErrorKind::InvalidInput),
            })?;
        self.images.insert(path.clone());
        self.entries.insert(
            path,
            Concrete::File {
                mode: FILE_MODE,
                source: out,
                size,
            },
        );
        self.layers.push(Layer {
            image,
            metadata: ext.manifest().metadata.clone(),
        });
        Ok(())
    }

    fn microcode(&mut self, name: &str, ext: &mut Extension) -> Result<(), InitramfsError> {
        let rootfs = Extension::rootfs_path();
        let fw = self.quirks.firmware_path();
        let globs: [MicrocodeGlob; 2] = [
            ("intel-ucode", |_| true, INTEL_UCODE),
            (
                "amd-ucode",
                |n| n.starts_with("microcode_amd") && n.ends_with(".bin"),
                AMD_UCODE,
            ),
        ];
        for (subdir, matches, dst) in globs {
            let Some(dir) =
                TreePath::from_absolute(&format!("{fw}/{subdir}")).map(|d| rootfs.join_path(&d))
            else {
                continue;
            };
            let resolved = resolve(ext.tree(), &rootfs, &dir).map_err(|source| {
                InitramfsError::Materialize {
                    extension: name.to_owned(),
                    source,
                }
            })?;
            let Some((dir, Node::Dir { .. })) = resolved else {
                continue;
            };
            let found: Vec<TreePath> = ext
                .tree()
                .children(Some(&dir))
                .filter(|(p, _)| matches(p.file_name()))
                .map(|(p, _)| p.clone())
                .collect();
            if found.is_empty() {
                continue;
            }
            let dst_path = self.dir.join(dst);
            if let Some(parent) = dst_path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(io_context(format!("creating {}", parent.display())))?;
            }
            let mut out = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&dst_path)
                .map_err(io_context(format!("opening {}", dst_path.display())))?;
            for path in found {
                let rel = path
                    .strip_prefix(&rootfs)
                    .map_or_else(String::new, |r| r.to_string());
                let Some((_, Node::File { blob, .. })) = resolve(ext.tree(), &rootfs, &path)
                    .map_err(|source| InitramfsError::Materialize {
                        extension: name.to_owned(),
                        source,
                    })?
                else {
                    return Err(InitramfsError::Microcode {
                        extension: name.to_owned(),
                        path: rel,
                    });
                };
                let source = ext.tree().blob_path(*blob);
                let mut input =
                    File::open(&source).map_err(io_context(format!("reading microcode {rel}")))?;
                io::copy(&mut input, &mut out)
                    .map_err(io_context(format!("appending microcode {rel} to {dst}")))?;
                ext.tree_mut()
                    .remove(&path)
                    .map_err(|source| InitramfsError::Tree {
                        extension: name.to_owned(),
                        source,
                    })?;
            }
            if let Some(key) = TreePath::from_absolute(dst) {
                self.microcode.insert(key, dst_path);
            }
        }
        Ok(())
    }

    fn firmware(&mut self, name: &str, ext: &mut Extension) -> Result<(), InitramfsError> {
        let rootfs = Extension::rootfs_path();
        let Some(fw_rel) = TreePath::from_absolute(self.quirks.firmware_path()) else {
            return Ok(());
        };
        let fw = rootfs.join_path(&fw_rel);
        let materialized =
            materialize(ext.tree(), &rootfs, &fw, self.max_entries).map_err(|source| {
                InitramfsError::Materialize {
                    extension: name.to_owned(),
                    source,
                }
            })?;
        let Some(entries) = materialized else {
            return Ok(());
        };
        // Parents of the firmware directory in the initramfs (`usr/lib`).
        if let Some(parent) = fw_rel.parent() {
            for dir in parent.ancestors().chain(std::iter::once(parent.clone())) {
                self.put(name, dir, Concrete::Dir { mode: DIR_MODE })?;
            }
        }
        for (rel, entry) in entries {
            let dest = match fw_rel.parent() {
                Some(parent) => parent.join_path(&rel),
                None => rel,
            };
            self.put(name, dest, entry)?;
        }
        // Detach without releasing: the staged entries point at these blobs
        // until the cpio is written.
        ext.tree_mut().take_subtree(&fw);
        Ok(())
    }

    /// Adds an entry with `MkdirAll`/`O_TRUNC` semantics: an existing
    /// directory stays as it is, a file replaces a file, and a type clash is
    /// an error.
    fn put(&mut self, name: &str, path: TreePath, entry: Concrete) -> Result<(), InitramfsError> {
        let clash = || InitramfsError::Conflict {
            extension: name.to_owned(),
            path: path.to_string(),
        };
        match (self.entries.get(&path), &entry) {
            (Some(Concrete::Dir { .. }), Concrete::Dir { .. }) => Ok(()),
            (Some(Concrete::Dir { .. }), Concrete::File { .. })
            | (Some(Concrete::File { .. }), Concrete::Dir { .. }) => Err(clash()),
            _ => {
                self.entries.insert(path, entry);
                Ok(())
            }
        }
    }

    /// Adds a file the build wrote itself (`extensions.yaml`).
    pub(crate) fn add_file(&mut self, name: &str, source: PathBuf, size: u64) -> io::Result<()> {
        let path = TreePath::from_components([name])
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        self.entries.insert(
            path,
            Concrete::File {
                mode: FILE_MODE,
                source,
                size,
            },
        );
        Ok(())
    }

    /// The staging directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

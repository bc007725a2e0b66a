//! Reproducible layers from a list of files, as upstream's `filemap` makes
//! them.
//!
//! Upstream lists `(image path, source path, mode)` entries, sorts them by
//! image path and writes one tar entry each: a directory header for a
//! directory, the contents for anything else (symbolic links are followed).
//! [`walk`] mirrors its `Walk`: every entry under a source root (the root
//! itself only when it is not a directory), in name order, each with the
//! permission bits of the entry itself (`lstat`, so a followed link gets
//! `0777`). Modes are only the permission bits; owners and times are fixed by
//! [`oci_write`](crate::oci_write).
//!
//! Unlike upstream, a link must resolve inside `containment` (the extracted
//! image it belongs to), and sockets, FIFOs and devices are refused. A walk
//! is bounded by a [`WalkBudget`]: entry count and total bytes.

use std::path::{Path, PathBuf};

use crate::oci_write::{LayerBlob, LayerCompression, LayerWriter, MAX_LAYER_ENTRIES};

use super::error::InstallerError;

/// The most bytes of file contents one layer's walks may gather (16 GiB).
pub const MAX_WALK_BYTES: u64 = 16 << 30;

/// What a layer entry holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The contents of a regular file (or of a link's target).
    File(PathBuf),
    /// A directory header.
    Directory,
    /// The given bytes.
    Bytes(Vec<u8>),
}

/// One entry of a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileEntry {
    /// Path inside the image, relative, `/`-separated.
    pub(crate) image_path: String,
    /// Permission bits.
    pub(crate) mode: u32,
    /// What it holds.
    pub(crate) source: Source,
}

/// How much more a layer's walks may gather.
#[derive(Debug, Clone)]
pub(crate) struct WalkBudget {
    entries: usize,
    bytes: u64,
}

impl Default for WalkBudget {
    fn default() -> Self {
        WalkBudget {
            entries: MAX_LAYER_ENTRIES,
            bytes: MAX_WALK_BYTES,
        }
    }
}

impl WalkBudget {
    fn take(&mut self, bytes: u64) -> Result<(), InstallerError> {
        self.entries = self.entries.checked_sub(1).ok_or(InstallerError::Limit {
            what: "entries in one layer",
            limit: MAX_LAYER_ENTRIES as u64,
        })?;
        self.bytes = self.bytes.checked_sub(bytes).ok_or(InstallerError::Limit {
            what: "bytes of files in one layer",
            limit: MAX_WALK_BYTES,
        })?;
        Ok(())
    }
}

/// The entries for everything under `source` (or `source` itself when it is
/// not a directory), placed under `image_base`. Links must resolve inside
/// `containment`.
pub(crate) fn walk(
    source: &Path,
    image_base: &str,
    containment: &Path,
    budget: &mut WalkBudget,
) -> Result<Vec<FileEntry>, InstallerError> {
    let containment =
        std::fs::canonicalize(containment).map_err(InstallerError::io("resolving", containment))?;
    let mut out = Vec::new();
    let root = std::fs::symlink_metadata(source).map_err(InstallerError::io("reading", source))?;
    if !root.is_dir() {
        out.push(entry(
            source,
            image_base.to_owned(),
            &root,
            &containment,
            budget,
        )?);
        return Ok(out);
    }
    // Depth-first in name order, as Go's WalkDir; a stack, not recursion.
    let mut stack = vec![(source.to_owned(), image_base.to_owned())];
    while let Some((dir, image_dir)) = stack.pop() {
        let mut children = Vec::new();
        for child in std::fs::read_dir(&dir).map_err(InstallerError::io("listing", &dir))? {
            let child = child.map_err(InstallerError::io("listing", &dir))?;
            children.push(child.path());
        }
        children.sort();
        // Pushed in reverse so the first name is walked first.
        let mut subdirs = Vec::new();
        for path in children {
            let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
                InstallerError::BadInput {
                    path: path.clone(),
                    reason: "file name is not UTF-8",
                }
            })?;
            let image_path = format!("{image_dir}/{name}");
            let meta =
                std::fs::symlink_metadata(&path).map_err(InstallerError::io("reading", &path))?;
            let found = entry(&path, image_path.clone(), &meta, &containment, budget)?;
            let descend = meta.is_dir();
            out.push(found);
            if descend {
                subdirs.push((path, image_path));
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    out.sort_by(|a, b| a.image_path.cmp(&b.image_path));
    Ok(out)
}

fn entry(
    path: &Path,
    image_path: String,
    meta: &std::fs::Metadata,
    containment: &Path,
    budget: &mut WalkBudget,
) -> Result<FileEntry, InstallerError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o777;
    let target = if meta.file_type().is_symlink() {
        let resolved =
            std::fs::canonicalize(path).map_err(InstallerError::io("resolving", path))?;
        if !resolved.starts_with(containment) {
            return Err(InstallerError::LinkEscapes {
                link: path.to_owned(),
                root: containment.to_owned(),
            });
        }
        std::fs::metadata(&resolved).map_err(InstallerError::io("reading", &resolved))?
    } else {
        meta.clone()
    };
    let source = if target.is_dir() {
        budget.take(0)?;
        Source::Directory
    } else if target.is_file() {
        budget.take(target.len())?;
        Source::File(path.to_owned())
    } else {
        return Err(InstallerError::BadInput {
            path: path.to_owned(),
            reason: "not a regular file, directory or link (sockets, FIFOs and devices are refused)",
        });
    };
    Ok(FileEntry {
        image_path,
        mode,
        source,
    })
}

/// Writes `entries`, sorted by image path, as one layer in `work_dir`.
pub(crate) fn write_layer(
    mut entries: Vec<FileEntry>,
    work_dir: &Path,
    compression: LayerCompression,
) -> Result<LayerBlob, InstallerError> {
    entries.sort_by(|a, b| a.image_path.cmp(&b.image_path));
    if let Some(pair) = entries
        .windows(2)
        .find(|pair| pair.first().map(|e| &e.image_path) == pair.get(1).map(|e| &e.image_path))
    {
        let path = pair
            .first()
            .map(|e| e.image_path.clone())
            .unwrap_or_default();
        return Err(InstallerError::DuplicatePath(path));
    }
    let mut layer = LayerWriter::create(work_dir, compression)?;
    for entry in &entries {
        match &entry.source {
            Source::File(path) => layer.append_file(&entry.image_path, entry.mode, path)?,
            Source::Directory => layer.append_directory(&entry.image_path, entry.mode)?,
            Source::Bytes(bytes) => layer.append_bytes(&entry.image_path, entry.mode, bytes)?,
        }
    }
    Ok(layer.finish()?)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("artifacts/arm64/firmware/boot")).unwrap();
        std::fs::create_dir_all(root.join("artifacts/arm64/u-boot")).unwrap();
        std::fs::write(
            root.join("artifacts/arm64/firmware/boot/fixup.dat"),
            b"fixup",
        )
        .unwrap();
        std::fs::write(root.join("artifacts/arm64/u-boot/u-boot.bin"), b"uboot").unwrap();
        chmod(&root.join("artifacts/arm64/u-boot/u-boot.bin"), 0o600);
        std::os::unix::fs::symlink("fixup.dat", root.join("artifacts/arm64/firmware/boot/link"))
            .unwrap();
        // Fixed modes, whatever the umask.
        for d in [
            "arm64",
            "arm64/firmware",
            "arm64/firmware/boot",
            "arm64/u-boot",
        ] {
            chmod(&root.join("artifacts").join(d), 0o755);
        }
        chmod(&root.join("artifacts/arm64/firmware/boot/fixup.dat"), 0o644);
        dir
    }

    #[test]
    fn walks_like_upstream() {
        let dir = tree();
        let root = dir.path();
        let got = walk(
            &root.join("artifacts"),
            "overlay/artifacts",
            root,
            &mut WalkBudget::default(),
        )
        .unwrap();
        let summary: Vec<(String, u32, bool)> = got
            .iter()
            .map(|e| (e.image_path.clone(), e.mode, e.source == Source::Directory))
            .collect();
        assert_eq!(
            summary,
            [
                ("overlay/artifacts/arm64".to_owned(), 0o755, true),
                ("overlay/artifacts/arm64/firmware".to_owned(), 0o755, true),
                (
                    "overlay/artifacts/arm64/firmware/boot".to_owned(),
                    0o755,
                    true
                ),
                (
                    "overlay/artifacts/arm64/firmware/boot/fixup.dat".to_owned(),
                    0o644,
                    false
                ),
                (
                    "overlay/artifacts/arm64/firmware/boot/link".to_owned(),
                    0o777,
                    false
                ),
                ("overlay/artifacts/arm64/u-boot".to_owned(), 0o755, true),
                (
                    "overlay/artifacts/arm64/u-boot/u-boot.bin".to_owned(),
                    0o600,
                    false
                ),
            ]
        );
        // A file root is one entry named by the base.
        let single = walk(
            &root.join("artifacts/arm64/u-boot/u-boot.bin"),
            "overlay/installers/default",
            root,
            &mut WalkBudget::default(),
        )
        .unwrap();
        assert_eq!(single.len(), 1);
        assert_eq!(single[0].image_path, "overlay/installers/default");
    }

    #[test]
    fn refuses_escaping_links_and_special_files() {
        let dir = tree();
        let root = dir.path();
        std::os::unix::fs::symlink("/etc/passwd", root.join("artifacts/escape")).unwrap();
        let err = walk(
            &root.join("artifacts"),
            "o",
            root,
            &mut WalkBudget::default(),
        )
        .unwrap_err();
        assert!(matches!(err, InstallerError::LinkEscapes { .. }), "{err}");
    }

    #[test]
    fn budgets_bound_the_walk() {
        let dir = tree();
        let root = dir.path();
        let mut small = WalkBudget {
            entries: 3,
            bytes: u64::MAX,
        };
        let err = walk(&root.join("artifacts"), "o", root, &mut small).unwrap_err();
        assert!(matches!(err, InstallerError::Limit { .. }), "{err}");
        let mut small = WalkBudget {
            entries: 100,
            bytes: 6,
        };
        let err = walk(&root.join("artifacts"), "o", root, &mut small).unwrap_err();
        assert!(matches!(err, InstallerError::Limit { .. }), "{err}");
    }

    #[test]
    fn duplicate_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = FileEntry {
            image_path: "a".into(),
            mode: 0,
            source: Source::Bytes(vec![]),
        };
        let err = write_layer(vec![e.clone(), e], dir.path(), LayerCompression::None).unwrap_err();
        assert!(matches!(err, InstallerError::DuplicatePath(p) if p == "a"));
    }
}

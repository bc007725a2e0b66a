//! The overlay layer of an SBC installer.
//!
//! With an overlay in the schematic, upstream adds one layer holding, from
//! the target architecture's overlay image: `overlay/artifacts/...` (the
//! image's `artifacts/` tree), `overlay/installers/default` (the chosen
//! installer program from `installers/<name>`), and `overlay/extra-options`
//! (the schematic's overlay options as YAML, mode 0644). The installer
//! switches to overlay mode when `/overlay/installers/default` exists.
//! Trees are walked as upstream's `filemap.Walk` does (see
//! [`filemap`](super::filemap)): directories included, modes from the files.
//!
//! The overlay image is extracted by the caller; this takes its root.
//! Limits: [`MAX_EXTRA_OPTIONS_BYTES`] of options, a
//! [`WalkBudget`](super::filemap::WalkBudget) for the trees.

use std::path::PathBuf;

use super::error::InstallerError;
use super::filemap::{FileEntry, Source, WalkBudget, walk};

/// The largest `overlay/extra-options` accepted (1 MiB).
pub const MAX_EXTRA_OPTIONS_BYTES: usize = 1 << 20;

/// The longest overlay installer name accepted.
const MAX_INSTALLER_NAME_LEN: usize = 255;

/// An overlay to embed in an installer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayInput {
    /// The root of the overlay image's filesystem for the target
    /// architecture, extracted: it has `artifacts/` and `installers/`.
    pub root: PathBuf,
    /// The overlay installer to use, a file name under `installers/`
    /// (`rpi_generic`).
    pub installer: String,
    /// The bytes of `overlay/extra-options`: the schematic's overlay options
    /// as go-yaml marshals them (`{}\n` for none).
    pub extra_options: Vec<u8>,
}

impl OverlayInput {
    /// The layer entries.
    pub(crate) fn entries(&self) -> Result<Vec<FileEntry>, InstallerError> {
        let name = self.installer.as_str();
        if name.is_empty()
            || name.len() > MAX_INSTALLER_NAME_LEN
            || name == "."
            || name == ".."
            || name.contains(['/', '\0'])
        {
            return Err(InstallerError::InvalidOverlayInstaller(
                name.chars().take(MAX_INSTALLER_NAME_LEN).collect(),
            ));
        }
        if self.extra_options.len() > MAX_EXTRA_OPTIONS_BYTES {
            return Err(InstallerError::Limit {
                what: "overlay extra options",
                limit: MAX_EXTRA_OPTIONS_BYTES as u64,
            });
        }
        let mut budget = WalkBudget::default();
        let mut entries = walk(
            &self.root.join("artifacts"),
            "overlay/artifacts",
            &self.root,
            &mut budget,
        )?;
        entries.extend(walk(
            &self.root.join("installers").join(name),
            "overlay/installers/default",
            &self.root,
            &mut budget,
        )?);
        entries.push(FileEntry {
            image_path: "overlay/extra-options".to_owned(),
            mode: 0o644,
            source: Source::Bytes(self.extra_options.clone()),
        });
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_artifacts_installer_and_options() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("artifacts/arm64/firmware/boot")).unwrap();
        std::fs::write(root.join("artifacts/arm64/firmware/boot/fixup.dat"), b"f").unwrap();
        std::fs::create_dir_all(root.join("installers")).unwrap();
        std::fs::write(root.join("installers/rpi_generic"), b"#!").unwrap();
        let input = OverlayInput {
            root: root.to_owned(),
            installer: "rpi_generic".into(),
            extra_options: b"configTxtAppend: x\n".to_vec(),
        };
        let mut paths: Vec<String> = input
            .entries()
            .unwrap()
            .into_iter()
            .map(|e| e.image_path)
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "overlay/artifacts/arm64",
                "overlay/artifacts/arm64/firmware",
                "overlay/artifacts/arm64/firmware/boot",
                "overlay/artifacts/arm64/firmware/boot/fixup.dat",
                "overlay/extra-options",
                "overlay/installers/default",
            ]
        );
        for bad in ["", "..", "a/b", "x\0"] {
            let input = OverlayInput {
                installer: bad.into(),
                ..input.clone()
            };
            assert!(matches!(
                input.entries(),
                Err(InstallerError::InvalidOverlayInstaller(_))
            ));
        }
        let missing = OverlayInput {
            installer: "rock5a".into(),
            ..input
        };
        assert!(matches!(missing.entries(), Err(InstallerError::Io { .. })));
    }
}

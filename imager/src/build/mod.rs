//! The builder: one [`BuildProfile`] in, one artifact file out; and the
//! registry frontend's multi-arch installer ([`build_installer_index`]).
//!
//! This is the library call the standalone server and the Lambda builder
//! make on a cache miss. It pulls what the profile names from upstream
//! (through the shared, verified [`Puller`] cache), assembles the output
//! with this crate's format writers, and reports the artifact's size and
//! digests so the caller can sign a record for it
//! ([`crate::signing::sign_record`]). Outputs are written to a temporary
//! file next to the destination and renamed only when complete.
//!
//! Kinds implemented:
//!
//! - `kernel`, `cmdline`, `initramfs` (with the profile's extensions);
//! - `uki`: systemd-stub of the imager image with Talos's sections and, from
//!   1.10, its profiles (see the `uki` submodule for the old-stub rule);
//! - `installer-<arch>.tar` for every version: kernel and initramfs before
//!   1.10, UKI and systemd-boot from 1.10, plus the overlay layer when the
//!   schematic has an SBC overlay;
//! - the installer index for the registry frontend, both architectures and
//!   its cosign signature ([`InstallerBuild`]).
//!
//! Not built yet, answering [`BuildError::Unsupported`]: ISO, disk images,
//! and every SecureBoot output (signing is a later issue).
//!
//! With an overlay, UKI command lines carry the kernel args the overlay's
//! installer program answers to `get-options`, as upstream's; that program
//! is run on this host (see the `overlay` submodule).

mod extensions;
mod imager_files;
mod installer;
mod installer_index;
mod overlay;
mod publication;
mod uki;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use factory_core::image_path::OutputKind;
use factory_core::profile::BuildProfile;
use factory_core::schematic::Schematic;
use sha2::{Digest as _, Sha256, Sha512};

use crate::initramfs::{InitramfsError, InitramfsSettings, build_initramfs};
use crate::pull::{PullError, Puller};

pub use imager_files::{IMAGER_FILE_LIMIT, imager_file};
pub use installer_index::{
    InstallerBuild, ManifestRole, PublishBlob, PublishManifest, build_installer_index,
};
pub use overlay::{GET_OPTIONS_TIMEOUT, MAX_GET_OPTIONS_OUTPUT};
pub use publication::{installer_reference, registry_host};
pub use uki::UKI_TIMESTAMP;

/// What a build needs besides the profile.
#[derive(Debug)]
pub struct BuildContext<'a> {
    /// Upstream content.
    pub puller: &'a Puller,
    /// The factory's public URL (named in the schematic extension).
    pub external_url: &'a str,
    /// A directory for intermediates; each build uses a fresh subdirectory
    /// and removes it.
    pub work_root: &'a Path,
}

/// A built artifact on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltArtifact {
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Lowercase hex sha256.
    pub sha256: String,
    /// Lowercase hex sha512.
    pub sha512: String,
}

/// A failed build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Upstream content could not be fetched or verified.
    #[error("pulling upstream content: {0}")]
    Pull(#[from] PullError),
    /// A file the imager image should hold is missing.
    #[error("{repository}@{digest} has no {path}")]
    MissingFile {
        /// The image.
        repository: String,
        /// Its manifest digest.
        digest: String,
        /// The file inside it.
        path: String,
    },
    /// An upstream file is larger than the limit.
    #[error("{path} in {repository} is larger than {limit} bytes")]
    TooLarge {
        /// The image.
        repository: String,
        /// The file.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// An extension image is not a valid extension.
    #[error("extension {name}: {reason}")]
    Extension {
        /// The extension's catalog name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// Assembling the initramfs failed.
    #[error("building the initramfs: {0}")]
    Initramfs(#[from] InitramfsError),
    /// This output kind is not built yet.
    #[error("{0} outputs are not built yet")]
    Unsupported(&'static str),
    /// Assembling the UKI failed (including a stub too old for the profiles
    /// asked of it).
    #[error("building the UKI: {0}")]
    Uki(#[from] crate::uki::UkiError),
    /// The schematic's overlay image or its installer program failed.
    #[error("overlay {name}: {reason}")]
    Overlay {
        /// The overlay's catalog name.
        name: String,
        /// What failed.
        reason: String,
    },
    /// The profiles given for an installer index are not one installer
    /// profile per architecture of one version.
    #[error("installer index: {0}")]
    InstallerProfiles(&'static str),
    /// Signing the installer index failed.
    #[error("signing the installer index: {0}")]
    Signing(#[from] crate::signing::CosignError),
    /// Assembling or writing the installer image failed.
    #[error("building the installer image: {0}")]
    Installer(#[from] crate::installer::InstallerError),
    /// Writing an OCI artifact failed.
    #[error("writing the installer image: {0}")]
    OciWrite(#[from] crate::oci_write::OciWriteError),
    /// Local I/O failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl BuildError {
    fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BuildError {
        let path = path.to_owned();
        move |source| BuildError::Io {
            action,
            path,
            source,
        }
    }
}

/// Builds `profile` for `schematic` into `out`.
pub async fn build(
    ctx: &BuildContext<'_>,
    profile: &BuildProfile,
    schematic: &Schematic,
    out: &Path,
) -> Result<BuiltArtifact, BuildError> {
    let work = tempfile::Builder::new()
        .prefix("build-")
        .tempdir_in(ctx.work_root)
        .map_err(BuildError::io(
            "creating a work directory in",
            ctx.work_root,
        ))?;
    let staged = work.path().join("output");
    match profile.output.kind {
        OutputKind::Cmdline => {
            let line = profile.kernel_cmdline(&[]);
            std::fs::write(&staged, line).map_err(BuildError::io("writing", &staged))?;
        }
        OutputKind::Kernel => {
            imager_file(
                ctx.puller,
                &profile.version,
                profile.output.arch,
                "vmlinuz",
                &staged,
            )
            .await?;
        }
        OutputKind::Initramfs => {
            initramfs_file(ctx, profile, schematic, work.path(), &staged).await?;
        }
        OutputKind::Installer => {
            installer::build_installer_tar(ctx, profile, schematic, work.path(), &staged).await?;
        }
        OutputKind::Uki => {
            uki::uki_file(ctx, profile, schematic, work.path(), &staged).await?;
        }
        OutputKind::Iso => return Err(BuildError::Unsupported("ISO")),
        OutputKind::Image => return Err(BuildError::Unsupported("disk image")),
    }
    let artifact = digest_file(&staged)?;
    std::fs::rename(&staged, out).map_err(BuildError::io("renaming into", out))?;
    Ok(BuiltArtifact {
        path: out.to_owned(),
        ..artifact
    })
}

/// Builds the initramfs of `profile` (base from the imager image plus the
/// profile's extensions) into `dest`.
async fn initramfs_file(
    ctx: &BuildContext<'_>,
    profile: &BuildProfile,
    schematic: &Schematic,
    work: &Path,
    dest: &Path,
) -> Result<(), BuildError> {
    let base = work.join("base-initramfs.xz");
    imager_file(
        ctx.puller,
        &profile.version,
        profile.output.arch,
        "initramfs.xz",
        &base,
    )
    .await?;
    let exts = extensions::load_all(ctx, profile, schematic, work).await?;
    let mut settings = InitramfsSettings::new(profile.version.clone());
    // Squashfs images are shared by content with other schematics' builds,
    // next to the pulled blobs they are made of.
    settings.segment_cache = Some(
        ctx.puller
            .cache()
            .root()
            .join(crate::segment_cache::PULLER_CACHE_SUBDIR),
    );
    let scratch = work.join("scratch");
    std::fs::create_dir_all(&scratch).map_err(BuildError::io("creating", &scratch))?;
    let dest = dest.to_owned();
    blocking(&dest.clone(), move || {
        let file = std::fs::File::create(&dest).map_err(BuildError::io("creating", &dest))?;
        let mut writer = std::io::BufWriter::new(file);
        build_initramfs(&base, exts, &settings, &scratch, &mut writer)?;
        writer.flush().map_err(BuildError::io("writing", &dest))
    })
    .await
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    what: &Path,
    job: impl FnOnce() -> Result<T, BuildError> + Send + 'static,
) -> Result<T, BuildError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| BuildError::Io {
            action: "joining the build task for",
            path: what.to_owned(),
            source: std::io::Error::other(e.to_string()),
        })?
}

/// Size, sha256 and sha512 of a file, read once.
fn digest_file(path: &Path) -> Result<BuiltArtifact, BuildError> {
    let mut file = std::fs::File::open(path).map_err(BuildError::io("opening", path))?;
    let (mut sha256, mut sha512, mut size) = (Sha256::new(), Sha512::new(), 0u64);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(BuildError::io("reading", path))?;
        let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
            break;
        };
        sha256.update(chunk);
        sha512.update(chunk);
        size += n as u64;
    }
    Ok(BuiltArtifact {
        path: path.to_owned(),
        size,
        sha256: hex::encode(sha256.finalize()),
        sha512: hex::encode(sha512.finalize()),
    })
}

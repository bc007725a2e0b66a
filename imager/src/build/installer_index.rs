//! The registry frontend's installer: both architectures, their index and
//! its cosign signature, ready to publish.
//!
//! Upstream's `buildInstallImage` always builds `linux/amd64` and
//! `linux/arm64` and lists them in one OCI index; `PublishInstallerIndex`
//! pushes the images and the index by digest, signs the index, verifies the
//! signature, and only then tags the index. [`build_installer_index`] does
//! the building and signing; [`InstallerBuild`] hands an adapter everything
//! to push without knowing OCI internals:
//!
//! - [`InstallerBuild::blobs`]: every blob as a descriptor and a file (base
//!   layers in the pull cache, new layers, configs and signature blobs in the
//!   build's own directory, which lives as long as the `InstallerBuild`);
//! - [`InstallerBuild::manifests`]: every manifest's digest, media type and
//!   exact bytes, in push order (images, index, signature), the signature's
//!   under [`InstallerBuild::signature_tag`];
//! - [`InstallerBuild::write_oci_layout`] for offline use (images and index;
//!   the signature is not part of an OCI layout's one tag).
//!
//! The build is reproducible: new layers and configs carry Go's zero time,
//! and so does the signature's config (upstream stamps both with the build
//! time). Intermediates (kernels, initramfs, UKIs, extracted overlays) are
//! removed as soon as each image's layers are written.

use std::path::{Path, PathBuf};

use factory_core::arch::Arch;
use factory_core::image_path::OutputKind;
use factory_core::profile::BuildProfile;
use factory_core::registry::media_types::{OCI_INDEX, OCI_MANIFEST};
use factory_core::registry::{Descriptor, Digest};
use factory_core::schematic::Schematic;

use crate::installer::{build_index, signature_for_index};
use crate::oci_write::{BuiltImage, BuiltIndex, write_oci_layout};
use crate::signing::{CosignSignature, SigningKey};

use super::installer::installer_image;
use super::{BuildContext, BuildError, blocking};

/// A blob to push: its descriptor and the file holding exactly its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishBlob {
    /// Media type, digest and size.
    pub descriptor: Descriptor,
    /// The file to upload.
    pub path: PathBuf,
}

/// What a manifest is, for logs and for choosing how to push it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestRole {
    /// The installer image of one architecture (push by digest).
    Image(Arch),
    /// The index of both images (push by digest; tag it last).
    Index,
    /// The index's cosign signature (push under
    /// [`InstallerBuild::signature_tag`]).
    Signature,
}

/// A manifest to push: its exact bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishManifest<'a> {
    /// What it is.
    pub role: ManifestRole,
    /// The sha256 of [`Self::bytes`].
    pub digest: &'a Digest,
    /// Its `Content-Type`.
    pub media_type: &'a str,
    /// The bytes, to send unchanged.
    pub bytes: &'a [u8],
}

/// A built and signed multi-arch installer; see the module docs.
#[derive(Debug)]
pub struct InstallerBuild {
    images: Vec<BuiltImage>,
    index: BuiltIndex,
    signature: CosignSignature,
    repository: String,
    blobs: Vec<PublishBlob>,
    /// Holds the new layers, configs and signature blobs.
    _work: tempfile::TempDir,
}

impl InstallerBuild {
    /// The `linux/amd64` and `linux/arm64` images, in that order.
    pub fn images(&self) -> &[BuiltImage] {
        &self.images
    }

    /// The index.
    pub fn index(&self) -> &BuiltIndex {
        &self.index
    }

    /// The index digest (what the version tag will point at).
    pub fn index_digest(&self) -> &Digest {
        self.index.digest()
    }

    /// The cosign signature of the index.
    pub fn signature(&self) -> &CosignSignature {
        &self.signature
    }

    /// The tag of the signature manifest: `sha256-<index hex>.sig`.
    pub fn signature_tag(&self) -> &str {
        self.signature.tag()
    }

    /// The repository the signature names (`host/installer/<id>`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// Every blob the manifests reference, each once, in push order: per
    /// image its layers then its config, then the signature's config and
    /// payload.
    pub fn blobs(&self) -> &[PublishBlob] {
        &self.blobs
    }

    /// Every manifest in push order: the amd64 and arm64 images, the index,
    /// the signature.
    pub fn manifests(&self) -> Vec<PublishManifest<'_>> {
        let mut out: Vec<PublishManifest<'_>> = self
            .images
            .iter()
            .map(|image| PublishManifest {
                role: ManifestRole::Image(image_arch(image)),
                digest: image.digest(),
                media_type: OCI_MANIFEST,
                bytes: image.manifest(),
            })
            .collect();
        out.push(PublishManifest {
            role: ManifestRole::Index,
            digest: self.index.digest(),
            media_type: OCI_INDEX,
            bytes: self.index.bytes(),
        });
        let sig = self.signature.manifest();
        out.push(PublishManifest {
            role: ManifestRole::Signature,
            digest: sig.digest(),
            media_type: sig.media_type(),
            bytes: sig.bytes(),
        });
        out
    }

    /// Writes the images and the index as an OCI layout at `dir`, the index
    /// tagged `tag`.
    pub fn write_oci_layout(&self, dir: &Path, tag: &str) -> Result<(), BuildError> {
        let images: Vec<&BuiltImage> = self.images.iter().collect();
        Ok(write_oci_layout(dir, tag, &self.index, &images)?)
    }
}

fn image_arch(image: &BuiltImage) -> Arch {
    if image.platform().architecture == Arch::Arm64.as_str() {
        Arch::Arm64
    } else {
        Arch::Amd64
    }
}

/// Builds the installer images of `profiles_per_arch` (one `installer`
/// profile for amd64 and one for arm64, same version, no SecureBoot), their
/// index, and the index's signature with `key` for `repository` (the full
/// name pullers use, registry host included:
/// `factory.example.com/installer/<schematic id>`).
pub async fn build_installer_index(
    ctx: &BuildContext<'_>,
    profiles_per_arch: &[BuildProfile],
    schematic: &Schematic,
    key: &SigningKey,
    repository: &str,
) -> Result<InstallerBuild, BuildError> {
    let ordered = check_profiles(profiles_per_arch)?;
    let work = tempfile::Builder::new()
        .prefix("installer-")
        .tempdir_in(ctx.work_root)
        .map_err(BuildError::io(
            "creating a work directory in",
            ctx.work_root,
        ))?;
    let mut images = Vec::with_capacity(2);
    for profile in ordered {
        let arch = profile.output.arch;
        let scratch = work.path().join(format!("scratch-{arch}"));
        let layers = work.path().join(format!("layers-{arch}"));
        let image = installer_image(ctx, profile, schematic, &scratch, &layers).await;
        let removed = std::fs::remove_dir_all(&scratch);
        let image = image?;
        removed.map_err(BuildError::io("removing", &scratch))?;
        images.push(image);
    }
    let refs: Vec<&BuiltImage> = images.iter().collect();
    let index = build_index(&refs)?;
    let signature = signature_for_index(key, repository, index.digest(), None)?;
    let blob_dir = work.path().join("blobs");
    let (images, blobs, index, signature) = {
        let blob_dir = blob_dir.clone();
        blocking(&blob_dir.clone(), move || {
            let blobs = publish_blobs(&images, &signature, &blob_dir)?;
            Ok((images, blobs, index, signature))
        })
        .await?
    };
    Ok(InstallerBuild {
        images,
        index,
        signature,
        repository: repository.to_owned(),
        blobs,
        _work: work,
    })
}

/// The amd64 then the arm64 profile, or why the set is not one.
fn check_profiles(profiles: &[BuildProfile]) -> Result<[&BuildProfile; 2], BuildError> {
    let invalid = |reason| Err(BuildError::InstallerProfiles(reason));
    let find = |arch| {
        let mut matching = profiles.iter().filter(move |p| p.output.arch == arch);
        match (matching.next(), matching.next()) {
            (Some(p), None) => Some(p),
            _ => None,
        }
    };
    let (Some(amd64), Some(arm64)) = (find(Arch::Amd64), find(Arch::Arm64)) else {
        return invalid("exactly one amd64 and one arm64 profile are needed");
    };
    if profiles.len() != 2 {
        return invalid("exactly one amd64 and one arm64 profile are needed");
    }
    if amd64.output.kind != OutputKind::Installer || arm64.output.kind != OutputKind::Installer {
        return invalid("both profiles must be installer profiles");
    }
    if amd64.version != arm64.version {
        return invalid("both profiles must be for the same Talos version");
    }
    if amd64.output.secureboot || arm64.output.secureboot {
        return Err(BuildError::Unsupported("SecureBoot installer"));
    }
    Ok([amd64, arm64])
}

/// Lists every blob once, writing the in-memory ones (configs, signature
/// blobs) into `dir`.
fn publish_blobs(
    images: &[BuiltImage],
    signature: &CosignSignature,
    dir: &Path,
) -> Result<Vec<PublishBlob>, BuildError> {
    std::fs::create_dir_all(dir).map_err(BuildError::io("creating", dir))?;
    let mut out: Vec<PublishBlob> = Vec::new();
    let mut push = |blob: PublishBlob| {
        if !out
            .iter()
            .any(|b| b.descriptor.digest == blob.descriptor.digest)
        {
            out.push(blob);
        }
    };
    let write = |digest: &Digest, bytes: &[u8]| -> Result<PathBuf, BuildError> {
        let path = dir.join(digest.hex());
        std::fs::write(&path, bytes).map_err(BuildError::io("writing", &path))?;
        Ok(path)
    };
    for image in images {
        for layer in image.layers() {
            push(PublishBlob {
                descriptor: layer.descriptor.clone(),
                path: layer.path.clone(),
            });
        }
        let config = image.config_descriptor();
        push(PublishBlob {
            descriptor: config.clone(),
            path: write(&config.digest, image.config())?,
        });
    }
    for blob in signature.blobs() {
        push(PublishBlob {
            descriptor: blob.descriptor(),
            path: write(blob.digest(), blob.bytes())?,
        });
    }
    Ok(out)
}

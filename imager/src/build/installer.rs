//! Installer images for one architecture, and the `installer-<arch>.tar`
//! output (a docker archive, what `docker load` and upstream's download
//! give).
//!
//! The artifacts layer follows the version (`upstream-imager.md` §7.2): from
//! Talos 1.10 the UKI (built by [`uki_file`], with the `reset-maintenance`
//! profile where the stub allows it) and the imager's `systemd-boot.efi`;
//! before, the kernel and our initramfs. With an overlay, the target
//! architecture's overlay image adds the overlay layer. SecureBoot
//! installers need signing and are not built here.

use std::path::Path;

use factory_core::profile::BuildProfile;
use factory_core::quirks::Quirks;
use factory_core::schematic::Schematic;

use crate::installer::{
    BaseImage, InstallerArtifacts, InstallerInput, OverlayInput, base_repository,
    build_installer_image,
};
use crate::oci_write::{BuiltImage, LayerCompression, write_docker_archive};

use super::uki::uki_file;
use super::{BuildContext, BuildError, blocking, imager_file, initramfs_file, overlay};

/// Builds the installer image of `profile`: intermediates under `scratch`
/// (removable once this returns), the new layer files in `layers`, which
/// must live as long as the image.
pub(super) async fn installer_image(
    ctx: &BuildContext<'_>,
    profile: &BuildProfile,
    schematic: &Schematic,
    scratch: &Path,
    layers: &Path,
) -> Result<BuiltImage, BuildError> {
    if profile.output.secureboot {
        return Err(BuildError::Unsupported("SecureBoot installer"));
    }
    let arch = profile.output.arch;
    for dir in [scratch, layers] {
        std::fs::create_dir_all(dir).map_err(BuildError::io("creating", dir))?;
    }
    let artifacts = if Quirks::new(&profile.version).use_sd_boot_for_uefi() {
        let uki = scratch.join("vmlinuz.efi");
        uki_file(ctx, profile, schematic, &scratch.join("uki"), &uki).await?;
        let systemd_boot = scratch.join("systemd-boot.efi");
        imager_file(
            ctx.puller,
            &profile.version,
            arch,
            "systemd-boot.efi",
            &systemd_boot,
        )
        .await?;
        InstallerArtifacts::Uki { uki, systemd_boot }
    } else {
        let kernel = scratch.join("vmlinuz");
        imager_file(ctx.puller, &profile.version, arch, "vmlinuz", &kernel).await?;
        let initramfs = scratch.join("initramfs.xz");
        initramfs_file(ctx, profile, schematic, scratch, &initramfs).await?;
        InstallerArtifacts::KernelInitramfs { kernel, initramfs }
    };
    let overlay = match &profile.overlay {
        Some(resolved) => Some(OverlayInput {
            root: overlay::extract(ctx, resolved, arch, &scratch.join("overlay-target")).await?,
            installer: resolved.entry.name.clone(),
            extra_options: overlay::options_yaml(schematic),
        }),
        None => None,
    };

    let repository = base_repository(&profile.version);
    // Pinned to the digest the catalog recorded, as the asset key is.
    let reference = profile
        .installer_base_digest
        .clone()
        .unwrap_or_else(|| profile.version.tag());
    let base = BaseImage::pull(ctx.puller, repository, &reference, arch).await?;
    let input = InstallerInput {
        arch,
        version: profile.version.clone(),
        secureboot: false,
        artifacts,
        overlay,
        created: None,
        compression: LayerCompression::Gzip,
    };
    let layers = layers.to_owned();
    blocking(&layers.clone(), move || {
        Ok(build_installer_image(&base, &input, &layers)?)
    })
    .await
}

/// Builds the installer of `profile` as a docker archive at `dest`.
pub(super) async fn build_installer_tar(
    ctx: &BuildContext<'_>,
    profile: &BuildProfile,
    schematic: &Schematic,
    work: &Path,
    dest: &Path,
) -> Result<(), BuildError> {
    let layers = work.join("installer-layers");
    let image = installer_image(ctx, profile, schematic, &work.join("scratch"), &layers).await?;
    let dest = dest.to_owned();
    blocking(&dest.clone(), move || {
        let file = std::fs::File::create(&dest).map_err(BuildError::io("creating", &dest))?;
        let mut out = write_docker_archive(&image, &[], std::io::BufWriter::new(file))?;
        std::io::Write::flush(&mut out).map_err(BuildError::io("writing", &dest))
    })
    .await
}

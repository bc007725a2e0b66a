//! The `installer-<arch>.tar` output: the base installer plus the boot
//! artifacts, as a docker archive (what `docker load` and upstream's
//! download give).

use std::path::Path;

use factory_core::profile::BuildProfile;
use factory_core::quirks::Quirks;
use factory_core::schematic::Schematic;

use crate::installer::{
    BaseImage, InstallerArtifacts, InstallerInput, base_repository, build_installer_image,
};
use crate::oci_write::{LayerCompression, write_docker_archive};

use super::{BuildContext, BuildError, blocking, imager_file, initramfs_file};

/// Builds the installer of `profile` as a docker archive at `dest`.
pub(super) async fn build_installer_tar(
    ctx: &BuildContext<'_>,
    profile: &BuildProfile,
    schematic: &Schematic,
    work: &Path,
    dest: &Path,
) -> Result<(), BuildError> {
    let quirks = Quirks::new(&profile.version);
    if quirks.supports_unified_installer() || profile.output.secureboot {
        return Err(BuildError::Unsupported("UKI-based installer"));
    }
    if profile.overlay.is_some() {
        return Err(BuildError::Unsupported("overlay installer"));
    }
    let arch = profile.output.arch;
    let kernel = work.join("vmlinuz");
    imager_file(ctx.puller, &profile.version, arch, "vmlinuz", &kernel).await?;
    let initramfs = work.join("initramfs.xz");
    initramfs_file(ctx, profile, schematic, work, &initramfs).await?;

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
        artifacts: InstallerArtifacts::KernelInitramfs { kernel, initramfs },
        overlay: None,
        created: None,
        compression: LayerCompression::Gzip,
    };
    let layers = work.join("installer-layers");
    std::fs::create_dir_all(&layers).map_err(BuildError::io("creating", &layers))?;
    let dest = dest.to_owned();
    blocking(&dest.clone(), move || {
        let image = build_installer_image(&base, &input, &layers)?;
        let file = std::fs::File::create(&dest).map_err(BuildError::io("creating", &dest))?;
        let mut out = write_docker_archive(&image, &[], std::io::BufWriter::new(file))?;
        std::io::Write::flush(&mut out).map_err(BuildError::io("writing", &dest))
    })
    .await
}

//! Unified kernel images: the `uki` output and the UKI inside installers.
//!
//! As upstream's imager builds them (`upstream-imager.md` §5): the imager
//! image's `systemd-stub.efi` for the profile's architecture, then `.osrel`
//! (Talos's os-release for the version), `.cmdline` (the profile's command
//! line with the overlay's kernel args), `.uname` when the kernel says its
//! release (amd64 bzImages do; arm64 images do not), `.linux` (the imager's
//! kernel), `.initrd` (our initramfs with the profile's extensions), and from
//! Talos 1.10 the profiles: `ID=main`, plus `reset-maintenance` for
//! installers (the `uki` output has no extra profile). The stub's own `.sbat`
//! stays where it is. No splash (Sidero's logo is not ours to ship); the COFF
//! timestamp is 0 and the PE checksum is left zero, as upstream leaves it, so
//! the same inputs give the same bytes.
//!
//! **Old stubs.** A systemd-stub older than 257 ignores `.profile` and boots
//! the *last* `.cmdline`: for an installer's UKI that is the
//! `reset-maintenance` line, which wipes the system disk on every boot.
//! Upstream never meets such a stub from 1.10 on (it ships systemd ≥ 257
//! there), but a mirror or the synthetic test release can: the synthetic
//! release ships Debian 12's systemd 252 stub for every version (and a 252
//! stand-in on arm64). Decision: from 1.10, extra profiles are written only
//! on a stub proven to be ≥ 257 ([`profile_support`]); on an older or
//! unidentified stub the UKI is single-profile (`ID=main` only, one
//! `.cmdline`), which boots the main command line on any stub and lacks only
//! the boot-menu reset entry. [`require_profile_support`] then guards the
//! assembly itself, so a multi-profile UKI on an old stub is refused with
//! [`UkiError::ProfilesNeedNewerStub`](crate::uki::UkiError) whatever picked
//! the profiles. SecureBoot UKIs (signed, `.pcrsig`) are not built here.

use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use factory_core::image_path::OutputKind;
use factory_core::profile::BuildProfile;
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;

use crate::catalog::IMAGER_REPOSITORY;
use crate::uki::{
    MAX_STUB_LEN, ProfileSupport, SectionStream, TALOS_NAME, UkiProfile, UkiSections, assemble,
    discover_kernel_version, os_release, profile_support, profiles_for_version,
    require_profile_support,
};

use super::{BuildContext, BuildError, blocking, imager_file, initramfs_file, overlay};

/// The COFF `TimeDateStamp` written (upstream: `SOURCE_DATE_EPOCH`, else
/// the build time; a constant keeps UKIs reproducible).
pub const UKI_TIMESTAMP: u32 = 0;

/// Builds the UKI of `profile` into `dest`, intermediates under `work`.
pub(super) async fn uki_file(
    ctx: &BuildContext<'_>,
    profile: &BuildProfile,
    schematic: &Schematic,
    work: &Path,
    dest: &Path,
) -> Result<(), BuildError> {
    if profile.output.secureboot {
        return Err(BuildError::Unsupported("SecureBoot UKI"));
    }
    let arch = profile.output.arch;
    std::fs::create_dir_all(work).map_err(BuildError::io("creating", work))?;
    let inputs = UkiInputs {
        stub: work.join("systemd-stub.efi"),
        kernel: work.join("vmlinuz"),
        initramfs: work.join("initramfs.xz"),
        version: profile.version.clone(),
        cmdline: String::new(),
        extra: Vec::new(),
    };
    imager_file(
        ctx.puller,
        &profile.version,
        arch,
        "systemd-stub.efi",
        &inputs.stub,
    )
    .await?;
    imager_file(
        ctx.puller,
        &profile.version,
        arch,
        "vmlinuz",
        &inputs.kernel,
    )
    .await?;
    initramfs_file(ctx, profile, schematic, work, &inputs.initramfs).await?;
    let overlay_args = overlay::kernel_args(ctx, profile, schematic, work).await?;
    let cmdline = profile.kernel_cmdline(&overlay_args);
    let extra = extra_profiles(profile.output.kind, &cmdline);
    let inputs = UkiInputs {
        cmdline,
        extra,
        ..inputs
    };
    let dest = dest.to_owned();
    blocking(&dest.clone(), move || inputs.assemble_into(&dest)).await
}

/// The profiles upstream adds after `main` for an output kind.
fn extra_profiles(kind: OutputKind, cmdline: &str) -> Vec<UkiProfile> {
    match kind {
        OutputKind::Iso => vec![UkiProfile::reset(cmdline)],
        OutputKind::Installer | OutputKind::Image => vec![UkiProfile::reset_maintenance(cmdline)],
        _ => Vec::new(),
    }
}

/// Everything a UKI is assembled from, on disk.
struct UkiInputs {
    stub: PathBuf,
    kernel: PathBuf,
    initramfs: PathBuf,
    version: TalosVersion,
    cmdline: String,
    extra: Vec<UkiProfile>,
}

impl UkiInputs {
    /// Assembles the UKI into `dest` (blocking).
    fn assemble_into(self, dest: &Path) -> Result<(), BuildError> {
        let stub = read_stub(&self.stub)?;
        let profiles = match profiles_for_version(&self.version, self.extra) {
            None => None,
            Some(extra) => Some(match profile_support(&stub)? {
                ProfileSupport::Supported => extra,
                ProfileSupport::Unsupported(_) => Vec::new(),
            }),
        };
        require_profile_support(&stub, profiles.as_deref())?;
        let mut kernel =
            std::fs::File::open(&self.kernel).map_err(BuildError::io("opening", &self.kernel))?;
        let uname = discover_kernel_version(&mut kernel)?;
        let linux = SectionStream::from_file(&mut kernel)
            .map_err(BuildError::io("reading", &self.kernel))?;
        let mut initrd = std::fs::File::open(&self.initramfs)
            .map_err(BuildError::io("opening", &self.initramfs))?;
        let initrd = SectionStream::from_file(&mut initrd)
            .map_err(BuildError::io("reading", &self.initramfs))?;
        let sections = UkiSections {
            osrel: os_release(TALOS_NAME, &self.version),
            cmdline: self.cmdline,
            uname,
            splash: None,
            linux,
            initrd,
            profiles,
            timestamp: UKI_TIMESTAMP,
        };
        let file = std::fs::File::create(dest).map_err(BuildError::io("creating", dest))?;
        let mut out = BufWriter::new(file);
        assemble(&stub, sections, &mut out)?;
        out.flush().map_err(BuildError::io("writing", dest))
    }
}

/// The stub, read whole (it is small; at most [`MAX_STUB_LEN`]).
fn read_stub(path: &Path) -> Result<Vec<u8>, BuildError> {
    let len = std::fs::metadata(path)
        .map_err(BuildError::io("reading", path))?
        .len();
    if len > MAX_STUB_LEN as u64 {
        return Err(BuildError::TooLarge {
            repository: IMAGER_REPOSITORY.to_owned(),
            path: "systemd-stub.efi".to_owned(),
            limit: MAX_STUB_LEN as u64,
        });
    }
    std::fs::read(path).map_err(BuildError::io("reading", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_profiles_per_kind() {
        let ids = |kind| -> Vec<String> {
            extra_profiles(kind, "a=1")
                .into_iter()
                .map(|p| p.id)
                .collect()
        };
        assert!(ids(OutputKind::Uki).is_empty());
        assert_eq!(ids(OutputKind::Installer), ["reset-maintenance"]);
        assert_eq!(ids(OutputKind::Image), ["reset-maintenance"]);
        assert_eq!(ids(OutputKind::Iso), ["reset"]);
    }
}

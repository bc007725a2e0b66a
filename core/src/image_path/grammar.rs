//! Parsing a requested file name into an [`ImagePath`], and printing the
//! canonical name back.
//!
//! The checks run in upstream's order, and the first pattern that matches
//! decides the kind, so a path is never reinterpreted by a later rule:
//!
//! 1. `kernel-<arch>` (platform forced to metal)
//! 2. `cmdline-<platform>-<arch>[-secureboot]`
//! 3. `initramfs-<arch>.xz` (platform forced to metal)
//! 4. `<platform>-<arch>[-secureboot].iso`
//! 5. `<platform>-<arch>[-secureboot]-uki.efi`
//! 6. `installer-<arch>[-secureboot].tar` (platform forced to metal)
//! 7. `<platform>-installer-<arch>[-secureboot].tar`
//! 8. anything else is a disk image: one compression suffix is stripped
//!    (`.tar.gz`, `.gz`, `.xz`, `.zst`, tried in that order), then a disk
//!    extension (`.raw`, `.qcow2`, `.vhd`, `.ova`) is required, then
//!    `<platform>-<arch>[-secureboot]` remains.
//!
//! The platform is everything before the first `-`, except `digital-ocean`,
//! the one platform name with a dash. The architecture is validated before the
//! platform so that upstream's `invalid architecture` texts are kept.

use super::disk::{DiskSpec, disk_spec_for};
use super::error::PathError;
use super::kinds::{DiskFormat, OutFormat, OutputKind};
use crate::arch::Arch;
use crate::platform::Platform;

/// A parsed image path: everything the file name decides about a build.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImagePath {
    /// What is built.
    pub kind: OutputKind,
    /// The target platform (metal for kernel, initramfs and `installer-*`).
    pub platform: Platform,
    /// The target architecture (aliases already normalised).
    pub arch: Arch,
    /// Whether the SecureBoot variant was requested (`-secureboot`).
    pub secureboot: bool,
    /// Post-processing of the output (always raw except for disk images).
    pub out_format: OutFormat,
    /// The disk layout; `Some` exactly for [`OutputKind::Image`].
    pub disk: Option<DiskSpec>,
}

const SECUREBOOT_SUFFIX: &str = "-secureboot";

/// Parses a requested file name (the last segment of `/image/...`) with
/// upstream's grammar; see the module documentation for the rules.
pub fn parse(path: &str) -> Result<ImagePath, PathError> {
    if let Some(rest) = path.strip_prefix("kernel-") {
        return Ok(ImagePath::plain(
            OutputKind::Kernel,
            Platform::Metal,
            rest.parse()?,
            false,
        ));
    }
    if let Some(rest) = path.strip_prefix("cmdline-") {
        let (platform, arch, secureboot) = parse_platform_arch(rest)?;
        return Ok(ImagePath::plain(
            OutputKind::Cmdline,
            platform,
            arch,
            secureboot,
        ));
    }
    if let Some(rest) = path
        .strip_prefix("initramfs-")
        .and_then(|r| r.strip_suffix(".xz"))
    {
        return Ok(ImagePath::plain(
            OutputKind::Initramfs,
            Platform::Metal,
            rest.parse()?,
            false,
        ));
    }
    if let Some(rest) = path.strip_suffix(".iso") {
        let (platform, arch, secureboot) = parse_platform_arch(rest)?;
        return Ok(ImagePath::plain(
            OutputKind::Iso,
            platform,
            arch,
            secureboot,
        ));
    }
    if let Some(rest) = path.strip_suffix("-uki.efi") {
        let (platform, arch, secureboot) = parse_platform_arch(rest)?;
        return Ok(ImagePath::plain(
            OutputKind::Uki,
            platform,
            arch,
            secureboot,
        ));
    }
    if let Some(rest) = path
        .strip_prefix("installer-")
        .and_then(|r| r.strip_suffix(".tar"))
    {
        let (rest, secureboot) = cut_secureboot(rest);
        return Ok(ImagePath::installer(
            Platform::Metal,
            rest.parse()?,
            secureboot,
        ));
    }
    if let Some((platform, rest)) = path.split_once("-installer-")
        && let Some(rest) = rest.strip_suffix(".tar")
    {
        let (platform, arch, secureboot) = parse_platform_arch(&format!("{platform}-{rest}"))?;
        return Ok(ImagePath::installer(platform, arch, secureboot));
    }
    parse_disk_image(path)
}

/// Rule 8: `<platform>-<arch>[-secureboot].<disk>[<compression>]`.
fn parse_disk_image(path: &str) -> Result<ImagePath, PathError> {
    let (stem, out_format) = OutFormat::STRIP_ORDER
        .into_iter()
        .find_map(|f| path.strip_suffix(f.suffix()).map(|stem| (stem, f)))
        .unwrap_or((path, OutFormat::Raw));
    let (stem, format) = DiskFormat::ALL
        .into_iter()
        .find_map(|f| {
            stem.strip_suffix(f.as_str())?
                .strip_suffix('.')
                .map(|stem| (stem, f))
        })
        .ok_or_else(|| PathError::InvalidProfilePath(stem.to_owned()))?;
    let (platform, arch, secureboot) = parse_platform_arch(stem)?;
    Ok(ImagePath {
        kind: OutputKind::Image,
        platform,
        arch,
        secureboot,
        out_format,
        disk: Some(disk_spec_for(platform, format)),
    })
}

/// Removes one trailing `-secureboot`.
fn cut_secureboot(s: &str) -> (&str, bool) {
    match s.strip_suffix(SECUREBOOT_SUFFIX) {
        Some(rest) => (rest, true),
        None => (s, false),
    }
}

/// `<platform>-<arch>[-secureboot]`, as upstream's `parsePlatformArch`.
fn parse_platform_arch(s: &str) -> Result<(Platform, Arch, bool), PathError> {
    let (s, secureboot) = cut_secureboot(s);
    let (platform, rest) = s
        .split_once('-')
        .ok_or_else(|| PathError::InvalidPlatformArch(s.to_owned()))?;
    let (platform, rest) = match (platform, rest.strip_prefix("ocean-")) {
        ("digital", Some(after)) => ("digital-ocean", after),
        _ => (platform, rest),
    };
    let arch: Arch = rest.parse()?;
    let platform: Platform = platform.parse()?;
    Ok((platform, arch, secureboot))
}

impl ImagePath {
    /// An output without a disk spec or compression.
    fn plain(kind: OutputKind, platform: Platform, arch: Arch, secureboot: bool) -> ImagePath {
        ImagePath {
            kind,
            platform,
            arch,
            secureboot,
            out_format: OutFormat::Raw,
            disk: None,
        }
    }

    /// The installer for `platform` (registry builds ask for installers by
    /// image name, not by file name).
    pub fn installer(platform: Platform, arch: Arch, secureboot: bool) -> ImagePath {
        ImagePath::plain(OutputKind::Installer, platform, arch, secureboot)
    }

    /// The canonical path this request answers, e.g. `metal-amd64.raw.zst`:
    /// aliases are normalised (`x86_64` prints as `amd64`, `packet` as
    /// `equinixMetal`) and a metal installer prints as `installer-<arch>.tar`.
    /// Parsing the result gives back an equal [`ImagePath`].
    pub fn file_name(&self) -> String {
        let arch = self.arch.as_str();
        let platform = self.platform.as_str();
        let sb = if self.secureboot {
            SECUREBOOT_SUFFIX
        } else {
            ""
        };
        match self.kind {
            OutputKind::Kernel => format!("kernel-{arch}"),
            OutputKind::Cmdline => format!("cmdline-{platform}-{arch}{sb}"),
            OutputKind::Initramfs => format!("initramfs-{arch}.xz"),
            OutputKind::Iso => format!("{platform}-{arch}{sb}.iso"),
            OutputKind::Uki => format!("{platform}-{arch}{sb}-uki.efi"),
            OutputKind::Installer if self.platform == Platform::Metal => {
                format!("installer-{arch}{sb}.tar")
            }
            OutputKind::Installer => format!("{platform}-installer-{arch}{sb}.tar"),
            OutputKind::Image => {
                let disk = self.disk.as_ref().map_or(DiskFormat::Raw, |d| d.format);
                format!("{platform}-{arch}{sb}.{disk}{}", self.out_format.suffix())
            }
        }
    }
}

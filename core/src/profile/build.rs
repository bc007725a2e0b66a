//! The rules that turn a parsed path plus a schematic into a [`BuildProfile`].

use super::error::ProfileError;
use super::model::{BuildProfile, ProfileContext, ResolvedOverlay};
use crate::catalog::ExtensionEntry;
use crate::image_path::{ImagePath, OutputKind};
use crate::quirks::Quirks;
use crate::schematic::Schematic;

/// Resolves `output` for `schematic` in `ctx`, applying upstream's rules in
/// upstream's order (the first failing rule decides the error):
///
/// 1. an embedded machine configuration needs Talos ≥1.12, except for kernel
///    and cmdline, which ignore it;
/// 2. a `-secureboot` asset needs SecureBoot enabled (`secure boot is
///    disabled`) and, our addition, Talos ≥1.5; it takes
///    `includeWellKnownCertificates`, and `enrollKeys` for ISO and disk images;
/// 3. an overlay needs Talos ≥1.7;
/// 4. an installer is pinned to the catalog's base installer digest;
/// 5. except for kernel and cmdline: extensions are resolved in schematic
///    order (with upstream's aliases), then the overlay by name only;
/// 6. kernel args and META go where the kind can carry them: nothing for
///    kernel and initramfs; kernel args only for installer and UKI, and only
///    with SecureBoot or Talos ≥1.10; args + META + bootloader for ISO;
///    the same plus sector size for disk images; args + META for cmdline.
///
/// `schematic_id` is the caller's validated ID of `schematic`.
pub fn build_profile(
    output: ImagePath,
    schematic: &Schematic,
    schematic_id: &str,
    ctx: &ProfileContext<'_>,
) -> Result<BuildProfile, ProfileError> {
    let quirks = Quirks::new(ctx.version);
    let version = || ctx.version.clone();
    let custom = &schematic.customization;
    let has_schematic_payload = !matches!(output.kind, OutputKind::Kernel | OutputKind::Cmdline);

    let mut profile = BuildProfile {
        output,
        version: version(),
        schematic_id: None,
        extra_kernel_args: Vec::new(),
        meta: Vec::new(),
        bootloader: None,
        enroll_keys: None,
        include_well_known_certs: false,
        embedded_config: None,
        extensions: Vec::new(),
        overlay: None,
        imager_digest: ctx.catalog.imager_digest.clone(),
        installer_base_digest: None,
    };

    // Rule 1.
    if has_schematic_payload && !custom.embedded_machine_configuration.is_empty() {
        if !quirks.supports_embedded_config() {
            return Err(ProfileError::EmbeddedConfigUnsupported { version: version() });
        }
        profile.embedded_config = Some(custom.embedded_machine_configuration.clone());
    }

    // Rule 2.
    if profile.output.secureboot {
        if !ctx.secureboot_enabled {
            return Err(ProfileError::SecureBootDisabled);
        }
        if !quirks.supports_secureboot() {
            return Err(ProfileError::SecureBootUnsupported { version: version() });
        }
        profile.include_well_known_certs = custom.secureboot.include_well_known_certificates;
        if matches!(profile.output.kind, OutputKind::Iso | OutputKind::Image) {
            profile.enroll_keys = custom.secureboot.enroll_keys;
        }
    }

    // Rule 3.
    let overlay_name = schematic.overlay.name.as_str();
    if !overlay_name.is_empty() && !quirks.supports_overlay() {
        return Err(ProfileError::OverlayUnsupported { version: version() });
    }

    // Rule 4.
    if profile.output.kind == OutputKind::Installer {
        profile.installer_base_digest = Some(ctx.catalog.installer_base_digest.clone());
    }

    // Rule 5.
    if has_schematic_payload {
        profile.extensions = custom
            .system_extensions
            .official_extensions
            .iter()
            .map(|name| {
                ctx.catalog.find_extension(name).cloned().ok_or_else(|| {
                    ProfileError::ExtensionUnavailable {
                        name: name.clone(),
                        version: version(),
                    }
                })
            })
            .collect::<Result<Vec<ExtensionEntry>, _>>()?;
        profile.schematic_id = Some(schematic_id.to_owned());
        if !overlay_name.is_empty() {
            let entry = ctx
                .catalog
                .find_overlay(overlay_name)
                .cloned()
                .ok_or_else(|| ProfileError::OverlayUnavailable {
                    name: overlay_name.to_owned(),
                    version: version(),
                })?;
            profile.overlay = Some(ResolvedOverlay {
                entry,
                options: schematic.overlay.options.clone(),
            });
        }
    }

    // Rule 6.
    let args = || custom.extra_kernel_args.clone();
    let meta = || custom.meta.clone();
    match profile.output.kind {
        OutputKind::Kernel | OutputKind::Initramfs => {}
        OutputKind::Installer | OutputKind::Uki => {
            if profile.output.secureboot || quirks.supports_unified_installer() {
                profile.extra_kernel_args = args();
            }
        }
        OutputKind::Iso => {
            profile.extra_kernel_args = args();
            profile.meta = meta();
            profile.bootloader = custom.bootloader;
        }
        OutputKind::Image => {
            profile.extra_kernel_args = args();
            profile.meta = meta();
            profile.bootloader = custom.bootloader;
            let sector_size = custom.disk_image.sector_size;
            if let Some(disk) = profile.output.disk.as_mut()
                && sector_size != 0
            {
                disk.sector_size = Some(sector_size);
            }
        }
        OutputKind::Cmdline => {
            profile.extra_kernel_args = args();
            profile.meta = meta();
        }
    }

    Ok(profile)
}

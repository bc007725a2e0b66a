//! The multi-architecture installer request for one image, schematic and version.
//!
//! Written once because two places must compute it identically: the registry
//! frontend (to ask its platform for an index) and a remote builder that
//! receives the same inputs in a dispatch job (to build exactly the keys the
//! edge asked for).

use crate::arch::Arch;
use crate::asset_key::asset_key;
use crate::image_path::ImagePath;
use crate::profile::{ProfileContext, ProfileError, build_profile};
use crate::registry::InstallerImage;
use crate::schematic::{Schematic, SchematicId};

use super::platform::{InstallerArch, InstallerRequest};

/// One profile and key per architecture (amd64 first) for `image`, applied
/// to `schematic` in `ctx` (whose version is the request's version).
pub fn installer_request(
    image: &InstallerImage,
    schematic: &Schematic,
    id: &SchematicId,
    ctx: &ProfileContext<'_>,
) -> Result<InstallerRequest, ProfileError> {
    let mut arches = Vec::with_capacity(Arch::ALL.len());
    for arch in Arch::ALL {
        let output = ImagePath::installer(image.platform, arch, image.secureboot);
        let profile = build_profile(output, schematic, id.as_str(), ctx)?;
        let key = asset_key(&profile);
        arches.push(InstallerArch { arch, profile, key });
    }
    Ok(InstallerRequest {
        image: image.clone(),
        schematic_id: id.clone(),
        version: ctx.version.clone(),
        arches,
    })
}

//! Build profiles as the frontend resolves them: an image path, a schematic,
//! a version and its release catalog, without Secure Boot.

use factory_core::catalog::ReleaseCatalog;
use factory_core::image_path;
use factory_core::profile::{BuildProfile, ProfileContext, build_profile};
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;

/// The build profile of `path` for `schematic` on `version`; a path or
/// profile error fails naming the path.
pub fn profile(
    path: &str,
    schematic: &Schematic,
    version: &TalosVersion,
    release: &ReleaseCatalog,
) -> BuildProfile {
    let context = ProfileContext {
        version,
        catalog: release,
        secureboot_enabled: false,
    };
    let parsed = image_path::parse(path).unwrap_or_else(|e| panic!("{version} {path}: {e}"));
    build_profile(parsed, schematic, schematic.id().as_str(), &context)
        .unwrap_or_else(|e| panic!("{version} {path}: profile: {e}"))
}

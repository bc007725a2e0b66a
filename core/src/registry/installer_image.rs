//! Installer image names: the `<image>` in `/v2/<image>/<schematic>/...`.
//!
//! Upstream (`getRequestedImage` in `registry.go`) knows four shapes:
//! `installer` and `installer-secureboot` (the legacy names, which mean
//! metal), and `<platform>-installer` and `<platform>-installer-secureboot`,
//! trying the SecureBoot suffix first. It does not check the platform, so
//! `foo-installer` or `-installer` get as far as a failed build (500, or a
//! metal image for the empty platform). We check it against
//! [`Platform`], so those are `invalid image: X` (400) up front.
//!
//! The name is also the repository the built image is stored under, so it
//! must come back out exactly as it went in: a platform must be spelled as
//! [`Platform::as_str`] does, and Talos's old alias `packet` (which
//! `Platform` accepts for Equinix Metal) is not an image name.

use std::fmt;
use std::str::FromStr;

use crate::platform::Platform;
use crate::schematic::SchematicId;

const INSTALLER: &str = "installer";
const INSTALLER_SECUREBOOT: &str = "installer-secureboot";

/// A parsed installer image name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstallerImage {
    /// The platform the installer is for (metal for the legacy names).
    pub platform: Platform,
    /// Whether this is the SecureBoot (UKI) installer.
    pub secureboot: bool,
    /// Whether the request used the legacy name (`installer`,
    /// `installer-secureboot`); only meaningful with [`Platform::Metal`].
    pub legacy_name: bool,
}

/// A name that is not an installer image. The text is upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image: {0}")]
pub struct InvalidImage(pub String);

impl InstallerImage {
    /// The image name, which is also its repository name
    /// (`metal-installer-secureboot`, or `installer` for the legacy name).
    pub fn name(&self) -> String {
        match (self.legacy_name, self.secureboot) {
            (true, false) => INSTALLER.to_owned(),
            (true, true) => INSTALLER_SECUREBOOT.to_owned(),
            (false, false) => format!("{}-{INSTALLER}", self.platform),
            (false, true) => format!("{}-{INSTALLER_SECUREBOOT}", self.platform),
        }
    }

    /// The repository the image is published under for a schematic
    /// (`<name>/<schematic id>`).
    pub fn repository(&self, schematic: &SchematicId) -> String {
        format!("{}/{}", self.name(), schematic.as_str())
    }
}

impl FromStr for InstallerImage {
    type Err = InvalidImage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let legacy = |secureboot| InstallerImage {
            platform: Platform::Metal,
            secureboot,
            legacy_name: true,
        };
        match s {
            INSTALLER => return Ok(legacy(false)),
            INSTALLER_SECUREBOOT => return Ok(legacy(true)),
            _ => {}
        }
        let (platform, secureboot) = if let Some(platform) = s.strip_suffix("-installer-secureboot")
        {
            (platform, true)
        } else if let Some(platform) = s.strip_suffix("-installer") {
            (platform, false)
        } else {
            return Err(InvalidImage(s.to_owned()));
        };
        match platform.parse::<Platform>() {
            Ok(parsed) if parsed.as_str() == platform => Ok(InstallerImage {
                platform: parsed,
                secureboot,
                legacy_name: false,
            }),
            _ => Err(InvalidImage(s.to_owned())),
        }
    }
}

impl fmt::Display for InstallerImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_with_and_without_secureboot() {
        for platform in Platform::ALL {
            for (suffix, secureboot) in [("-installer", false), ("-installer-secureboot", true)] {
                let name = format!("{}{suffix}", platform.as_str());
                let image: InstallerImage = name.parse().unwrap();
                assert_eq!(
                    image,
                    InstallerImage {
                        platform,
                        secureboot,
                        legacy_name: false
                    },
                    "{name}"
                );
                assert_eq!(image.name(), name);
                assert_eq!(image.to_string(), name);
            }
        }
    }

    #[test]
    fn legacy_and_hyphenated_names() {
        for (name, platform, secureboot, legacy_name) in [
            ("installer", Platform::Metal, false, true),
            ("installer-secureboot", Platform::Metal, true, true),
            ("metal-installer", Platform::Metal, false, false),
            ("metal-installer-secureboot", Platform::Metal, true, false),
            (
                "digital-ocean-installer",
                Platform::DigitalOcean,
                false,
                false,
            ),
            (
                "digital-ocean-installer-secureboot",
                Platform::DigitalOcean,
                true,
                false,
            ),
            (
                "equinixMetal-installer",
                Platform::EquinixMetal,
                false,
                false,
            ),
        ] {
            let image: InstallerImage = name.parse().unwrap();
            assert_eq!(
                image,
                InstallerImage {
                    platform,
                    secureboot,
                    legacy_name
                },
                "{name}"
            );
            assert_eq!(image.name(), name);
        }
    }

    #[test]
    fn invalid_names_use_upstream_text() {
        for name in [
            "foo",
            "installer-foo",
            "metal-installer-x",
            "-installer",
            "-installer-secureboot",
            "foo-installer",
            "Metal-installer",
            "packet-installer",
            "metal-installer-secureboot-installer",
            "installer-secureboot-installer",
            "metal-Installer",
            "",
            "metal_installer",
        ] {
            let err = name.parse::<InstallerImage>().unwrap_err();
            assert_eq!(err.to_string(), format!("invalid image: {name}"));
        }
    }
}

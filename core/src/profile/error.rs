//! Why a schematic cannot be built for a requested asset and version.
//!
//! Every variant is a client error (HTTP 400): each is caused by what the
//! request asks for, none by the server. The texts are upstream's except where
//! noted; upstream's frontend prefixes them with
//! `error enhancing profile from schematic: `.

use crate::version::TalosVersion;

/// A schematic/version/asset combination that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The schematic embeds a machine configuration, which needs Talos ≥1.12.
    #[error("embedding configuration is not supported for Talos version {version}")]
    EmbeddedConfigUnsupported {
        /// The requested version.
        version: TalosVersion,
    },
    /// A `-secureboot` asset was requested but this deployment has no signing keys.
    #[error("secure boot is disabled")]
    SecureBootDisabled,
    /// A `-secureboot` asset was requested for Talos <1.5. Our check: upstream
    /// has none and fails later inside the imager.
    #[error("secure boot is not supported for Talos version {version}")]
    SecureBootUnsupported {
        /// The requested version.
        version: TalosVersion,
    },
    /// The schematic names an overlay, which needs Talos ≥1.7.
    #[error("overlay is not supported for Talos version {version}")]
    OverlayUnsupported {
        /// The requested version.
        version: TalosVersion,
    },
    /// An official extension (or its alias) is not in this version's catalog.
    #[error("official extension {name:?} is not available for Talos version {version}")]
    ExtensionUnavailable {
        /// The name as written in the schematic.
        name: String,
        /// The requested version.
        version: TalosVersion,
    },
    /// The overlay is not in this version's catalog. Upstream prints an empty
    /// catalog entry where the name belongs; we print the requested name.
    #[error("official overlay {name:?} is not available for Talos version {version}")]
    OverlayUnavailable {
        /// The overlay name as written in the schematic.
        name: String,
        /// The requested version.
        version: TalosVersion,
    },
}

//! The catalog documents as stored: JSON with the time they were fetched.
//!
//! `core`'s catalog types are serialised for the API only (`ref` names,
//! no deserialisation), so storage has its own small mirror of them; a
//! document that no longer decodes is treated as absent and fetched again.

use factory_core::catalog::{ExtensionEntry, OverlayEntry, ReleaseCatalog};
use factory_core::version::TalosVersion;
use serde::{Deserialize, Serialize};

/// The store key of the versions list.
pub(crate) const VERSIONS_KEY: &str = "versions";

/// The store key of a release catalog.
pub(crate) fn release_key(version: &TalosVersion) -> String {
    format!("release/{}", version.tag())
}

/// Seconds since the Unix epoch now (0 if the clock is before 1970).
pub(crate) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The versions list document.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct StoredVersions {
    /// When it was fetched (Unix seconds).
    pub fetched_at: u64,
    /// The version tags (`v1.12.4`), ascending.
    pub versions: Vec<String>,
}

impl StoredVersions {
    pub(crate) fn new(versions: &[TalosVersion]) -> Self {
        StoredVersions {
            fetched_at: now_unix(),
            versions: versions.iter().map(TalosVersion::tag).collect(),
        }
    }

    /// The versions; tags that no longer parse are dropped.
    pub(crate) fn parsed(&self) -> Vec<TalosVersion> {
        self.versions
            .iter()
            .filter_map(|t| t.parse().ok())
            .collect()
    }
}

/// A release catalog document.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct StoredRelease {
    pub fetched_at: u64,
    pub extensions: Vec<StoredExtension>,
    pub overlays: Vec<StoredOverlay>,
    pub imager_digest: String,
    pub installer_base_digest: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredExtension {
    name: String,
    reference: String,
    digest: String,
    author: String,
    description: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredOverlay {
    name: String,
    image: String,
    reference: String,
    digest: String,
}

impl StoredRelease {
    pub(crate) fn new(catalog: &ReleaseCatalog, fetched_at: u64) -> Self {
        StoredRelease {
            fetched_at,
            extensions: catalog
                .extensions
                .iter()
                .map(|e| StoredExtension {
                    name: e.name.clone(),
                    reference: e.reference.clone(),
                    digest: e.digest.clone(),
                    author: e.author.clone(),
                    description: e.description.clone(),
                })
                .collect(),
            overlays: catalog
                .overlays
                .iter()
                .map(|o| StoredOverlay {
                    name: o.name.clone(),
                    image: o.image.clone(),
                    reference: o.reference.clone(),
                    digest: o.digest.clone(),
                })
                .collect(),
            imager_digest: catalog.imager_digest.clone(),
            installer_base_digest: catalog.installer_base_digest.clone(),
        }
    }

    pub(crate) fn catalog(&self) -> ReleaseCatalog {
        ReleaseCatalog {
            extensions: self
                .extensions
                .iter()
                .map(|e| ExtensionEntry {
                    name: e.name.clone(),
                    reference: e.reference.clone(),
                    digest: e.digest.clone(),
                    author: e.author.clone(),
                    description: e.description.clone(),
                })
                .collect(),
            overlays: self
                .overlays
                .iter()
                .map(|o| OverlayEntry {
                    name: o.name.clone(),
                    image: o.image.clone(),
                    reference: o.reference.clone(),
                    digest: o.digest.clone(),
                })
                .collect(),
            imager_digest: self.imager_digest.clone(),
            installer_base_digest: self.installer_base_digest.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_round_trips() {
        let catalog = ReleaseCatalog {
            extensions: vec![ExtensionEntry {
                name: "siderolabs/gvisor".into(),
                reference: "ghcr.io/siderolabs/gvisor:1".into(),
                digest: "sha256:00".into(),
                author: "a".into(),
                description: "d".into(),
            }],
            overlays: vec![OverlayEntry {
                name: "rpi_generic".into(),
                image: "siderolabs/sbc-raspberrypi".into(),
                reference: "ghcr.io/siderolabs/sbc-raspberrypi:v1".into(),
                digest: "sha256:11".into(),
            }],
            imager_digest: "sha256:22".into(),
            installer_base_digest: "sha256:33".into(),
        };
        let json = serde_json::to_vec(&StoredRelease::new(&catalog, 5)).unwrap();
        let back: StoredRelease = serde_json::from_slice(&json).unwrap();
        assert_eq!(back.fetched_at, 5);
        assert_eq!(back.catalog(), catalog);
    }
}

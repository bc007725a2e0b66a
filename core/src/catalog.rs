//! The upstream catalogs the factory serves and resolves schematics against:
//! which Talos versions exist, and which official extensions and overlays each
//! version has (with the immutable digests builds are pinned to).
//!
//! These are plain data: fetching them is the platform's job (the imager's
//! puller, or a KV snapshot on the edge). The rules that turn registry tags
//! into the public versions list live here so every deployment applies them
//! identically.

use serde::{Deserialize, Serialize};

use crate::version::TalosVersion;

/// An official system extension available for a Talos version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionEntry {
    /// Repository path, e.g. `siderolabs/amd-ucode`: the name schematics use.
    pub name: String,
    /// Tagged reference, e.g. `ghcr.io/siderolabs/amd-ucode:20230804`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Manifest digest the extension is pinned to (`sha256:...`).
    pub digest: String,
    /// Author from `descriptions.yaml`.
    pub author: String,
    /// Description from `descriptions.yaml`.
    pub description: String,
}

/// An official SBC overlay available for a Talos version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlayEntry {
    /// Overlay name, e.g. `rpi_generic`: the name schematics use.
    pub name: String,
    /// Repository path of the overlay image, e.g. `siderolabs/sbc-raspberrypi`.
    pub image: String,
    /// Tagged reference, e.g. `ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Manifest digest the overlay is pinned to (`sha256:...`).
    pub digest: String,
}

/// Everything known about one Talos release's upstream inputs.
///
/// Serialised (camelCase JSON) when the edge hands a catalog to a builder and
/// when a builder returns refreshed catalogs, so both compute the same
/// profiles and asset keys from the same inputs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseCatalog {
    /// Official extensions, in catalog order.
    pub extensions: Vec<ExtensionEntry>,
    /// Official overlays, in catalog order (empty before 1.7).
    pub overlays: Vec<OverlayEntry>,
    /// Digest of the `imager:<v>` image index (kernel, initramfs, stubs).
    pub imager_digest: String,
    /// Digest of the base installer image index (`installer-base:<v>` from
    /// 1.10, `installer:<v>` before).
    pub installer_base_digest: String,
}

/// Old extension names that upstream still resolves to their renamed images.
const EXTENSION_ALIASES: [(&str, &str); 11] = [
    ("siderolabs/v4l-uvc", "siderolabs/v4l-uvc-drivers"),
    ("siderolabs/usb-modem", "siderolabs/usb-modem-drivers"),
    ("siderolabs/gasket", "siderolabs/gasket-driver"),
    (
        "siderolabs/talos-vmtoolsd",
        "siderolabs/vmtoolsd-guest-agent",
    ),
    (
        "siderolabs/xe-guest-utilities",
        "siderolabs/xen-guest-agent",
    ),
    (
        "siderolabs/nvidia-container-toolkit",
        "siderolabs/nvidia-container-toolkit-lts",
    ),
    (
        "siderolabs/nvidia-open-gpu-kernel-modules",
        "siderolabs/nvidia-open-gpu-kernel-modules-lts",
    ),
    (
        "siderolabs/nonfree-kmod-nvidia",
        "siderolabs/nonfree-kmod-nvidia-lts",
    ),
    (
        "siderolabs/nvidia-fabricmanager",
        "siderolabs/nvidia-fabric-manager-lts",
    ),
    ("siderolabs/i915-ucode", "siderolabs/i915"),
    ("siderolabs/amdgpu-firmware", "siderolabs/amdgpu"),
];

impl ReleaseCatalog {
    /// Finds an official extension by the name a schematic uses: an exact
    /// match first, then the renamed image if the name is a known alias.
    pub fn find_extension(&self, name: &str) -> Option<&ExtensionEntry> {
        self.extensions.iter().find(|e| e.name == name).or_else(|| {
            let (_, renamed) = EXTENSION_ALIASES.iter().find(|(old, _)| *old == name)?;
            self.extensions.iter().find(|e| e.name == *renamed)
        })
    }

    /// Finds an overlay by name (the schematic's `overlay.image` is not used
    /// for resolution, as upstream).
    pub fn find_overlay(&self, name: &str) -> Option<&OverlayEntry> {
        self.overlays.iter().find(|o| o.name == name)
    }
}

/// Settings that decide which upstream tags become public versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionPolicy {
    /// Oldest version served (upstream default 1.2.0).
    pub min_version: TalosVersion,
    /// Versions withheld from `/versions` and refused for builds.
    pub broken: Vec<TalosVersion>,
}

impl Default for VersionPolicy {
    fn default() -> Self {
        VersionPolicy {
            min_version: TalosVersion::new(1, 2, 0),
            broken: Vec::new(),
        }
    }
}

/// Turns the tags of the upstream `imager` repository into the sorted list of
/// available versions (upstream `fetchTalosVersions`): tags are parsed
/// tolerantly and unparsable ones ignored; a version is kept when it is at
/// least the minimum, not broken, and, if a pre-release, of the newest
/// `major.minor` with exactly `alpha|beta|rc` `.N` as its pre-release.
pub fn available_versions<'a>(
    tags: impl IntoIterator<Item = &'a str>,
    policy: &VersionPolicy,
) -> Vec<TalosVersion> {
    let parsed: Vec<TalosVersion> = tags
        .into_iter()
        .filter_map(|t| TalosVersion::parse_tolerant(t).ok())
        .collect();
    let Some(max) = parsed.iter().max().cloned() else {
        return Vec::new();
    };
    let mut kept: Vec<TalosVersion> = parsed
        .into_iter()
        .filter(|v| *v >= policy.min_version)
        .filter(|v| !policy.broken.contains(v))
        .filter(|v| !v.is_pre_release() || is_servable_pre_release(v, &max))
        .collect();
    kept.sort();
    kept.dedup();
    kept
}

fn is_servable_pre_release(v: &TalosVersion, max: &TalosVersion) -> bool {
    if (v.major(), v.minor()) != (max.major(), max.minor()) {
        return false;
    }
    let parts: Vec<&str> = v.pre_release().split('.').collect();
    match parts.as_slice() {
        [kind, number] => matches!(*kind, "alpha" | "beta" | "rc") && number.parse::<u64>().is_ok(),
        _ => false,
    }
}

/// The newest stable (non pre-release) version, which the `latest` tag means.
pub fn latest_stable(versions: &[TalosVersion]) -> Option<&TalosVersion> {
    versions.iter().filter(|v| !v.is_pre_release()).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(vs: &[TalosVersion]) -> Vec<String> {
        vs.iter().map(TalosVersion::tag).collect()
    }

    #[test]
    fn filters_like_upstream() {
        let policy = VersionPolicy {
            min_version: TalosVersion::new(1, 2, 0),
            broken: vec!["1.13.1".parse().unwrap()],
        };
        let upstream = [
            "v1.1.0",
            "v1.2.0",
            "v1.13.0",
            "v1.13.1",
            "v1.13.2",
            "v1.13.0-rc.0",
            "v1.14.0-alpha.1",
            "v1.14.0-rc.1",
            "v1.14.0-rc.1-dirty",
            "v1.14.0-beta",
            "v1.14.0-pre.1",
            "latest",
            "sha256-abcd.sig",
            "v1.7",
            "v1.14.0-rc.1",
        ];
        let got = available_versions(upstream, &policy);
        assert_eq!(
            tags(&got),
            [
                "v1.2.0",
                "v1.7.0",
                "v1.13.0",
                "v1.13.2",
                "v1.14.0-alpha.1",
                "v1.14.0-rc.1"
            ]
        );
        assert_eq!(latest_stable(&got).unwrap().tag(), "v1.13.2");
    }

    #[test]
    fn no_tags_no_versions() {
        assert!(available_versions([], &VersionPolicy::default()).is_empty());
        assert!(latest_stable(&[]).is_none());
    }

    #[test]
    fn aliases_resolve_to_renamed_images() {
        let entry = |name: &str| ExtensionEntry {
            name: name.into(),
            reference: format!("ghcr.io/{name}:1"),
            digest: "sha256:00".into(),
            author: "Sidero Labs".into(),
            description: String::new(),
        };
        let cat = ReleaseCatalog {
            extensions: vec![
                entry("siderolabs/gasket-driver"),
                entry("siderolabs/gvisor"),
            ],
            ..Default::default()
        };
        assert_eq!(
            cat.find_extension("siderolabs/gasket").unwrap().name,
            "siderolabs/gasket-driver"
        );
        assert_eq!(
            cat.find_extension("siderolabs/gvisor").unwrap().name,
            "siderolabs/gvisor"
        );
        assert!(cat.find_extension("siderolabs/foo").is_none());
    }
}

//! The platforms (clouds, hypervisors, bare metal) Talos knows how to run on.
//!
//! Upstream's factory passes any string through and lets the imager fail later
//! with a 500; we validate against the list Talos's `platform.NewPlatform`
//! accepts so that a typo is a 400 that lists the valid names. Per-platform
//! data (kernel args, disk defaults) lives next to the code that uses it.

use std::fmt;
use std::str::FromStr;

/// A Talos platform, named as in image paths (`aws`, `digital-ocean`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    /// Akamai (Linode).
    Akamai,
    /// Alibaba Cloud.
    AlibabaCloud,
    /// Amazon Web Services.
    Aws,
    /// Microsoft Azure.
    Azure,
    /// Apache CloudStack.
    CloudStack,
    /// Talos in a container (`talosctl cluster create docker`).
    Container,
    /// DigitalOcean.
    DigitalOcean,
    /// Equinix Metal (formerly Packet).
    EquinixMetal,
    /// Exoscale.
    Exoscale,
    /// Google Cloud Platform.
    Gcp,
    /// Hetzner Cloud.
    Hcloud,
    /// Bare metal.
    Metal,
    /// NoCloud (cloud-init style datasource).
    Nocloud,
    /// OpenNebula.
    OpenNebula,
    /// OpenStack.
    OpenStack,
    /// Oracle Cloud.
    Oracle,
    /// Scaleway.
    Scaleway,
    /// UpCloud.
    UpCloud,
    /// VMware.
    Vmware,
    /// Vultr.
    Vultr,
}

/// A platform name Talos does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform: {0:?} (valid platforms: {list})", list = Platform::names().join(", "))]
pub struct InvalidPlatform(pub String);

impl Platform {
    /// Every platform, sorted by name.
    pub const ALL: [Platform; 20] = [
        Platform::Akamai,
        Platform::AlibabaCloud,
        Platform::Aws,
        Platform::Azure,
        Platform::CloudStack,
        Platform::Container,
        Platform::DigitalOcean,
        Platform::EquinixMetal,
        Platform::Exoscale,
        Platform::Gcp,
        Platform::Hcloud,
        Platform::Metal,
        Platform::Nocloud,
        Platform::OpenNebula,
        Platform::OpenStack,
        Platform::Oracle,
        Platform::Scaleway,
        Platform::UpCloud,
        Platform::Vmware,
        Platform::Vultr,
    ];

    /// The name used in paths and in `talos.platform=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Akamai => "akamai",
            Platform::AlibabaCloud => "alibabacloud",
            Platform::Aws => "aws",
            Platform::Azure => "azure",
            Platform::CloudStack => "cloudstack",
            Platform::Container => "container",
            Platform::DigitalOcean => "digital-ocean",
            Platform::EquinixMetal => "equinixMetal",
            Platform::Exoscale => "exoscale",
            Platform::Gcp => "gcp",
            Platform::Hcloud => "hcloud",
            Platform::Metal => "metal",
            Platform::Nocloud => "nocloud",
            Platform::OpenNebula => "opennebula",
            Platform::OpenStack => "openstack",
            Platform::Oracle => "oracle",
            Platform::Scaleway => "scaleway",
            Platform::UpCloud => "upcloud",
            Platform::Vmware => "vmware",
            Platform::Vultr => "vultr",
        }
    }

    /// All valid names, for error messages.
    pub fn names() -> Vec<&'static str> {
        Platform::ALL.iter().map(|p| p.as_str()).collect()
    }

    /// Whether Talos supports SecureBoot images for this platform (the UI
    /// offers the toggle only for these).
    pub fn supports_secureboot(self) -> bool {
        matches!(
            self,
            Platform::Metal | Platform::Azure | Platform::Nocloud | Platform::CloudStack
        )
    }
}

impl FromStr for Platform {
    type Err = InvalidPlatform;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "packet" {
            // Talos still accepts the pre-rename name of Equinix Metal.
            return Ok(Platform::EquinixMetal);
        }
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| InvalidPlatform(s.to_owned()))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for p in Platform::ALL {
            assert_eq!(p.as_str().parse::<Platform>(), Ok(p));
        }
    }

    #[test]
    fn names_are_sorted_and_unique() {
        let names = Platform::names();
        let mut sorted = names.clone();
        sorted.sort_by_key(|n| n.to_ascii_lowercase());
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn unknown_platform_lists_valid_ones() {
        let msg = "amazon".parse::<Platform>().unwrap_err().to_string();
        assert!(
            msg.starts_with(r#"invalid platform: "amazon" (valid platforms: akamai, "#),
            "{msg}"
        );
        assert!(msg.contains("digital-ocean"));
    }
}

//! The kernel arguments each Talos platform contributes (its `KernelArgs`).
//!
//! Upstream keeps these in every platform package of machined; the imager
//! asks the platform for them and `set`s each key onto the cmdline. The table
//! is data, kept apart from the assembly logic so that a new platform or a
//! changed console is a one-line edit here. Only metal (amd64, before 1.8)
//! and AWS (from 1.14) depend on the version; metal, VMware and Equinix Metal
//! depend on the architecture.

use crate::arch::Arch;
use crate::platform::Platform;
use crate::quirks::Quirks;

/// `console=tty1 console=ttyS0 net.ifnames=0`: the common cloud VM set.
const CLOUD_VM: &[&str] = &["console=tty1", "console=ttyS0", "net.ifnames=0"];

/// The cloud VM set plus a disabled dashboard (no one watches the console).
const CLOUD_VM_NO_DASHBOARD: &[&str] = &[
    "console=tty1",
    "console=ttyS0",
    "net.ifnames=0",
    "talos.dashboard.disabled=1",
];

/// Providers whose consoles are serial first, then both VGA terminals.
const SERIAL_FIRST: &[&str] = &[
    "console=ttyS0",
    "console=tty0",
    "console=tty1",
    "net.ifnames=0",
];

/// The value AWS recommends for NVMe I/O timeouts (the largest possible).
pub(crate) const NVME_IO_TIMEOUT_ARG: &str = "nvme_core.io_timeout=4294967295";

/// The arguments `platform` adds on `arch` for the version behind `quirks`,
/// as `key=value` words in upstream's order (empty for `container`).
pub fn platform_kernel_args(platform: Platform, arch: Arch, quirks: &Quirks) -> Vec<&'static str> {
    match platform {
        Platform::Metal => match arch {
            Arch::Amd64 if quirks.supports_metal_platform_console_ttys0() => {
                vec!["console=ttyS0", "console=tty0"]
            }
            Arch::Amd64 => vec!["console=tty0"],
            Arch::Arm64 => vec!["console=ttyAMA0", "console=tty0"],
        },
        Platform::Aws => {
            let mut args = CLOUD_VM.to_vec();
            if quirks.nvme_core_io_timeout_aws_only() {
                args.push(NVME_IO_TIMEOUT_ARG);
            }
            args
        }
        Platform::Azure => vec![
            "console=ttyS0,115200n8",
            "earlyprintk=ttyS0,115200",
            "rootdelay=300",
            "net.ifnames=0",
            "talos.dashboard.disabled=1",
            "sysctl.kernel.kexec_load_disabled=1",
        ],
        Platform::Gcp => vec![
            "console=ttyS0",
            "net.ifnames=0",
            "talos.dashboard.disabled=1",
            "sysctl.kernel.kexec_load_disabled=1",
        ],
        Platform::DigitalOcean | Platform::Akamai => SERIAL_FIRST.to_vec(),
        Platform::AlibabaCloud
        | Platform::CloudStack
        | Platform::Exoscale
        | Platform::Hcloud
        | Platform::Nocloud
        | Platform::OpenNebula
        | Platform::OpenStack => CLOUD_VM.to_vec(),
        Platform::Oracle | Platform::Scaleway => CLOUD_VM_NO_DASHBOARD.to_vec(),
        Platform::UpCloud | Platform::Vultr => vec!["net.ifnames=0"],
        Platform::Vmware => match arch {
            Arch::Amd64 => vec![
                "talos.config=guestinfo",
                "console=tty0",
                "console=ttyS0",
                "earlyprintk=ttyS0,115200",
                "net.ifnames=0",
            ],
            Arch::Arm64 => vec![
                "talos.config=guestinfo",
                "console=tty0",
                "console=ttyAMA0",
                "net.ifnames=0",
            ],
        },
        Platform::EquinixMetal => match arch {
            Arch::Amd64 => vec!["console=ttyS1,115200n8"],
            Arch::Arm64 => vec!["console=ttyAMA0,115200"],
        },
        Platform::Container => Vec::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn q(v: &str) -> Quirks {
        Quirks::new(&v.parse().unwrap())
    }

    const CLOUD: &str = "console=tty1 console=ttyS0 net.ifnames=0";
    const CLOUD_ND: &str = "console=tty1 console=ttyS0 net.ifnames=0 talos.dashboard.disabled=1";
    const SERIAL: &str = "console=ttyS0 console=tty0 console=tty1 net.ifnames=0";

    fn table() -> Vec<(Platform, Arch, &'static str, &'static str)> {
        let (cloud, cloud_nd, serial_first) = (CLOUD, CLOUD_ND, SERIAL);
        vec![
            (
                Platform::Metal,
                Arch::Amd64,
                "1.7.6",
                "console=ttyS0 console=tty0",
            ),
            (Platform::Metal, Arch::Amd64, "1.8.0", "console=tty0"),
            (
                Platform::Metal,
                Arch::Arm64,
                "1.7.6",
                "console=ttyAMA0 console=tty0",
            ),
            (
                Platform::Metal,
                Arch::Arm64,
                "1.13.0",
                "console=ttyAMA0 console=tty0",
            ),
            (Platform::Aws, Arch::Amd64, "1.13.9", cloud),
            (Platform::Aws, Arch::Arm64, "1.13.0", cloud),
            (
                Platform::Aws,
                Arch::Amd64,
                "1.14.0",
                "console=tty1 console=ttyS0 net.ifnames=0 nvme_core.io_timeout=4294967295",
            ),
            (
                Platform::Azure,
                Arch::Amd64,
                "1.13.0",
                "console=ttyS0,115200n8 earlyprintk=ttyS0,115200 rootdelay=300 net.ifnames=0 talos.dashboard.disabled=1 sysctl.kernel.kexec_load_disabled=1",
            ),
            (
                Platform::Gcp,
                Arch::Amd64,
                "1.13.0",
                "console=ttyS0 net.ifnames=0 talos.dashboard.disabled=1 sysctl.kernel.kexec_load_disabled=1",
            ),
            (Platform::DigitalOcean, Arch::Amd64, "1.13.0", serial_first),
            (Platform::Akamai, Arch::Arm64, "1.13.0", serial_first),
            (Platform::AlibabaCloud, Arch::Amd64, "1.13.0", cloud),
            (Platform::CloudStack, Arch::Amd64, "1.13.0", cloud),
            (Platform::Exoscale, Arch::Amd64, "1.13.0", cloud),
            (Platform::Hcloud, Arch::Arm64, "1.13.0", cloud),
            (Platform::Nocloud, Arch::Amd64, "1.13.0", cloud),
            (Platform::OpenNebula, Arch::Amd64, "1.13.0", cloud),
            (Platform::OpenStack, Arch::Arm64, "1.13.0", cloud),
            (Platform::Oracle, Arch::Arm64, "1.13.0", cloud_nd),
            (Platform::Scaleway, Arch::Amd64, "1.13.0", cloud_nd),
            (Platform::UpCloud, Arch::Amd64, "1.13.0", "net.ifnames=0"),
            (Platform::Vultr, Arch::Amd64, "1.13.0", "net.ifnames=0"),
            (
                Platform::Vmware,
                Arch::Amd64,
                "1.13.0",
                "talos.config=guestinfo console=tty0 console=ttyS0 earlyprintk=ttyS0,115200 net.ifnames=0",
            ),
            (
                Platform::Vmware,
                Arch::Arm64,
                "1.13.0",
                "talos.config=guestinfo console=tty0 console=ttyAMA0 net.ifnames=0",
            ),
            (
                Platform::EquinixMetal,
                Arch::Amd64,
                "1.5.0",
                "console=ttyS1,115200n8",
            ),
            (
                Platform::EquinixMetal,
                Arch::Arm64,
                "1.5.0",
                "console=ttyAMA0,115200",
            ),
            (Platform::Container, Arch::Amd64, "1.13.0", ""),
        ]
    }

    #[test]
    fn every_platform_and_arch() {
        for (platform, arch, version, want) in table() {
            assert_eq!(
                platform_kernel_args(platform, arch, &q(version)).join(" "),
                want,
                "{platform} {arch} {version}"
            );
        }
    }

    #[test]
    fn the_table_above_covers_every_platform() {
        let rows = table();
        for platform in Platform::ALL {
            assert!(
                rows.iter().any(|row| row.0 == platform),
                "{platform} has no row"
            );
        }
    }
}

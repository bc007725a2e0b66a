//! Assembly of the full Talos kernel command line (the imager's `buildCmdline`).
//!
//! The order of operations is what makes the output byte-compatible, because
//! the go-procfs model groups a key's values at its first position: platform
//! first, then the platform's own arguments, the ISO halt flag, the overlay's
//! arguments (replacing whole keys), the defaults, the SecureBoot arguments,
//! META, and last the user's extra arguments (which may replace `console` and
//! `talos.platform` or delete anything with `-key`). The caller decides which
//! META values and extra arguments apply to the output kind; this module only
//! answers what Talos would print for them.

use super::defaults::{default_kernel_args, secureboot_kernel_args};
use super::meta::{META_ENV_VAR, encode_meta};
use super::model::{AppendOptions, Cmdline};
use super::platform_args::platform_kernel_args;
use crate::arch::Arch;
use crate::platform::Platform;
use crate::quirks::Quirks;
use crate::schematic::MetaValue;
use crate::version::TalosVersion;

/// The key naming the platform Talos boots as.
pub const KERNEL_PARAM_PLATFORM: &str = "talos.platform";
/// The key making a boot from install media halt if Talos is already installed.
pub const KERNEL_PARAM_HALT_IF_INSTALLED: &str = "talos.halt_if_installed";
/// The key passing environment variables to Talos processes.
pub const KERNEL_PARAM_ENVIRONMENT: &str = "talos.environment";

/// Keys a schematic's extra arguments replace instead of extending.
const EXTRA_ARGS_OVERWRITE: &[&str] = &["console", KERNEL_PARAM_PLATFORM];

/// Everything the cmdline of one boot asset depends on.
#[derive(Debug, Clone, Copy)]
pub struct CmdlineSpec<'a> {
    /// The platform Talos boots as.
    pub platform: Platform,
    /// The target architecture.
    pub arch: Arch,
    /// The Talos version (only its release core matters).
    pub version: &'a TalosVersion,
    /// Whether the asset is a SecureBoot (signed UKI) asset.
    pub secureboot: bool,
    /// Whether the asset is an ISO (adds `talos.halt_if_installed=1` from 1.8).
    pub iso: bool,
    /// The overlay profile's kernel arguments; each key replaces the platform's.
    pub overlay_kernel_args: &'a [String],
    /// META values to pass on the cmdline, already filtered by the caller
    /// (empty for disk images, which get a META partition instead).
    pub meta: &'a [MetaValue],
    /// The schematic's extra kernel arguments, already filtered by the caller.
    pub extra_kernel_args: &'a [String],
}

/// Builds the kernel command line Talos's imager would produce for `spec`.
pub fn build(spec: &CmdlineSpec<'_>) -> Cmdline {
    let quirks = Quirks::new(spec.version);
    let mut cmdline = Cmdline::new();

    cmdline.append(KERNEL_PARAM_PLATFORM, spec.platform.as_str());
    cmdline.set_all(&platform_kernel_args(spec.platform, spec.arch, &quirks));

    if spec.iso && quirks.supports_halt_if_installed() {
        cmdline.append(KERNEL_PARAM_HALT_IF_INSTALLED, "1");
    }

    cmdline.set_all(spec.overlay_kernel_args);

    let plain = AppendOptions::default();
    cmdline.append_all(&default_kernel_args(&quirks), &plain);
    if spec.secureboot {
        cmdline.append_all(&secureboot_kernel_args(&quirks), &plain);
    }

    if !spec.meta.is_empty() {
        let encoded = encode_meta(spec.meta, quirks.supports_compressed_encoded_meta());
        cmdline.append(
            KERNEL_PARAM_ENVIRONMENT,
            &format!("{META_ENV_VAR}={encoded}"),
        );
    }

    cmdline.append_all(
        spec.extra_kernel_args,
        &AppendOptions {
            overwrite: EXTRA_ARGS_OVERWRITE,
            delete_negated: true,
        },
    );

    cmdline
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// An owned description of one case, borrowed into a [`CmdlineSpec`].
    struct Case {
        platform: Platform,
        arch: Arch,
        version: &'static str,
        secureboot: bool,
        iso: bool,
        overlay: Vec<String>,
        meta: Vec<MetaValue>,
        extra: Vec<String>,
    }

    fn case(platform: Platform, arch: Arch, version: &'static str) -> Case {
        Case {
            platform,
            arch,
            version,
            secureboot: false,
            iso: false,
            overlay: Vec::new(),
            meta: Vec::new(),
            extra: Vec::new(),
        }
    }

    fn metal(version: &'static str) -> Case {
        case(Platform::Metal, Arch::Amd64, version)
    }

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    impl Case {
        fn secureboot(mut self) -> Self {
            self.secureboot = true;
            self
        }
        fn iso(mut self) -> Self {
            self.iso = true;
            self
        }
        fn overlay(mut self, args: &[&str]) -> Self {
            self.overlay = strings(args);
            self
        }
        fn extra(mut self, args: &[&str]) -> Self {
            self.extra = strings(args);
            self
        }
        fn meta(mut self, key: u8, value: &str) -> Self {
            self.meta.push(MetaValue {
                key,
                value: value.to_owned(),
            });
            self
        }
        fn render(&self) -> String {
            let version: TalosVersion = self.version.parse().unwrap();
            build(&CmdlineSpec {
                platform: self.platform,
                arch: self.arch,
                version: &version,
                secureboot: self.secureboot,
                iso: self.iso,
                overlay_kernel_args: &self.overlay,
                meta: &self.meta,
                extra_kernel_args: &self.extra,
            })
            .to_string()
        }
    }

    const IMA: &str = " ima_template=ima-ng ima_appraise=fix ima_hash=sha512";
    const META_SUFFIX: &str =
        " talos.environment=INSTALLER_META_BASE64=MHhhPXsiZXh0ZXJuYWxJUHMiOlsiMS4yLjMuNCJdfQ==";
    const EXTERNAL_IPS: &str = r#"{"externalIPs":["1.2.3.4"]}"#;

    /// The factory's metal/amd64 cmdline for the empty schematic, by version
    /// (image-factory integration tests, `cmdline-metal-amd64`).
    const METAL_AMD64: &[(&str, &str)] = &[
        (
            "v1.5.1",
            "talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512",
        ),
        (
            "v1.7.0",
            "talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512",
        ),
        (
            "v1.8.2",
            "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512",
        ),
        (
            "v1.9.4",
            "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512",
        ),
        (
            "v1.10.2",
            "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512 selinux=1",
        ),
        (
            "v1.11.0",
            "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1",
        ),
        (
            "v1.12.0",
            "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 module.sig_enforce=1",
        ),
        (
            "v1.13.0",
            "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never",
        ),
        (
            "v1.14.0",
            "talos.platform=metal console=tty0 slab_nomerge pti=on consoleblank=0 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never",
        ),
    ];

    fn metal_amd64(version: &str) -> &'static str {
        METAL_AMD64.iter().find(|(v, _)| *v == version).unwrap().1
    }

    #[test]
    fn metal_amd64_empty_schematic_by_version() {
        for (version, want) in METAL_AMD64 {
            assert_eq!(metal(version).render(), *want, "{version}");
        }
    }

    #[test]
    fn imager_expected_outputs() {
        for (c, want) in [
            (
                case(Platform::Metal, Arch::Arm64, "1.10.0"),
                "talos.platform=metal console=ttyAMA0 console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512 selinux=1",
            ),
            (
                case(Platform::Aws, Arch::Amd64, "1.13.0"),
                "talos.platform=aws console=tty1 console=ttyS0 net.ifnames=0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never",
            ),
            (
                metal("1.12.0").iso(),
                "talos.platform=metal console=tty0 talos.halt_if_installed=1 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 module.sig_enforce=1",
            ),
            (
                case(Platform::Metal, Arch::Arm64, "1.12.0").overlay(&[
                    "console=tty0",
                    "console=ttyAMA0,115200",
                    "sysctl.kernel.kexec_load_disabled=1",
                    "talos.dashboard.disabled=1",
                ]),
                "talos.platform=metal console=tty0 console=ttyAMA0,115200 sysctl.kernel.kexec_load_disabled=1 talos.dashboard.disabled=1 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 module.sig_enforce=1",
            ),
        ] {
            assert_eq!(c.render(), want, "{} {} {}", c.platform, c.arch, c.version);
        }
    }

    #[test]
    fn iso_halt_flag_only_from_1_8() {
        assert_eq!(metal("v1.7.0").iso().render(), metal_amd64("v1.7.0"));
        assert_eq!(
            metal("v1.8.2").iso().render(),
            "talos.platform=metal console=tty0 talos.halt_if_installed=1 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512"
        );
    }

    #[test]
    fn aws_arm64_by_version() {
        let base = "talos.platform=aws console=tty1 console=ttyS0 net.ifnames=0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on";
        for (version, want) in [
            ("1.5.1", format!("{base}{IMA}")),
            ("1.10.2", format!("{base}{IMA} selinux=1")),
            ("1.11.0", format!("{base} selinux=1")),
            ("1.13.0", format!("{base} selinux=1 module.sig_enforce=1 proc_mem.force_override=never")),
            (
                // From 1.14 the NVMe timeout comes from the AWS platform args,
                // so it moves up next to them, and init_on_alloc is gone.
                "1.14.0",
                "talos.platform=aws console=tty1 console=ttyS0 net.ifnames=0 nvme_core.io_timeout=4294967295 slab_nomerge pti=on consoleblank=0 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never".to_owned(),
            ),
        ] {
            assert_eq!(case(Platform::Aws, Arch::Arm64, version).render(), want, "{version}");
        }
    }

    #[test]
    fn schematic_extra_args_and_meta() {
        for version in ["v1.5.1", "v1.10.2", "v1.11.0", "v1.13.0"] {
            let base = metal_amd64(version);
            assert_eq!(
                metal(version).extra(&["nolapic", "nomodeset"]).render(),
                format!("{base} nolapic nomodeset"),
                "{version}"
            );
            assert_eq!(
                metal(version).meta(0x0a, EXTERNAL_IPS).render(),
                format!("{base}{META_SUFFIX}"),
                "{version}"
            );
        }
    }

    #[test]
    fn meta_comes_before_extra_args_and_after_secureboot() {
        assert_eq!(
            metal("1.11.0")
                .secureboot()
                .meta(0x0a, EXTERNAL_IPS)
                .extra(&["nolapic"])
                .render(),
            format!(
                "{} lockdown=confidentiality{META_SUFFIX} nolapic",
                metal_amd64("v1.11.0")
            )
        );
    }

    #[test]
    fn long_meta_is_compressed_from_1_6_3() {
        let long = "x".repeat(300);
        let plain = metal("1.6.2").meta(0x0c, &long).render();
        let packed = metal("1.6.3").meta(0x0c, &long).render();
        let plain_value = plain.rsplit_once("INSTALLER_META_BASE64=").unwrap().1;
        let packed_value = packed.rsplit_once("INSTALLER_META_BASE64=").unwrap().1;
        assert_eq!(
            plain_value,
            encode_meta(
                &[MetaValue {
                    key: 0x0c,
                    value: long.clone()
                }],
                false
            )
        );
        assert_eq!(
            packed_value,
            encode_meta(
                &[MetaValue {
                    key: 0x0c,
                    value: long
                }],
                true
            )
        );
        // gzip's magic, base64-encoded, starts with "H4sI".
        assert!(packed_value.starts_with("H4sI") && !plain_value.starts_with("H4sI"));
    }

    #[test]
    fn uki_and_installer_cmdlines() {
        for (c, want) in [
            (
                case(Platform::Nocloud, Arch::Amd64, "1.10.2"),
                format!("talos.platform=nocloud console=tty1 console=ttyS0 net.ifnames=0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on{IMA} selinux=1"),
            ),
            (
                case(Platform::Nocloud, Arch::Amd64, "1.13.0"),
                "talos.platform=nocloud console=tty1 console=ttyS0 net.ifnames=0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never".to_owned(),
            ),
            (
                metal("1.11.0").extra(&["nolapic", "nomodeset"]),
                "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 nolapic nomodeset".to_owned(),
            ),
            (
                case(Platform::Metal, Arch::Arm64, "1.11.0"),
                "talos.platform=metal console=ttyAMA0 console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1".to_owned(),
            ),
            (
                case(Platform::Aws, Arch::Amd64, "1.12.0"),
                "talos.platform=aws console=tty1 console=ttyS0 net.ifnames=0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 module.sig_enforce=1".to_owned(),
            ),
        ] {
            assert_eq!(c.render(), want, "{} {} {}", c.platform, c.arch, c.version);
        }
    }

    #[test]
    fn secureboot_lockdown_before_1_14_only() {
        for (version, want) in [
            (
                "v1.5.0",
                format!("{} lockdown=confidentiality", metal_amd64("v1.5.1")),
            ),
            (
                "v1.11.0",
                format!("{} lockdown=confidentiality", metal_amd64("v1.11.0")),
            ),
            (
                "v1.13.0",
                format!("{} lockdown=confidentiality", metal_amd64("v1.13.0")),
            ),
            ("v1.14.0", metal_amd64("v1.14.0").to_owned()),
        ] {
            assert_eq!(metal(version).secureboot().render(), want, "{version}");
        }
    }

    #[test]
    fn extra_args_override_and_delete() {
        for (extra, want) in [
            (
                vec!["-console"],
                "talos.platform=metal init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512",
            ),
            (
                vec!["console=ttyS1"],
                "talos.platform=metal console=ttyS1 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512",
            ),
            (
                vec!["console=ttyS1,115200", "console=tty0"],
                "talos.platform=metal console=ttyS1,115200 console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512",
            ),
            (
                vec!["-console=ttyS0"],
                "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512",
            ),
            (
                vec!["talos.platform=foo"],
                "talos.platform=foo console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512",
            ),
            (
                vec!["init_on_alloc=0"],
                "talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 init_on_alloc=0 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512",
            ),
            (
                vec![
                    "-init_on_alloc",
                    "-ima_template",
                    "-ima_appraise",
                    "-ima_hash",
                ],
                "talos.platform=metal console=ttyS0 console=tty0 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on",
            ),
        ] {
            assert_eq!(metal("v1.7.0").extra(&extra).render(), want, "{extra:?}");
        }
    }

    #[test]
    fn extra_args_can_remove_what_overlays_and_meta_added() {
        assert_eq!(
            case(Platform::Metal, Arch::Arm64, "1.12.0")
                .overlay(&["console=ttyAMA0,115200", "talos.dashboard.disabled=1"])
                .meta(0x0a, EXTERNAL_IPS)
                .extra(&[
                    "-talos.dashboard.disabled",
                    "-talos.environment",
                    "console=tty1"
                ])
                .render(),
            "talos.platform=metal console=tty1 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 module.sig_enforce=1"
        );
    }

    #[test]
    fn platform_name_and_arch_specific_args() {
        for (c, want) in [
            (
                case(Platform::EquinixMetal, Arch::Amd64, "1.5.0"),
                format!("talos.platform=equinixMetal console=ttyS1,115200n8 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on{IMA}"),
            ),
            (
                case(Platform::Container, Arch::Arm64, "1.11.0"),
                "talos.platform=container init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1".to_owned(),
            ),
            (
                case(Platform::DigitalOcean, Arch::Amd64, "1.11.0"),
                "talos.platform=digital-ocean console=ttyS0 console=tty0 console=tty1 net.ifnames=0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1".to_owned(),
            ),
            (
                case(Platform::Vmware, Arch::Arm64, "1.11.0"),
                "talos.platform=vmware talos.config=guestinfo console=tty0 console=ttyAMA0 net.ifnames=0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1".to_owned(),
            ),
        ] {
            assert_eq!(c.render(), want, "{} {} {}", c.platform, c.arch, c.version);
        }
    }
}

//! Talos's default and SecureBoot kernel arguments (`kernel.DefaultArgs`,
//! `kernel.SecureBootArgs`).
//!
//! These are architecture independent upstream (`pti=on` is added on arm64
//! too, where the kernel ignores it), and every version question goes through
//! [`Quirks`], so the list below reads exactly like the upstream function.

use super::platform_args::NVME_IO_TIMEOUT_ARG;
use crate::quirks::Quirks;

/// The default hardening and logging arguments for the version behind
/// `quirks`, as `key=value` words in upstream's order (`slab_nomerge=` has an
/// empty value and prints as `slab_nomerge`).
pub fn default_kernel_args(quirks: &Quirks) -> Vec<&'static str> {
    let mut args = Vec::with_capacity(12);
    if !quirks.drop_init_on_alloc_in_args() {
        args.push("init_on_alloc=1");
    }
    args.extend(["slab_nomerge=", "pti=on", "consoleblank=0"]);
    if !quirks.nvme_core_io_timeout_aws_only() {
        args.push(NVME_IO_TIMEOUT_ARG);
    }
    args.push("printk.devkmsg=on");
    if quirks.supports_ima() {
        args.extend(["ima_template=ima-ng", "ima_appraise=fix", "ima_hash=sha512"]);
    }
    if quirks.supports_selinux() {
        args.push("selinux=1");
    }
    if quirks.supports_module_sig_enforce() {
        args.push("module.sig_enforce=1");
    }
    if quirks.proc_mem_override_never() {
        args.push("proc_mem.force_override=never");
    }
    args
}

/// The extra arguments a SecureBoot (UKI) cmdline carries: kernel lockdown
/// before 1.14 (later kernels enforce it themselves), nothing after.
pub fn secureboot_kernel_args(quirks: &Quirks) -> Vec<&'static str> {
    if quirks.forces_lockdown_confidentiality() {
        vec!["lockdown=confidentiality"]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn q(v: &str) -> Quirks {
        Quirks::new(&v.parse().unwrap())
    }

    #[test]
    fn defaults_per_version() {
        const IMA: &str = "ima_template=ima-ng ima_appraise=fix ima_hash=sha512";
        let base = "init_on_alloc=1 slab_nomerge= pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on";
        for (version, want) in [
            ("1.5.1", format!("{base} {IMA}")),
            ("1.9.4", format!("{base} {IMA}")),
            ("1.10.2", format!("{base} {IMA} selinux=1")),
            ("1.11.0", format!("{base} selinux=1")),
            ("1.12.0", format!("{base} selinux=1 module.sig_enforce=1")),
            (
                "1.13.0",
                format!("{base} selinux=1 module.sig_enforce=1 proc_mem.force_override=never"),
            ),
            (
                "1.14.0",
                "slab_nomerge= pti=on consoleblank=0 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never"
                    .to_owned(),
            ),
        ] {
            assert_eq!(default_kernel_args(&q(version)).join(" "), want, "{version}");
        }
    }

    #[test]
    fn secureboot_lockdown_until_1_14() {
        for (version, want) in [
            ("1.5.0", "lockdown=confidentiality"),
            ("1.13.9", "lockdown=confidentiality"),
            ("1.14.0-alpha.1", ""),
            ("1.14.0", ""),
        ] {
            assert_eq!(
                secureboot_kernel_args(&q(version)).join(" "),
                want,
                "{version}"
            );
        }
    }
}

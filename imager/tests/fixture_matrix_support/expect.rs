//! Expected kernel command lines, written out from upstream's tables
//! (`upstream-imager.md` §1.5 and §2.2) rather than computed by
//! `factory_core`, so the matrix checks core against upstream as well as the
//! builder against core.

use factory_core::version::TalosVersion;

/// The cmdline Talos's imager prints for a `cmdline` output of `platform`
/// (`metal` or `aws`) on `arch` (`amd64`/`arm64`) with no overlay, META or
/// SecureBoot, followed by `extra` (plain appended keys only).
pub fn upstream_cmdline(platform: &str, arch: &str, v: &TalosVersion, extra: &[&str]) -> String {
    let at_least = |minor| v.core_at_least(1, minor, 0);
    let mut args = vec![format!("talos.platform={platform}")];
    let mut push = |s: &str| args.extend(s.split(' ').map(str::to_owned));
    match (platform, arch) {
        ("metal", "amd64") if !at_least(8) => push("console=ttyS0 console=tty0"),
        ("metal", "amd64") => push("console=tty0"),
        ("metal", "arm64") => push("console=ttyAMA0 console=tty0"),
        ("aws", _) => {
            push("console=tty1 console=ttyS0 net.ifnames=0");
            if at_least(14) {
                push("nvme_core.io_timeout=4294967295");
            }
        }
        other => panic!("no upstream table entry for {other:?}"),
    }
    if !at_least(14) {
        push("init_on_alloc=1");
    }
    push("slab_nomerge pti=on consoleblank=0");
    if !at_least(14) {
        push("nvme_core.io_timeout=4294967295");
    }
    push("printk.devkmsg=on");
    if !at_least(11) {
        push("ima_template=ima-ng ima_appraise=fix ima_hash=sha512");
    }
    if at_least(10) {
        push("selinux=1");
    }
    if at_least(12) {
        push("module.sig_enforce=1");
    }
    if at_least(13) {
        push("proc_mem.force_override=never");
    }
    for arg in extra {
        push(arg);
    }
    args.join(" ")
}

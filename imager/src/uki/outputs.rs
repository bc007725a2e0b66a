//! The `kernel` and `cmdline` outputs, so the builder has one place to call.
//!
//! Both are trivial upstream: `kernel-<arch>` is the imager's `vmlinuz`
//! copied as is, and `cmdline-<platform>-<arch>[-secureboot]` is the
//! assembled command line with no trailing newline.

use std::io::{self, Read, Write};

use factory_core::cmdline::{self, CmdlineSpec};

use super::error::UkiError;

/// Streams the kernel image unchanged to `out`; returns the bytes copied.
pub fn write_kernel<R: Read, W: Write>(kernel: &mut R, out: &mut W) -> Result<u64, UkiError> {
    let copied = io::copy(kernel, out).map_err(UkiError::KernelCopy)?;
    out.flush().map_err(UkiError::KernelCopy)?;
    Ok(copied)
}

/// The `cmdline` output's contents: the Talos command line for `spec`,
/// without a trailing newline.
pub fn cmdline_text(spec: &CmdlineSpec<'_>) -> String {
    cmdline::build(spec).to_string()
}

#[cfg(test)]
mod tests {
    use factory_core::arch::Arch;
    use factory_core::platform::Platform;
    use factory_core::version::TalosVersion;

    use super::*;

    #[test]
    fn kernel_is_copied_byte_for_byte() {
        let kernel: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
        let mut out = Vec::new();
        let n = write_kernel(&mut kernel.as_slice(), &mut out).unwrap();
        assert_eq!(n, kernel.len() as u64);
        assert_eq!(out, kernel);
    }

    #[test]
    fn cmdline_matches_upstream_1_11_metal() {
        let version: TalosVersion = "v1.11.0".parse().unwrap();
        let spec = CmdlineSpec {
            platform: "metal".parse::<Platform>().unwrap(),
            arch: Arch::Amd64,
            version: &version,
            secureboot: false,
            iso: false,
            overlay_kernel_args: &[],
            meta: &[],
            extra_kernel_args: &[],
        };
        assert_eq!(
            cmdline_text(&spec),
            "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on \
             consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1"
        );
    }
}

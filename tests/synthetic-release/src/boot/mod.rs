//! The boot assets of one Talos version and architecture: the root
//! filesystem (`rootfs.sqsh`) and the base initramfs around it.
//!
//! - [`rootfs`]: the squashfs tree (os-release naming the version, the kernel
//!   module directory the factory's depmod step expects).
//! - [`initramfs`]: `/init`, busybox, the boot modules and `rootfs.sqsh`, as
//!   a compressed newc cpio (amd64, bootable), or a marked stand-in around
//!   the same `rootfs.sqsh` (arm64).

pub(crate) mod initramfs;
pub(crate) mod rootfs;

//! Writers that serialise a [`Tree`](crate::tree::Tree) into the archive
//! formats Talos images are made of, plus the stream compressors.
//!
//! - [`tar`]: OCI layer tarballs (GNU headers for long names).
//! - [`cpio`]: newc archives, the initramfs format.
//! - [`squashfs`]: `rootfs.sqsh`, through backhand.
//! - [`compress`]: xz (CRC32, as the kernel requires) and zstd, the two
//!   initramfs compressors Talos has used.
//!
//! All writers use uid/gid 0 and [`crate::EPOCH`] for every entry and take the
//! entries in the tree's byte order, so equal trees give equal bytes.

pub(crate) mod compress;
pub(crate) mod cpio;
pub(crate) mod squashfs;
pub(crate) mod tar;

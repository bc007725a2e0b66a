//! The image path grammar: which file name under `/image/<schematic>/<version>/`
//! asks for which boot asset.
//!
//! A requested name such as `metal-amd64-secureboot.raw.zst` is parsed into an
//! [`ImagePath`]: the output kind, platform, architecture, SecureBoot flag,
//! output compression and, for disk images, the disk format and its default
//! size. The rules and their order follow upstream's `ParseFromPath`
//! (`internal/profile/profile.go`) exactly, including its error texts, because
//! clients and the official factory's tests depend on them. Two deliberate
//! extensions are documented where they happen: the platform is validated
//! against [`Platform`](crate::platform::Platform) (a typo is a 400 listing the
//! valid names instead of a late 500), and `aarch64` is accepted as an arm64
//! alias (see [`Arch`](crate::arch::Arch)).
//!
//! The module is split by concept: the output vocabulary ([`OutputKind`],
//! [`OutFormat`], [`DiskFormat`]), the grammar itself, per-platform disk
//! defaults (taken from Talos's `profile.Default`), and the `.sha256`/`.sha512`
//! checksum suffixes that are answered next to every asset.

mod checksum;
mod disk;
mod error;
mod grammar;
mod kinds;

#[cfg(test)]
mod tests;

pub use checksum::{Checksum, split_checksum_suffix};
pub use disk::{
    DEFAULT_RAW_DISK_SIZE, DiskSpec, MIN_RAW_DISK_SIZE, PlatformDiskDefaults, disk_image_suffix,
    disk_size_bytes, disk_spec_for, has_disk_image, platform_disk_defaults,
};
pub use error::PathError;
pub use grammar::{ImagePath, parse};
pub use kinds::{DiskFormat, OutFormat, OutputKind};

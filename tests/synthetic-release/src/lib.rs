//! The synthetic Talos release every factory test runs against.
//!
//! ghcr.io is not reachable from the test machines, and a factory that only
//! ever saw mocks would prove little, so this crate writes a faithful
//! stand-in of upstream's published content into an OCI image layout, which
//! `tests/scripts/registry.sh` pushes into a real registry on 127.0.0.1:
//!
//! - `siderolabs/imager:<v>` with `/usr/install/{amd64,arm64}/` (Debian's
//!   real kernel and systemd-boot/stub for amd64, marked stand-ins for arm64)
//!   and a **bootable** amd64 initramfs whose busybox `/init` mounts
//!   `rootfs.sqsh` and the extensions like Talos and prints one
//!   `SYNTHETIC-TALOS-BOOT` line;
//! - `siderolabs/installer-base:<v>` (≥1.10) or the two-layer
//!   `siderolabs/installer:<v>` (<1.10);
//! - four extension images (service, microcode, firmware, kernel modules),
//!   one overlay image, and the `extensions:<v>` / `overlays:<v>` catalogs;
//! - a cosign signature (`<repo>:sha256-<hex>.sig`) of every image, made with
//!   a fixed, public test key ([`public_key_pem`], `cosign.pub` in the layout).
//!
//! The output is deterministic (fixed times, owners and order, single-threaded
//! compressors), so the same inputs give the same digests, and it is reused
//! when the inputs have not changed. [`fixtures`] lists what is inside;
//! [`Summary`] is what a generated layout holds. The `synthetic-release`
//! binary is a thin CLI over [`generate`].

mod archive;
mod boot;
mod elf_module;
mod error;
mod fingerprint;
pub mod fixtures;
mod generate;
mod images;
mod inputs;
mod kmod;
mod limits;
mod oci;
mod pe_stub;
mod signing;
mod summary;
mod tree;

pub use error::{Error, Result};
pub use generate::{Config, Outcome, generate};
pub use signing::{PUBLIC_KEY_FILE, public_key_pem};
pub use summary::{SUMMARY_FILE, Summary, TaggedImage};

/// The modification time of every generated file: 2024-01-01T00:00:00Z.
pub const EPOCH: u64 = 1_704_067_200;

/// The `created` time of every image config ([`EPOCH`] in RFC 3339).
pub const CREATED: &str = "2024-01-01T00:00:00Z";

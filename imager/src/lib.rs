//! `factory-imager`: builds what the factory serves from upstream OCI content.
//!
//! This crate does the byte work the pure `factory-core` cannot: pulling
//! upstream images, writing squashfs/cpio/PE/ISO/GPT/FAT, compressing, and
//! signing. It is a library: the standalone binary and the Lambda builder
//! call it; it has no HTTP of its own.
//!
//! - [`build`]: one build profile in, one verified artifact file out.
//! - [`pull`]: manifests, per-arch images, tags and blobs from a registry
//!   or an OCI layout directory (offline), verified and cached on disk.
//! - [`catalog`]: versions, official extensions and overlays of a release.
//! - [`signing`]: the ECDSA P-256 signing key, signed asset records and
//!   cosign signatures.
//! - [`extension`]: system extension images flattened safely and validated.
//! - [`initramfs`]: the initramfs with extensions, as Talos's imager lays it out.
//! - [`segment_cache`]: built squashfs images kept by content and reused
//!   across schematics.
//! - [`compress`]: streaming, multi-threaded output compression (xz, zstd,
//!   gzip, tar.gz) and the initramfs encoders.
//! - [`uki`]: unified kernel images assembled on systemd-stub, and the plain
//!   `kernel` and `cmdline` outputs.
//! - [`oci_write`]: new layers, image configs, manifests and indexes, OCI
//!   image layouts and docker archives, streamed from files.
//! - [`installer`]: installer images (base layers + boot artifacts +
//!   overlay), their multi-arch index and its cosign signature.
//! - [`mirror`]: copying whole Talos releases (with their extensions and
//!   overlays) into an OCI layout or another registry, for air-gapped use.

pub mod build;
pub mod catalog;
pub mod compress;
pub mod extension;
pub mod initramfs;
pub mod installer;
pub mod mirror;
pub mod oci_write;
pub mod pull;
pub mod segment_cache;
pub mod signing;
pub mod uki;

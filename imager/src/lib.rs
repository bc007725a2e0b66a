//! `factory-imager`: builds what the factory serves from upstream OCI content.
//!
//! This crate does the byte work the pure `factory-core` cannot: pulling
//! upstream images, writing squashfs/cpio/PE/ISO/GPT/FAT, compressing, and
//! signing. It is a library: the standalone binary and the Lambda builder
//! call it; it has no HTTP of its own.
//!
//! - [`pull`]: manifests, per-arch images, tags and blobs from a registry,
//!   verified and cached on disk.
//! - [`catalog`]: versions, official extensions and overlays of a release.
//! - [`signing`]: the ECDSA P-256 signing key, signed asset records and
//!   cosign signatures.
//! - [`oci_write`]: new layers, image configs, manifests and indexes, OCI
//!   image layouts and docker archives, streamed from files.
//! - [`installer`]: installer images (base layers + boot artifacts +
//!   overlay), their multi-arch index and its cosign signature.

pub mod catalog;
pub mod installer;
pub mod oci_write;
pub mod pull;
pub mod signing;

//! `factory-imager`: builds what the factory serves from upstream OCI content.
//!
//! This crate does the byte work the pure `factory-core` cannot: pulling
//! upstream images, writing squashfs/cpio/PE/ISO/GPT/FAT, compressing, and
//! signing. It is a library: the standalone binary and the Lambda builder
//! call it; it has no HTTP of its own.

pub mod compress;

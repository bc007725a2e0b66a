//! The standalone image factory: the `core` frontend over embedded storage
//! and in-process builds, in one binary (`image-factory`).
//!
//! This crate only moves bytes. Every status, header and body is decided by
//! `factory_core::frontend`; every artifact is built by `factory_imager`.
//! What lives here is what a single machine needs around them:
//!
//! - [`settings`]: the resolved configuration every part reads;
//! - [`object`]: the stored-bytes handle the HTTP server streams;
//! - [`metrics`]: the Prometheus counters and histograms;
//! - [`store`]: the embedded key-value store and content-addressed blobs;
//! - [`builds`]: single-flight, bounded, timed in-process builds;
//! - [`catalogs`]: versions and release catalogs, fetched, stored, refreshed;
//! - [`platform`]: [`platform::StandalonePlatform`], the `core` `Platform` over all of them.

pub mod builds;
pub mod catalogs;
pub mod metrics;
pub mod object;
pub mod platform;
pub mod settings;
pub mod store;

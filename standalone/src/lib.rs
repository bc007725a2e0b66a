//! The standalone image factory: the `core` frontend over embedded storage
//! and in-process builds, in one binary (`image-factory`).
//!
//! This crate only moves bytes. Every status, header and body is decided by
//! `factory_core::frontend`; every artifact is built by `factory_imager`.
//! What lives here is what a single machine needs around them:
//!
//! - [`settings`]: the resolved configuration every part reads;
//! - [`object`]: the stored-bytes handle the HTTP server streams;
//! - [`metrics`]: the Prometheus counters and histograms.

pub mod metrics;
pub mod object;
pub mod settings;

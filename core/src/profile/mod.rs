//! From a parsed image path and a schematic to a *build profile*: everything
//! a builder needs to produce one asset, resolved against one release's
//! catalog and checked against the version's capabilities.
//!
//! This is upstream's `EnhanceFromSchematic` (`internal/profile/profile.go`)
//! without its I/O: instead of pulling extension and overlay images, we
//! resolve them against a [`ReleaseCatalog`](crate::catalog::ReleaseCatalog)
//! and record the immutable digests the build is pinned to. The rules run in
//! upstream's order with upstream's messages, so a request that fails upstream
//! fails here first with the same text (see [`build_profile`]).
//!
//! The result is deliberately *normalised per output kind*: fields that cannot
//! influence a kind's bytes are left empty (a kernel carries no schematic, a
//! cmdline no extensions), which is what lets [`crate::asset_key`] share
//! cached assets exactly as upstream does.

mod bootloader;
mod build;
mod cmdline;
mod error;
mod model;

#[cfg(test)]
mod tests;

pub use build::build_profile;
pub use error::ProfileError;
pub use model::{BuildProfile, ProfileContext, ResolvedOverlay};

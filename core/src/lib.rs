//! `factory-core`: the pure heart of the image factory.
//!
//! Everything that decides *what* the factory answers lives here, with no I/O,
//! so that the Cloudflare Worker (wasm32), the Lambda builder and the
//! standalone binary behave identically and are tested once:
//!
//! - [`schematic`]: strict parsing, go-yaml-compatible canonical YAML, IDs.
//! - [`goyaml`]: go-yaml's encoder output for small value trees (Talos's
//!   `extensions.yaml` and extension manifests), over the schematic emitter.
//! - [`version`], [`quirks`], [`catalog`]: Talos versions, version-gated
//!   behaviour, and the versions/extensions/overlays catalogs.
//! - [`arch`], [`platform`]: the vocabulary of image paths.
//! - [`cmdline`]: the Talos kernel command line, as the imager assembles it.
//! - [`ipxe`]: the iPXE boot scripts served under `/pxe/`.
//! - [`registry`]: the OCI `/v2/` frontend's routes, names, digests, error
//!   bodies, cosign payloads and referrers.
//! - [`frontend`]: every HTTP, PXE and registry route, over a small
//!   [`frontend::Platform`] trait for what differs per deployment.
//! - [`image_path`]: the image path grammar (`metal-amd64.raw.zst` → what to build).
//! - [`profile`]: a parsed path plus a schematic, resolved against a release
//!   catalog into a build profile, with upstream's version checks.
//! - [`mime`]: content types, `Content-Disposition` and checksum bodies.
//! - [`asset_key`]: content-addressed keys of builds, for caching.
//! - [`record`]: signed asset records (format and verification; signing is
//!   the builders' job), which the edge checks before storing or serving.
//!
//! Adapters supply storage, builds and clocks through the frontend's platform
//! trait and only move bytes.

pub mod arch;
pub mod asset_key;
pub mod catalog;
pub mod cmdline;
pub mod dispatch;
pub mod frontend;
mod gotext;
pub mod goyaml;
pub mod image_path;
pub mod ipxe;
pub mod mime;
pub mod platform;
pub mod profile;
pub mod quirks;
pub mod record;
pub mod registry;
pub mod schematic;
mod url;
pub mod version;

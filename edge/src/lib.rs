//! The Cloudflare Worker adapter of the image factory.
//!
//! The Worker answers everything through `factory_core::frontend::Frontend`
//! over a `Platform` made of Workers bindings: KV for schematics, signed
//! records, manifests and catalogs; a Durable Object per build key so that
//! concurrent misses anywhere wait on one builder call; the Cache API for
//! immutable small answers. Bytes never pass through WASM: artifacts and
//! registry blobs are redirects to presigned object-store URLs, and on the
//! PXE host the object store's response body is handed back as the Worker's
//! own body stream.
//!
//! The crate is split by what can run on the host. Everything that is pure
//! (configuration, SigV4 presigning, dispatch request signing, storage key
//! names, cache policy, the wire forms between the Worker and its Durable
//! Object) compiles and is unit-tested natively; the bindings themselves live
//! in [`wasm`], compiled only for `wasm32`, so the workspace builds, lints
//! and tests on the host without the `worker` crate.

pub mod cache_policy;
pub mod config;
pub mod coordination;
pub mod dispatch_request;
pub mod ids;
pub mod keys;
pub mod presign;
pub mod stored;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

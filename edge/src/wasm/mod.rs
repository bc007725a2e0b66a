//! The Worker itself: entry points and the bindings-backed platform.
//!
//! Compiled only for `wasm32` (the `worker` crate is a wasm32-only
//! dependency), so the host workspace never builds it; `edge/build.sh`
//! does, and `cargo clippy --target wasm32-unknown-unknown -p factory-edge`
//! lints it.

mod cache;
mod catalogs;
mod coordinator;
mod entry;
mod env;
mod http_io;
mod platform;
mod random;

pub use coordinator::BuildCoordinator;

//! Route tests of the shared frontend over the in-memory platform: statuses,
//! headers and exact bodies, including upstream's error texts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod harness;

mod assets;
mod basics;
mod catalogs;
mod pxe;
mod registry;
mod schematics;

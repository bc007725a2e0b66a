//! Support of `fixture_matrix.rs`: the shared registry, ground truth from
//! the synthetic release's OCI layout, the real-tool wrappers and the
//! initramfs checks.
#![allow(dead_code, unreachable_pub)]

pub mod expect;
pub mod extensions_yaml;
pub mod initramfs;
pub mod layer_image;
pub mod layout;
pub mod listing;
pub mod segments;
pub mod tools;
pub mod upstream;

//! Schematics: parsing, the canonical YAML form and the content-addressed ID.

mod model;
mod options;

pub use model::{
    Bootloader, Customization, DiskImage, EnrollKeys, MetaValue, Overlay, Schematic, SecureBoot,
    SystemExtensions,
};
pub use options::OverlayOptions;

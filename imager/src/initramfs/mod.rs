//! The initramfs with system extensions, laid out exactly as Talos's imager
//! lays it out (see [`build_initramfs`] for the segments), plus the pieces
//! it is made of: per-extension squashfs images, early CPU microcode,
//! firmware moved into the initramfs, `extensions.yaml`, the synthetic
//! `modules.dep` extension and the factory's virtual extensions.
//!
//! The split follows the pipeline: [`virtual_ext`] makes tarballs that go
//! through the same flattening as pulled images; `stage` takes each loaded
//! extension apart (microcode, firmware, squashfs via `squashfs`);
//! `modules_dep` runs depmod over the base modules plus the extensions';
//! `extensions_yaml` (over `factory_core::goyaml`) lists the layers;
//! `build` streams the segments out through `newc` and `codec`;
//! `block_pool` spreads squashfs block compression over the cores, and
//! built images are reused through [`crate::segment_cache`].

mod block_pool;
mod build;
mod codec;
mod error;
mod extensions_yaml;
mod materialize;
mod modules_dep;
mod newc;
mod squashfs;
mod stage;
mod virtual_ext;

pub use build::{EXTENSIONS_YAML, InitramfsSettings, InitramfsSummary, build_initramfs};
pub use codec::{IMAGE_FRAME_LEVEL, SegmentCompression, XZ_PRESET, ZSTD_LEVEL};
pub use error::InitramfsError;
pub use extensions_yaml::{Layer, render_extensions_yaml};
pub use materialize::{MAX_MATERIALIZE_DEPTH, MaterializeError};
pub use modules_dep::{
    DEPMOD_CONFIG, MAX_ROOTFS_BYTES, MODULES_DEP_AUTHOR, MODULES_DEP_DESCRIPTION, MODULES_DEP_NAME,
    ModulesDepError, ROOTFS_ASSET,
};
pub use squashfs::{IMAGE_ERRATUM, SquashfsError};
pub use stage::{AMD_UCODE, INTEL_UCODE};
pub use virtual_ext::{
    EMBEDDED_CONFIG_EXTENSION_NAME, IMAGE_FACTORY_NAME, SCHEMATIC_EXTENSION_NAME,
    STATE_SELINUX_LABEL, VIRTUAL_COMPATIBILITY, VirtualExtensionError,
    embedded_config_extension_tar, load_virtual_extension, schematic_extension_tar,
    schematic_metadata,
};

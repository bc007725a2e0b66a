//! The Talos kernel command line: model, per-platform arguments, assembly and
//! META encoding.
//!
//! The factory serves `cmdline-*` assets, bakes cmdlines into UKIs, ISOs and
//! disk images, and fills iPXE scripts with them; upstream compares all of
//! these as exact strings, so this module reproduces Talos's imager step by
//! step rather than building an equivalent-looking string:
//!
//! - [`Cmdline`] mirrors go-procfs (keys grouped at their first position);
//! - [`platform_kernel_args`], [`default_kernel_args`] and
//!   [`secureboot_kernel_args`] are upstream's argument tables;
//! - [`encode_meta`] is `meta.Values.Encode`;
//! - [`build`] is `Imager.buildCmdline`.

mod assemble;
mod defaults;
mod meta;
mod model;
mod platform_args;

pub use assemble::{
    CmdlineSpec, KERNEL_PARAM_ENVIRONMENT, KERNEL_PARAM_HALT_IF_INSTALLED, KERNEL_PARAM_PLATFORM,
    build,
};
pub use defaults::{default_kernel_args, secureboot_kernel_args};
pub use meta::{META_ENV_VAR, META_GZIP_THRESHOLD, encode_meta, meta_payload};
pub use model::{AppendOptions, Cmdline};
pub use platform_args::platform_kernel_args;

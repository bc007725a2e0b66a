//! The harness every integration test of `imager` and `standalone` shares:
//! where the workspace is, real tools (a missing one fails naming its Debian
//! package; tests install nothing and never skip), commands that must
//! succeed, curl as the HTTP client, the synthetic Talos release served by Debian's `docker-registry`
//! on loopback, pullers over such a registry, and build profiles.
//!
//! It is a test-only crate (`publish = false`, a dev-dependency only), so it
//! fails by panicking with context, as tests do, rather than returning typed
//! errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binutils;
mod build_env;
mod command;
mod curl;
mod newc;
mod profile;
mod registry;
mod release;

pub use binutils::{SectionRow, objcopy_section, objdump_sections};
pub use build_env::{BuildEnv, EXTERNAL_URL};
pub use command::{run, run_bytes, run_with_input, tool, workspace};
pub use curl::{Answer, curl, free_port};
pub use newc::{NEWC_MAGIC, split_newc};
pub use profile::profile;
pub use registry::{SyntheticRegistry, registry_puller};
pub use release::synthetic_layout;

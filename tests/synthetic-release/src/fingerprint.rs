//! The cache key of a layout: everything the output depends on, hashed.
//!
//! That is a hash of the generator's own sources (computed by `build.rs`, so
//! any code or script change counts), an output format number (bumped by hand
//! when a dependency upgrade changes the bytes written), the requested
//! versions, and the bytes of every Debian input actually used. A new Debian
//! kernel therefore yields a new fingerprint and a regenerated layout, while
//! an unchanged cache directory is reused without work.

use std::fs::File;
use std::io;
use std::path::Path;

use factory_core::version::TalosVersion;
use sha2::{Digest as _, Sha256};

use crate::error::{IoContext, Result};
use crate::inputs::DebianInputs;
use crate::kmod::KernelModule;
use crate::tree::Source;

/// Version of what the generator writes; bump when the output changes for a
/// reason the source hash cannot see (a dependency upgrade).
pub(crate) const FORMAT: u32 = 1;

/// SHA-256 of this crate's `src/` and `Cargo.toml`, from `build.rs`.
const SOURCE_HASH: &str = env!("SYNTHETIC_RELEASE_SOURCE_HASH");

/// Computes the fingerprint of generating `versions` from `inputs`.
pub(crate) fn fingerprint(
    inputs: &DebianInputs,
    modules: &[KernelModule],
    versions: &[TalosVersion],
) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut line = |key: &str, value: &str| {
        hasher.update(key.as_bytes());
        hasher.update(b"=");
        hasher.update(value.as_bytes());
        hasher.update(b"\n");
    };
    line("format", &FORMAT.to_string());
    line("sources", SOURCE_HASH);
    let tags: Vec<String> = versions.iter().map(ToString::to_string).collect();
    line("versions", &tags.join(","));
    line("kernel-release", &inputs.kernel_release);
    line("kernel", &file_sha256(&inputs.kernel)?);
    line("busybox", &file_sha256(&inputs.busybox)?);
    line("systemd-stub", &file_sha256(&inputs.systemd_stub)?);
    line("systemd-boot", &file_sha256(&inputs.systemd_boot)?);
    for name in [
        "modules.builtin",
        "modules.builtin.modinfo",
        "modules.order",
    ] {
        let path = inputs.modules_dir.join(name);
        let value = if path.exists() {
            file_sha256(&path)?
        } else {
            "absent".to_owned()
        };
        line(name, &value);
    }
    for module in modules {
        let value = match &module.source {
            Source::Bytes(bytes) => sha256_hex(bytes),
            Source::Path(path) => file_sha256(path)?,
        };
        line(&format!("module:{}", module.relative), &value);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn file_sha256(path: &Path) -> Result<String> {
    let context = || format!("hashing {}", path.display());
    let mut file = File::open(path).ctx(context)?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher).ctx(context)?;
    Ok(hex::encode(hasher.finalize()))
}

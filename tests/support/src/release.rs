//! The synthetic Talos release as an OCI layout in the cache directory
//! (`$SYNTHETIC_RELEASE_CACHE`, else `${XDG_CACHE_HOME:-~/.cache}/image-factory`),
//! generated from Debian's packages on first use and reused while its
//! fingerprint matches (see `tests/README.md`).

use std::path::PathBuf;
use std::process::Command;

use crate::command::{run, workspace};

/// The cache directory of the Debian inputs and the layout.
fn cache_dir() -> PathBuf {
    std::env::var_os("SYNTHETIC_RELEASE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"))
                .join("image-factory")
        })
}

/// The synthetic release's OCI layout, fetching the Debian inputs and
/// generating it if needed.
pub fn synthetic_layout() -> PathBuf {
    let cache = cache_dir();
    let inputs = cache.join("debian");
    let layout = cache.join("synthetic-layout");
    run(Command::new(workspace().join("tests/scripts/fetch-debian-inputs.sh")).arg(&inputs));
    synthetic_release::generate(&synthetic_release::Config {
        inputs,
        out: layout.clone(),
        versions: Vec::new(),
        force: false,
    })
    .unwrap();
    layout
}

//! The images of the release, one module per kind, each writing its blobs
//! into the layout and tagging itself as the registry will serve it.
//!
//! - [`imager`]: `siderolabs/imager:<v>` with `/usr/install/<arch>/...`.
//! - [`installer`]: `installer-base:<v>` (≥1.10) or the two-layer
//!   `installer:<v>` (<1.10).
//! - [`extension`]: system extension images (`manifest.yaml` + `rootfs/`).
//! - [`overlay`]: the SBC overlay image.
//! - [`catalog`]: the `extensions:<v>` and `overlays:<v>` catalog images.

pub(crate) mod catalog;
pub(crate) mod extension;
pub(crate) mod imager;
pub(crate) mod installer;
pub(crate) mod overlay;

use std::collections::BTreeMap;

use crate::oci::image::RuntimeConfig;

/// The label Talos images carry their version in.
pub(crate) const VERSION_LABEL: &str = "alpha.talos.dev/version";

/// A runtime config with `env`, `entrypoint` and `labels`.
pub(crate) fn runtime(env: &[String], entrypoint: &str, labels: &[(&str, &str)]) -> RuntimeConfig {
    RuntimeConfig {
        env: env.to_vec(),
        entrypoint: vec![entrypoint.to_owned()],
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    }
}

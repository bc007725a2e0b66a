//! Image configs, manifests and indexes.
//!
//! A Talos image here is always an index with `linux/amd64` and
//! `linux/arm64` manifests, as upstream publishes them (the factory picks a
//! platform per build). Configs carry what the factory copies from a base
//! installer (`Env`, `Entrypoint`, `Labels`) and a fixed `created` time.

use std::collections::BTreeMap;

use factory_core::arch::Arch;
use factory_core::registry::media_types::{OCI_CONFIG, OCI_INDEX, OCI_MANIFEST};
use factory_core::registry::{Descriptor, ImagePlatform};
use serde::Serialize;

use crate::CREATED;
use crate::error::Result;
use crate::oci::layer::Layer;
use crate::oci::layout::Layout;

/// The runtime part of an image config (Go's field names).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RuntimeConfig {
    /// `KEY=value` environment entries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) env: Vec<String>,
    /// The entrypoint argv.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) entrypoint: Vec<String>,
    /// Labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct RootFs<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    diff_ids: Vec<String>,
}

#[derive(Serialize)]
struct ImageConfig<'a> {
    created: &'a str,
    architecture: &'a str,
    os: &'a str,
    config: &'a RuntimeConfig,
    rootfs: RootFs<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    schema_version: u8,
    media_type: &'a str,
    config: &'a Descriptor,
    layers: Vec<&'a Descriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Index<'a> {
    schema_version: u8,
    media_type: &'a str,
    manifests: &'a [Descriptor],
}

/// Writes a config and manifest for `arch`; returns the manifest's
/// descriptor with its platform set, ready for an index.
pub(crate) fn write_manifest(
    layout: &mut Layout,
    arch: Arch,
    layers: &[&Layer],
    runtime: &RuntimeConfig,
) -> Result<Descriptor> {
    let config = ImageConfig {
        created: CREATED,
        architecture: arch.as_str(),
        os: "linux",
        config: runtime,
        rootfs: RootFs {
            kind: "layers",
            diff_ids: layers.iter().map(|l| l.diff_id.to_string()).collect(),
        },
    };
    let config = layout.add_json(OCI_CONFIG, &config)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: OCI_MANIFEST,
        config: &config,
        layers: layers.iter().map(|l| &l.descriptor).collect(),
    };
    let mut descriptor = layout.add_json(OCI_MANIFEST, &manifest)?;
    descriptor.platform = Some(ImagePlatform::linux(arch));
    Ok(descriptor)
}

/// Writes an image index over `manifests` (in the order given).
pub(crate) fn write_index(layout: &mut Layout, manifests: &[Descriptor]) -> Result<Descriptor> {
    let index = Index {
        schema_version: 2,
        media_type: OCI_INDEX,
        manifests,
    };
    layout.add_json(OCI_INDEX, &index)
}

/// Writes one manifest per architecture (layers chosen per arch by
/// `layers_for`) and an index over them, and tags the index.
pub(crate) fn write_multi_arch<'l>(
    layout: &mut Layout,
    reference: &str,
    runtime_for: impl Fn(Arch) -> RuntimeConfig,
    layers_for: impl Fn(Arch) -> Vec<&'l Layer>,
) -> Result<Descriptor> {
    let mut manifests = Vec::with_capacity(Arch::ALL.len());
    for arch in Arch::ALL {
        manifests.push(write_manifest(
            layout,
            arch,
            &layers_for(arch),
            &runtime_for(arch),
        )?);
    }
    let index = write_index(layout, &manifests)?;
    layout.tag(reference, &index)?;
    Ok(index)
}

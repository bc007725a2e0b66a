//! `extensions.yaml` of a built initramfs: go-yaml's encoder layout, and
//! every layer's image name and metadata as Talos's `extensions.Config`
//! reads them (unknown fields rejected).

use std::path::Path;

use serde::Deserialize;

use super::initramfs::Case;

/// `extensions.yaml` as Talos's `extensions.Config` reads it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    layers: Vec<ConfigLayer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigLayer {
    image: String,
    metadata: ConfigMetadata,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConfigMetadata {
    name: String,
    version: String,
    author: String,
    description: String,
    compatibility: Compatibility,
    #[serde(default)]
    extra_info: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Compatibility {
    talos: TalosRange,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TalosRange {
    version: String,
}

/// Checks `extensions.yaml` in the extracted appended segment.
pub fn check_extensions_yaml(case: &Case<'_>, extracted: &Path) {
    let label = &case.label;
    let text = std::fs::read_to_string(extracted.join("extensions.yaml")).unwrap();
    // go-yaml v4 encoder layout: 4-space indent, sequence items indented.
    let first = case.layers.first().map_or("", |l| l.image.as_str());
    assert!(
        text.starts_with(&format!(
            "layers:\n    - image: {first}\n      metadata:\n        name: "
        )),
        "{label}: extensions.yaml layout:\n{text}"
    );
    let config: Config = serde_saphyr::from_str(&text)
        .unwrap_or_else(|e| panic!("{label}: extensions.yaml does not parse: {e}\n{text}"));
    let got: Vec<(&str, &str)> = config
        .layers
        .iter()
        .map(|l| (l.image.as_str(), l.metadata.name.as_str()))
        .collect();
    let want: Vec<(&str, &str)> = case
        .layers
        .iter()
        .map(|l| (l.image.as_str(), l.name.as_str()))
        .collect();
    assert_eq!(got, want, "{label}: extensions.yaml layers (image, name)");
    for (got, want) in config.layers.iter().zip(&case.layers) {
        let m = &got.metadata;
        let what = format!("{label}: extensions.yaml layer {}", want.image);
        assert_eq!(m.version, want.version, "{what}: version");
        assert_eq!(m.author, want.author, "{what}: author");
        assert_eq!(m.description, want.description, "{what}: description");
        assert_eq!(
            m.compatibility.talos.version, want.compatibility,
            "{what}: compatibility"
        );
        assert_eq!(m.extra_info, want.extra_info, "{what}: extraInfo");
    }
}

//! Turning catalog files into the typed entries `factory-core` serves.
//!
//! `image-digests` lists one `<registry>/<repo>:<tag>@sha256:<digest>` per
//! line; `descriptions.yaml` maps each such full line to `{author,
//! description}`; `overlays.yaml` lists `{name, image, digest}`. As upstream,
//! the registry host in the catalog is replaced by the configured one (so a
//! mirror serves pullable references) and the API `name` of an extension is
//! its repository path.

use std::collections::BTreeMap;

use factory_core::catalog::{ExtensionEntry, OverlayEntry};
use serde::Deserialize;

use super::CatalogError;

#[derive(Deserialize, Default)]
struct Description {
    #[serde(default)]
    author: String,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
struct OverlaysFile {
    #[serde(default)]
    overlays: Vec<OverlayLine>,
}

#[derive(Deserialize)]
struct OverlayLine {
    name: String,
    image: String,
    digest: String,
}

/// A reference split into repository path and tag, host dropped.
struct Split<'a> {
    repository: &'a str,
    tag: &'a str,
}

fn split_reference(reference: &str) -> Option<Split<'_>> {
    let (first, rest) = reference.split_once('/')?;
    // The first segment is a registry host when it looks like one (as the
    // distribution reference grammar decides).
    let path = if first.contains('.') || first.contains(':') || first == "localhost" {
        rest
    } else {
        reference
    };
    let (repository, tag) = path.rsplit_once(':')?;
    (!repository.is_empty() && !tag.is_empty() && !tag.contains('/'))
        .then_some(Split { repository, tag })
}

/// Parses `image-digests` + `descriptions.yaml` into extension entries, in file order.
pub(crate) fn extensions(
    image_digests: &str,
    descriptions_yaml: Option<&str>,
    registry: &str,
) -> Result<Vec<ExtensionEntry>, CatalogError> {
    let descriptions: BTreeMap<String, Description> = match descriptions_yaml {
        Some(text) if !text.trim().is_empty() => {
            serde_saphyr::from_str(text).map_err(|e| CatalogError::Malformed {
                file: "descriptions.yaml",
                reason: e.to_string(),
            })?
        }
        _ => BTreeMap::new(),
    };
    let mut entries = Vec::new();
    for line in image_digests
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let malformed = || CatalogError::Malformed {
            file: "image-digests",
            reason: format!("bad line {line:?}"),
        };
        let (reference, digest) = line.split_once('@').ok_or_else(malformed)?;
        let split = split_reference(reference).ok_or_else(malformed)?;
        let description = descriptions.get(line);
        entries.push(ExtensionEntry {
            name: split.repository.to_owned(),
            reference: format!("{registry}/{}:{}", split.repository, split.tag),
            digest: digest.to_owned(),
            author: description.map(|d| d.author.clone()).unwrap_or_default(),
            description: description
                .map(|d| d.description.clone())
                .unwrap_or_default(),
        });
    }
    Ok(entries)
}

/// Parses `overlays.yaml` into overlay entries, in file order.
pub(crate) fn overlays(
    overlays_yaml: &str,
    registry: &str,
) -> Result<Vec<OverlayEntry>, CatalogError> {
    let file: OverlaysFile =
        serde_saphyr::from_str(overlays_yaml).map_err(|e| CatalogError::Malformed {
            file: "overlays.yaml",
            reason: e.to_string(),
        })?;
    file.overlays
        .into_iter()
        .map(|o| {
            let split = split_reference(&o.image).ok_or_else(|| CatalogError::Malformed {
                file: "overlays.yaml",
                reason: format!("bad image reference {:?}", o.image),
            })?;
            Ok(OverlayEntry {
                name: o.name.clone(),
                image: split.repository.to_owned(),
                reference: format!("{registry}/{}:{}", split.repository, split.tag),
                digest: o.digest,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGESTS: &str = "ghcr.io/siderolabs/amd-ucode:20230804@sha256:aa\n\nghcr.io/siderolabs/gvisor:20231214.0-v1.6.0@sha256:bb\n";
    const DESCRIPTIONS: &str = "ghcr.io/siderolabs/amd-ucode:20230804@sha256:aa:\n  author: Sidero Labs\n  description: |\n    [core] AMD microcode\n";

    #[test]
    fn extensions_get_names_refs_and_descriptions() {
        let got = extensions(DIGESTS, Some(DESCRIPTIONS), "127.0.0.1:5000").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name, "siderolabs/amd-ucode");
        assert_eq!(
            got[0].reference,
            "127.0.0.1:5000/siderolabs/amd-ucode:20230804"
        );
        assert_eq!(got[0].digest, "sha256:aa");
        assert_eq!(got[0].author, "Sidero Labs");
        assert_eq!(got[0].description, "[core] AMD microcode\n");
        assert_eq!(got[1].name, "siderolabs/gvisor");
        assert_eq!(got[1].author, "");
    }

    #[test]
    fn malformed_lines_are_errors() {
        for bad in ["no-digest", "ghcr.io/x@sha256:aa", "@sha256:aa"] {
            assert!(extensions(bad, None, "r").is_err(), "{bad}");
        }
        assert!(extensions(DIGESTS, Some("[unclosed"), "r").is_err());
    }

    #[test]
    fn overlays_get_repo_paths() {
        let yaml = "overlays:\n  - name: rpi_generic\n    image: ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0\n    digest: sha256:cc\n";
        let got = overlays(yaml, "reg.example").unwrap();
        assert_eq!(got[0].name, "rpi_generic");
        assert_eq!(got[0].image, "siderolabs/sbc-raspberrypi");
        assert_eq!(
            got[0].reference,
            "reg.example/siderolabs/sbc-raspberrypi:v0.1.0"
        );
        assert_eq!(got[0].digest, "sha256:cc");
    }
}

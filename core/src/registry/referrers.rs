//! The referrers API's answer: an OCI image index listing the manifests whose
//! `subject` is a given digest (signatures, attestations).
//!
//! The frontend collects the descriptors (from the store's referrers API, or
//! from the `sha256-<hex>` referrers tag when the store has none) and this
//! module renders them. Filtering by `artifactType` happens here, so that the
//! `OCI-Filters-Applied` header is only sent when a filter was really applied,
//! and an empty result is still an index with `"manifests":[]`, as the spec
//! requires. Field names and omission rules are the OCI image spec's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::media_types::OCI_INDEX;
use crate::arch::Arch;

/// The platform a manifest in an index is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagePlatform {
    /// CPU architecture, Go naming (`amd64`).
    pub architecture: String,
    /// Operating system (`linux`).
    pub os: String,
    /// OS version (Windows images only).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// CPU variant (`v8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl ImagePlatform {
    /// `linux/<arch>`, the platforms of Talos installer images.
    pub fn linux(arch: Arch) -> Self {
        ImagePlatform {
            architecture: arch.as_str().to_owned(),
            os: "linux".to_owned(),
            os_version: None,
            variant: None,
        }
    }
}

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Digest of the referenced content.
    pub digest: Digest,
    /// The artifact's type (for referrers: the manifest's `artifactType`, or
    /// its config media type when it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Annotations, sorted by key; omitted when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Platform, for entries of a multi-platform index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<ImagePlatform>,
}

impl Descriptor {
    /// A descriptor of `bytes` with the given media type and nothing else.
    pub fn of(media_type: &str, bytes: &[u8]) -> Self {
        Descriptor {
            media_type: media_type.to_owned(),
            size: bytes.len() as u64,
            digest: Digest::sha256_of(bytes),
            artifact_type: None,
            annotations: BTreeMap::new(),
            platform: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Index<'a> {
    schema_version: u8,
    media_type: &'a str,
    manifests: Vec<&'a Descriptor>,
}

/// Renders the referrers response: an OCI image index of `descriptors`, kept
/// in the order given, filtered to `artifact_type` when one is given.
///
/// Returns the JSON body and whether a filter was applied (then the response
/// carries `OCI-Filters-Applied: artifactType`). An empty `artifact_type` is
/// no filter, as upstream treats `?artifactType=`.
pub fn referrers_index(descriptors: &[Descriptor], artifact_type: Option<&str>) -> (String, bool) {
    let filter = artifact_type.filter(|wanted| !wanted.is_empty());
    let manifests = descriptors
        .iter()
        .filter(|descriptor| {
            filter.is_none_or(|wanted| descriptor.artifact_type.as_deref() == Some(wanted))
        })
        .collect();
    let index = Index {
        schema_version: 2,
        media_type: OCI_INDEX,
        manifests,
    };
    // Serializing strings, integers and string maps into memory cannot fail.
    let body = serde_json::to_string(&index).unwrap_or_default();
    (body, filter.is_some())
}

/// The tag that stands in for the referrers API on registries without it
/// (the spec's "referrers tag schema"): `<algorithm>-<hex>`, the hex cut to 64
/// characters.
pub fn referrers_tag(subject: &Digest) -> String {
    let hex = subject.hex();
    let cut = hex.get(..64).unwrap_or(hex);
    format!("{}-{cut}", subject.algorithm())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::registry::media_types::{
        COSIGN_SIMPLE_SIGNING, IN_TOTO, OCI_MANIFEST, SIGSTORE_BUNDLE_V03,
    };

    const A: &str = "sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
    const B: &str = "sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";

    fn referrers() -> Vec<Descriptor> {
        vec![
            Descriptor {
                media_type: OCI_MANIFEST.into(),
                size: 1234,
                digest: A.parse().unwrap(),
                artifact_type: Some(SIGSTORE_BUNDLE_V03.into()),
                annotations: BTreeMap::from([
                    (
                        "org.opencontainers.image.created".into(),
                        "2026-01-01T14:42:55Z".into(),
                    ),
                    (
                        "dev.sigstore.bundle.predicateType".into(),
                        "https://sigstore.dev/cosign/sign/v1".into(),
                    ),
                ]),
                platform: None,
            },
            Descriptor {
                media_type: OCI_MANIFEST.into(),
                size: 99,
                digest: B.parse().unwrap(),
                artifact_type: Some(IN_TOTO.into()),
                annotations: BTreeMap::new(),
                platform: None,
            },
        ]
    }

    #[test]
    fn unfiltered_index_is_exact() {
        for filter in [None, Some("")] {
            let (body, applied) = referrers_index(&referrers(), filter);
            assert!(!applied);
            assert_eq!(
                body,
                concat!(
                    r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":["#,
                    r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1234,"#,
                    r#""digest":"sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","#,
                    r#""artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","annotations":{"#,
                    r#""dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1","#,
                    r#""org.opencontainers.image.created":"2026-01-01T14:42:55Z"}},"#,
                    r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":99,"#,
                    r#""digest":"sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2","#,
                    r#""artifactType":"application/vnd.in-toto+json"}]}"#
                )
            );
        }
    }

    #[test]
    fn filtered_index_is_exact() {
        let (body, applied) = referrers_index(&referrers(), Some(IN_TOTO));
        assert!(applied);
        assert_eq!(
            body,
            concat!(
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":["#,
                r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":99,"#,
                r#""digest":"sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2","#,
                r#""artifactType":"application/vnd.in-toto+json"}]}"#
            )
        );
        // A filter that matches nothing still answers an index, and says it filtered.
        let (body, applied) = referrers_index(&referrers(), Some(COSIGN_SIMPLE_SIGNING));
        assert!(applied);
        assert_eq!(
            body,
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#
        );
    }

    #[test]
    fn descriptor_with_platform_and_round_trip() {
        let mut descriptor = Descriptor::of(OCI_MANIFEST, b"{}");
        descriptor.platform = Some(ImagePlatform::linux(Arch::Arm64));
        let json = serde_json::to_string(&descriptor).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":2,"#,
                r#""digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","#,
                r#""platform":{"architecture":"arm64","os":"linux"}}"#
            )
        );
        assert_eq!(
            serde_json::from_str::<Descriptor>(&json).unwrap(),
            descriptor
        );
        let with_variant = r#"{"mediaType":"x","size":1,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","platform":{"architecture":"arm64","os":"linux","variant":"v8","os.version":"1"}}"#;
        let parsed: Descriptor = serde_json::from_str(with_variant).unwrap();
        let platform = parsed.platform.unwrap();
        assert_eq!(
            (platform.variant.as_deref(), platform.os_version.as_deref()),
            (Some("v8"), Some("1"))
        );
        assert!(
            serde_json::from_str::<Descriptor>(
                r#"{"mediaType":"x","size":1,"digest":"sha256:00"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn referrers_tag_schema() {
        let sha256: Digest = A.parse().unwrap();
        assert_eq!(
            referrers_tag(&sha256),
            "sha256-a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
        );
        let sha512: Digest = format!("sha512:{}", "a".repeat(128)).parse().unwrap();
        assert_eq!(referrers_tag(&sha512), format!("sha512-{}", "a".repeat(64)));
    }
}

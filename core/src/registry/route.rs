//! Routing of `/v2/...` registry paths, as upstream's `RouteV2` does it.
//!
//! Upstream (`internal/frontend/http/registry_routes.go`) trims the slashes
//! around the path, treats an empty rest as the ping, and otherwise reads the
//! path from the right as `<repository...>/<resource>/<reference>`:
//!
//! - a repository starting with `siderolabs` is the source-image proxy, which
//!   takes `manifests|blobs/<ref>`, `tags/list` and `referrers/<digest>` for
//!   any non-empty repository below `siderolabs/`;
//! - any other repository must be exactly `<image>/<schematic>`, with resource
//!   `manifests`, `blobs` or `referrers`.
//!
//! Everything else is [`RouteError::NotFound`].
//!
//! Two things are stricter here than upstream, and both keep upstream's
//! status (404):
//!
//! - **Empty repository components** (`installer//manifests/v1`,
//!   `siderolabs/a//b/tags/list`) are not found. Upstream routes them and then
//!   fails the schematic or image lookup with a 404.
//! - **References are typed.** Blob and referrers references must be valid
//!   digests and manifest references valid tags or digests. Upstream passes
//!   them through: a referrers subject that is not a digest is a 404 in its
//!   handler (`invalid referrers subject digest: X`), and a bad blob digest is
//!   redirected to the backing registry, which has no such blob (404). We
//!   answer 404 for all of them, with `BLOB_UNKNOWN` or `MANIFEST_UNKNOWN`
//!   (see [`RouteError::to_oci_error`]). The distribution spec would allow a
//!   400 for a malformed referrers digest, but a 404 is what the official
//!   factory answers.
//!
//! Because upstream looks the schematic up before it checks the digest, an
//! unknown schematic with a malformed digest gets upstream's
//! `schematic ID ... not found` and our route error instead. The status is 404
//! either way; only the message differs.
//!
//! The schematic ID and the image name are not checked here. The frontend
//! looks the schematic up first (404 when it is unknown) and only then parses
//! the image name with [`InstallerImage`](super::InstallerImage) (400
//! `invalid image: X`), in upstream's order. Percent-encoded input is taken
//! literally: decoding is the caller's business.

use super::digest::{Digest, DigestError};
use super::oci_error::{OciError, OciErrorCode};
use super::reference::{Reference, ReferenceError};
use crate::gotext::quote as go_quote;

/// The first repository segment that selects the source-image proxy.
pub const SOURCE_PROXY_NAMESPACE: &str = "siderolabs";

/// What a registry request asks for inside a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `manifests/<tag-or-digest>`.
    Manifest(Reference),
    /// `blobs/<digest>`.
    Blob(Digest),
    /// `referrers/<subject digest>`.
    Referrers(Digest),
    /// `tags/list` (source proxy only).
    TagsList,
}

impl Resource {
    /// The path segment naming the resource (`manifests`, `blobs`, `referrers`, `tags`).
    pub fn kind(&self) -> &'static str {
        match self {
            Resource::Manifest(_) => "manifests",
            Resource::Blob(_) => "blobs",
            Resource::Referrers(_) => "referrers",
            Resource::TagsList => "tags",
        }
    }

    /// The last path segment (`v1.10.3`, `sha256:<hex>`, `list`).
    pub fn reference(&self) -> String {
        match self {
            Resource::Manifest(reference) => reference.to_string(),
            Resource::Blob(digest) | Resource::Referrers(digest) => digest.to_string(),
            Resource::TagsList => "list".to_owned(),
        }
    }
}

/// A routed `/v2/` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryRoute {
    /// `GET /v2/`: the API version check.
    Ping,
    /// `<image>/<schematic>/{manifests,blobs,referrers}/<ref>`: an installer
    /// image the factory builds. Neither part is validated yet.
    Installer {
        /// The image name, e.g. `metal-installer` (parse with `InstallerImage`).
        image: String,
        /// The schematic ID as given.
        schematic: String,
        /// What is asked for.
        resource: Resource,
    },
    /// `siderolabs/<repository...>/...`: a request forwarded to the backing
    /// registry's Sidero images.
    SourceProxy {
        /// The repository below `siderolabs/`, e.g. `installer-base` or `talosctl/v.13.5`.
        repository: String,
        /// What is asked for.
        resource: Resource,
    },
}

/// Why a `/v2/` path cannot be served. All of these are answered with 404.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The path has no known shape. The text is upstream's.
    #[error("unknown registry path: {}", go_quote(path))]
    NotFound {
        /// The path as given to [`route`].
        path: String,
    },
    /// A `manifests/<reference>` whose reference is neither a tag nor a digest.
    #[error("invalid manifest reference: {reference}")]
    InvalidManifestReference {
        /// The last path segment.
        reference: String,
        /// Why it does not parse.
        #[source]
        source: ReferenceError,
    },
    /// A `blobs/<digest>` whose digest does not parse.
    #[error("invalid blob digest: {reference}")]
    InvalidBlobDigest {
        /// The last path segment.
        reference: String,
        /// Why it does not parse.
        #[source]
        source: DigestError,
    },
    /// A `referrers/<digest>` whose subject does not parse. The text is upstream's.
    #[error("invalid referrers subject digest: {reference}")]
    InvalidSubjectDigest {
        /// The last path segment.
        reference: String,
        /// Why it does not parse.
        #[source]
        source: DigestError,
    },
}

impl RouteError {
    /// The OCI error to answer with (always a 404): `NAME_UNKNOWN` for an
    /// unknown path, `BLOB_UNKNOWN` for a bad blob digest, `MANIFEST_UNKNOWN`
    /// for a bad manifest reference or referrers subject. The message is this
    /// error's text, and for reference errors the detail says why it was
    /// rejected (`{"reference": ..., "reason": ...}`).
    pub fn to_oci_error(&self) -> OciError {
        let (code, reason) = match self {
            RouteError::NotFound { .. } => (OciErrorCode::NameUnknown, None),
            RouteError::InvalidManifestReference { reference, source } => (
                OciErrorCode::ManifestUnknown,
                Some((reference, source.to_string())),
            ),
            RouteError::InvalidBlobDigest { reference, source } => (
                OciErrorCode::BlobUnknown,
                Some((reference, source.to_string())),
            ),
            RouteError::InvalidSubjectDigest { reference, source } => (
                OciErrorCode::ManifestUnknown,
                Some((reference, source.to_string())),
            ),
        };
        let error = OciError::new(code, self.to_string());
        match reason {
            Some((reference, reason)) => {
                // Keys in sorted order, so the text is the same with or without
                // serde_json's `preserve_order` feature.
                error.with_detail(serde_json::json!({ "reason": reason, "reference": reference }))
            }
            None => error,
        }
    }
}

/// Routes the part of a registry path after `/v2` (with or without its
/// leading slash; pass `/a/b/c/manifests/v1` to get upstream's exact
/// `unknown registry path` text).
pub fn route(path_after_v2: &str) -> Result<RegistryRoute, RouteError> {
    let not_found = || RouteError::NotFound {
        path: path_after_v2.to_owned(),
    };

    let trimmed = path_after_v2.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(RegistryRoute::Ping);
    }

    let segments: Vec<&str> = trimmed.split('/').collect();
    let [repository @ .., resource, reference] = segments.as_slice() else {
        return Err(not_found());
    };
    let (resource, reference) = (*resource, *reference);
    let Some((first, rest)) = repository.split_first() else {
        return Err(not_found());
    };
    if repository.iter().any(|segment| segment.is_empty()) {
        return Err(not_found());
    }

    if *first == SOURCE_PROXY_NAMESPACE {
        let known = matches!(
            (resource, reference),
            ("manifests" | "blobs" | "referrers", _) | ("tags", "list")
        );
        if !known || rest.is_empty() {
            return Err(not_found());
        }
        let resource = match resource {
            "tags" => Resource::TagsList,
            _ => parse_resource(resource, reference)?,
        };
        return Ok(RegistryRoute::SourceProxy {
            repository: rest.join("/"),
            resource,
        });
    }

    if !matches!(resource, "manifests" | "blobs" | "referrers") {
        return Err(not_found());
    }
    let [image, schematic] = repository else {
        return Err(not_found());
    };
    Ok(RegistryRoute::Installer {
        image: (*image).to_owned(),
        schematic: (*schematic).to_owned(),
        resource: parse_resource(resource, reference)?,
    })
}

/// Parses the reference of a `manifests`, `blobs` or `referrers` request.
fn parse_resource(resource: &str, reference: &str) -> Result<Resource, RouteError> {
    let owned = || reference.to_owned();
    match resource {
        "blobs" => {
            reference
                .parse()
                .map(Resource::Blob)
                .map_err(|source| RouteError::InvalidBlobDigest {
                    reference: owned(),
                    source,
                })
        }
        "referrers" => reference
            .parse()
            .map(Resource::Referrers)
            .map_err(|source| RouteError::InvalidSubjectDigest {
                reference: owned(),
                source,
            }),
        _ => reference.parse().map(Resource::Manifest).map_err(|source| {
            RouteError::InvalidManifestReference {
                reference: owned(),
                source,
            }
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    const ID: &str = "cf9b7aab9ed7c365d5384509b4d31c02fafe2e067dccf67d357a641aa1e50cf7";
    const HEX: &str = "d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f";

    fn digest() -> Digest {
        format!("sha256:{HEX}").parse().unwrap()
    }

    fn installer(image: &str, schematic: &str, resource: Resource) -> RegistryRoute {
        RegistryRoute::Installer {
            image: image.into(),
            schematic: schematic.into(),
            resource,
        }
    }

    fn proxy(repository: &str, resource: Resource) -> RegistryRoute {
        RegistryRoute::SourceProxy {
            repository: repository.into(),
            resource,
        }
    }

    fn tag(t: &str) -> Resource {
        Resource::Manifest(Reference::Tag(t.into()))
    }

    #[test]
    fn routes_valid_paths() {
        let cases: Vec<(String, RegistryRoute)> = vec![
            (String::new(), RegistryRoute::Ping),
            ("/".into(), RegistryRoute::Ping),
            ("//".into(), RegistryRoute::Ping),
            (
                format!("/metal-installer/{ID}/manifests/v1.7.0"),
                installer("metal-installer", ID, tag("v1.7.0")),
            ),
            // Without the leading slash, and with trailing ones (upstream trims both).
            (
                format!("metal-installer/{ID}/manifests/v1.7.0"),
                installer("metal-installer", ID, tag("v1.7.0")),
            ),
            (
                format!("/installer/{ID}/manifests/latest/"),
                installer("installer", ID, tag("latest")),
            ),
            (
                format!("//installer/{ID}/manifests/latest//"),
                installer("installer", ID, tag("latest")),
            ),
            (
                format!("/installer/abc123/manifests/sha256:{HEX}"),
                installer(
                    "installer",
                    "abc123",
                    Resource::Manifest(Reference::Digest(digest())),
                ),
            ),
            (
                format!("/installer/abc123/manifests/sha256-{HEX}.sig"),
                installer("installer", "abc123", tag(&format!("sha256-{HEX}.sig"))),
            ),
            (
                format!("/installer/abc123/blobs/sha256:{HEX}"),
                installer("installer", "abc123", Resource::Blob(digest())),
            ),
            (
                format!("/installer-secureboot/abc123/referrers/sha256:{HEX}"),
                installer(
                    "installer-secureboot",
                    "abc123",
                    Resource::Referrers(digest()),
                ),
            ),
            // Neither the image name nor the schematic is validated here.
            (
                "/Not_An_Image/%2Fx/manifests/v1".into(),
                installer("Not_An_Image", "%2Fx", tag("v1")),
            ),
            (
                "/siderolabs/talosctl/manifests/v1".into(),
                proxy("talosctl", tag("v1")),
            ),
            (
                "/siderolabs/talosctl/v.13.5/manifests/latest".into(),
                proxy("talosctl/v.13.5", tag("latest")),
            ),
            (
                format!("/siderolabs/talosctl/blobs/sha256:{HEX}"),
                proxy("talosctl", Resource::Blob(digest())),
            ),
            (
                "/siderolabs/talosctl/tags/list".into(),
                proxy("talosctl", Resource::TagsList),
            ),
            (
                "siderolabs/talosctl/tags/list/".into(),
                proxy("talosctl", Resource::TagsList),
            ),
            (
                format!("/siderolabs/installer/referrers/sha256:{HEX}"),
                proxy("installer", Resource::Referrers(digest())),
            ),
            // The proxy's repository may itself be called like a resource.
            (
                "/siderolabs/manifests/manifests/v1".into(),
                proxy("manifests", tag("v1")),
            ),
        ];
        for (path, want) in cases {
            assert_eq!(route(&path), Ok(want), "{path:?}");
        }
    }

    #[test]
    fn unknown_shapes_are_not_found_with_upstream_text() {
        for (path, want) in [
            ("/foo", r#"unknown registry path: "/foo""#),
            ("/foo/bar", r#"unknown registry path: "/foo/bar""#),
            (
                "/foo/manifests/v1",
                r#"unknown registry path: "/foo/manifests/v1""#,
            ),
            (
                "/a/b/c/manifests/v1",
                r#"unknown registry path: "/a/b/c/manifests/v1""#,
            ),
            (
                "/image/schematic/tags/v1",
                r#"unknown registry path: "/image/schematic/tags/v1""#,
            ),
            (
                "/image/schematic/tags/list",
                r#"unknown registry path: "/image/schematic/tags/list""#,
            ),
            (
                "/image/schematic/uploads/x",
                r#"unknown registry path: "/image/schematic/uploads/x""#,
            ),
            (
                "/image/schematic/Manifests/v1",
                r#"unknown registry path: "/image/schematic/Manifests/v1""#,
            ),
            (
                "/siderolabs/manifests/v1",
                r#"unknown registry path: "/siderolabs/manifests/v1""#,
            ),
            (
                "/siderolabs/tags/list",
                r#"unknown registry path: "/siderolabs/tags/list""#,
            ),
            (
                "/siderolabs/blobs/sha256:deadbeef",
                r#"unknown registry path: "/siderolabs/blobs/sha256:deadbeef""#,
            ),
            (
                "/installer/abc/manifests/v1/x",
                r#"unknown registry path: "/installer/abc/manifests/v1/x""#,
            ),
            (
                "/siderolabs/talosctl/tags/v1",
                r#"unknown registry path: "/siderolabs/talosctl/tags/v1""#,
            ),
            (
                "/siderolabs/talosctl/tags/foo",
                r#"unknown registry path: "/siderolabs/talosctl/tags/foo""#,
            ),
            (
                "/siderolabs/installer/tags/v1",
                r#"unknown registry path: "/siderolabs/installer/tags/v1""#,
            ),
            (
                "/siderolabs/talosctl/uploads/x",
                r#"unknown registry path: "/siderolabs/talosctl/uploads/x""#,
            ),
            // Empty components inside the path.
            (
                "/installer//manifests/v1",
                r#"unknown registry path: "/installer//manifests/v1""#,
            ),
            (
                "/installer/abc//manifests/v1",
                r#"unknown registry path: "/installer/abc//manifests/v1""#,
            ),
            (
                "/installer/abc/manifests//v1",
                r#"unknown registry path: "/installer/abc/manifests//v1""#,
            ),
            (
                "/siderolabs/a//b/tags/list",
                r#"unknown registry path: "/siderolabs/a//b/tags/list""#,
            ),
            (
                "/siderolabs//tags/list",
                r#"unknown registry path: "/siderolabs//tags/list""#,
            ),
            // Percent-encoding is not decoded, so an encoded slash is no separator.
            (
                "/installer%2Fabc/manifests/v1",
                r#"unknown registry path: "/installer%2Fabc/manifests/v1""#,
            ),
            (
                "/a\tb/c\"/manifests",
                r#"unknown registry path: "/a\tb/c\"/manifests""#,
            ),
        ] {
            let err = route(path).unwrap_err();
            assert!(
                matches!(err, RouteError::NotFound { .. }),
                "{path:?}: {err:?}"
            );
            assert_eq!(err.to_string(), want);
            let oci = err.to_oci_error();
            assert_eq!(
                (oci.code, oci.status()),
                (OciErrorCode::NameUnknown, 404),
                "{path:?}"
            );
        }
    }

    #[test]
    fn bad_references_are_typed_404s() {
        // Upstream's own example `blobs/sha256:deadbeef` is routed by upstream and
        // then 404s at the backing registry; we reject it while routing.
        let too_long_tag = format!("/installer/abc/manifests/v{}", "1".repeat(128));
        for (path, code, message) in [
            (
                "/installer/abc123/blobs/sha256:deadbeef",
                OciErrorCode::BlobUnknown,
                "invalid blob digest: sha256:deadbeef",
            ),
            (
                "/installer/abc123/blobs/v1.7.0",
                OciErrorCode::BlobUnknown,
                "invalid blob digest: v1.7.0",
            ),
            (
                "/installer/abc123/referrers/sha256:deadbeef",
                OciErrorCode::ManifestUnknown,
                "invalid referrers subject digest: sha256:deadbeef",
            ),
            (
                "/siderolabs/installer/referrers/latest",
                OciErrorCode::ManifestUnknown,
                "invalid referrers subject digest: latest",
            ),
            (
                "/siderolabs/talosctl/blobs/md5:abc",
                OciErrorCode::BlobUnknown,
                "invalid blob digest: md5:abc",
            ),
            (
                "/installer/abc/manifests/-v1",
                OciErrorCode::ManifestUnknown,
                "invalid manifest reference: -v1",
            ),
            (
                "/installer/abc/manifests/sha256:DEAD",
                OciErrorCode::ManifestUnknown,
                "invalid manifest reference: sha256:DEAD",
            ),
            (
                &too_long_tag,
                OciErrorCode::ManifestUnknown,
                "invalid manifest reference: v1111",
            ),
        ] {
            let err = route(path).unwrap_err();
            assert!(!matches!(err, RouteError::NotFound { .. }), "{path:?}");
            assert!(err.to_string().starts_with(message), "{path:?}: {err}");
            let oci = err.to_oci_error();
            assert_eq!((oci.code, oci.status()), (code, 404), "{path:?}");
            assert!(oci.detail.is_some(), "{path:?}");
        }
    }

    #[test]
    fn bad_digest_detail_names_the_reason() {
        let oci = route("/installer/abc123/blobs/sha256:deadbeef")
            .unwrap_err()
            .to_oci_error();
        assert_eq!(
            oci.detail.unwrap().to_string(),
            r#"{"reason":"invalid digest \"sha256:deadbeef\": sha256 needs 64 hex digits, found 8","reference":"sha256:deadbeef"}"#
        );
    }

    #[test]
    fn resource_parts_round_trip() {
        for path in [
            format!("/installer/abc/manifests/sha256:{HEX}"),
            format!("/installer/abc/blobs/sha256:{HEX}"),
            format!("/installer/abc/referrers/sha256:{HEX}"),
            "/installer/abc/manifests/v1.10.3".to_owned(),
            "/siderolabs/x/tags/list".to_owned(),
        ] {
            let resource = match route(&path).unwrap() {
                RegistryRoute::Installer { resource, .. }
                | RegistryRoute::SourceProxy { resource, .. } => resource,
                RegistryRoute::Ping => panic!("{path}"),
            };
            assert!(
                path.ends_with(&format!("/{}/{}", resource.kind(), resource.reference())),
                "{path}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(path in ".{0,200}") {
            let _ = route(&path);
        }

        #[test]
        fn never_panics_on_path_like_input(
            parts in proptest::collection::vec("(siderolabs|manifests|blobs|referrers|tags|list|sha256:[0-9a-f]{0,70}|[a-z0-9._-]{0,5}|)", 0..8),
        ) {
            let path = parts.join("/");
            if let Ok(RegistryRoute::Installer { image, schematic, .. }) = route(&path) {
                proptest::prop_assert!(!image.is_empty() && !schematic.is_empty());
            }
        }
    }
}

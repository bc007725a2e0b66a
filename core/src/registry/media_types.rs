//! Media types the registry frontend reads, writes or compares.
//!
//! They are plain string constants because they travel in `Content-Type` and
//! `Accept` headers and in JSON fields, and are compared byte for byte there.
//! Installer images are Docker schema 2 (what the Talos imager's tarball
//! gives), indexes and signatures are OCI, so both families appear.

/// OCI image index (multi-platform image, referrers list).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image configuration.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// The OCI empty descriptor's type (config of artifacts; the blob is `{}`).
pub const OCI_EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";
/// Uncompressed OCI layer.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// gzip-compressed OCI layer.
pub const OCI_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// zstd-compressed OCI layer.
pub const OCI_LAYER_TAR_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// Docker manifest list (multi-platform image, Docker flavour).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker image configuration.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// gzip-compressed Docker layer.
pub const DOCKER_LAYER_TAR_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The layer of a cosign legacy (`.sig` tag) signature; its blob is the
/// simple-signing payload.
pub const COSIGN_SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// A Sigstore bundle v0.3, the artifact type of cosign v3 signatures stored as referrers.
pub const SIGSTORE_BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// An in-toto statement (attestations: SPDX, SLSA provenance).
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

/// Manifest types a `GET /v2/.../manifests/...` may answer with, in the order
/// an `Accept` header offering all of them would list them.
pub const MANIFEST_TYPES: [&str; 4] = [
    OCI_INDEX,
    OCI_MANIFEST,
    DOCKER_MANIFEST_LIST,
    DOCKER_MANIFEST_V2,
];

/// Whether `media_type` (parameters ignored) is an index or manifest list,
/// i.e. a multi-platform image.
pub fn is_index(media_type: &str) -> bool {
    matches!(essence(media_type), OCI_INDEX | DOCKER_MANIFEST_LIST)
}

/// Whether `media_type` (parameters ignored) is one of [`MANIFEST_TYPES`].
pub fn is_manifest(media_type: &str) -> bool {
    MANIFEST_TYPES.contains(&essence(media_type))
}

/// The type without parameters or surrounding spaces (`a/b; charset=x` gives `a/b`).
fn essence(media_type: &str) -> &str {
    media_type.split(';').next().unwrap_or_default().trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_manifest_types() {
        for (media_type, manifest, index) in [
            (OCI_INDEX, true, true),
            (DOCKER_MANIFEST_LIST, true, true),
            (OCI_MANIFEST, true, false),
            (DOCKER_MANIFEST_V2, true, false),
            (
                "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
                true,
                false,
            ),
            (" application/vnd.oci.image.index.v1+json ", true, true),
            (OCI_EMPTY_CONFIG, false, false),
            (COSIGN_SIMPLE_SIGNING, false, false),
            ("", false, false),
        ] {
            assert_eq!(
                (is_manifest(media_type), is_index(media_type)),
                (manifest, index),
                "{media_type:?}"
            );
        }
    }
}

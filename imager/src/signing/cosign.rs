//! cosign's key-based signature of an image, as the bytes cosign pushes.
//!
//! For `<repo>@<digest>`, upstream's key signer (and `cosign sign --key`)
//! pushes one OCI image manifest under the tag `sha256-<hex>.sig` in `<repo>`,
//! built by go-containerregistry from `empty.Signatures()` plus
//! `static.NewSignature(payload, b64sig)` through `mutate.AppendSignatures`:
//!
//! - **layer**: the simple-signing payload (`factory_core::registry::simple_signing_payload`),
//!   media type `application/vnd.dev.cosign.simplesigning.v1+json`, with the
//!   base64 DER ECDSA signature in the annotation
//!   `dev.cosignproject.cosign/signature`;
//! - **config**: an OCI image config made by marshalling go-containerregistry's
//!   `ConfigFile` for an empty image with the layer appended: empty
//!   `architecture` and `os`, the `created` time (Go's zero time unless a
//!   creation timestamp is recorded, as upstream does), one `history` entry
//!   whose time is always the zero time (Go's `omitempty` does not drop a
//!   struct), `rootfs` of type `layers` whose one diff ID is the payload's
//!   digest, and an empty `config` object;
//! - **manifest**: `schemaVersion`, `mediaType` (OCI manifest), `config`,
//!   `layers`, in that order, compact, as Go's `encoding/json` writes them.
//!
//! Go escapes `<`, `>` and `&` in JSON strings; none of the strings written
//! here (media types, digests, base64, timestamps) can hold them, so plain
//! `serde_json` output is byte-identical. The tests check the whole layout
//! against a signature cosign itself pushed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use factory_core::registry::media_types::{COSIGN_SIMPLE_SIGNING, OCI_CONFIG, OCI_MANIFEST};
use factory_core::registry::{
    Descriptor, Digest, SIGNATURE_ANNOTATION, cosign_signature_tag, simple_signing_payload,
};
use serde::Serialize;

use super::error::CosignError;
use super::go_time::{ZERO_TIME, go_rfc3339};
use super::key::SigningKey;

/// The longest repository name signed for (the distribution spec's limit on
/// a full image name).
pub const MAX_DOCKER_REFERENCE_LEN: usize = 255;

/// A blob to push: its bytes, digest and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    media_type: &'static str,
    digest: Digest,
    bytes: Vec<u8>,
}

impl Blob {
    fn new(media_type: &'static str, bytes: Vec<u8>) -> Self {
        Blob {
            media_type,
            digest: Digest::sha256_of(&bytes),
            bytes,
        }
    }

    /// The media type it is referenced with.
    pub fn media_type(&self) -> &str {
        self.media_type
    }

    /// Its sha256 digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Its bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// A descriptor of it with no annotations.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::of(self.media_type, &self.bytes)
    }
}

/// A cosign simple-signing signature of one image, ready to push: push
/// [`blobs`](Self::blobs), then [`manifest`](Self::manifest) under
/// [`tag`](Self::tag) in the signed image's repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignSignature {
    tag: String,
    created: String,
    payload: Blob,
    signature_base64: String,
    layer: Descriptor,
    config: Blob,
    manifest: Blob,
}

impl CosignSignature {
    /// Signs the image `docker_reference@index_digest` as `cosign sign --key`
    /// does.
    ///
    /// `docker_reference` is the repository without tag or digest, registry
    /// host included, as go-containerregistry's `Repository.Name()` spells it
    /// (`factory.example.com/metal-installer/<schematic>`). `created` is the
    /// RFC 3339 time to stamp in the config (normalised as Go writes it, see
    /// [`go_rfc3339`]); `None` writes Go's zero time, as cosign does when it
    /// records no timestamp. The result depends only on these inputs.
    pub fn new(
        key: &SigningKey,
        docker_reference: &str,
        index_digest: &Digest,
        created: Option<&str>,
    ) -> Result<Self, CosignError> {
        check_reference(docker_reference)?;
        let payload = simple_signing_payload(docker_reference, index_digest);
        let signature = key.sign_der(&payload)?;
        Self::from_parts(index_digest, payload, &signature, created)
    }

    /// Lays out a signature made elsewhere (a KMS, or cosign itself) over
    /// `payload`. Only the signature's DER form is checked, not what it
    /// signs or that `payload` names `index_digest`.
    pub fn from_parts(
        index_digest: &Digest,
        payload: Vec<u8>,
        signature_der: &[u8],
        created: Option<&str>,
    ) -> Result<Self, CosignError> {
        p256::ecdsa::Signature::from_der(signature_der).map_err(CosignError::MalformedSignature)?;
        let created = match created {
            Some(text) => go_rfc3339(text)?,
            None => ZERO_TIME.to_owned(),
        };
        let signature_base64 = STANDARD.encode(signature_der);
        let payload = Blob::new(COSIGN_SIMPLE_SIGNING, payload);
        let mut layer = payload.descriptor();
        layer
            .annotations
            .insert(SIGNATURE_ANNOTATION.to_owned(), signature_base64.clone());
        let config = Blob::new(OCI_CONFIG, config_json(payload.digest(), &created)?);
        let manifest = Blob::new(OCI_MANIFEST, manifest_json(&config.descriptor(), &layer)?);
        Ok(CosignSignature {
            tag: cosign_signature_tag(index_digest),
            created,
            payload,
            signature_base64,
            layer,
            config,
            manifest,
        })
    }

    /// The tag to push the manifest under: `sha256-<hex>.sig`.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The `created` time in the config, as written.
    pub fn created(&self) -> &str {
        &self.created
    }

    /// The simple-signing payload: the layer blob, and the signed bytes.
    pub fn payload(&self) -> &Blob {
        &self.payload
    }

    /// The signature over the payload: standard base64 of its DER form.
    pub fn signature_base64(&self) -> &str {
        &self.signature_base64
    }

    /// The layer's descriptor in the manifest, with the signature annotation.
    pub fn layer_descriptor(&self) -> &Descriptor {
        &self.layer
    }

    /// The image config blob.
    pub fn config(&self) -> &Blob {
        &self.config
    }

    /// The image manifest; its digest is the signature image's digest.
    pub fn manifest(&self) -> &Blob {
        &self.manifest
    }

    /// The blobs the manifest references, in the order to push them (config,
    /// then the payload layer).
    pub fn blobs(&self) -> [&Blob; 2] {
        [&self.config, &self.payload]
    }
}

/// go-containerregistry's `ConfigFile`, reduced to the members it writes for
/// a signature image, in its field order.
#[derive(Serialize)]
struct ConfigFile<'a> {
    architecture: &'a str,
    created: &'a str,
    history: [History<'a>; 1],
    os: &'a str,
    rootfs: RootFs<'a>,
    config: EmptyObject,
}

#[derive(Serialize)]
struct History<'a> {
    created: &'a str,
}

#[derive(Serialize)]
struct RootFs<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    diff_ids: [&'a Digest; 1],
}

/// Serialises as `{}`.
#[derive(Serialize)]
struct EmptyObject {}

/// go-containerregistry's `Manifest`, with the members a signature image has.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    schema_version: u8,
    media_type: &'a str,
    config: &'a Descriptor,
    layers: [&'a Descriptor; 1],
}

fn config_json(payload_digest: &Digest, created: &str) -> Result<Vec<u8>, CosignError> {
    let config = ConfigFile {
        architecture: "",
        created,
        history: [History { created: ZERO_TIME }],
        os: "",
        rootfs: RootFs {
            kind: "layers",
            diff_ids: [payload_digest],
        },
        config: EmptyObject {},
    };
    serde_json::to_vec(&config).map_err(|source| CosignError::Json {
        what: "config",
        source,
    })
}

fn manifest_json(config: &Descriptor, layer: &Descriptor) -> Result<Vec<u8>, CosignError> {
    let manifest = Manifest {
        schema_version: 2,
        media_type: OCI_MANIFEST,
        config,
        layers: [layer],
    };
    serde_json::to_vec(&manifest).map_err(|source| CosignError::Json {
        what: "manifest",
        source,
    })
}

/// A repository name as go-containerregistry spells it: `host[:port]/path`,
/// the path in lower case, no tag, no digest.
fn check_reference(reference: &str) -> Result<(), CosignError> {
    let fail = |reason: &'static str| CosignError::InvalidReference {
        reference: reference
            .chars()
            .take(MAX_DOCKER_REFERENCE_LEN + 1)
            .collect(),
        reason,
    };
    if reference.len() > MAX_DOCKER_REFERENCE_LEN {
        return Err(fail("longer than 255 bytes"));
    }
    if reference.contains('@') {
        return Err(fail("has a digest; give the repository only"));
    }
    let Some((host, path)) = reference.split_once('/') else {
        return Err(fail(
            "has no registry host; give the full name (index.docker.io/library/...)",
        ));
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    if !host_ok {
        return Err(fail(
            "registry host must be [A-Za-z0-9.-] with an optional :port",
        ));
    }
    if path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'))
    {
        return Err(fail("has a tag; give the repository only"));
    }
    let path_ok = path.split('/').all(|component| {
        !component.is_empty()
            && component
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-'))
    });
    if !path_ok {
        return Err(fail(
            "repository path must be non-empty components of [a-z0-9._-] separated by /",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    /// A signature cosign v1.13.1 pushed to Docker Hub, from its debug log:
    /// the payload is what `simple_signing_payload` writes for the subject,
    /// and config and manifest sizes and digests are what the registry got.
    const SUBJECT: &str = "sha256:4c1c50d0ffc614f90b93b07d778028dc765548e823f676fb027f61d281ac380d";
    const SIGNATURE: &str = "MEYCIQCPH7NJAIfrB6BZN91dV0o7l/i11muXrvrAh100jDMMhAIhAPsLH0oXb2OPITXRpWBMUd3vHtz5Ks5pql2Hr6t/IJXw";
    const CREATED: &str = "2023-02-17T09:25:33.91047962-08:00";
    const PAYLOAD_DIGEST: &str =
        "sha256:b671489ededd1a180bd87235bba00fd83354f9c7d13b71d9f8b66a8e52965ebc";
    const CONFIG_DIGEST: &str =
        "sha256:85ad8e17d3d7c00664855c638832bd99f32d42542c2d587851410a45a7f60b95";
    const MANIFEST_DIGEST: &str =
        "sha256:7ebe8964225fa4619b53aa35416ef0246c037e36ddf81776b21b15e1dda2262b";

    #[test]
    fn matches_a_signature_cosign_pushed() {
        let subject: Digest = SUBJECT.parse().unwrap();
        let payload = simple_signing_payload("index.docker.io/chihjenhuang/cosign1", &subject);
        let der = STANDARD.decode(SIGNATURE).unwrap();
        let sig = CosignSignature::from_parts(&subject, payload, &der, Some(CREATED)).unwrap();
        assert_eq!(sig.payload().size(), 252);
        assert_eq!(sig.payload().digest().to_string(), PAYLOAD_DIGEST);
        assert_eq!(sig.signature_base64(), SIGNATURE);
        assert_eq!(sig.config().size(), 247);
        assert_eq!(sig.config().digest().to_string(), CONFIG_DIGEST);
        assert_eq!(sig.manifest().size(), 558);
        assert_eq!(sig.manifest().digest().to_string(), MANIFEST_DIGEST);
        assert_eq!(
            sig.tag(),
            "sha256-4c1c50d0ffc614f90b93b07d778028dc765548e823f676fb027f61d281ac380d.sig"
        );
        let manifest = String::from_utf8(sig.manifest().bytes().to_vec()).unwrap();
        assert_eq!(
            manifest,
            format!(
                concat!(
                    r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                    r#""config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":247,"digest":"{}"}},"#,
                    r#""layers":[{{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":252,"#,
                    r#""digest":"{}","annotations":{{"dev.cosignproject.cosign/signature":"{}"}}}}]}}"#
                ),
                CONFIG_DIGEST, PAYLOAD_DIGEST, SIGNATURE
            )
        );
    }

    #[test]
    fn config_without_timestamp_uses_the_zero_time() {
        let subject: Digest = SUBJECT.parse().unwrap();
        let der = STANDARD.decode(SIGNATURE).unwrap();
        let sig = CosignSignature::from_parts(&subject, b"{}".to_vec(), &der, None).unwrap();
        assert_eq!(sig.created(), ZERO_TIME);
        assert_eq!(
            String::from_utf8(sig.config().bytes().to_vec()).unwrap(),
            format!(
                concat!(
                    r#"{{"architecture":"","created":"0001-01-01T00:00:00Z","#,
                    r#""history":[{{"created":"0001-01-01T00:00:00Z"}}],"os":"","#,
                    r#""rootfs":{{"type":"layers","diff_ids":["{}"]}},"config":{{}}}}"#
                ),
                Digest::sha256_of(b"{}")
            )
        );
    }

    #[test]
    fn refuses_signatures_that_are_not_der() {
        let subject: Digest = SUBJECT.parse().unwrap();
        for bad in [&b""[..], &[0u8; 64][..], b"MEYCIQ"] {
            assert!(matches!(
                CosignSignature::from_parts(&subject, vec![], bad, None),
                Err(CosignError::MalformedSignature(_))
            ));
        }
    }

    #[test]
    fn checks_repository_names() {
        for good in [
            "factory.talos.dev/metal-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba",
            "127.0.0.1:5000/siderolabs/installer",
            "index.docker.io/library/alpine",
            "ghcr.io/a_b/c.d-e",
        ] {
            check_reference(good).unwrap();
        }
        let long = format!("example.com/{}", "a".repeat(250));
        for (bad, want) in [
            ("", "no registry host"),
            ("alpine", "no registry host"),
            ("ghcr.io/siderolabs/installer:v1.10.0", "has a tag"),
            ("ghcr.io/siderolabs/installer@sha256:00", "has a digest"),
            ("ghcr.io/SideroLabs/installer", "repository path"),
            ("ghcr.io/siderolabs//installer", "repository path"),
            ("ghcr.io/siderolabs/installer/", "repository path"),
            ("ghcr.io/", "repository path"),
            ("/siderolabs/installer", "registry host"),
            ("ghcr io/siderolabs", "registry host"),
            ("ghcr.io/a\"b", "repository path"),
            (long.as_str(), "longer than 255"),
        ] {
            let err = check_reference(bad).unwrap_err().to_string();
            assert!(err.contains(want), "{bad:?}: {err}");
        }
    }
}

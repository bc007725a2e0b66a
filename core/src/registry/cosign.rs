//! cosign's legacy ("simple signing", `.sig` tag) signature format.
//!
//! Upstream's key signer stores one OCI manifest per signed index under the
//! tag `sha256-<hex>.sig`, whose single layer is the simple-signing payload
//! with the base64 ECDSA signature in an annotation. `cosign verify --key` and
//! Talos check that signature over the payload's exact bytes, so the payload
//! is written here by hand, field for field as sigstore's Go `payload.Cosign`
//! marshals it with `encoding/json`: compact, keys in struct order, Go's string
//! escapes, and `"optional":null` because upstream signs without annotations.

use super::digest::Digest;
use crate::gotext::push_json_string as push_go_json_string;

/// The `critical.type` of a cosign payload.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";

/// The layer annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// The tag cosign stores the signatures of `digest` under: `sha256-<hex>.sig`.
///
/// cosign builds the tag the same way for any algorithm, but for a sha512
/// digest the result (139 characters) is longer than a tag may be, so in
/// practice only sha256 subjects can carry `.sig` signatures.
pub fn cosign_signature_tag(digest: &Digest) -> String {
    format!("{}-{}.sig", digest.algorithm(), digest.hex())
}

/// The simple-signing payload cosign signs for the manifest `digest` in the
/// repository `docker_reference`.
///
/// `docker_reference` is the repository without tag or digest, spelled as
/// go-containerregistry's `Repository.Name()` does: registry host included
/// (`ghcr.io/siderolabs/installer`; Docker Hub images are
/// `index.docker.io/library/...`).
pub fn simple_signing_payload(docker_reference: &str, digest: &Digest) -> Vec<u8> {
    let mut out = String::with_capacity(200 + docker_reference.len());
    out.push_str(r#"{"critical":{"identity":{"docker-reference":"#);
    push_go_json_string(&mut out, docker_reference);
    out.push_str(r#"},"image":{"docker-manifest-digest":"#);
    push_go_json_string(&mut out, &digest.to_string());
    out.push_str(r#"},"type":"#);
    push_go_json_string(&mut out, SIMPLE_SIGNING_TYPE);
    out.push_str(r#"},"optional":null}"#);
    out.into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::registry::is_valid_tag;

    const HEX: &str = "d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f";

    fn digest() -> Digest {
        format!("sha256:{HEX}").parse().unwrap()
    }

    #[test]
    fn signature_tags() {
        assert_eq!(cosign_signature_tag(&digest()), format!("sha256-{HEX}.sig"));
        let sha512: Digest = format!("sha512:{HEX}{HEX}").parse().unwrap();
        assert_eq!(
            cosign_signature_tag(&sha512),
            format!("sha512-{HEX}{HEX}.sig")
        );
        // A sha256 tag is a valid OCI tag and can be pulled as a manifest
        // reference; a sha512 one is too long (139 > 128 characters).
        assert!(is_valid_tag(&cosign_signature_tag(&digest())));
        assert!(!is_valid_tag(&cosign_signature_tag(&sha512)));
    }

    #[test]
    fn payload_bytes_match_the_sigstore_format() {
        // Written out by hand from sigstore's `SimpleContainerImage` struct:
        // critical{identity{docker-reference}, image{docker-manifest-digest}, type}, optional.
        let want = concat!(
            r#"{"critical":{"identity":{"docker-reference":"example.com/test/image"},"#,
            r#""image":{"docker-manifest-digest":"sha256:d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f"},"#,
            r#""type":"cosign container image signature"},"optional":null}"#
        );
        assert_eq!(
            String::from_utf8(simple_signing_payload("example.com/test/image", &digest())).unwrap(),
            want
        );
    }

    #[test]
    fn payload_for_a_factory_installer() {
        let payload = simple_signing_payload(
            "factory.talos.dev/metal-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba",
            &Digest::sha256_of(b"index"),
        );
        let text = String::from_utf8(payload.clone()).unwrap();
        assert_eq!(
            text,
            format!(
                "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"factory.talos.dev/metal-installer/\
                 376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba\"}},\"image\":{{\
                 \"docker-manifest-digest\":\"{}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}",
                Digest::sha256_of(b"index")
            )
        );
        // It is valid JSON with the fields where cosign looks for them.
        let parsed: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(parsed["critical"]["type"], SIMPLE_SIGNING_TYPE);
        assert_eq!(parsed["optional"], serde_json::Value::Null);
    }

    #[test]
    fn payload_escapes_like_go() {
        let text = String::from_utf8(simple_signing_payload("a<b>&\"c", &digest())).unwrap();
        assert!(
            text.contains(r#""docker-reference":"a\u003cb\u003e\u0026\"c""#),
            "{text}"
        );
    }
}

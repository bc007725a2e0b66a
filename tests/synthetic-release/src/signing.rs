//! cosign signatures for every image of the release, made with a fixed test
//! key.
//!
//! Upstream signs its images, and air-gapped copies carry the signatures as
//! `sha256-<hex>.sig` tags next to the images (upstream-image-factory §7.5).
//! The factory can verify them with a configured public key, so the release
//! carries them too, in cosign's legacy layout: one OCI manifest per signed
//! index, whose single layer is the simple-signing payload (from
//! `factory-core`) with the base64 DER ECDSA P-256 signature in the
//! `dev.cosignproject.cosign/signature` annotation.
//!
//! The key is derived from a fixed string, so it is public knowledge and the
//! signatures are reproducible (RFC 6979 nonces): it proves the verification
//! code path, never authenticity. Its public half is written to the layout as
//! `cosign.pub`.

use std::collections::BTreeMap;

use base64::Engine;
use factory_core::registry::media_types::{COSIGN_SIMPLE_SIGNING, OCI_CONFIG, OCI_MANIFEST};
use factory_core::registry::{
    Descriptor, SIGNATURE_ANNOTATION, cosign_signature_tag, simple_signing_payload,
};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::fixtures::CATALOG_REGISTRY;
use crate::oci::layout::Layout;

/// File name of the PEM public key in the layout directory.
pub const PUBLIC_KEY_FILE: &str = "cosign.pub";

/// What the test key is derived from (SHA-256 of it is the private scalar).
const KEY_SEED: &[u8] = b"image-factory synthetic release cosign test key, v1; not a secret";

/// The signing key.
fn signing_key() -> Result<SigningKey> {
    let scalar = Sha256::digest(KEY_SEED);
    SigningKey::from_slice(&scalar).map_err(|_| Error::Signing {
        context: "deriving the test key".to_owned(),
    })
}

/// The public key as an SPKI PEM (`-----BEGIN PUBLIC KEY-----`), as
/// `cosign generate-key-pair` writes `cosign.pub`.
pub fn public_key_pem() -> Result<String> {
    signing_key()?
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|_| Error::Signing {
            context: "encoding the test public key".to_owned(),
        })
}

#[derive(Serialize)]
struct History<'a> {
    created: &'a str,
}

#[derive(Serialize)]
struct RootFs {
    #[serde(rename = "type")]
    kind: &'static str,
    diff_ids: Vec<String>,
}

/// The config cosign writes for a signature image.
#[derive(Serialize)]
struct SignatureConfig<'a> {
    architecture: &'a str,
    created: &'a str,
    history: [History<'a>; 1],
    os: &'a str,
    rootfs: RootFs,
    config: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    schema_version: u8,
    media_type: &'a str,
    config: &'a Descriptor,
    layers: [&'a Descriptor; 1],
}

/// Signs the image `repository`@`signed` and tags the signature as
/// `<repository>:sha256-<hex>.sig`.
pub(crate) fn sign(layout: &mut Layout, repository: &str, signed: &Descriptor) -> Result<()> {
    let reference = format!("{CATALOG_REGISTRY}/{repository}");
    let payload = simple_signing_payload(&reference, &signed.digest);
    let signature: DerSignature =
        signing_key()?
            .try_sign(&payload)
            .map_err(|_| Error::Signing {
                context: format!("signing {reference}@{}", signed.digest),
            })?;
    let signature = base64::engine::general_purpose::STANDARD.encode(signature.as_bytes());

    let mut writer = layout.blob_writer()?;
    std::io::Write::write_all(&mut writer, &payload).map_err(|source| Error::Io {
        context: format!("writing the signature payload of {reference}"),
        source,
    })?;
    let mut layer = layout.commit(writer, COSIGN_SIMPLE_SIGNING)?;
    layer
        .annotations
        .insert(SIGNATURE_ANNOTATION.to_owned(), signature);

    let zero_time = "0001-01-01T00:00:00Z";
    let config = layout.add_json(
        OCI_CONFIG,
        &SignatureConfig {
            architecture: "",
            created: zero_time,
            history: [History { created: zero_time }],
            os: "",
            rootfs: RootFs {
                kind: "layers",
                diff_ids: vec![layer.digest.to_string()],
            },
            config: BTreeMap::new(),
        },
    )?;
    let manifest = layout.add_json(
        OCI_MANIFEST,
        &Manifest {
            schema_version: 2,
            media_type: OCI_MANIFEST,
            config: &config,
            layers: [&layer],
        },
    )?;
    layout.tag(
        &format!("{repository}:{}", cosign_signature_tag(&signed.digest)),
        &manifest,
    )
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::{Signature, VerifyingKey};
    use p256::pkcs8::DecodePublicKey;

    use super::*;

    #[test]
    fn key_is_fixed_and_signatures_verify() {
        let pem = public_key_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(pem, public_key_pem().unwrap());
        let key = VerifyingKey::from_public_key_pem(&pem).unwrap();
        let signature: DerSignature = signing_key().unwrap().sign(b"payload");
        let signature = Signature::from_der(signature.as_bytes()).unwrap();
        key.verify(b"payload", &signature).unwrap();
    }
}

//! Verifying upstream cosign signatures with a configured public key.
//!
//! Sidero signs its images keylessly (Fulcio certificates, Rekor log), which
//! needs network access to a trust root; air-gapped mirrors and our test
//! release are signed with a plain ECDSA P-256 key instead, the way
//! `cosign sign --key` lays it out: a manifest tagged `sha256-<hex>.sig` in
//! the same repository whose layers are simple-signing payloads, each
//! carrying its base64 signature in the `dev.cosignproject.cosign/signature`
//! annotation. A manifest verifies when at least one layer's payload is
//! signed by the key AND names the manifest's digest. Keyless verification
//! is not implemented.

use base64::Engine as _;
use factory_core::registry::{Digest, cosign_signature_tag, media_types};
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;

use super::Puller;
use super::error::PullError;
use super::manifest::Manifest;

/// The annotation that carries a layer's signature.
const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Payloads are small JSON documents; anything bigger is refused unread.
const MAX_PAYLOAD_BYTES: u64 = 64 * 1024;

/// A public key upstream signatures must verify with.
#[derive(Debug, Clone)]
pub struct SignatureKey(VerifyingKey);

impl SignatureKey {
    /// Parses a PEM `PUBLIC KEY` (SPKI) holding an ECDSA P-256 key.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        VerifyingKey::from_public_key_pem(pem)
            .map(SignatureKey)
            .map_err(|e| format!("not an ECDSA P-256 public key: {e}"))
    }
}

#[derive(serde::Deserialize)]
struct Payload {
    critical: Critical,
}

#[derive(serde::Deserialize)]
struct Critical {
    image: PayloadImage,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(serde::Deserialize)]
struct PayloadImage {
    #[serde(rename = "docker-manifest-digest")]
    digest: String,
}

impl Puller {
    /// Checks that `digest` in `repository` carries a cosign signature made
    /// with `key`.
    pub async fn verify_signature(
        &self,
        repository: &str,
        digest: &Digest,
        key: &SignatureKey,
    ) -> Result<(), PullError> {
        let fail = |reason: String| PullError::Signature {
            repository: repository.to_owned(),
            digest: digest.clone(),
            reason,
        };
        let tag = cosign_signature_tag(digest);
        let signatures = self
            .manifest(repository, &tag)
            .await
            .map_err(|e| fail(format!("no signature manifest {tag}: {e}")))?;
        let Manifest::Image(image) = signatures.parsed()? else {
            return Err(fail(format!("{tag} is an index, not a signature manifest")));
        };
        let mut reasons = Vec::new();
        for layer in image
            .layers
            .iter()
            .filter(|l| l.media_type == media_types::COSIGN_SIMPLE_SIGNING)
        {
            let Some(signature) = layer.annotations.get(SIGNATURE_ANNOTATION) else {
                reasons.push(format!(
                    "layer {} has no signature annotation",
                    layer.digest
                ));
                continue;
            };
            if layer.size > MAX_PAYLOAD_BYTES {
                reasons.push(format!(
                    "payload {} is {} bytes (limit {MAX_PAYLOAD_BYTES})",
                    layer.digest, layer.size
                ));
                continue;
            }
            let path = self.blob(repository, layer).await?;
            let payload = tokio::fs::read(&path)
                .await
                .map_err(|source| PullError::Io {
                    action: "reading",
                    path: path.clone(),
                    source,
                })?;
            match check(&payload, signature, digest, key) {
                Ok(()) => return Ok(()),
                Err(reason) => reasons.push(reason),
            }
        }
        if reasons.is_empty() {
            reasons.push("no simple-signing layer".to_owned());
        }
        Err(fail(reasons.join("; ")))
    }
}

/// Verifies one payload and its base64 DER signature for `digest`.
fn check(
    payload: &[u8],
    signature_b64: &str,
    digest: &Digest,
    key: &SignatureKey,
) -> Result<(), String> {
    let der = base64::engine::general_purpose::STANDARD
        .decode(signature_b64.trim())
        .map_err(|e| format!("signature is not base64: {e}"))?;
    let signature =
        Signature::from_der(&der).map_err(|e| format!("signature is not DER ECDSA: {e}"))?;
    key.0
        .verify(payload, &signature)
        .map_err(|_| "signature does not verify with the configured key".to_owned())?;
    let parsed: Payload = serde_json::from_slice(payload)
        .map_err(|e| format!("payload is not simple-signing JSON: {e}"))?;
    if parsed.critical.kind != "cosign container image signature" {
        return Err(format!("payload type is {:?}", parsed.critical.kind));
    }
    if parsed.critical.image.digest != digest.to_string() {
        return Err(format!(
            "payload signs {}, not {digest}",
            parsed.critical.image.digest
        ));
    }
    Ok(())
}

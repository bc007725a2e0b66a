//! The ECDSA P-256 public key records are verified with, and its key ID.
//!
//! Keys arrive as SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`, what
//! `openssl ec -pubout` and cosign write, and what the factory serves at
//! `/oci/cosign/signing-key.pub`). Only P-256 is accepted: it is what the
//! factory signs with, and refusing every other algorithm here means a record
//! can never be checked against a key of a weaker or unexpected kind. The key
//! ID hashes the key's *re-encoded* DER (uncompressed point, named curve), so
//! one key has one ID whichever way its PEM was spelled.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::der::Decode as _;
use p256::pkcs8::{AssociatedOid as _, DecodePublicKey as _, EncodePublicKey as _};
use sha2::{Digest as _, Sha256};

use super::error::{PublicKeyError, SignatureError};

/// The longest public key PEM accepted (a P-256 SPKI PEM is 178 bytes; the
/// slack allows comments and CRLF line ends). Longer input is refused unread.
pub const MAX_PUBLIC_KEY_PEM_LEN: usize = 4096;

/// The PEM label of a SubjectPublicKeyInfo.
const SPKI_LABEL: &str = "PUBLIC KEY";

/// A key ID: lowercase hex SHA-256 of the key's DER SubjectPublicKeyInfo.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

/// A string that is not 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid key ID {0:?}: expected 64 lowercase hex digits")]
pub struct InvalidKeyId(pub String);

impl KeyId {
    /// The ID as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for KeyId {
    type Err = InvalidKeyId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if is_lower_hex(s, 64) {
            Ok(KeyId(s.to_owned()))
        } else {
            // Keep the error bounded whatever the input's length.
            Err(InvalidKeyId(s.chars().take(80).collect()))
        }
    }
}

/// Whether `s` is exactly `len` lowercase hex digits.
pub(super) fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// An ECDSA P-256 public key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    verifying: VerifyingKey,
    spki_der: Vec<u8>,
    key_id: KeyId,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl PublicKey {
    /// Reads a SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`) holding
    /// a P-256 key. Surrounding whitespace is ignored; any other text, or a
    /// second block, is an error.
    pub fn from_pem(pem: &str) -> Result<Self, PublicKeyError> {
        if pem.len() > MAX_PUBLIC_KEY_PEM_LEN {
            return Err(PublicKeyError::TooLarge {
                len: pem.len(),
                max: MAX_PUBLIC_KEY_PEM_LEN,
            });
        }
        let (label, der) = p256::pkcs8::der::pem::decode_vec(pem.trim().as_bytes())
            .map_err(PublicKeyError::Pem)?;
        if label != SPKI_LABEL {
            return Err(PublicKeyError::WrongLabel(label.to_owned()));
        }
        Self::from_spki_der(&der)
    }

    /// Reads a DER SubjectPublicKeyInfo holding a P-256 key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, PublicKeyError> {
        let spki =
            p256::pkcs8::SubjectPublicKeyInfoRef::from_der(der).map_err(PublicKeyError::Der)?;
        if spki.algorithm.oid != p256::elliptic_curve::ALGORITHM_OID {
            return Err(PublicKeyError::NotEcKey(spki.algorithm.oid));
        }
        match spki.algorithm.parameters_oid() {
            Ok(curve) if curve == p256::NistP256::OID => {}
            Ok(curve) => return Err(PublicKeyError::UnsupportedCurve(curve.to_string())),
            Err(_) => {
                return Err(PublicKeyError::UnsupportedCurve(
                    "(no named curve)".to_owned(),
                ));
            }
        }
        let key =
            p256::PublicKey::from_public_key_der(der).map_err(PublicKeyError::InvalidPoint)?;
        let spki_der = key
            .to_public_key_der()
            .map_err(PublicKeyError::InvalidPoint)?
            .into_vec();
        let key_id = KeyId(hex::encode(Sha256::digest(&spki_der)));
        Ok(PublicKey {
            verifying: VerifyingKey::from(&key),
            spki_der,
            key_id,
        })
    }

    /// The key as a SubjectPublicKeyInfo PEM, 64-column lines, LF line ends
    /// and a final newline (as openssl and Go's `pem.Encode` write it).
    pub fn to_pem(&self) -> String {
        let b64 = STANDARD.encode(&self.spki_der);
        let mut pem = String::with_capacity(b64.len() + b64.len() / 64 + 64);
        pem.push_str("-----BEGIN PUBLIC KEY-----\n");
        for (i, c) in b64.chars().enumerate() {
            if i > 0 && i % 64 == 0 {
                pem.push('\n');
            }
            pem.push(c);
        }
        pem.push_str("\n-----END PUBLIC KEY-----\n");
        pem
    }

    /// The key as DER SubjectPublicKeyInfo (uncompressed point, named curve).
    pub fn to_spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The key ID: lowercase hex SHA-256 of [`to_spki_der`](Self::to_spki_der).
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// Checks a DER ECDSA signature with SHA-256 over `message`, as
    /// `openssl dgst -sha256 -verify` does.
    pub fn verify_der(&self, message: &[u8], signature_der: &[u8]) -> Result<(), SignatureError> {
        let signature = Signature::from_der(signature_der).map_err(SignatureError::Malformed)?;
        self.verifying
            .verify(message, &signature)
            .map_err(|_| SignatureError::Mismatch)
    }
}

//! The factory's ECDSA P-256 signing key: loading, generating, saving.
//!
//! Operators bring keys made by openssl, in whichever of its three spellings
//! they ran (`ecparam -genkey` with or without `-noout`, or `genpkey`), so
//! all three load. Every other key type or curve is refused with an error
//! naming what was found: P-256 is what upstream signs with, what cosign
//! verifies by default and what `factory_core::record` accepts, so a key of
//! another kind could only produce signatures nobody checks.

use std::fmt;

use factory_core::record::{KeyId, PublicKey};
use p256::ecdsa::DerSignature;
use p256::ecdsa::signature::Signer as _;
use p256::elliptic_curve::rand_core::{OsRng, RngCore as _};
use p256::elliptic_curve::zeroize::Zeroizing;
use p256::pkcs8::der::Decode as _;
use p256::pkcs8::{
    AssociatedOid as _, EncodePrivateKey as _, EncodePublicKey as _, LineEnding, ObjectIdentifier,
    PrivateKeyInfo,
};

use super::error::{KeyError, SigningError};
use super::pem_blocks::{self, Block};

/// The longest key file accepted (a P-256 key with its parameters is under
/// 400 bytes; bundles with certificates stay far below this). Longer input
/// is refused unread.
pub const MAX_KEY_PEM_LEN: usize = 64 * 1024;

/// How often [`SigningKey::generate`] draws 32 random bytes before giving up;
/// a draw is out of range with probability about 2^-32.
const MAX_DRAWS: u32 = 8;

/// An ECDSA P-256 private key, with its public half.
#[derive(Clone)]
pub struct SigningKey {
    inner: p256::ecdsa::SigningKey,
    public: PublicKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret.
        f.debug_struct("SigningKey")
            .field("key_id", self.public.key_id())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a P-256 private key from PEM: SEC1 (`EC PRIVATE KEY`, as
    /// `openssl ecparam -name prime256v1 -genkey [-noout]` writes it, with or
    /// without a leading `EC PARAMETERS` block) or PKCS#8 (`PRIVATE KEY`, as
    /// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`
    /// writes it). Other blocks (certificates, public keys) are ignored.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        if pem.len() > MAX_KEY_PEM_LEN {
            return Err(KeyError::TooLarge {
                len: pem.len(),
                max: MAX_KEY_PEM_LEN,
            });
        }
        let blocks = pem_blocks::blocks(pem)?;
        let mut keys: Vec<&Block> = Vec::new();
        for block in &blocks {
            match block.label.as_str() {
                "EC PARAMETERS" => check_ec_parameters(&block.der)?,
                "EC PRIVATE KEY" | "PRIVATE KEY" => keys.push(block),
                "ENCRYPTED PRIVATE KEY" => return Err(KeyError::Encrypted),
                label if label.ends_with("PRIVATE KEY") => {
                    return Err(KeyError::UnsupportedKeyType {
                        found: format!("{label:?} (PEM block)"),
                    });
                }
                _ => {}
            }
        }
        let key = match keys.as_slice() {
            [key] => *key,
            [] => {
                return Err(KeyError::NoPrivateKey {
                    labels: blocks.iter().map(|b| b.label.clone()).collect(),
                });
            }
            more => return Err(KeyError::MultiplePrivateKeys { count: more.len() }),
        };
        let secret = if key.label == "PRIVATE KEY" {
            pkcs8_key(&key.der)?
        } else {
            sec1_key(&key.der)?
        };
        Self::from_secret(p256::ecdsa::SigningKey::from(secret))
    }

    /// A new random key from the operating system's random number generator
    /// (for a standalone factory's first start).
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        for _ in 0..MAX_DRAWS {
            OsRng
                .try_fill_bytes(bytes.as_mut())
                .map_err(KeyError::Random)?;
            if let Ok(inner) = p256::ecdsa::SigningKey::from_slice(bytes.as_ref()) {
                return Self::from_secret(inner);
            }
        }
        Err(KeyError::NoValidScalar(MAX_DRAWS))
    }

    fn from_secret(inner: p256::ecdsa::SigningKey) -> Result<Self, KeyError> {
        let spki = inner
            .verifying_key()
            .to_public_key_der()
            .map_err(|e| KeyError::Encode(e.into()))?;
        let public = PublicKey::from_spki_der(spki.as_bytes()).map_err(KeyError::PublicKey)?;
        Ok(SigningKey { inner, public })
    }

    /// The key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, LF line ends),
    /// which [`from_pem`](Self::from_pem) and openssl read back. The text is
    /// wiped from memory when dropped.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        self.inner
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(KeyError::Encode)
    }

    /// The public half, for verifiers and for `/oci/cosign/signing-key.pub`.
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// The public key's ID (lowercase hex SHA-256 of its DER SPKI).
    pub fn key_id(&self) -> &KeyId {
        self.public.key_id()
    }

    /// A DER ECDSA signature with SHA-256 over `message`, as
    /// `openssl dgst -sha256 -sign` makes and `-verify` checks. Deterministic
    /// (RFC 6979): the same key and message give the same bytes.
    pub fn sign_der(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let signature: DerSignature = self.inner.try_sign(message).map_err(SigningError::Ecdsa)?;
        Ok(signature.as_bytes().to_vec())
    }
}

/// An `EC PARAMETERS` block must name P-256.
fn check_ec_parameters(der: &[u8]) -> Result<(), KeyError> {
    // ECParameters is a CHOICE: a named curve (OID) or explicit parameters
    // (a SEQUENCE), which only exotic tools write.
    if der.first() == Some(&0x30) {
        return Err(KeyError::UnsupportedCurve {
            found: "explicit curve parameters".to_owned(),
        });
    }
    let params = sec1::EcParameters::from_der(der).map_err(|error| KeyError::Der {
        label: "EC PARAMETERS".to_owned(),
        error,
    })?;
    match params.named_curve() {
        Some(curve) => check_curve(curve),
        None => Err(KeyError::UnsupportedCurve {
            found: "(no named curve)".to_owned(),
        }),
    }
}

fn check_curve(curve: ObjectIdentifier) -> Result<(), KeyError> {
    if curve == p256::NistP256::OID {
        Ok(())
    } else {
        Err(KeyError::UnsupportedCurve {
            found: oid_name(curve),
        })
    }
}

/// A SEC1 `ECPrivateKey`: its curve, when named, must be P-256.
fn sec1_key(der: &[u8]) -> Result<p256::SecretKey, KeyError> {
    let parsed = sec1::EcPrivateKey::from_der(der).map_err(|error| KeyError::Der {
        label: "EC PRIVATE KEY".to_owned(),
        error,
    })?;
    if let Some(curve) = parsed.parameters.and_then(|p| p.named_curve()) {
        check_curve(curve)?;
    }
    p256::SecretKey::from_sec1_der(der).map_err(KeyError::InvalidKey)
}

/// A PKCS#8 `PrivateKeyInfo`: must be an EC key on P-256; the key inside is SEC1.
fn pkcs8_key(der: &[u8]) -> Result<p256::SecretKey, KeyError> {
    let info = PrivateKeyInfo::from_der(der).map_err(|error| KeyError::Der {
        label: "PRIVATE KEY".to_owned(),
        error,
    })?;
    if info.algorithm.oid != p256::elliptic_curve::ALGORITHM_OID {
        return Err(KeyError::UnsupportedKeyType {
            found: oid_name(info.algorithm.oid),
        });
    }
    let curve = info
        .algorithm
        .parameters_oid()
        .map_err(|_| KeyError::UnsupportedCurve {
            found: "(no named curve)".to_owned(),
        })?;
    check_curve(curve)?;
    sec1_key(info.private_key)
}

/// A readable name for the algorithms and curves people try instead of P-256.
fn oid_name(oid: ObjectIdentifier) -> String {
    let name = match oid.to_string().as_str() {
        "1.2.840.113549.1.1.1" => "RSA",
        "1.2.840.10040.4.1" => "DSA",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.3.101.110" => "X25519",
        "1.3.132.0.34" => "P-384 (secp384r1)",
        "1.3.132.0.35" => "P-521 (secp521r1)",
        "1.3.132.0.10" => "secp256k1",
        "1.2.840.10045.3.1.1" => "P-192 (prime192v1)",
        "1.3.132.0.33" => "P-224 (secp224r1)",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        _ => return oid.to_string(),
    };
    format!("{name} ({oid})")
}

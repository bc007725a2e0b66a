//! Why a record, a statement, a signature or a public key is refused.
//!
//! One enum per thing that can be wrong, so a caller can tell "this record is
//! not ours" ([`RecordError::WrongKey`]) from "this record was tampered with"
//! ([`SignatureError::Mismatch`]) from "this is not a record at all". Every
//! variant reads as the step that failed and carries what was found.
//!
//! The RustCrypto errors are carried and displayed but not exposed as
//! `source()`: without their `std` features (which would pull an OS random
//! number source into the wasm32 build) they do not implement `Error`.

use super::public_key::{InvalidKeyId, KeyId};

/// A statement's fields are invalid, or its bytes are not canonical.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// The statement bytes are not a JSON object with exactly the statement's members.
    #[error("parsing statement JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The `type` member names another format.
    #[error("statement type {found:?} is not {expected:?}")]
    WrongType {
        /// The type found (at most the statement's length).
        found: String,
        /// The type this code reads.
        expected: &'static str,
    },
    /// The `key` member is not an asset key.
    #[error("statement key: {0}")]
    Key(#[from] crate::asset_key::InvalidAssetKey),
    /// A digest member is not lowercase hex of the right length.
    #[error("statement {field}: expected {expected} lowercase hex digits")]
    NotHex {
        /// The member (`sha256`, `sha512`).
        field: &'static str,
        /// How many hex digits it needs.
        expected: usize,
    },
    /// A number is above 2^53 − 1.
    #[error("statement {field}: {value} is above 2^53-1")]
    NumberTooLarge {
        /// The member (`size`, `builtAt`).
        field: &'static str,
        /// The value given.
        value: u64,
    },
    /// A text member is empty.
    #[error("statement {field}: empty")]
    EmptyText {
        /// The member (`mediaType`, `fileName`).
        field: &'static str,
    },
    /// A text member is longer than [`MAX_TEXT_LEN`](super::MAX_TEXT_LEN).
    #[error("statement {field}: {len} bytes, more than {max}")]
    TextTooLong {
        /// The member.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A text member holds a character the format excludes.
    #[error("statement {field}: character {character:?} is not allowed")]
    ForbiddenCharacter {
        /// The member.
        field: &'static str,
        /// The first offending character.
        character: char,
    },
    /// The bytes parse, but are not the canonical encoding of what they hold
    /// (spacing, member order, number spelling or escapes differ).
    #[error("statement bytes are not in canonical form")]
    NotCanonical,
}

/// A signature is malformed or does not match.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The bytes are not a DER `ECDSA-Sig-Value` of P-256 scalars.
    #[error("decoding DER ECDSA signature: {0}")]
    Malformed(p256::ecdsa::Error),
    /// The signature is well formed but was not made by this key over these bytes.
    #[error("signature does not match the signed bytes and public key")]
    Mismatch,
}

/// A public key cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublicKeyError {
    /// The PEM text is longer than [`MAX_PUBLIC_KEY_PEM_LEN`](super::MAX_PUBLIC_KEY_PEM_LEN).
    #[error("public key PEM is {len} bytes, more than {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The text is not one PEM block.
    #[error("reading public key PEM: {0}")]
    Pem(p256::pkcs8::der::pem::Error),
    /// The PEM block is not a `PUBLIC KEY` (SubjectPublicKeyInfo).
    #[error("PEM block is {0:?}, expected \"PUBLIC KEY\" (SubjectPublicKeyInfo)")]
    WrongLabel(String),
    /// The DER is not a SubjectPublicKeyInfo.
    #[error("decoding SubjectPublicKeyInfo: {0}")]
    Der(p256::pkcs8::der::Error),
    /// The key is not an elliptic-curve key (RSA, Ed25519, ...).
    #[error("public key algorithm {0} is not id-ecPublicKey (1.2.840.10045.2.1)")]
    NotEcKey(p256::pkcs8::ObjectIdentifier),
    /// The key is on another curve than P-256, or names none.
    #[error("public key curve {0} is not P-256 (prime256v1, 1.2.840.10045.3.1.7)")]
    UnsupportedCurve(String),
    /// The point is not a valid P-256 public key.
    #[error("decoding P-256 public key: {0}")]
    InvalidPoint(p256::pkcs8::spki::Error),
}

/// A signed record is malformed, not signed by the expected key, or forged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The envelope is longer than [`MAX_RECORD_LEN`](super::MAX_RECORD_LEN).
    #[error("record is {len} bytes, more than {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The envelope is not a JSON object with exactly `statement`, `signature`, `keyId`.
    #[error("parsing record envelope: {0}")]
    Envelope(#[source] serde_json::Error),
    /// A base64 member does not decode.
    #[error("decoding record {field} base64: {source}")]
    Base64 {
        /// The member (`statement`, `signature`).
        field: &'static str,
        /// Why.
        #[source]
        source: base64::DecodeError,
    },
    /// `keyId` is not 64 lowercase hex digits.
    #[error("record keyId: {0}")]
    KeyId(#[from] InvalidKeyId),
    /// The record names another key than the one verifying it.
    #[error("record was signed by key {record}, not by key {expected}")]
    WrongKey {
        /// The key ID in the record.
        record: KeyId,
        /// The key ID of the verifying key.
        expected: KeyId,
    },
    /// The signature is malformed or does not match.
    #[error("verifying record signature: {0}")]
    Signature(#[from] SignatureError),
    /// The signed statement is invalid.
    #[error("reading signed statement: {0}")]
    Statement(#[from] StatementError),
}

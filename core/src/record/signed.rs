//! A statement with its signature and signer's key ID: the record envelope.
//!
//! The envelope carries bytes, not a parsed statement: what was signed is
//! kept exactly as signed, and nothing inside it is looked at until the
//! signature over it has been checked ([`SignedRecord::verify`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::error::RecordError;
use super::public_key::{KeyId, PublicKey};
use super::statement::AssetStatement;

/// The longest envelope accepted, in bytes. A record with the largest
/// statement is under 1.5 KiB; longer input is refused unparsed.
pub const MAX_RECORD_LEN: usize = 4096;

/// A signed statement, as a builder returns it and storage keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRecord {
    /// The canonical statement bytes that were signed.
    pub statement_bytes: Vec<u8>,
    /// The DER ECDSA P-256 signature with SHA-256 over `statement_bytes`.
    pub signature: Vec<u8>,
    /// The ID of the key that signed.
    pub key_id: KeyId,
}

/// The envelope as JSON gives it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    statement: String,
    signature: String,
    #[serde(rename = "keyId")]
    key_id: String,
}

impl SignedRecord {
    /// The envelope JSON: `{"statement":"<base64>","signature":"<base64>","keyId":"<hex>"}`.
    pub fn to_json(&self) -> String {
        // Base64 and hex need no JSON escaping.
        format!(
            r#"{{"statement":"{}","signature":"{}","keyId":"{}"}}"#,
            STANDARD.encode(&self.statement_bytes),
            STANDARD.encode(&self.signature),
            self.key_id
        )
    }

    /// Reads an envelope. This checks its shape only: call
    /// [`verify`](Self::verify) before trusting anything in it.
    pub fn from_json(json: &[u8]) -> Result<Self, RecordError> {
        if json.len() > MAX_RECORD_LEN {
            return Err(RecordError::TooLarge {
                len: json.len(),
                max: MAX_RECORD_LEN,
            });
        }
        let envelope: Envelope = serde_json::from_slice(json).map_err(RecordError::Envelope)?;
        let decode = |field: &'static str, text: &str| {
            STANDARD
                .decode(text)
                .map_err(|source| RecordError::Base64 { field, source })
        };
        Ok(SignedRecord {
            statement_bytes: decode("statement", &envelope.statement)?,
            signature: decode("signature", &envelope.signature)?,
            key_id: envelope.key_id.parse()?,
        })
    }

    /// Checks that `key` signed this record and returns the statement.
    ///
    /// Refused: a record naming another key, a malformed or non-matching
    /// signature, and a statement that is invalid or not canonical.
    pub fn verify(&self, key: &PublicKey) -> Result<AssetStatement, RecordError> {
        if &self.key_id != key.key_id() {
            return Err(RecordError::WrongKey {
                record: self.key_id.clone(),
                expected: key.key_id().clone(),
            });
        }
        key.verify_der(&self.statement_bytes, &self.signature)?;
        Ok(AssetStatement::from_canonical_bytes(&self.statement_bytes)?)
    }
}

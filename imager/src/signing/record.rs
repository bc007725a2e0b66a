//! Signing asset statements into records the edge can verify.
//!
//! The format and its verification are `factory_core::record`'s; this is
//! only the half that needs the private key.

use factory_core::record::{AssetStatement, SignedRecord};

use super::error::SigningError;
use super::key::SigningKey;

/// Signs `statement`'s canonical bytes. A statement that breaks the format's
/// rules (wrong digest length, a forbidden character in a name) is refused
/// here, so nothing is signed that a verifier would reject.
pub fn sign_record(
    key: &SigningKey,
    statement: &AssetStatement,
) -> Result<SignedRecord, SigningError> {
    let statement_bytes = statement.canonical_bytes()?;
    let signature = key.sign_der(&statement_bytes)?;
    Ok(SignedRecord {
        statement_bytes,
        signature,
        key_id: key.key_id().clone(),
    })
}

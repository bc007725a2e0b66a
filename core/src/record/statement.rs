//! The statement a record signs: one asset's key, size, digests and name.
//!
//! The statement is written by hand rather than through a serializer so that
//! its bytes are fixed by the format (see the [module docs](super)) and not by
//! a library version: the text members exclude every character JSON would
//! escape, so writing is plain concatenation, and reading checks that
//! re-writing what was read gives the same bytes.

use serde::Deserialize;

use crate::asset_key::AssetKey;
use crate::frontend::AssetRecord;

use super::error::StatementError;
use super::public_key::is_lower_hex;

/// The `type` member of a version 1 statement.
pub const STATEMENT_TYPE: &str = "image-factory/asset-statement/v1";

/// The longest `mediaType` or `fileName`, in bytes.
pub const MAX_TEXT_LEN: usize = 255;

/// The largest `size` or `builtAt`: 2^53 − 1, exact in every JSON reader.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Longer than any canonical statement can be (about 930 bytes with both
/// text members at [`MAX_TEXT_LEN`]); longer input is refused unparsed.
const MAX_STATEMENT_LEN: usize = 1024;

/// What a builder states about one asset it built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetStatement {
    /// The content address of the build.
    pub key: AssetKey,
    /// The asset's length in bytes.
    pub size: u64,
    /// SHA-256 of the asset's bytes, 64 lowercase hex digits.
    pub sha256: String,
    /// SHA-512 of the asset's bytes, 128 lowercase hex digits.
    pub sha512: String,
    /// The Content-Type the asset is served with.
    pub media_type: String,
    /// The asset's file name, without directory.
    pub file_name: String,
    /// When the build finished, in seconds since the Unix epoch.
    pub built_at: u64,
}

/// The statement as JSON gives it, before validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatement {
    #[serde(rename = "type")]
    kind: String,
    key: String,
    size: u64,
    sha256: String,
    sha512: String,
    #[serde(rename = "mediaType")]
    media_type: String,
    #[serde(rename = "fileName")]
    file_name: String,
    #[serde(rename = "builtAt")]
    built_at: u64,
}

impl AssetStatement {
    /// Checks every member against the format's rules.
    pub fn validate(&self) -> Result<(), StatementError> {
        check_number("size", self.size)?;
        check_number("builtAt", self.built_at)?;
        check_hex("sha256", &self.sha256, 64)?;
        check_hex("sha512", &self.sha512, 128)?;
        check_text("mediaType", &self.media_type, &[])?;
        check_text("fileName", &self.file_name, &['/'])?;
        Ok(())
    }

    /// The canonical bytes that are signed; fails if a member breaks the
    /// format's rules (so nothing unverifiable is ever signed).
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, StatementError> {
        self.validate()?;
        Ok(format!(
            concat!(
                r#"{{"type":"{}","key":"{}","size":{},"sha256":"{}","sha512":"{}","#,
                r#""mediaType":"{}","fileName":"{}","builtAt":{}}}"#
            ),
            STATEMENT_TYPE,
            self.key,
            self.size,
            self.sha256,
            self.sha512,
            self.media_type,
            self.file_name,
            self.built_at
        )
        .into_bytes())
    }

    /// Reads a statement, accepting only its canonical bytes.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, StatementError> {
        if bytes.len() > MAX_STATEMENT_LEN {
            return Err(StatementError::NotCanonical);
        }
        let raw: RawStatement = serde_json::from_slice(bytes).map_err(StatementError::Json)?;
        if raw.kind != STATEMENT_TYPE {
            return Err(StatementError::WrongType {
                found: raw.kind,
                expected: STATEMENT_TYPE,
            });
        }
        let statement = AssetStatement {
            key: raw.key.parse()?,
            size: raw.size,
            sha256: raw.sha256,
            sha512: raw.sha512,
            media_type: raw.media_type,
            file_name: raw.file_name,
            built_at: raw.built_at,
        };
        if statement.canonical_bytes()? != bytes {
            return Err(StatementError::NotCanonical);
        }
        Ok(statement)
    }

    /// The part of the statement the frontend answers HEAD, checksums and
    /// conditional requests from.
    pub fn asset_record(&self) -> AssetRecord {
        AssetRecord {
            key: self.key.clone(),
            size: self.size,
            sha256: self.sha256.clone(),
            sha512: self.sha512.clone(),
        }
    }
}

impl From<AssetStatement> for AssetRecord {
    fn from(statement: AssetStatement) -> Self {
        AssetRecord {
            key: statement.key,
            size: statement.size,
            sha256: statement.sha256,
            sha512: statement.sha512,
        }
    }
}

fn check_number(field: &'static str, value: u64) -> Result<(), StatementError> {
    if value > MAX_SAFE_INTEGER {
        return Err(StatementError::NumberTooLarge { field, value });
    }
    Ok(())
}

fn check_hex(field: &'static str, value: &str, expected: usize) -> Result<(), StatementError> {
    if !is_lower_hex(value, expected) {
        return Err(StatementError::NotHex { field, expected });
    }
    Ok(())
}

fn check_text(
    field: &'static str,
    value: &str,
    also_forbidden: &[char],
) -> Result<(), StatementError> {
    if value.is_empty() {
        return Err(StatementError::EmptyText { field });
    }
    if value.len() > MAX_TEXT_LEN {
        return Err(StatementError::TextTooLong {
            field,
            len: value.len(),
            max: MAX_TEXT_LEN,
        });
    }
    let forbidden =
        |c: char| !(' '..='~').contains(&c) || c == '"' || c == '\\' || also_forbidden.contains(&c);
    match value.chars().find(|&c| forbidden(c)) {
        Some(character) => Err(StatementError::ForbiddenCharacter { field, character }),
        None => Ok(()),
    }
}

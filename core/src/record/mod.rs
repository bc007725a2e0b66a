//! Signed asset records: what a builder vouches for about each artifact it built.
//!
//! Only builders (the Lambda, the standalone binary) hold the signing key; the
//! Cloudflare Worker stores and serves what they return. So every built asset
//! travels with a record the Worker verifies with the public key alone before
//! it stores or serves anything: the record *format* and its *verification*
//! live here, in the crate every deployment links (wasm32 included), and
//! signing lives in `factory-imager`. The format is small and fully specified
//! below, so a third party (a mirror, an auditor, a shell script with openssl)
//! can verify records without this code.
//!
//! # Format, version 1
//!
//! ## Statement
//!
//! The signed bytes are the *statement*: one compact JSON object, UTF-8 (in
//! fact pure ASCII), no whitespace anywhere, no trailing newline, with exactly
//! these members in exactly this order:
//!
//! ```text
//! {"type":"image-factory/asset-statement/v1","key":"<K>","size":<N>,"sha256":"<H256>",
//!  "sha512":"<H512>","mediaType":"<T>","fileName":"<F>","builtAt":<S>}
//! ```
//!
//! (shown on two lines here; it is one line). The first member names the
//! format, so a signature made by the same key over anything else (a cosign
//! payload, for instance) can never be taken for a record.
//!
//! | member      | value                                                                   |
//! |-------------|-------------------------------------------------------------------------|
//! | `type`      | the literal `image-factory/asset-statement/v1`                          |
//! | `key`       | the asset's content address ([`AssetKey`]): 64 lowercase hex digits     |
//! | `size`      | the asset's length in bytes                                             |
//! | `sha256`    | SHA-256 of the asset's bytes, 64 lowercase hex digits                   |
//! | `sha512`    | SHA-512 of the asset's bytes, 128 lowercase hex digits                  |
//! | `mediaType` | the Content-Type the asset is served with                               |
//! | `fileName`  | the asset's file name (`metal-amd64.iso`), no directory                 |
//! | `builtAt`   | when the build finished, in seconds since the Unix epoch (UTC)          |
//!
//! Numbers are decimal integers without sign, leading zeros, fraction or
//! exponent, at most 2^53 − 1 ([`MAX_SAFE_INTEGER`], the largest integer a
//! JavaScript reader holds exactly). Text members hold 1 to [`MAX_TEXT_LEN`]
//! characters from printable ASCII (0x20–0x7E) other than `"` and `\`
//! (`fileName` also excludes `/`), so no JSON escape ever occurs and the
//! encoding of a statement is unique. A verifier re-encodes the statement it
//! parsed and rejects the record unless the bytes are identical.
//!
//! ## Envelope
//!
//! A record is stored and exchanged as a second compact JSON object:
//!
//! ```text
//! {"statement":"<base64>","signature":"<base64>","keyId":"<hex>"}
//! ```
//!
//! - `statement`: the statement bytes, standard base64 (RFC 4648 §4) with
//!   padding;
//! - `signature`: an ECDSA P-256 signature with SHA-256 over the statement
//!   bytes, as a DER `ECDSA-Sig-Value` (what `openssl dgst -sha256 -sign`
//!   writes), standard base64 with padding;
//! - `keyId`: lowercase hex SHA-256 of the signer's public key as a DER
//!   `SubjectPublicKeyInfo` (what `openssl pkey -pubin -outform DER` writes,
//!   uncompressed point, named curve `prime256v1`).
//!
//! The envelope is not signed: its member order and spacing do not matter to
//! a reader, unknown members are refused, and it may be at most
//! [`MAX_RECORD_LEN`] bytes.
//!
//! ## Verifying
//!
//! With the trusted public key `P`: (1) reject unless `keyId` equals the key
//! ID of `P`; (2) base64-decode `statement` and `signature`; (3) verify the
//! ECDSA P-256/SHA-256 signature over the decoded statement with `P`; (4)
//! parse the statement and reject it unless it is in the canonical form
//! above. Only then are its values trusted. With openssl:
//!
//! ```text
//! jq -r .statement rec.json | base64 -d > statement.json
//! jq -r .signature rec.json | base64 -d > sig.der
//! openssl dgst -sha256 -verify signing-key.pub -signature sig.der statement.json
//! ```

mod error;
mod public_key;
mod signed;
mod statement;

pub use error::{PublicKeyError, RecordError, SignatureError, StatementError};
pub use public_key::{InvalidKeyId, KeyId, MAX_PUBLIC_KEY_PEM_LEN, PublicKey};
pub use signed::{MAX_RECORD_LEN, SignedRecord};
pub use statement::{AssetStatement, MAX_SAFE_INTEGER, MAX_TEXT_LEN, STATEMENT_TYPE};

#[cfg(doc)]
use crate::asset_key::AssetKey;

#[cfg(test)]
mod tests;

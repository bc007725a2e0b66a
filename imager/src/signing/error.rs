//! Why a key cannot be loaded, or something cannot be signed.
//!
//! Key errors name what was found (the PEM label, the algorithm or curve and
//! its OID) and what is wanted, because the person reading them is an
//! operator who handed the factory the wrong file.

use factory_core::record::StatementError;

/// A signing key cannot be read, made or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The PEM text is longer than [`MAX_KEY_PEM_LEN`](super::MAX_KEY_PEM_LEN).
    #[error("signing key PEM is {len} bytes, more than {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The text has more PEM blocks than any key file has.
    #[error("signing key PEM has more than {max} blocks")]
    TooManyBlocks {
        /// The limit.
        max: usize,
    },
    /// A `-----BEGIN` line has no matching `-----END` line.
    #[error("PEM block {label:?} has no matching END line")]
    Unterminated {
        /// The block's label.
        label: String,
    },
    /// A PEM block's base64 or framing is broken.
    #[error("decoding PEM block {label:?}: {error}")]
    Pem {
        /// The block's label.
        label: String,
        /// The decoder's complaint.
        error: p256::pkcs8::der::pem::Error,
    },
    /// A block's DER does not have the structure its label promises.
    #[error("decoding {label:?} DER: {error}")]
    Der {
        /// The block's label.
        label: String,
        /// The decoder's complaint.
        error: p256::pkcs8::der::Error,
    },
    /// The key is encrypted with a passphrase.
    #[error("signing key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)")]
    Encrypted,
    /// The key is of another type than ECDSA.
    #[error("signing key type {found} is not supported: use an ECDSA P-256 key")]
    UnsupportedKeyType {
        /// What was found: a PEM label, or an algorithm name and OID.
        found: String,
    },
    /// The key is on another curve than P-256.
    #[error("signing key curve {found} is not supported: use P-256 (prime256v1)")]
    UnsupportedCurve {
        /// The curve's name and OID.
        found: String,
    },
    /// The text holds no private key block.
    #[error(
        "no private key in PEM (blocks found: {labels:?}); expected EC PRIVATE KEY or PRIVATE KEY"
    )]
    NoPrivateKey {
        /// The labels of the blocks found.
        labels: Vec<String>,
    },
    /// The text holds more than one private key block.
    #[error("PEM holds {count} private keys; expected exactly one")]
    MultiplePrivateKeys {
        /// How many.
        count: usize,
    },
    /// The scalar is out of range, or the embedded public key does not match.
    #[error("invalid P-256 private key: {0}")]
    InvalidKey(p256::elliptic_curve::Error),
    /// The OS random number generator failed.
    #[error("reading the OS random number generator: {0}")]
    Random(#[source] p256::elliptic_curve::rand_core::Error),
    /// The OS random number generator gave no valid scalar in many tries.
    #[error("no valid P-256 scalar after {0} random draws")]
    NoValidScalar(u32),
    /// The key cannot be encoded as PKCS#8 (or its public half as SPKI).
    #[error("encoding the signing key: {0}")]
    Encode(p256::pkcs8::Error),
    /// The public half cannot be read back by the verifier.
    #[error("deriving the public key: {0}")]
    PublicKey(#[source] factory_core::record::PublicKeyError),
}

/// Something cannot be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// The statement breaks the record format, so no verifier would accept it.
    #[error("encoding asset statement: {0}")]
    Statement(#[from] StatementError),
    /// The ECDSA primitive failed.
    #[error("ECDSA signing: {0}")]
    Ecdsa(p256::ecdsa::Error),
}

/// A cosign signature cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CosignError {
    /// The repository name is not one cosign would sign for.
    #[error("docker reference {reference:?}: {reason}")]
    InvalidReference {
        /// The name given (cut to a bounded length).
        reference: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The creation time is not an RFC 3339 timestamp Go can encode.
    #[error(
        "created time {0:?} is not an RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM)) in years 0000-9999"
    )]
    InvalidCreated(String),
    /// The Unix time is after year 9999.
    #[error("created time {0} (Unix seconds) is after year 9999")]
    CreatedOutOfRange(u64),
    /// The signature is not DER, so it cannot be what cosign stores.
    #[error("cosign signature is not a DER ECDSA signature: {0}")]
    MalformedSignature(p256::ecdsa::Error),
    /// Signing the payload failed.
    #[error("signing cosign payload: {0}")]
    Signing(#[from] SigningError),
    /// Writing the config or manifest JSON failed.
    #[error("encoding cosign {what} JSON: {source}")]
    Json {
        /// `config` or `manifest`.
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

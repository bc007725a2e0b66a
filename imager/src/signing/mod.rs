//! Signing what the factory builds: asset records and cosign image signatures.
//!
//! One ECDSA P-256 key (upstream's "cache signing key") signs two things:
//!
//! - a [`SignedRecord`](factory_core::record::SignedRecord) for every built
//!   asset ([`sign_record`]), whose format and verification live in
//!   `factory_core::record` so the edge can verify with the public key alone;
//! - cosign's legacy simple-signing signature of every installer index
//!   ([`CosignSignature`]), laid out byte for byte as cosign pushes it, so
//!   `cosign verify --key` and Talos accept our installers.
//!
//! Only builders hold the private key, so this lives here and not in `core`.
//! Nothing here does I/O: keys come in as PEM text and signatures go out as
//! bytes and digests for a publisher to push. ECDSA signing is deterministic
//! (RFC 6979), so the same key and input always give the same bytes; only
//! [`SigningKey::generate`] reads the OS random number generator.

mod cosign;
mod error;
mod go_time;
mod key;
mod pem_blocks;
mod record;

pub use cosign::{Blob, CosignSignature, MAX_DOCKER_REFERENCE_LEN};
pub use error::{CosignError, KeyError, SigningError};
pub use go_time::{ZERO_TIME, go_rfc3339, go_rfc3339_from_unix};
pub use key::{MAX_KEY_PEM_LEN, SigningKey};
pub use record::sign_record;

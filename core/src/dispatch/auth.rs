//! HMAC authentication of dispatch requests, checked by the builder itself.
//!
//! The Function URL's IAM auth is the first lock; this is the second, and the
//! only one in local mode. The edge signs
//!
//! ```text
//! image-factory-dispatch-v1 \n <unix seconds> \n <nonce> \n <METHOD> \n <path> \n <hex sha256(body)>
//! ```
//!
//! with HMAC-SHA256 under a shared secret of at least [`MIN_SECRET_LEN`]
//! bytes, and sends the timestamp, nonce and hex MAC in three headers. The
//! builder recomputes the MAC (constant-time comparison), refuses timestamps
//! more than [`MAX_SKEW_SECONDS`] away from its clock, and remembers every
//! nonce it accepted until that timestamp can no longer pass, so a captured
//! request cannot be replayed. Time is passed in (wasm32 has no
//! `SystemTime`), and so is the nonce (the edge draws it from its RNG).

use std::collections::{HashSet, VecDeque};

use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};

/// Header with the request's Unix time in seconds.
pub const TIMESTAMP_HEADER: &str = "x-factory-timestamp";
/// Header with the request's nonce.
pub const NONCE_HEADER: &str = "x-factory-nonce";
/// Header with the hex HMAC-SHA256.
pub const SIGNATURE_HEADER: &str = "x-factory-signature";
/// How far a request's timestamp may be from the builder's clock.
pub const MAX_SKEW_SECONDS: u64 = 300;
/// The shortest accepted shared secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;
/// Nonces are 32 to 64 lowercase hex digits (128 to 256 random bits).
const NONCE_LEN: std::ops::RangeInclusive<usize> = 32..=64;
/// The most nonces remembered at once; beyond it requests are refused
/// (about 330 dispatches a second sustained over the replay window, far past
/// any real build rate) rather than forgetting a nonce that could be replayed.
pub const MAX_REMEMBERED_NONCES: usize = 200_000;

const CONTEXT: &str = "image-factory-dispatch-v1";

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The configured secret is too short.
    #[error("the dispatch secret must be at least {MIN_SECRET_LEN} bytes")]
    WeakSecret,
    /// A header is missing or malformed.
    #[error("missing or malformed {0} header")]
    BadHeader(&'static str),
    /// The timestamp is outside the accepted window.
    #[error("request timestamp {timestamp} is more than {MAX_SKEW_SECONDS} s from now ({now})")]
    Stale {
        /// The request's time.
        timestamp: u64,
        /// The builder's time.
        now: u64,
    },
    /// The MAC does not match.
    #[error("bad request signature")]
    BadSignature,
    /// The nonce was already used.
    #[error("replayed request (nonce already used)")]
    Replayed,
    /// Too many nonces are remembered.
    #[error("too many recent requests to remember; retry later")]
    Overloaded,
}

/// The three header values of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeaders {
    /// [`TIMESTAMP_HEADER`].
    pub timestamp: String,
    /// [`NONCE_HEADER`].
    pub nonce: String,
    /// [`SIGNATURE_HEADER`].
    pub signature: String,
}

/// A shared dispatch secret.
#[derive(Clone)]
pub struct DispatchSecret {
    keyed: HmacSha256,
}

impl std::fmt::Debug for DispatchSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DispatchSecret(..)")
    }
}

impl DispatchSecret {
    /// The secret, if it is long enough.
    pub fn new(secret: &[u8]) -> Result<DispatchSecret, AuthError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(AuthError::WeakSecret);
        }
        let keyed =
            <HmacSha256 as Mac>::new_from_slice(secret).map_err(|_| AuthError::WeakSecret)?;
        Ok(DispatchSecret { keyed })
    }

    fn mac(
        &self,
        timestamp: u64,
        nonce: &str,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        let body_hash = hex::encode(Sha256::digest(body));
        mac.update(
            format!("{CONTEXT}\n{timestamp}\n{nonce}\n{method}\n{path}\n{body_hash}").as_bytes(),
        );
        mac
    }

    /// Signs a request made at `now` (Unix seconds) with `nonce` (32–64
    /// lowercase hex digits from a cryptographic RNG).
    pub fn sign(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        now: u64,
        nonce: &str,
    ) -> Result<AuthHeaders, AuthError> {
        check_nonce(nonce)?;
        let tag = self
            .mac(now, nonce, method, path, body)
            .finalize()
            .into_bytes();
        Ok(AuthHeaders {
            timestamp: now.to_string(),
            nonce: nonce.to_owned(),
            signature: hex::encode(tag),
        })
    }

    /// Checks a request received at `now`; on success its nonce is
    /// remembered in `replay`.
    pub fn verify(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        headers: &AuthHeaders,
        now: u64,
        replay: &mut ReplayGuard,
    ) -> Result<(), AuthError> {
        let timestamp: u64 =
            digits(&headers.timestamp).ok_or(AuthError::BadHeader(TIMESTAMP_HEADER))?;
        check_nonce(&headers.nonce)?;
        let tag = hex::decode(&headers.signature)
            .ok()
            .filter(|t| t.len() == 32)
            .ok_or(AuthError::BadHeader(SIGNATURE_HEADER))?;
        self.mac(timestamp, &headers.nonce, method, path, body)
            .verify_slice(&tag)
            .map_err(|_| AuthError::BadSignature)?;
        if timestamp.abs_diff(now) > MAX_SKEW_SECONDS {
            return Err(AuthError::Stale { timestamp, now });
        }
        replay.remember(&headers.nonce, now)
    }
}

type HmacSha256 = Hmac<Sha256>;

fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn check_nonce(nonce: &str) -> Result<(), AuthError> {
    let ok = NONCE_LEN.contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(AuthError::BadHeader(NONCE_HEADER))
    }
}

/// Nonces accepted within the replay window (one per builder process).
///
/// A nonce is kept until `2 × MAX_SKEW_SECONDS` after it was accepted: by then
/// any request carrying it is refused as stale anyway.
#[derive(Debug, Default)]
pub struct ReplayGuard {
    seen: HashSet<String>,
    order: VecDeque<(u64, String)>,
}

impl ReplayGuard {
    /// An empty guard.
    pub fn new() -> ReplayGuard {
        ReplayGuard::default()
    }

    /// How many nonces are remembered now.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    fn remember(&mut self, nonce: &str, now: u64) -> Result<(), AuthError> {
        while let Some((expiry, _)) = self.order.front() {
            if *expiry > now {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        if self.seen.contains(nonce) {
            return Err(AuthError::Replayed);
        }
        if self.seen.len() >= MAX_REMEMBERED_NONCES {
            return Err(AuthError::Overloaded);
        }
        self.seen.insert(nonce.to_owned());
        self.order
            .push_back((now.saturating_add(2 * MAX_SKEW_SECONDS), nonce.to_owned()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "0123456789abcdef0123456789abcdef";

    fn secret() -> DispatchSecret {
        DispatchSecret::new(&[7u8; 32]).unwrap()
    }

    #[test]
    fn signed_request_verifies_once() {
        let s = secret();
        let h = s.sign("POST", "/build", b"{}", 1000, NONCE).unwrap();
        let mut guard = ReplayGuard::new();
        s.verify("POST", "/build", b"{}", &h, 1010, &mut guard)
            .unwrap();
        assert_eq!(
            s.verify("POST", "/build", b"{}", &h, 1011, &mut guard),
            Err(AuthError::Replayed)
        );
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let s = secret();
        let h = s.sign("POST", "/build", b"{}", 1000, NONCE).unwrap();
        let mut g = ReplayGuard::new();
        assert_eq!(
            s.verify("POST", "/build", b"{ }", &h, 1000, &mut g),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            s.verify("GET", "/build", b"{}", &h, 1000, &mut g),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            s.verify("POST", "/other", b"{}", &h, 1000, &mut g),
            Err(AuthError::BadSignature)
        );
        let other = DispatchSecret::new(&[8u8; 32]).unwrap();
        assert_eq!(
            other.verify("POST", "/build", b"{}", &h, 1000, &mut g),
            Err(AuthError::BadSignature)
        );
        let mut later = h.clone();
        later.timestamp = "1001".into();
        assert_eq!(
            s.verify("POST", "/build", b"{}", &later, 1000, &mut g),
            Err(AuthError::BadSignature)
        );
        assert!(g.is_empty());
    }

    #[test]
    fn stale_and_future_requests_are_refused() {
        let s = secret();
        let h = s.sign("POST", "/build", b"", 1000, NONCE).unwrap();
        let mut g = ReplayGuard::new();
        assert!(matches!(
            s.verify("POST", "/build", b"", &h, 1301, &mut g),
            Err(AuthError::Stale { .. })
        ));
        assert!(matches!(
            s.verify("POST", "/build", b"", &h, 699, &mut g),
            Err(AuthError::Stale { .. })
        ));
        s.verify("POST", "/build", b"", &h, 1300, &mut g).unwrap();
    }

    #[test]
    fn malformed_headers_and_weak_secrets_are_refused() {
        assert_eq!(
            DispatchSecret::new(b"short").unwrap_err(),
            AuthError::WeakSecret
        );
        let s = secret();
        assert_eq!(
            s.sign("POST", "/", b"", 1, "XYZ").unwrap_err(),
            AuthError::BadHeader(NONCE_HEADER)
        );
        let mut h = s.sign("POST", "/", b"", 1, NONCE).unwrap();
        let mut g = ReplayGuard::new();
        h.signature = "zz".into();
        assert_eq!(
            s.verify("POST", "/", b"", &h, 1, &mut g),
            Err(AuthError::BadHeader(SIGNATURE_HEADER))
        );
        h.timestamp = "-1".into();
        assert_eq!(
            s.verify("POST", "/", b"", &h, 1, &mut g),
            Err(AuthError::BadHeader(TIMESTAMP_HEADER))
        );
    }

    #[test]
    fn nonces_are_forgotten_after_the_window() {
        let s = secret();
        let mut g = ReplayGuard::new();
        let h = s.sign("POST", "/", b"", 1000, NONCE).unwrap();
        s.verify("POST", "/", b"", &h, 1000, &mut g).unwrap();
        assert_eq!(g.len(), 1);
        let other = "f".repeat(32);
        let h2 = s
            .sign("POST", "/", b"", 1000 + 2 * MAX_SKEW_SECONDS, &other)
            .unwrap();
        s.verify("POST", "/", b"", &h2, 1000 + 2 * MAX_SKEW_SECONDS, &mut g)
            .unwrap();
        assert_eq!(g.len(), 1);
    }
}

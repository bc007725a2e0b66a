//! Random identifiers made from bytes the Worker draws from its CSPRNG.
//!
//! Kept pure (bytes in, text out) so the formats are tested on the host.

/// A version 4 UUID (`8-4-4-4-12` lowercase hex) from 16 random bytes.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// A dispatch nonce: 32 lowercase hex digits (128 random bits).
pub fn nonce(bytes: [u8; 16]) -> String {
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_has_version_and_variant() {
        let id = uuid_v4([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn nonce_is_what_dispatch_accepts() {
        assert_eq!(nonce([0xab; 16]).len(), 32);
    }
}

//! META values carried on the kernel command line (Talos `meta.Values.Encode`).
//!
//! Boot media other than disk images cannot ship a META partition, so Talos
//! passes the schematic's META values to the installer through
//! `talos.environment=INSTALLER_META_BASE64=<this>`. The payload is
//! `0x<key in lowercase hex>=<value>` entries joined with `;`, base64 with
//! padding. From Talos 1.6.3 a payload longer than 256 bytes is gzipped first
//! (Talos sniffs the gzip magic when decoding, so both forms stay readable).
//!
//! Go's gzip header here is the fixed 10 bytes `1f 8b 08 00 00000000 02 ff`
//! (no name, zero mtime, "best compression" flag, unknown OS), which flate2
//! writes identically; the deflate stream itself may differ from Go's, which
//! only matters to byte-for-byte comparisons, not to decoding.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::schematic::MetaValue;

/// Payloads strictly longer than this many bytes are gzipped (when allowed).
pub const META_GZIP_THRESHOLD: usize = 256;

/// The environment variable name Talos reads the encoded values from.
pub const META_ENV_VAR: &str = "INSTALLER_META_BASE64";

/// The uncompressed payload: `0x<key hex>=<value>` joined with `;`.
pub fn meta_payload(values: &[MetaValue]) -> String {
    values
        .iter()
        .map(|v| format!("0x{:x}={}", v.key, v.value))
        .collect::<Vec<_>>()
        .join(";")
}

/// Encodes `values` as Talos expects in `INSTALLER_META_BASE64`; gzips a
/// payload over [`META_GZIP_THRESHOLD`] bytes when `allow_compression`
/// (quirk `supports_compressed_encoded_meta`, Talos ≥1.6.3).
pub fn encode_meta(values: &[MetaValue], allow_compression: bool) -> String {
    let raw = meta_payload(values).into_bytes();
    let bytes = if allow_compression && raw.len() > META_GZIP_THRESHOLD {
        // Compressing into a Vec cannot fail; should it ever, the plain
        // payload is still a valid encoding that Talos decodes.
        gzip_best(&raw).unwrap_or(raw)
    } else {
        raw
    };
    STANDARD.encode(bytes)
}

fn gzip_best(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(raw.len() / 2), Compression::best());
    encoder.write_all(raw)?;
    encoder.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::*;

    fn mv(key: u8, value: &str) -> MetaValue {
        MetaValue {
            key,
            value: value.to_owned(),
        }
    }

    fn decode(encoded: &str) -> Vec<u8> {
        STANDARD.decode(encoded).unwrap()
    }

    fn gunzip(bytes: &[u8]) -> String {
        let mut out = String::new();
        GzDecoder::new(bytes).read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn short_payloads_are_plain_base64() {
        for (values, want) in [
            (
                vec![mv(0x0a, r#"{"externalIPs":["1.2.3.4"]}"#)],
                "MHhhPXsiZXh0ZXJuYWxJUHMiOlsiMS4yLjMuNCJdfQ==",
            ),
            // "0x0=" / "0xff=x;0x10=y"
            (vec![mv(0, "")], "MHgwPQ=="),
            (vec![mv(0xff, "x"), mv(0x10, "y")], "MHhmZj14OzB4MTA9eQ=="),
            (vec![], ""),
        ] {
            assert_eq!(encode_meta(&values, true), want, "{values:?}");
        }
    }

    #[test]
    fn payload_format() {
        assert_eq!(
            meta_payload(&[mv(10, "a=b"), mv(6, ""), mv(0x11, "grub")]),
            "0xa=a=b;0x6=;0x11=grub"
        );
    }

    /// A single value whose payload (`0xa=` + filler) is exactly `len` bytes.
    fn sized(len: usize) -> Vec<MetaValue> {
        vec![mv(0x0a, &"x".repeat(len - 4))]
    }

    #[test]
    fn long_payloads_are_gzipped_when_allowed() {
        let values = sized(META_GZIP_THRESHOLD + 1);
        let payload = meta_payload(&values);
        assert_eq!(payload.len(), 257);

        let gz = decode(&encode_meta(&values, true));
        // Same fixed header as Go's gzip writer at BestCompression.
        assert_eq!(gz[..10], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]);
        assert_eq!(gunzip(&gz), payload);

        let plain = decode(&encode_meta(&values, false));
        assert_eq!(String::from_utf8(plain).unwrap(), payload);
    }

    #[test]
    fn exactly_the_threshold_is_not_gzipped() {
        let values = sized(META_GZIP_THRESHOLD);
        let payload = meta_payload(&values);
        assert_eq!(payload.len(), 256);
        let plain = decode(&encode_meta(&values, true));
        assert_eq!(String::from_utf8(plain).unwrap(), payload);
    }

    #[test]
    fn many_values_are_joined_before_measuring() {
        // Each entry is short, the joined payload is not.
        let values: Vec<MetaValue> = (0..40).map(|k| mv(k, "value")).collect();
        let payload = meta_payload(&values);
        assert!(payload.len() > META_GZIP_THRESHOLD);
        assert_eq!(gunzip(&decode(&encode_meta(&values, true))), payload);
    }
}

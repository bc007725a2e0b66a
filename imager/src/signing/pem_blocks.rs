//! Splitting a PEM file into its blocks.
//!
//! Key files often hold more than one block: `openssl ecparam -genkey`
//! without `-noout` writes an `EC PARAMETERS` block before the `EC PRIVATE
//! KEY`, and bundles add certificates or public keys. The RustCrypto PEM
//! decoder reads exactly one block, so the text is cut into blocks here and
//! each is decoded on its own. Text outside blocks (comments, `Bag
//! Attributes`) is ignored, as openssl ignores it.

use p256::elliptic_curve::zeroize::Zeroizing;

use super::error::KeyError;

/// The most blocks read from one file; a key file has two at most, bundles a
/// few more. More is refused before anything is decoded.
pub(super) const MAX_BLOCKS: usize = 8;

/// One decoded PEM block.
pub(super) struct Block {
    /// The label between `-----BEGIN ` and `-----`.
    pub(super) label: String,
    /// The decoded bytes (wiped when dropped: they may be a private key).
    pub(super) der: Zeroizing<Vec<u8>>,
}

/// Every block in `text`, in order.
pub(super) fn blocks(text: &str) -> Result<Vec<Block>, KeyError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some((_, after_begin)) = rest.split_once("-----BEGIN ") {
        if out.len() == MAX_BLOCKS {
            return Err(KeyError::TooManyBlocks { max: MAX_BLOCKS });
        }
        let unterminated = |label: &str| KeyError::Unterminated {
            label: label
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(64)
                .collect(),
        };
        let Some((label, body_and_rest)) = after_begin.split_once("-----") else {
            return Err(unterminated(after_begin));
        };
        if label.contains(['\n', '\r']) {
            return Err(unterminated(label));
        }
        let end_line = format!("-----END {label}-----");
        let Some((body, after_end)) = body_and_rest.split_once(end_line.as_str()) else {
            return Err(unterminated(label));
        };
        // Legacy (RFC 1421) encryption puts headers in the block, which the
        // strict decoder would only call malformed.
        if body.contains("Proc-Type: 4,ENCRYPTED") {
            return Err(KeyError::Encrypted);
        }
        let pem = Zeroizing::new(format!("-----BEGIN {label}-----{body}{end_line}"));
        let (_, der) =
            p256::pkcs8::der::pem::decode_vec(pem.as_bytes()).map_err(|error| KeyError::Pem {
                label: label.to_owned(),
                error,
            })?;
        out.push(Block {
            label: label.to_owned(),
            der: Zeroizing::new(der),
        });
        rest = after_end;
    }
    Ok(out)
}

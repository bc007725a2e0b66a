//! Bounds-checked little-endian field access for PE headers.
//!
//! PE headers are fixed little-endian layouts; reading them through these
//! helpers keeps every offset checked (no indexing that can panic) and turns
//! a short file into a [`StubError::Truncated`] that names the field.

use super::error::StubError;

/// The `len`-byte slice at `offset`, or a truncation error naming `what`.
pub(crate) fn slice<'a>(
    bytes: &'a [u8],
    offset: usize,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8], StubError> {
    offset
        .checked_add(len)
        .and_then(|end| bytes.get(offset..end))
        .ok_or(StubError::Truncated {
            what,
            offset: offset as u64,
            len: bytes.len(),
        })
}

/// A fixed-size array copied from `offset`.
pub(crate) fn array<const N: usize>(
    bytes: &[u8],
    offset: usize,
    what: &'static str,
) -> Result<[u8; N], StubError> {
    let mut out = [0u8; N];
    out.copy_from_slice(slice(bytes, offset, N, what)?);
    Ok(out)
}

/// The `u16` at `offset`.
pub(crate) fn u16_at(bytes: &[u8], offset: usize, what: &'static str) -> Result<u16, StubError> {
    array(bytes, offset, what).map(u16::from_le_bytes)
}

/// The `u32` at `offset`.
pub(crate) fn u32_at(bytes: &[u8], offset: usize, what: &'static str) -> Result<u32, StubError> {
    array(bytes, offset, what).map(u32::from_le_bytes)
}

/// The `u64` at `offset`.
pub(crate) fn u64_at(bytes: &[u8], offset: usize, what: &'static str) -> Result<u64, StubError> {
    array(bytes, offset, what).map(u64::from_le_bytes)
}

/// Overwrites the bytes at `offset` in a header buffer this crate built.
///
/// Callers only patch fields inside the PE32+ optional header's fixed part,
/// whose presence [`Stub::parse`](super::stub::Stub::parse) checked, so the
/// range always exists; the debug assertion documents that invariant.
pub(crate) fn put(buf: &mut [u8], offset: usize, value: &[u8]) {
    let dst = offset
        .checked_add(value.len())
        .and_then(|end| buf.get_mut(offset..end));
    debug_assert!(dst.is_some(), "header patch at {offset:#x} out of range");
    if let Some(dst) = dst {
        dst.copy_from_slice(value);
    }
}

/// `value` rounded up to a multiple of `align` (a power of two), or `None` on
/// overflow.
pub(crate) fn align_up(value: u64, align: u64) -> Option<u64> {
    let mask = align.checked_sub(1)?;
    value.checked_add(mask).map(|v| v & !mask)
}

//! go-yaml's reader stage: bytes to text.
//!
//! go-yaml picks the encoding from a byte order mark (UTF-16LE `FF FE`,
//! UTF-16BE `FE FF`, UTF-8 `EF BB BF`, UTF-8 when there is none), decodes
//! strictly, and refuses characters YAML does not allow in a stream (C0
//! controls other than tab, LF and CR, and U+FFFE/U+FFFF; DEL and the C1
//! block are allowed for JSON compatibility). Each failure has its own
//! message and no line number. This module reproduces that check-by-check,
//! in go-yaml's order, so the first problem in the input is the one
//! reported. (go-yaml decodes lazily, so for large inputs it may report an
//! earlier syntax error first; we always check the whole body up front.)

use std::borrow::Cow;

use crate::schematic::error::EncodingProblem;

/// A reader failure: the problem and the byte offset where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadError {
    pub(crate) offset: usize,
    pub(crate) problem: EncodingProblem,
}

/// Decodes a request body into YAML text, or says why go-yaml would not.
pub(crate) fn decode(body: &[u8]) -> Result<Cow<'_, str>, ReadError> {
    match body {
        [0xFF, 0xFE, rest @ ..] => decode_utf16(rest, 2, u16::from_le_bytes).map(Cow::Owned),
        [0xFE, 0xFF, rest @ ..] => decode_utf16(rest, 2, u16::from_be_bytes).map(Cow::Owned),
        [0xEF, 0xBB, 0xBF, rest @ ..] => decode_utf8(rest, 3),
        _ => decode_utf8(body, 0),
    }
}

/// Validates UTF-8 the way go-yaml's reader does and returns the text.
fn decode_utf8(bytes: &[u8], base: usize) -> Result<Cow<'_, str>, ReadError> {
    // Fast path: valid UTF-8 only needs the character-set check.
    if let Ok(text) = std::str::from_utf8(bytes) {
        let mut offset = base;
        for c in text.chars() {
            check_allowed(c as u32, offset)?;
            offset += c.len_utf8();
        }
        return Ok(Cow::Borrowed(text));
    }
    // Slow path: walk sequence by sequence to find go-yaml's first error.
    let mut pos = 0;
    while let Some(&lead) = bytes.get(pos) {
        let offset = base + pos;
        let width = match lead {
            0x00..=0x7F => 1,
            _ if lead & 0xE0 == 0xC0 => 2,
            _ if lead & 0xF0 == 0xE0 => 3,
            _ if lead & 0xF8 == 0xF0 => 4,
            _ => return Err(err(offset, EncodingProblem::InvalidLeadingOctet(lead))),
        };
        let Some(sequence) = bytes.get(pos..pos + width) else {
            return Err(err(offset, EncodingProblem::IncompleteUtf8));
        };
        let mut value = u32::from(match width {
            1 => lead & 0x7F,
            2 => lead & 0x1F,
            3 => lead & 0x0F,
            _ => lead & 0x07,
        });
        for (k, &octet) in sequence.iter().enumerate().skip(1) {
            if octet & 0xC0 != 0x80 {
                return Err(err(
                    offset + k,
                    EncodingProblem::InvalidTrailingOctet(octet),
                ));
            }
            value = (value << 6) | u32::from(octet & 0x3F);
        }
        let shortest = match width {
            1 => true,
            2 => value >= 0x80,
            3 => value >= 0x800,
            _ => value >= 0x10000,
        };
        if !shortest {
            return Err(err(offset, EncodingProblem::InvalidLength));
        }
        if (0xD800..=0xDFFF).contains(&value) || value > 0x10FFFF {
            return Err(err(offset, EncodingProblem::InvalidCharacter(value)));
        }
        check_allowed(value, offset)?;
        pos += width;
    }
    // Every sequence checked out, so std's validator cannot have failed;
    // report the generic problem rather than panicking if it somehow did.
    Err(err(base, EncodingProblem::IncompleteUtf8))
}

/// Decodes UTF-16 (after its BOM) with go-yaml's surrogate checks.
fn decode_utf16(bytes: &[u8], base: usize, unit: fn([u8; 2]) -> u16) -> Result<String, ReadError> {
    let mut out = String::with_capacity(bytes.len() / 2);
    let mut pos = 0;
    let read = |at: usize| -> Option<u32> {
        let pair = bytes.get(at..at + 2)?;
        let array: [u8; 2] = pair.try_into().ok()?;
        Some(u32::from(unit(array)))
    };
    while pos < bytes.len() {
        let offset = base + pos;
        let Some(value) = read(pos) else {
            return Err(err(offset, EncodingProblem::IncompleteUtf16));
        };
        if value & 0xFC00 == 0xDC00 {
            return Err(err(offset, EncodingProblem::UnexpectedLowSurrogate(value)));
        }
        let (code, width) = if value & 0xFC00 == 0xD800 {
            let Some(low) = read(pos + 2) else {
                return Err(err(offset, EncodingProblem::IncompleteSurrogatePair));
            };
            if low & 0xFC00 != 0xDC00 {
                return Err(err(offset + 2, EncodingProblem::ExpectedLowSurrogate(low)));
            }
            (0x10000 + ((value & 0x3FF) << 10) + (low & 0x3FF), 4)
        } else {
            (value, 2)
        };
        check_allowed(code, offset)?;
        // Surrogates were excluded above, so this always succeeds.
        if let Some(c) = char::from_u32(code) {
            out.push(c);
        }
        pos += width;
    }
    Ok(out)
}

/// go-yaml's allowed character set (YAML 1.2 plus DEL and C1 for JSON).
fn check_allowed(value: u32, offset: usize) -> Result<(), ReadError> {
    let allowed = matches!(
        value,
        0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0x7F..=0x9F | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF
    );
    if allowed {
        Ok(())
    } else {
        Err(err(offset, EncodingProblem::ControlCharacter(value)))
    }
}

fn err(offset: usize, problem: EncodingProblem) -> ReadError {
    ReadError { offset, problem }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_yaml_reader_messages() {
        // (input, offset, problem) — the first problem wins, as in go-yaml.
        let cases: [(&[u8], usize, EncodingProblem); 9] = [
            (b"a: \xff", 3, EncodingProblem::InvalidLeadingOctet(255)),
            (b"a: \x80", 3, EncodingProblem::InvalidLeadingOctet(128)),
            (b"a: \xc3", 3, EncodingProblem::IncompleteUtf8),
            (
                b"a: \xc3\x28",
                4,
                EncodingProblem::InvalidTrailingOctet(0x28),
            ),
            (b"a: \xc0\xaf", 3, EncodingProblem::InvalidLength),
            (
                b"a: \xed\xa0\x80",
                3,
                EncodingProblem::InvalidCharacter(0xD800),
            ),
            (
                b"a: \xf5\x80\x80\x80",
                3,
                EncodingProblem::InvalidCharacter(0x140000),
            ),
            (b"a: \x01 \xff", 3, EncodingProblem::ControlCharacter(1)),
            (
                b"a: \xef\xbf\xbe",
                3,
                EncodingProblem::ControlCharacter(0xFFFE),
            ),
        ];
        for (input, offset, problem) in cases {
            assert_eq!(
                decode(input),
                Err(ReadError { offset, problem }),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn accepts_del_c1_and_boms() {
        assert_eq!(
            decode("a: \u{7f}\u{85}".as_bytes()).as_deref(),
            Ok("a: \u{7f}\u{85}")
        );
        assert_eq!(decode(b"\xef\xbb\xbfa: b").as_deref(), Ok("a: b"));
        assert_eq!(
            decode(b"\xff\xfea\x00:\x00 \x00b\x00").as_deref(),
            Ok("a: b")
        );
        assert_eq!(
            decode(b"\xfe\xff\x00a\x00:\x00 \x00b").as_deref(),
            Ok("a: b")
        );
        // A surrogate pair: U+1F600.
        assert_eq!(
            decode(b"\xff\xfe\x3d\xd8\x00\xde").as_deref(),
            Ok("\u{1F600}")
        );
    }

    #[test]
    fn utf16_errors() {
        assert_eq!(
            decode(b"\xff\xfea"),
            Err(ReadError {
                offset: 2,
                problem: EncodingProblem::IncompleteUtf16
            })
        );
        assert_eq!(
            decode(b"\xff\xfe\x00\xdc"),
            Err(ReadError {
                offset: 2,
                problem: EncodingProblem::UnexpectedLowSurrogate(0xDC00)
            })
        );
        assert_eq!(
            decode(b"\xff\xfe\x3d\xd8"),
            Err(ReadError {
                offset: 2,
                problem: EncodingProblem::IncompleteSurrogatePair
            })
        );
        assert_eq!(
            decode(b"\xff\xfe\x3d\xd8a\x00"),
            Err(ReadError {
                offset: 4,
                problem: EncodingProblem::ExpectedLowSurrogate(0x61)
            })
        );
        assert_eq!(
            decode(b"\xff\xfe\x01\x00"),
            Err(ReadError {
                offset: 2,
                problem: EncodingProblem::ControlCharacter(1)
            })
        );
    }
}

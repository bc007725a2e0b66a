//! HTTP Range (RFC 9110 §14) and ETag validators for artifact downloads.
//!
//! Large images are downloaded by tools that resume (curl `-C -`, browsers,
//! iPXE retries), so a single byte range is honoured. Multiple ranges are
//! answered with the whole body (allowed by the RFC, and what most static
//! servers do), because multipart bodies buy nothing for these clients.

/// An inclusive byte range within an object of known size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte offset.
    pub start: u64,
    /// Last byte offset (inclusive).
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range.
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Always false: a range holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The `Content-Range` value for an object of `size` bytes.
    pub fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end, size)
    }
}

/// What a `Range` header asks of an object of a given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeRequest {
    /// No usable range: send everything (200).
    Full,
    /// Send this part (206).
    Partial(ByteRange),
    /// The range lies outside the object (416).
    Unsatisfiable,
}

/// Interprets a `Range` header value for an object of `size` bytes.
pub(crate) fn parse_range(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(value) = header else {
        return RangeRequest::Full;
    };
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeRequest::Full; // unknown unit: ignore, as the RFC allows
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    match (first.is_empty(), last.is_empty()) {
        // `bytes=-N`: the last N bytes.
        (true, false) => match parse(last) {
            None => RangeRequest::Full,
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if size == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Partial(ByteRange {
                start: size.saturating_sub(n),
                end: size - 1,
            }),
        },
        // `bytes=N-`: from N to the end.
        (false, true) => match parse(first) {
            Some(start) if start < size => RangeRequest::Partial(ByteRange {
                start,
                end: size - 1,
            }),
            Some(_) => RangeRequest::Unsatisfiable,
            None => RangeRequest::Full,
        },
        // `bytes=N-M`.
        (false, false) => match (parse(first), parse(last)) {
            (Some(start), Some(end)) if start <= end => {
                if start >= size {
                    RangeRequest::Unsatisfiable
                } else {
                    RangeRequest::Partial(ByteRange {
                        start,
                        end: end.min(size - 1),
                    })
                }
            }
            _ => RangeRequest::Full, // syntactically invalid: ignore the header
        },
        (true, true) => RangeRequest::Full,
    }
}

/// The strong ETag of an object with this sha256.
pub(crate) fn etag(sha256_hex: &str) -> String {
    format!("\"{sha256_hex}\"")
}

/// Whether an `If-None-Match` header matches `etag` (weak comparison, `*` matches).
pub(crate) fn if_none_match(header: Option<&str>, etag: &str) -> bool {
    let Some(value) = header else {
        return false;
    };
    value.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

/// Whether a range may be honoured under `If-Range` (absent, or the same strong ETag).
pub(crate) fn if_range_allows(header: Option<&str>, etag: &str) -> bool {
    header.is_none_or(|value| value.trim() == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(start: u64, end: u64) -> RangeRequest {
        RangeRequest::Partial(ByteRange { start, end })
    }

    #[test]
    fn ranges() {
        let cases: &[(Option<&str>, u64, RangeRequest)] = &[
            (None, 100, RangeRequest::Full),
            (Some("bytes=0-9"), 100, partial(0, 9)),
            (Some("bytes=90-"), 100, partial(90, 99)),
            (Some("bytes=-10"), 100, partial(90, 99)),
            (Some("bytes=-1000"), 100, partial(0, 99)),
            (Some("bytes=50-1000"), 100, partial(50, 99)),
            (Some("bytes=100-"), 100, RangeRequest::Unsatisfiable),
            (Some("bytes=100-200"), 100, RangeRequest::Unsatisfiable),
            (Some("bytes=-0"), 100, RangeRequest::Unsatisfiable),
            (Some("bytes=0-0"), 0, RangeRequest::Unsatisfiable),
            (Some("bytes=-5"), 0, RangeRequest::Unsatisfiable),
            (Some("bytes=9-0"), 100, RangeRequest::Full),
            (Some("bytes=0-1,5-6"), 100, RangeRequest::Full),
            (Some("items=0-1"), 100, RangeRequest::Full),
            (Some("bytes=a-b"), 100, RangeRequest::Full),
            (Some("bytes=+1-2"), 100, RangeRequest::Full),
            (Some("bytes=-"), 100, RangeRequest::Full),
            (
                Some("bytes=99999999999999999999999-"),
                100,
                RangeRequest::Full,
            ),
        ];
        for (header, size, want) in cases {
            assert_eq!(parse_range(*header, *size), *want, "{header:?} of {size}");
        }
    }

    #[test]
    fn content_range_header() {
        assert_eq!(
            ByteRange { start: 0, end: 9 }.content_range(100),
            "bytes 0-9/100"
        );
        assert_eq!(ByteRange { start: 0, end: 9 }.len(), 10);
    }

    #[test]
    fn validators() {
        let tag = etag("abc");
        assert_eq!(tag, "\"abc\"");
        assert!(if_none_match(Some("\"abc\""), &tag));
        assert!(if_none_match(Some("W/\"abc\", \"x\""), &tag));
        assert!(if_none_match(Some("*"), &tag));
        assert!(!if_none_match(Some("\"abd\""), &tag));
        assert!(!if_none_match(None, &tag));
        assert!(if_range_allows(None, &tag));
        assert!(if_range_allows(Some("\"abc\""), &tag));
        assert!(!if_range_allows(
            Some("Wed, 21 Oct 2015 07:28:00 GMT"),
            &tag
        ));
    }
}

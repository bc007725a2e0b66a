//! Timestamps spelled as Go's `time.Time` JSON encoding spells them.
//!
//! cosign stamps a signature image's config with the signing time
//! (`mutate.CreatedAt`, through Go's `encoding/json`), and the config's bytes
//! decide its digest and so the signature manifest's digest. To produce the
//! same bytes from the same instant we write what Go writes: RFC 3339 with
//! the fraction of a second cut after its last non-zero digit (none at all
//! when it is zero), and `Z` for a zero offset. Go refuses years outside
//! 0000–9999, and so do we. The zero `time.Time`, which cosign writes when it
//! records no timestamp and in the config's history entry, is [`ZERO_TIME`].

use super::error::CosignError;

/// Go's zero `time.Time` as JSON: what cosign writes when it records no time.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The longest timestamp accepted: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+HH:MM`.
const MAX_LEN: usize = 35;

/// The last second Go can encode: 9999-12-31T23:59:59Z.
const MAX_UNIX_SECONDS: u64 = 253_402_300_799;

/// Rewrites an RFC 3339 timestamp (`2026-01-02T03:04:05.120Z`,
/// `2023-02-17T09:25:33.91047962-08:00`) as Go would encode the same instant
/// in the same offset (`2026-01-02T03:04:05.12Z`). Only the strict RFC 3339
/// form is accepted: upper-case `T` and `Z`, at most nine fraction digits, no
/// leap second, a real calendar date.
pub fn go_rfc3339(text: &str) -> Result<String, CosignError> {
    parse(text).ok_or_else(|| CosignError::InvalidCreated(text.chars().take(MAX_LEN + 5).collect()))
}

/// The UTC timestamp of `unix_seconds` after the Unix epoch, as Go encodes it
/// (`1767225600` gives `2026-01-01T00:00:00Z`); beyond year 9999 is an error.
pub fn go_rfc3339_from_unix(unix_seconds: u64) -> Result<String, CosignError> {
    if unix_seconds > MAX_UNIX_SECONDS {
        return Err(CosignError::CreatedOutOfRange(unix_seconds));
    }
    let days = unix_seconds / 86_400;
    let rem = unix_seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    Ok(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    ))
}

/// Year, month, day of `days` after 1970-01-01 (Hinnant's `civil_from_days`,
/// restricted to non-negative day counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

fn parse(text: &str) -> Option<String> {
    if text.len() > MAX_LEN || !text.is_ascii() {
        return None;
    }
    let year = number(text, 0, 4)?;
    let month = number(text, 5, 2)?;
    let day = number(text, 8, 2)?;
    let hour = number(text, 11, 2)?;
    let minute = number(text, 14, 2)?;
    let second = number(text, 17, 2)?;
    let separators = [(4, '-'), (7, '-'), (10, 'T'), (13, ':'), (16, ':')];
    if separators
        .iter()
        .any(|&(at, c)| char_at(text, at) != Some(c))
    {
        return None;
    }
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let rest = text.get(19..)?;
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(after_dot) => {
            let len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            if !(1..=9).contains(&len) {
                return None;
            }
            (after_dot.get(..len)?, after_dot.get(len..)?)
        }
        None => ("", rest),
    };
    let zone = normalise_zone(zone)?;
    let fraction = fraction.trim_end_matches('0');
    let dot = if fraction.is_empty() { "" } else { "." };
    Some(format!("{}{dot}{fraction}{zone}", text.get(..19)?))
}

/// `Z` stays `Z`; `±HH:MM` is checked, and a zero offset becomes `Z`.
fn normalise_zone(zone: &str) -> Option<&str> {
    if zone == "Z" {
        return Some("Z");
    }
    if zone.len() != 6
        || !matches!(char_at(zone, 0), Some('+' | '-'))
        || char_at(zone, 3) != Some(':')
    {
        return None;
    }
    let hours = number(zone, 1, 2)?;
    let minutes = number(zone, 4, 2)?;
    if hours >= 24 || minutes >= 60 {
        return None;
    }
    Some(if hours == 0 && minutes == 0 {
        "Z"
    } else {
        zone
    })
}

fn char_at(text: &str, at: usize) -> Option<char> {
    text.get(at..)?.chars().next()
}

/// The decimal number in `text[at..at + len]`, all digits.
fn number(text: &str, at: usize, len: usize) -> Option<u32> {
    let digits = text.get(at..at + len)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn normalises_like_go() {
        for (input, want) in [
            (
                "2023-02-17T09:25:33.91047962-08:00",
                "2023-02-17T09:25:33.91047962-08:00",
            ),
            ("2026-01-02T03:04:05.120000000Z", "2026-01-02T03:04:05.12Z"),
            ("2026-01-02T03:04:05.000Z", "2026-01-02T03:04:05Z"),
            ("2026-01-02T03:04:05+00:00", "2026-01-02T03:04:05Z"),
            ("2026-01-02T03:04:05-00:00", "2026-01-02T03:04:05Z"),
            ("2026-01-02T03:04:05+05:30", "2026-01-02T03:04:05+05:30"),
            ("2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z"),
            ("2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"),
            (ZERO_TIME, ZERO_TIME),
            (
                "9999-12-31T23:59:59.999999999Z",
                "9999-12-31T23:59:59.999999999Z",
            ),
        ] {
            assert_eq!(go_rfc3339(input).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn refuses_what_go_refuses() {
        for input in [
            "",
            "2026-01-02",
            "2026-01-02 03:04:05Z",
            "2026-01-02t03:04:05Z",
            "2026-01-02T03:04:05z",
            "2026-01-02T03:04:05",
            "2026-01-02T03:04:05.Z",
            "2026-01-02T03:04:05.1234567890Z",
            "2026-01-02T03:04:60Z",
            "2026-01-02T24:00:00Z",
            "2026-13-02T03:04:05Z",
            "2026-00-02T03:04:05Z",
            "2023-02-29T03:04:05Z",
            "1900-02-29T03:04:05Z",
            "2026-04-31T03:04:05Z",
            "2026-01-02T03:04:05+24:00",
            "2026-01-02T03:04:05+0100",
            "+2026-01-02T03:04:05Z",
            "２026-01-02T03:04:05Z",
            "2026-01-02T03:04:05Z ",
        ] {
            assert!(
                matches!(go_rfc3339(input), Err(CosignError::InvalidCreated(_))),
                "{input:?}"
            );
        }
    }

    #[test]
    fn formats_unix_seconds() {
        for (seconds, want) in [
            (0, "1970-01-01T00:00:00Z"),
            (1_767_225_600, "2026-01-01T00:00:00Z"),
            (1_709_251_199, "2024-02-29T23:59:59Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (4_107_542_400, "2100-03-01T00:00:00Z"),
            (MAX_UNIX_SECONDS, "9999-12-31T23:59:59Z"),
        ] {
            assert_eq!(go_rfc3339_from_unix(seconds).unwrap(), want, "{seconds}");
        }
        assert!(matches!(
            go_rfc3339_from_unix(MAX_UNIX_SECONDS + 1),
            Err(CosignError::CreatedOutOfRange(_))
        ));
    }
}

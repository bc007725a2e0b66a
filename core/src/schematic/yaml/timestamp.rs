//! YAML timestamps as go-yaml v4 reads and writes them.
//!
//! A plain scalar that starts with four digits and `-` is tried against
//! four Go `time.Parse` layouts (`2006-1-2T15:4:5.999999999Z07:00`, the same
//! with a lower-case `t`, `2006-1-2 15:4:5.999999999` and `2006-1-2`). When
//! one matches, go-yaml v4 decodes it into a `time.Time` wherever the target
//! is `any` (overlay options), and `Marshal` writes it back in
//! `time.RFC3339Nano` form, so `2015-01-01` becomes `2015-01-01T00:00:00Z`
//! in the canonical YAML. (Into a `string` field go-yaml v4 refuses a
//! timestamp; see the decoder.) This module ports exactly the parts of Go's
//! `time.Parse` these layouts use, including its range checks and its
//! quirks: one- or two-digit fields, a `,` accepted as the fraction
//! separator, extra fraction digits ignored beyond nanoseconds, any run of
//! spaces matching the space in the layout.

use std::fmt;

/// A `time.Time` as far as its RFC 3339 rendering is concerned: the wall
/// clock fields as written and the zone offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    nanosecond: u32,
    /// Offset from UTC in seconds (0 prints as `Z`).
    offset: i32,
}

impl Timestamp {
    /// go-yaml's `parseTimestamp`: `Some` when the text is a timestamp in
    /// one of the accepted layouts.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        // Quick check: all layouts start with YYYY-.
        let year_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
        if year_digits != 4 || b.get(4) != Some(&b'-') {
            return None;
        }
        LAYOUTS.iter().find_map(|layout| parse_layout(s, layout))
    }
}

impl fmt::Display for Timestamp {
    /// Go's `time.RFC3339Nano`: `2006-01-02T15:04:05.999999999Z07:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )?;
        if self.nanosecond != 0 {
            let fraction = format!("{:09}", self.nanosecond);
            write!(f, ".{}", fraction.trim_end_matches('0'))?;
        }
        if self.offset == 0 {
            return f.write_str("Z");
        }
        let minutes = self.offset / 60;
        let sign = if minutes < 0 { '-' } else { '+' };
        let abs = minutes.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)
    }
}

/// The pieces of the layouts go-yaml tries, in order.
#[derive(Clone, Copy)]
enum Piece {
    Literal(&'static str),
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Fraction,
    Zone,
}

use Piece::{Day, Fraction, Hour, Literal, Minute, Month, Second, Year, Zone};

const LAYOUTS: [&[Piece]; 4] = [
    &[
        Year,
        Literal("-"),
        Month,
        Literal("-"),
        Day,
        Literal("T"),
        Hour,
        Literal(":"),
        Minute,
        Literal(":"),
        Second,
        Fraction,
        Zone,
    ],
    &[
        Year,
        Literal("-"),
        Month,
        Literal("-"),
        Day,
        Literal("t"),
        Hour,
        Literal(":"),
        Minute,
        Literal(":"),
        Second,
        Fraction,
        Zone,
    ],
    &[
        Year,
        Literal("-"),
        Month,
        Literal("-"),
        Day,
        Literal(" "),
        Hour,
        Literal(":"),
        Minute,
        Literal(":"),
        Second,
        Fraction,
    ],
    &[Year, Literal("-"), Month, Literal("-"), Day],
];

/// Go's `time.Parse` for one layout made of the pieces above.
fn parse_layout(s: &str, layout: &[Piece]) -> Option<Timestamp> {
    let mut rest = s.as_bytes();
    let mut t = Timestamp {
        year: 0,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        nanosecond: 0,
        offset: 0,
    };
    for piece in layout {
        match *piece {
            Literal(text) => rest = skip(rest, text.as_bytes())?,
            Year => {
                let digits = rest.get(..4)?;
                if !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                t.year = digits
                    .iter()
                    .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
                rest = rest.get(4..)?;
            }
            Month => {
                let (value, tail) = getnum(rest)?;
                if !(1..=12).contains(&value) {
                    return None;
                }
                t.month = value;
                rest = tail;
            }
            Day => {
                // Any one- or two-digit day; validated against the month below.
                let (value, tail) = getnum(rest)?;
                t.day = value;
                rest = tail;
            }
            Hour => (t.hour, rest) = getnum_below(rest, 24)?,
            Minute => (t.minute, rest) = getnum_below(rest, 60)?,
            Second => (t.second, rest) = getnum_below(rest, 60)?,
            Fraction => {
                // Optional: a '.' or ',' followed by at least one digit.
                if let [sep, first, ..] = rest
                    && matches!(sep, b'.' | b',')
                    && first.is_ascii_digit()
                {
                    let count = rest
                        .iter()
                        .skip(1)
                        .take_while(|c| c.is_ascii_digit())
                        .count();
                    t.nanosecond = nanoseconds(rest.get(1..1 + count)?);
                    rest = rest.get(1 + count..)?;
                }
            }
            Zone => {
                if let [b'Z', tail @ ..] = rest {
                    t.offset = 0;
                    rest = tail;
                } else {
                    let zone = rest.get(..6)?;
                    let [sign, h1, h2, b':', m1, m2] = *zone else {
                        return None;
                    };
                    let fixed = |a: u8, b: u8| {
                        (a.is_ascii_digit() && b.is_ascii_digit())
                            .then(|| i32::from(a - b'0') * 10 + i32::from(b - b'0'))
                    };
                    let hours = fixed(h1, h2)?;
                    let minutes = fixed(m1, m2)?;
                    if hours > 24 || minutes > 60 {
                        return None;
                    }
                    let seconds = (hours * 60 + minutes) * 60;
                    t.offset = match sign {
                        b'+' => seconds,
                        b'-' => -seconds,
                        _ => return None,
                    };
                    rest = rest.get(6..)?;
                }
            }
        }
    }
    if !rest.is_empty() || t.day < 1 || t.day > days_in(t.month, t.year) {
        return None;
    }
    Some(t)
}

/// Go's `skip`: match a layout literal; a space matches any run of spaces.
fn skip<'a>(mut value: &'a [u8], mut prefix: &[u8]) -> Option<&'a [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|&c| c != b' ') {
                return None;
            }
            prefix = trim_spaces(prefix);
            value = trim_spaces(value);
            continue;
        }
        if value.first() != Some(&p) {
            return None;
        }
        prefix = prefix.get(1..)?;
        value = value.get(1..)?;
    }
    Some(value)
}

fn trim_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b' ').count();
    s.get(n..).unwrap_or_default()
}

/// Go's `getnum(s, false)`: one or two leading digits.
fn getnum(s: &[u8]) -> Option<(u8, &[u8])> {
    match s {
        [a, b, rest @ ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some(((a - b'0') * 10 + (b - b'0'), rest))
        }
        [a, rest @ ..] if a.is_ascii_digit() => Some((a - b'0', rest)),
        _ => None,
    }
}

/// [`getnum`] for a field whose value must stay below `limit`.
fn getnum_below(s: &[u8], limit: u8) -> Option<(u8, &[u8])> {
    getnum(s).filter(|(value, _)| *value < limit)
}

/// Go's `parseNanoseconds`: digits beyond the ninth are ignored.
fn nanoseconds(digits: &[u8]) -> u32 {
    let used = digits.get(..9).unwrap_or(digits);
    let mut value = used
        .iter()
        .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    for _ in used.len()..9 {
        value *= 10;
    }
    value
}

fn days_in(month: u8, year: u16) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    fn canonical(s: &str) -> Option<String> {
        Timestamp::parse(s).map(|t| t.to_string())
    }

    #[test]
    fn parses_and_prints_like_go() {
        let cases = [
            ("2015-01-01", Some("2015-01-01T00:00:00Z")),
            ("2015-2-3T3:4:5Z", Some("2015-02-03T03:04:05Z")),
            ("2015-02-24t18:19:39Z", Some("2015-02-24T18:19:39Z")),
            ("2015-02-24 18:19:39", Some("2015-02-24T18:19:39Z")),
            ("2015-02-24   18:19:39", Some("2015-02-24T18:19:39Z")),
            ("2015-02-24T18:19:39.12Z", Some("2015-02-24T18:19:39.12Z")),
            ("2015-02-24T18:19:39,5Z", Some("2015-02-24T18:19:39.5Z")),
            (
                "2015-02-24T18:19:39.1234567891Z",
                Some("2015-02-24T18:19:39.123456789Z"),
            ),
            ("2015-02-24T18:19:39.000Z", Some("2015-02-24T18:19:39Z")),
            (
                "2015-02-24T18:19:39.123456789-03:00",
                Some("2015-02-24T18:19:39.123456789-03:00"),
            ),
            ("2015-02-24T18:19:39+00:00", Some("2015-02-24T18:19:39Z")),
            (
                "2015-02-24T18:19:39+23:60",
                Some("2015-02-24T18:19:39+24:00"),
            ),
            ("2016-02-29", Some("2016-02-29T00:00:00Z")),
            ("2015-02-29", None),
            ("2015-13-01", None),
            ("2015-01-01T24:00:00Z", None),
            ("2015-01-01T10:00:00", None),
            ("2015-01-01 10:00:00Z", None),
            ("2015-01-01x", None),
            ("15-01-01", None),
            ("2015-01-01T10:00:00+25:00", None),
        ];
        for (input, want) in cases {
            assert_eq!(canonical(input).as_deref(), want, "input {input:?}");
        }
    }
}

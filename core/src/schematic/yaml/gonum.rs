//! Go's `strconv` number parsing, as go-yaml's resolver calls it.
//!
//! go-yaml types a plain scalar as an integer when `strconv.ParseInt(s, 0,
//! 64)` (or `ParseUint`) accepts it after removing every `_`, which brings
//! Go's base prefixes (`0x`, `0o`, `0b`) *and* its legacy octal rule (`010`
//! is 8, `09` is not an integer at all). Floats go through a YAML-style
//! regular expression and then `strconv.ParseFloat`, where an out-of-range
//! value (`1e400`) is an error, so the text stays a string. Reproducing
//! these rules exactly is what makes `0xa` a META key of 10 and keeps
//! `1e400` a string, as upstream does.

/// `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, s.get(1..)?),
        Some(b'-') => (true, s.get(1..)?),
        _ => (false, s),
    };
    let magnitude = parse_uint(digits)?;
    if negative {
        if magnitude > 1 << 63 {
            return None;
        }
        // 0 - magnitude fits: magnitude <= 2^63.
        Some((magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `strconv.ParseUint(s, 0, 64)` (no sign allowed).
pub(crate) fn parse_uint(s: &str) -> Option<u64> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    let (base, digits): (u32, &[u8]) = match bytes {
        [b'0', p, rest @ ..] if !rest.is_empty() && p.eq_ignore_ascii_case(&b'b') => (2, rest),
        [b'0', p, rest @ ..] if !rest.is_empty() && p.eq_ignore_ascii_case(&b'o') => (8, rest),
        [b'0', p, rest @ ..] if !rest.is_empty() && p.eq_ignore_ascii_case(&b'x') => (16, rest),
        [b'0', rest @ ..] => (8, rest),
        _ => (10, bytes),
    };
    let mut value: u64 = 0;
    for &c in digits {
        // Underscores are only legal between digits after a prefix; the
        // resolver strips them before calling us, so any left are errors.
        let digit = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'a'..=b'z' => u32::from(c - b'a') + 10,
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        if digit >= base {
            return None;
        }
        value = value
            .checked_mul(u64::from(base))?
            .checked_add(u64::from(digit))?;
    }
    Some(value)
}

/// go-yaml's `yamlStyleFloat`:
/// `^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$`.
pub(crate) fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |from: usize| {
        b.iter()
            .skip(from)
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return false;
        }
        i += 1 + n;
    } else {
        let n = digits(i);
        if n == 0 {
            return false;
        }
        i += n;
        if b.get(i) == Some(&b'.') {
            i += 1 + digits(i + 1);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == b.len()
}

/// `strconv.ParseFloat(s, 64)` for decimal input (the only kind the
/// resolver passes: text starting with `.`, or text that matched
/// [`is_yaml_style_float`]). Underscores between digits are accepted as
/// Go does. Out-of-range values are errors, as in Go.
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    if !is_go_decimal_float(s) {
        return None;
    }
    let cleaned: String = s.chars().filter(|&c| c != '_').collect();
    let value: f64 = cleaned.parse().ok()?;
    // Go reports overflow as ErrRange; Rust returns an infinity instead.
    if value.is_infinite() {
        None
    } else {
        Some(value)
    }
}

/// Go's decimal floating-point literal syntax (`readFloat` restricted to
/// base 10, without `inf`/`nan`) including its underscore placement rule.
fn is_go_decimal_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut saw_digits = false;
    let mut saw_dot = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'_' => {}
            b'.' if !saw_dot => saw_dot = true,
            b'0'..=b'9' => saw_digits = true,
            _ => break,
        }
        i += 1;
    }
    if !saw_digits {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return false;
        }
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len() && (!s.contains('_') || underscores_ok(s))
}

/// Go's `underscoreOK`: every `_` sits between digits (or after a base
/// prefix).
fn underscores_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    if matches!(b.first(), Some(b'+' | b'-')) {
        b = b.get(1..).unwrap_or_default();
    }
    // '^' start, '0' digit or prefix, '_' underscore, '!' anything else.
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if let [b'0', p, ..] = b
        && matches!(p.to_ascii_lowercase(), b'b' | b'o' | b'x')
    {
        i = 2;
        saw = b'0';
        hex = p.eq_ignore_ascii_case(&b'x');
    }
    for &c in b.iter().skip(i) {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
            continue;
        }
        if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
            continue;
        }
        if saw == b'_' {
            return false;
        }
        saw = b'!';
    }
    saw != b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_int_follows_go_base_zero() {
        let cases: [(&str, Option<i64>); 16] = [
            ("10", Some(10)),
            ("+10", Some(10)),
            ("-10", Some(-10)),
            ("0xa", Some(10)),
            ("0XA", Some(10)),
            ("0o17", Some(15)),
            ("0b101", Some(5)),
            ("010", Some(8)),
            ("09", None),
            ("0", Some(0)),
            ("0x", None),
            ("", None),
            ("-", None),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_int(input), want, "input {input:?}");
        }
    }

    #[test]
    fn parse_uint_takes_the_upper_half() {
        assert_eq!(parse_uint("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_uint("18446744073709551616"), None);
        assert_eq!(parse_uint("+1"), None);
    }

    #[test]
    fn yaml_style_float_regex() {
        for yes in ["1.5", ".5", "1.", "1e5", "+1.5E-3", "09", "-.5e1"] {
            assert!(is_yaml_style_float(yes), "{yes}");
        }
        for no in [".", "e5", "1e", "1.5.5", "0x1p3", ".inf", "1_0", ""] {
            assert!(!is_yaml_style_float(no), "{no}");
        }
    }

    #[test]
    fn parse_float_like_go() {
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float(".5_5"), Some(0.55));
        assert_eq!(parse_float("._5"), None);
        assert_eq!(parse_float(".5_"), None);
        assert_eq!(parse_float("1e400"), None);
        assert_eq!(parse_float("1e-400"), Some(0.0));
        assert_eq!(parse_float("."), None);
        assert_eq!(parse_float("1."), Some(1.0));
    }
}

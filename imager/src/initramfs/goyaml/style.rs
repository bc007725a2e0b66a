//! Which style go-yaml writes a Go string in: the representer's request
//! (`encode.go`) and the emitter's downgrade (`analyzeScalar`,
//! `selectScalarStyle`), for block-context values.
//!
//! The request: text with a line break is a literal block (if at least two
//! bytes with something other than whitespace, else double-quoted); YAML 1.1
//! booleans (`yes`, `off`, …), base-60-looking numbers and `<<` are
//! double-quoted (`QuoteLegacy`); text that would read back as another type
//! when plain is double-quoted; everything else is plain. The emitter then
//! turns plain into single-quoted when indicators or surrounding spaces
//! forbid plain, single into double when the text has tabs, non-printable
//! characters or space/break mixes, and literal into double likewise.
//!
//! The one approximation: whether a plain text "would read back as another
//! type" is decided here by a compact re-statement of go-yaml's resolver
//! (null/bool/`.inf`/`.nan` words, Go integers with `0x`/`0o`/`0b`/octal
//! prefixes, YAML floats, and timestamps). Timestamps are recognised by
//! their `YYYY-M-D` start, so a text such as `2024-01-01 later` is
//! double-quoted where go-yaml, failing to parse the time, would write it
//! plain, and a float such as `1e400` that Go's parser rejects as out of
//! range is double-quoted although go-yaml writes it plain. Both only change
//! quoting, never the value read back; metadata values (names, versions,
//! authors, descriptions, ranges) do not take these shapes.

/// A scalar style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// go-yaml's `isPrintable` (characters outside the BMP are not).
pub(crate) fn is_printable(c: char) -> bool {
    matches!(c as u32, 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFEFE | 0xFF00..=0xFFFD)
}

/// go-yaml's `isLineBreak`.
pub(crate) fn is_line_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// The style go-yaml uses for `text` as a mapping value in block context.
pub(crate) fn value_style(text: &str) -> Style {
    let requested = requested_style(text);
    let a = analyze(text);
    let mut style = requested;
    if style == Style::Plain && !a.block_plain_allowed {
        style = Style::SingleQuoted;
    }
    if style == Style::SingleQuoted && !a.single_quoted_allowed {
        style = Style::DoubleQuoted;
    }
    if style == Style::Literal && !a.block_allowed {
        style = Style::DoubleQuoted;
    }
    style
}

fn requested_style(text: &str) -> Style {
    if text.contains('\n') {
        return if text.len() >= 2 && text.chars().any(|c| !c.is_whitespace()) {
            Style::Literal
        } else {
            Style::DoubleQuoted
        };
    }
    if is_old_bool(text) || is_base60_float(text) || resolves_to_non_string(text) {
        Style::DoubleQuoted
    } else {
        Style::Plain
    }
}

struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let (mut line_breaks, mut special, mut tabs) = (false, false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut preceded_by_ws, mut prev_space, mut prev_break) = (true, false, false);
    let mut chars = value.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let last = next.is_none();
        let followed_by_ws = next.is_none_or(|n| n == ' ' || n == '\t');
        if first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            leading_space |= first;
            trailing_space |= last;
            break_space |= prev_break;
            prev_space = true;
            prev_break = false;
        } else if is_line_break(c) {
            line_breaks = true;
            leading_break |= first;
            trailing_break |= last;
            space_break |= prev_space;
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = c == ' ' || c == '\t' || is_line_break(c) || c == '\0';
        first = false;
    }
    let mut a = Analysis {
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space || space_break || tabs || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

fn is_old_bool(text: &str) -> bool {
    matches!(
        text,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        match (b.get(i + 1), b.get(i + 2)) {
            (Some(b'0'..=b'5'), Some(b'0'..=b'9')) => i += 3,
            (Some(b'0'..=b'9'), _) => i += 2,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// Whether go-yaml would resolve `text`, written plain, to a non-string.
fn resolves_to_non_string(text: &str) -> bool {
    if matches!(
        text,
        "" | "~"
            | "null"
            | "Null"
            | "NULL"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
            | ".nan"
            | ".NaN"
            | ".NAN"
            | "<<"
    ) {
        return true;
    }
    match text.as_bytes().first() {
        Some(b'.') => is_yaml_float(text),
        Some(b'+' | b'-' | b'0'..=b'9') => {
            let plain: String = text.chars().filter(|&c| c != '_').collect();
            looks_like_timestamp(text) || is_go_int(&plain) || is_yaml_float(&plain)
        }
        _ => false,
    }
}

/// `YYYY-M-D` at the start, then the end or a time separator.
fn looks_like_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |from: usize, min: usize, max: usize| -> Option<usize> {
        let n = b
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .count();
        (n >= min).then_some(from + n)
    };
    let Some(i) = digits(0, 4, 4) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    let Some(i) = digits(i + 1, 1, 2) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    let Some(i) = digits(i + 1, 1, 2) else {
        return false;
    };
    matches!(b.get(i), None | Some(b'T' | b't' | b' ' | b'\t'))
}

/// Go's `strconv.ParseInt(s, 0, 64)` or `ParseUint(s, 0, 64)` succeeding.
fn is_go_int(s: &str) -> bool {
    let (negative, signed, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, true, &s[1..]),
        Some(b'+') => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    let lower = rest.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() {
        return false;
    }
    let mut value: u128 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else {
            return false;
        };
        value = value * u128::from(radix) + u128::from(d);
        if value > u128::from(u64::MAX) {
            return false;
        }
    }
    match (signed, negative) {
        (true, true) => value <= 1 << 63,
        (true, false) => value < 1 << 63,
        (false, _) => true,
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let count = |from: usize| {
        b.get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    if b.get(i) == Some(&b'.') {
        let n = count(i + 1);
        if n == 0 {
            return false;
        }
        i += 1 + n;
    } else {
        let n = count(i);
        if n == 0 {
            return false;
        }
        i += n;
        if b.get(i) == Some(&b'.') {
            i += 1 + count(i + 1);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = count(i);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_of_metadata_values() {
        assert_eq!(value_style("gvisor"), Style::Plain);
        assert_eq!(value_style("20220117.0-v1.0.0"), Style::Plain);
        assert_eq!(value_style(">= v1.0.0"), Style::SingleQuoted);
        assert_eq!(value_style(""), Style::DoubleQuoted);
        assert_eq!(value_style("1.0"), Style::DoubleQuoted);
        assert_eq!(value_style("10"), Style::DoubleQuoted);
        assert_eq!(value_style("0x1F"), Style::DoubleQuoted);
        assert_eq!(value_style("yes"), Style::DoubleQuoted);
        assert_eq!(value_style("2024-01-01"), Style::DoubleQuoted);
        assert_eq!(value_style("v1.8.0"), Style::Plain);
        assert_eq!(value_style("6.12.40-talos"), Style::Plain);
        assert_eq!(
            value_style("Image Factory (http://127.0.0.1:8080/)"),
            Style::Plain
        );
        assert_eq!(value_style("a: b"), Style::SingleQuoted);
        assert_eq!(value_style("tab\there"), Style::DoubleQuoted);
        assert_eq!(value_style("two\nlines\n"), Style::Literal);
        assert_eq!(value_style("trailing \nspace"), Style::DoubleQuoted);
        assert_eq!(value_style("\n"), Style::DoubleQuoted);
    }
}

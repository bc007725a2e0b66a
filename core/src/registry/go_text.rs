//! Go's text escapes, for the few strings that must be byte-identical to what
//! the Go factory and the sigstore Go libraries print.
//!
//! Two escapers live here: Go's `%q` (`strconv.Quote`), used by upstream's
//! `unknown registry path: %q` message, and `encoding/json`'s string encoder,
//! used for the cosign payload. Rust's `{:?}` and `serde_json` agree with them
//! on plain ASCII but not on control characters, `<`, `>`, `&` or U+2028/9, and
//! a payload that differs by one escape has a different signature.

use std::fmt::Write as _;

/// Quotes `s` as Go's `strconv.Quote` does.
///
/// Exact for ASCII and for the usual non-ASCII text. Go consults the full
/// Unicode printability table; we escape control characters, non-ASCII
/// whitespace and the common invisible format characters, which covers every
/// case a URL path is likely to carry.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            ' ' => out.push(' '),
            c if !go_is_print(c) => {
                let code = u32::from(c);
                if code < 0x10000 {
                    let _ = write!(out, "\\u{code:04x}");
                } else {
                    let _ = write!(out, "\\U{code:08x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Approximates Go's `unicode.IsPrint` for non-ASCII-control characters.
fn go_is_print(c: char) -> bool {
    const FORMAT: &[char] = &[
        '\u{ad}', '\u{600}', '\u{61c}', '\u{200b}', '\u{200c}', '\u{200d}', '\u{200e}', '\u{200f}',
        '\u{2060}', '\u{feff}',
    ];
    !(c.is_control()
        || c.is_whitespace()
        || FORMAT.contains(&c)
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
        || ('\u{e000}'..='\u{f8ff}').contains(&c))
}

/// Appends `s` to `out` as a JSON string the way Go's `json.Marshal` writes it
/// (HTML-safe escaping on, as `json.Marshal` always has it).
pub(crate) fn push_go_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Go 1.22 and later write these two short forms.
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_go_strconv_quote() {
        // Expected values are what Go's strconv.Quote returns for these inputs.
        for (input, want) in [
            ("/a/b/c/manifests/v1", r#""/a/b/c/manifests/v1""#),
            ("", r#""""#),
            ("say \"hi\"\\", r#""say \"hi\"\\""#),
            ("\u{7}\u{8}\u{c}\n\r\t\u{b}", r#""\a\b\f\n\r\t\v""#),
            ("\u{0}\u{1b}\u{7f}", r#""\x00\x1b\x7f""#),
            ("caf\u{e9} \u{1f600}", "\"caf\u{e9} \u{1f600}\""),
            (
                "\u{a0}\u{85}\u{200b}\u{feff}",
                r#""\u00a0\u0085\u200b\ufeff""#,
            ),
            ("%2F", r#""%2F""#),
        ] {
            assert_eq!(go_quote(input), want, "{input:?}");
        }
    }

    #[test]
    fn json_string_matches_go_encoding_json() {
        // Expected values are what Go's json.Marshal returns for these strings.
        for (input, want) in [
            (
                "ghcr.io/siderolabs/installer",
                r#""ghcr.io/siderolabs/installer""#,
            ),
            ("a<b>&c", r#""a\u003cb\u003e\u0026c""#),
            ("q\"\\", r#""q\"\\""#),
            ("\n\r\t\u{8}\u{c}", r#""\n\r\t\b\f""#),
            ("\u{0}\u{1f}\u{7f}", "\"\\u0000\\u001f\u{7f}\""),
            ("\u{2028}\u{2029}\u{e9}", "\"\\u2028\\u2029\u{e9}\""),
        ] {
            let mut out = String::new();
            push_go_json_string(&mut out, input);
            assert_eq!(out, want, "{input:?}");
        }
    }
}

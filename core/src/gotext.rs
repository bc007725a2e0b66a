//! Go's text escapes, for the strings that must be byte-identical to what
//! the Go factory, go-yaml and the sigstore Go libraries print.
//!
//! Two escapers live here: Go's `%q` (`strconv.Quote`), used in upstream's
//! error messages (`mapping key "x" already defined`, `unknown registry path:
//! %q`), and `encoding/json`'s string encoder, used for the cosign payload.
//! Rust's `{:?}` and `serde_json` agree with them on plain ASCII but not on
//! control characters, `<`, `>`, `&` or U+2028/9, and a payload that differs
//! by one escape has a different signature.
//!
//! Go keeps a rune as-is when `unicode.IsPrint` says so; Rust has no such
//! predicate, so printable is approximated as "not a control character, not
//! a whitespace other than the ASCII space, not a Unicode format, surrogate or
//! private-use character". The result is identical for ASCII and ordinary text.

use std::fmt::Write as _;

/// `strconv.Quote(s)`: a double-quoted Go string literal.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if is_print(c) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Approximation of Go's `unicode.IsPrint` (see the module docs).
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    // Format characters (category Cf) that commonly appear in text.
    !matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    ) && !matches!(c as u32, 0xd800..=0xdfff | 0xe000..=0xf8ff | 0xf0000..=0x10ffff)
}

/// Appends `s` to `out` as a JSON string the way Go's `json.Marshal` writes it
/// (HTML-safe escaping on, as `json.Marshal` always has it).
pub(crate) fn push_json_string(out: &mut String, s: &str) {
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
    fn quotes_like_strconv_quote() {
        let cases = [
            ("x", r#""x""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("tab\there\n", r#""tab\there\n""#),
            ("\u{1}", r#""\x01""#),
            ("\u{7f}", r#""\x7f""#),
            ("héllo", "\"héllo\""),
            ("\u{a0}", r#""\u00a0""#),
            ("\u{feff}", r#""\ufeff""#),
        ];
        for (input, want) in cases {
            assert_eq!(quote(input), want, "input {input:?}");
        }
    }

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
            assert_eq!(quote(input), want, "{input:?}");
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
            push_json_string(&mut out, input);
            assert_eq!(out, want, "{input:?}");
        }
    }
}

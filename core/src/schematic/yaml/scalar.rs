//! Which scalar styles the emitter may use for a text
//! (`yaml_emitter_analyze_scalar` in libyaml, `analyzeScalar` in go-yaml).
//!
//! The analysis looks at indicator characters (at the start and inside),
//! leading/trailing spaces and line breaks, tabs and characters go-yaml
//! does not consider printable, and decides whether plain, single-quoted
//! and block (literal) styles are allowed. The emitter then downgrades the
//! requested style: plain to single-quoted, single-quoted to double-quoted,
//! literal to double-quoted. Character classes follow go-yaml's byte-level
//! predicates exactly; note that go-yaml treats characters outside the
//! Basic Multilingual Plane (emoji) as non-printable, so they force double
//! quotes and are written as `\U0001F600`.

/// go-yaml's `isPrintable`.
pub(crate) fn is_printable(c: char) -> bool {
    matches!(c as u32, 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFEFE | 0xFF00..=0xFFFD)
}

/// go-yaml's `isLineBreak` (CR, LF, NEL, LS, PS).
pub(crate) fn is_line_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_blank_or_zero(c: char) -> bool {
    is_blank(c) || is_line_break(c) || c == '\0'
}

/// The result of analysing a scalar's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Analysis {
    pub(crate) multiline: bool,
    pub(crate) flow_plain_allowed: bool,
    pub(crate) block_plain_allowed: bool,
    pub(crate) single_quoted_allowed: bool,
    pub(crate) block_allowed: bool,
}

/// go-yaml's `analyzeScalar`.
pub(crate) fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain_allowed: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = false;
    let mut flow_indicators = false;
    if value.starts_with("---") || value.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let mut line_breaks = false;
    let mut special_characters = false;
    let mut tab_characters = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut preceded_by_whitespace = true;
    let mut previous_space = false;
    let mut previous_break = false;

    let mut chars = value.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let last = next.is_none();
        let followed_by_whitespace = next.is_none_or(is_blank);
        if first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                '?' | ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '-' if followed_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '#' if preceded_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        }

        if c == '\t' {
            tab_characters = true;
        } else if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            leading_space |= first;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_line_break(c) {
            line_breaks = true;
            leading_break |= first;
            trailing_break |= last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank_or_zero(c);
        first = false;
    }

    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain_allowed: true,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || tab_characters || special_characters {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        a.block_allowed = false;
    }
    if line_breaks {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if flow_indicators {
        a.flow_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// A scalar style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// go-yaml's `selectScalarStyle` for block context (`flow_level == 0`;
/// only empty collections are written in flow style, and they hold no
/// scalars). `Marshal` uses the legacy quote preference, under which the
/// emitter's own fallback quoting is single quotes.
pub(crate) fn select_style(
    requested: Style,
    value: &str,
    analysis: &Analysis,
    simple_key: bool,
) -> Style {
    let mut style = requested;
    if simple_key && analysis.multiline {
        style = Style::DoubleQuoted;
    }
    if style == Style::Plain {
        if !analysis.block_plain_allowed {
            style = Style::SingleQuoted;
        }
        if value.is_empty() && simple_key {
            style = Style::SingleQuoted;
        }
    }
    if style == Style::SingleQuoted && !analysis.single_quoted_allowed {
        style = Style::DoubleQuoted;
    }
    if style == Style::Literal && (!analysis.block_allowed || simple_key) {
        style = Style::DoubleQuoted;
    }
    style
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (text, plain, single, block) as go-yaml's analysis decides.
    #[test]
    fn analysis_flags() {
        let cases = [
            ("abc", true, true, true),
            ("", true, true, false),
            ("-dash", true, true, true),
            ("- x", false, true, true),
            ("-", false, true, true),
            ("?x", true, true, true),
            ("?", false, true, true),
            (":x", true, true, true),
            ("a: b", false, true, true),
            ("a:b", true, true, true),
            ("a:", false, true, true),
            ("a #b", false, true, true),
            ("a#b", true, true, true),
            ("#x", false, true, true),
            (" lead", false, true, true),
            ("trail ", false, true, false),
            ("a\tb", false, false, true),
            ("a\u{1}b", false, false, false),
            ("é😀", false, false, false),
            ("a\nb", false, true, true),
            ("a \nb", false, false, false),
            ("a\n b", false, false, true),
            ("---x", false, true, true),
            ("...", false, true, true),
            ("a\u{2028}b", false, true, true),
            ("a\u{85}b", false, false, false),
        ];
        for (text, plain, single, block) in cases {
            let a = analyze(text);
            assert_eq!(
                (
                    a.block_plain_allowed,
                    a.single_quoted_allowed,
                    a.block_allowed
                ),
                (plain, single, block),
                "text {text:?}"
            );
        }
    }

    #[test]
    fn style_downgrades() {
        let pick = |requested, text: &str, key| select_style(requested, text, &analyze(text), key);
        assert_eq!(pick(Style::Plain, "a: b", false), Style::SingleQuoted);
        assert_eq!(pick(Style::Plain, "a\tb", false), Style::DoubleQuoted);
        assert_eq!(pick(Style::Literal, "a \nb", false), Style::DoubleQuoted);
        assert_eq!(pick(Style::Literal, "a\nb", true), Style::DoubleQuoted);
        assert_eq!(pick(Style::Literal, "a\nb", false), Style::Literal);
        assert_eq!(pick(Style::SingleQuoted, "yes", false), Style::SingleQuoted);
        assert_eq!(pick(Style::DoubleQuoted, "10", false), Style::DoubleQuoted);
    }
}

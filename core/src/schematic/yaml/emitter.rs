//! The block-style YAML emitter of go-yaml (`emitter.go`, itself a port of
//! libyaml's `emitter.c`), reduced to what `yaml.Marshal` produces for a
//! schematic: an implicit document, block mappings and sequences, `{}` and
//! `[]` for empty collections, and scalars in plain, single-quoted,
//! double-quoted or literal style.
//!
//! The byte-exactness of schematic IDs depends on the details kept here:
//! the column/whitespace/indention bookkeeping that decides where spaces and
//! line breaks go, the indentation rule (`Marshal` uses 4 spaces; sequences
//! are indented under their key, and content inside a `- ` item is indented
//! by 2), the simple-key limit (a key longer than 128 bytes or spanning
//! lines is written as an explicit `? key` / `: value` pair), line
//! wrapping (none for `Marshal`, which sets the width to unlimited; plain
//! and quoted scalars outside simple keys fold at a space once the column
//! passes the width for `yaml.NewEncoder`, whose width is 80), double-quote
//! escapes,
//! and block-scalar headers (`|`, `|-`, `|+`, and the indentation indicator
//! go-yaml writes as the indent size when the text starts with a space).
//! Instead of libyaml's event queue and state stack, nodes are walked
//! recursively and the one piece of state the indentation rule reads (is
//! this node an item of a block sequence?) is passed down.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::schematic::yaml::scalar::{self, Style, analyze, is_line_break, is_printable};

/// Indentation `yaml.Marshal` uses (go-yaml's v3 defaults).
const BEST_INDENT: i64 = 4;

/// Longest key (in bytes, tag included) written as a simple `key: value`.
const MAX_SIMPLE_KEY: usize = 128;

/// A node to emit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node<'a> {
    Scalar(Scalar<'a>),
    Sequence(Vec<Node<'a>>),
    Mapping(Vec<(Node<'a>, Node<'a>)>),
}

/// A scalar with the style go-yaml's representer asked for and, rarely, an
/// explicit tag (go-yaml keeps `!!timestamp` when the text would not read
/// back as one).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar<'a> {
    pub(crate) value: Cow<'a, str>,
    pub(crate) style: Style,
    pub(crate) tag: Option<&'static str>,
}

/// Emits a document whose root is `root`, as `yaml.Marshal` would.
pub(crate) fn emit(root: &Node<'_>) -> String {
    emit_with_width(root, None)
}

/// Emits a document whose root is `root` with go-yaml's preferred line
/// width `width` (`None`: unlimited, as `yaml.Marshal` sets it).
pub(crate) fn emit_with_width(root: &Node<'_>, width: Option<usize>) -> String {
    let mut e = Emitter {
        width,
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
        indent: -1,
        indents: Vec::new(),
    };
    e.node(
        root,
        Context {
            simple_key: false,
            in_sequence: false,
        },
    );
    // Document end: finish the last line.
    e.write_indent();
    e.out
}

#[derive(Debug, Clone, Copy)]
struct Context {
    /// Emitting a simple (implicit) mapping key.
    simple_key: bool,
    /// The node is an item of a block sequence.
    in_sequence: bool,
}

struct Emitter {
    /// Preferred line width (`best_width`); `None` never folds.
    width: Option<usize>,
    out: String,
    /// Current column, counted in characters.
    column: usize,
    /// The last character written was whitespace.
    whitespace: bool,
    /// The last characters written were indentation (spaces, `-`, `?`, `:`).
    indention: bool,
    indent: i64,
    indents: Vec<i64>,
}

impl Emitter {
    fn node(&mut self, node: &Node<'_>, ctx: Context) {
        match node {
            Node::Scalar(scalar) => self.scalar(scalar, ctx),
            Node::Sequence(items) if items.is_empty() => self.empty_flow("[", "]", ctx),
            Node::Mapping(pairs) if pairs.is_empty() => self.empty_flow("{", "}", ctx),
            Node::Sequence(items) => self.block_sequence(items, ctx),
            Node::Mapping(pairs) => self.block_mapping(pairs, ctx),
        }
    }

    fn empty_flow(&mut self, open: &str, close: &str, ctx: Context) {
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, ctx.in_sequence);
        self.pop_indent();
        if self.column == 0 {
            self.write_indent();
        }
        self.write_indicator(close, false, false, false);
    }

    fn block_sequence(&mut self, items: &[Node<'_>], ctx: Context) {
        self.increase_indent(false, ctx.in_sequence);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(
                item,
                Context {
                    simple_key: false,
                    in_sequence: true,
                },
            );
        }
        self.pop_indent();
    }

    fn block_mapping(&mut self, pairs: &[(Node<'_>, Node<'_>)], ctx: Context) {
        self.increase_indent(false, ctx.in_sequence);
        for (key, value) in pairs {
            self.write_indent();
            let plain = Context {
                simple_key: false,
                in_sequence: false,
            };
            if is_simple_key(key) {
                self.node(
                    key,
                    Context {
                        simple_key: true,
                        in_sequence: false,
                    },
                );
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.node(key, plain);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(value, plain);
        }
        self.pop_indent();
    }

    fn scalar(&mut self, scalar: &Scalar<'_>, ctx: Context) {
        let value = scalar.value.as_ref();
        let analysis = analyze(value);
        let style = scalar::select_style(scalar.style, value, &analysis, ctx.simple_key);
        if let Some(tag) = scalar.tag {
            // A core tag is written with the `!!` handle.
            if !self.whitespace {
                self.put(' ');
            }
            self.write_str(tag);
            self.whitespace = false;
            self.indention = false;
        }
        self.increase_indent(true, ctx.in_sequence);
        let allow_breaks = !ctx.simple_key;
        match style {
            Style::Plain => self.write_plain(value, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted(value, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted(value, allow_breaks),
            Style::Literal => self.write_literal(value),
        }
        self.pop_indent();
    }

    fn increase_indent(&mut self, flow: bool, in_sequence: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if in_sequence {
            // The first indent inside a sequence item just skips the "- ".
            self.indent += 2;
        } else {
            self.indent = BEST_INDENT * ((self.indent + BEST_INDENT) / BEST_INDENT);
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    /// go-yaml's `column > best_width`: the line is past the width, so the
    /// next foldable space becomes a line break.
    fn past_width(&self) -> bool {
        self.width.is_some_and(|width| self.column > width)
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn write_char(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn write_str(&mut self, s: &str) {
        for c in s.chars() {
            self.write_char(c);
        }
    }

    fn put_line_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
        self.indention = true;
    }

    /// A line break character from the scalar itself.
    fn write_line_break(&mut self, c: char) {
        if c == '\n' {
            self.put_line_break();
        } else {
            self.out.push(c);
            self.column = 0;
            self.indention = true;
        }
    }

    fn write_indent(&mut self) {
        let indent = usize::try_from(self.indent.max(0)).unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_line_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        self.write_str(indicator);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn write_plain(&mut self, value: &str, allow_breaks: bool) {
        if !value.is_empty() && !self.whitespace {
            self.put(' ');
        }
        // Plain style is only chosen for text without line breaks; past the
        // width, the first of a run of spaces not followed by another space
        // becomes a line break (and the space is dropped).
        let mut chars = value.chars().peekable();
        let (mut spaces, mut breaks) = (false, false);
        while let Some(c) = chars.next() {
            if c == ' ' {
                let next_is_space = chars.peek() == Some(&' ');
                if allow_breaks && !spaces && self.past_width() && !next_is_space {
                    self.write_indent();
                } else {
                    self.write_char(c);
                }
                spaces = true;
            } else if is_line_break(c) {
                if !breaks && c == '\n' {
                    self.put_line_break();
                }
                self.write_line_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write_char(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        if !value.is_empty() {
            self.whitespace = false;
        }
        self.indention = false;
    }

    fn write_single_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let mut chars = value.chars().enumerate().peekable();
        let (mut spaces, mut breaks) = (false, false);
        while let Some((i, c)) = chars.next() {
            if c == ' ' {
                // Only inner spaces fold, and not the first of a double space.
                let next = chars.peek().map(|&(_, n)| n);
                let inner = i > 0 && next.is_some();
                if allow_breaks && !spaces && self.past_width() && inner && next != Some(' ') {
                    self.write_indent();
                } else {
                    self.write_char(c);
                }
                spaces = true;
            } else if is_line_break(c) {
                if !breaks && c == '\n' {
                    self.put_line_break();
                }
                self.write_line_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.write_char(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        // go-yaml checks for a byte order mark at the start of the *value*
        // for every character, so a leading BOM escapes the whole text.
        let leading_bom = value.starts_with('\u{feff}');
        let mut chars = value.chars().enumerate().peekable();
        let mut spaces = false;
        while let Some((i, c)) = chars.next() {
            if !is_printable(c) || leading_bom || is_line_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ => {
                        let code = c as u32;
                        let mut hex = String::new();
                        let _ = if code <= 0xFF {
                            write!(hex, "x{code:02X}")
                        } else if code <= 0xFFFF {
                            write!(hex, "u{code:04X}")
                        } else {
                            write!(hex, "U{code:08X}")
                        };
                        for h in hex.chars() {
                            self.put(h);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                // Past the width an inner space folds; a following space
                // is kept by escaping the line break (`\` at the new line).
                let next = chars.peek().map(|&(_, n)| n);
                let inner = i > 0 && next.is_some();
                if allow_breaks && !spaces && self.past_width() && inner {
                    self.write_indent();
                    if next == Some(' ') {
                        self.put('\\');
                    }
                } else {
                    self.write_char(c);
                }
                spaces = true;
            } else {
                self.write_char(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        self.write_block_scalar_hints(value);
        self.put_line_break();
        self.whitespace = true;
        let mut breaks = true;
        for c in value.chars() {
            if is_line_break(c) {
                self.write_line_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write_char(c);
                self.indention = false;
                breaks = false;
            }
        }
    }

    fn write_block_scalar_hints(&mut self, value: &str) {
        if value.starts_with(' ') {
            // go-yaml writes its indent size here, whatever the actual
            // distance to the parent's indentation.
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let mut rev = value.chars().rev();
        let chomp = match (rev.next(), rev.next()) {
            (None, _) => Some('-'),
            (Some(last), _) if !is_line_break(last) => Some('-'),
            (Some(_), None) => Some('+'),
            (Some(_), Some(before)) if is_line_break(before) => Some('+'),
            _ => None,
        };
        if let Some(chomp) = chomp {
            let mut buf = [0u8; 4];
            self.write_indicator(chomp.encode_utf8(&mut buf), false, false, false);
        }
    }
}

/// libyaml's `check_simple_key` for the node types schematics use.
fn is_simple_key(key: &Node<'_>) -> bool {
    match key {
        Node::Scalar(scalar) => {
            let tag_len = scalar.tag.map_or(0, str::len);
            !analyze(&scalar.value).multiline && scalar.value.len() + tag_len <= MAX_SIMPLE_KEY
        }
        Node::Sequence(items) => items.is_empty(),
        Node::Mapping(pairs) => pairs.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(value: &str, style: Style) -> Node<'_> {
        Node::Scalar(Scalar {
            value: Cow::Borrowed(value),
            style,
            tag: None,
        })
    }

    fn plain(value: &str) -> Node<'_> {
        s(value, Style::Plain)
    }

    #[test]
    fn nested_layout_matches_go_yaml() {
        let doc = Node::Mapping(vec![(
            plain("customization"),
            Node::Mapping(vec![
                (
                    plain("extraKernelArgs"),
                    Node::Sequence(vec![plain("noapic"), plain("nolapic")]),
                ),
                (
                    plain("meta"),
                    Node::Sequence(vec![Node::Mapping(vec![
                        (plain("key"), plain("10")),
                        (plain("value"), plain("foo")),
                    ])]),
                ),
                (plain("empty"), Node::Mapping(vec![])),
                (
                    plain("list"),
                    Node::Sequence(vec![
                        Node::Sequence(vec![plain("a")]),
                        Node::Sequence(vec![]),
                    ]),
                ),
            ]),
        )]);
        assert_eq!(
            emit(&doc),
            "customization:\n    extraKernelArgs:\n        - noapic\n        - nolapic\n    meta:\n        - key: 10\n          value: foo\n    empty: {}\n    list:\n        - - a\n        - []\n"
        );
    }

    #[test]
    fn empty_root_struct_field() {
        let doc = Node::Mapping(vec![(plain("customization"), Node::Mapping(vec![]))]);
        assert_eq!(emit(&doc), "customization: {}\n");
    }

    #[test]
    fn literal_blocks() {
        let doc = Node::Mapping(vec![
            (plain("a"), s("x\ny", Style::Literal)),
            (plain("b"), s("x\ny\n", Style::Literal)),
            (plain("c"), s("x\n\n", Style::Literal)),
            (plain("d"), s(" x\ny", Style::Literal)),
        ]);
        assert_eq!(
            emit(&doc),
            "a: |-\n    x\n    y\nb: |\n    x\n    y\nc: |+\n    x\n\nd: |4-\n     x\n    y\n"
        );
    }

    #[test]
    fn long_and_multiline_keys_are_explicit() {
        let long = "k".repeat(129);
        let doc = Node::Mapping(vec![
            (plain(&long), plain("v")),
            (s("a\nb", Style::Literal), plain("w")),
            (plain(&long[..128]), plain("x")),
        ]);
        let want = format!(
            "? {long}\n: v\n? |-\n    a\n    b\n: w\n{}: x\n",
            &long[..128]
        );
        assert_eq!(emit(&doc), want);
    }

    #[test]
    fn double_quote_escapes() {
        let doc = Node::Mapping(vec![(
            plain("k"),
            s(
                "\u{0}\u{7}\u{8}\t\n\u{b}\u{c}\r\u{1b}\"\\\u{85}\u{a0}\u{2028}\u{2029}\u{1}\u{7f}\u{fffe}😀é",
                Style::DoubleQuoted,
            ),
        )]);
        assert_eq!(
            emit(&doc),
            // U+00A0 is printable for go-yaml, so it stays raw; `\\_` is only
            // used when a leading BOM forces every character to be escaped.
            "k: \"\\0\\a\\b\\t\\n\\v\\f\\r\\e\\\"\\\\\\N\u{a0}\\L\\P\\x01\\x7F\\uFFFE\\U0001F600é\"\n"
        );
        let bom = Node::Mapping(vec![(plain("k"), s("\u{feff}ab", Style::DoubleQuoted))]);
        assert_eq!(emit(&bom), "k: \"\\uFEFF\\x61\\x62\"\n");
    }
}

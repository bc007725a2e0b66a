//! go-yaml's block emitter for `yaml.NewEncoder(w).Encode(v)`: 4-space
//! indentation, sequences indented under their key, and a preferred line
//! width of 80 (the encoder, unlike `yaml.Marshal`, keeps go-yaml v3's
//! width, so long plain and quoted scalars are folded at spaces once a line
//! passes column 80; literal blocks never fold).
//!
//! This is a port of the emitter's bookkeeping (column, whitespace and
//! indention flags, the indentation rule: content of a `- ` item is indented
//! by 2, everything else rounds up to the next multiple of 4) for the shapes
//! `extensions.yaml` needs: block mappings with short plain keys, block
//! sequences, and string scalars.

use super::style::{Style, is_line_break, is_printable, value_style};

const BEST_INDENT: i64 = 4;
const BEST_WIDTH: usize = 80;

/// A node to emit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    /// A block mapping with plain keys (never empty in our documents, but
    /// written `{}` if so).
    Map(Vec<(&'static str, Node)>),
    /// A block sequence (`[]` when empty).
    Seq(Vec<Node>),
    /// A string value.
    Str(String),
}

/// The document `Encode` writes for `root`.
pub(crate) fn encode(root: &Node) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
        indent: -1,
        indents: Vec::new(),
    };
    e.node(root, false);
    e.write_indent();
    e.out
}

struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    indent: i64,
    indents: Vec<i64>,
}

impl Emitter {
    fn node(&mut self, node: &Node, in_sequence: bool) {
        match node {
            Node::Str(s) => self.scalar(s, in_sequence),
            Node::Seq(items) if items.is_empty() => self.empty_flow("[]", in_sequence),
            Node::Map(pairs) if pairs.is_empty() => self.empty_flow("{}", in_sequence),
            Node::Seq(items) => {
                self.increase_indent(false, in_sequence);
                for item in items {
                    self.write_indent();
                    self.write_indicator("-", true, false, true);
                    self.node(item, true);
                }
                self.pop_indent();
            }
            Node::Map(pairs) => {
                self.increase_indent(false, in_sequence);
                for (key, value) in pairs {
                    self.write_indent();
                    self.write_plain(key, false);
                    self.write_indicator(":", false, false, false);
                    self.node(value, false);
                }
                self.pop_indent();
            }
        }
    }

    fn empty_flow(&mut self, brackets: &str, in_sequence: bool) {
        let (open, close) = brackets.split_at(1);
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, in_sequence);
        self.pop_indent();
        self.write_indicator(close, false, false, false);
    }

    fn scalar(&mut self, value: &str, in_sequence: bool) {
        self.increase_indent(true, in_sequence);
        match value_style(value) {
            Style::Plain => self.write_plain(value, true),
            Style::SingleQuoted => self.write_single_quoted(value),
            Style::DoubleQuoted => self.write_double_quoted(value),
            Style::Literal => self.write_literal(value),
        }
        self.pop_indent();
    }

    fn increase_indent(&mut self, flow: bool, in_sequence: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if in_sequence {
            self.indent += 2;
        } else {
            self.indent = BEST_INDENT * ((self.indent + BEST_INDENT) / BEST_INDENT);
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_line_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
        self.indention = true;
    }

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

    fn write_indicator(&mut self, indicator: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        for c in indicator.chars() {
            self.put(c);
        }
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    fn write_plain(&mut self, value: &str, allow_breaks: bool) {
        if !value.is_empty() && !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = value.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_is_space {
                    self.write_indent();
                } else {
                    self.put(c);
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
                self.put(c);
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

    fn write_single_quoted(&mut self, value: &str) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let inner = i > 0 && i + 1 < chars.len();
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if !spaces && self.column > BEST_WIDTH && inner && !next_is_space {
                    self.write_indent();
                } else {
                    self.put(c);
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
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, value: &str) {
        self.write_indicator("\"", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let leading_bom = chars.first() == Some(&'\u{feff}');
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || leading_bom || is_line_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let short = match c {
                    '\0' => Some('0'),
                    '\u{7}' => Some('a'),
                    '\u{8}' => Some('b'),
                    '\t' => Some('t'),
                    '\n' => Some('n'),
                    '\u{b}' => Some('v'),
                    '\u{c}' => Some('f'),
                    '\r' => Some('r'),
                    '\u{1b}' => Some('e'),
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    '\u{85}' => Some('N'),
                    '\u{a0}' => Some('_'),
                    '\u{2028}' => Some('L'),
                    '\u{2029}' => Some('P'),
                    _ => None,
                };
                match short {
                    Some(s) => self.put(s),
                    None => {
                        let code = c as u32;
                        let hex = if code <= 0xFF {
                            format!("x{code:02X}")
                        } else if code <= 0xFFFF {
                            format!("u{code:04X}")
                        } else {
                            format!("U{code:08X}")
                        };
                        for h in hex.chars() {
                            self.put(h);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                let inner = i > 0 && i + 1 < chars.len();
                if !spaces && self.column > BEST_WIDTH && inner {
                    self.write_indent();
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        if value.starts_with(' ') {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let mut rev = value.chars().rev();
        let chomp = match (rev.next(), rev.next()) {
            (None, _) => Some("-"),
            (Some(last), _) if !is_line_break(last) => Some("-"),
            (Some(_), None) => Some("+"),
            (Some(_), Some(before)) if is_line_break(before) => Some("+"),
            _ => None,
        };
        if let Some(chomp) = chomp {
            self.write_indicator(chomp, false, false, false);
        }
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
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Node {
        Node::Str(v.to_owned())
    }

    #[test]
    fn layout_of_nested_values() {
        let doc = Node::Map(vec![(
            "layers",
            Node::Seq(vec![Node::Map(vec![
                ("image", s("0.sqsh")),
                (
                    "metadata",
                    Node::Map(vec![
                        ("name", s("gvisor")),
                        ("description", s("two\nlines\n")),
                        (
                            "compatibility",
                            Node::Map(vec![(
                                "talos",
                                Node::Map(vec![("version", s(">= v1.0.0"))]),
                            )]),
                        ),
                    ]),
                ),
            ])]),
        )]);
        assert_eq!(
            encode(&doc),
            "layers:\n    - image: 0.sqsh\n      metadata:\n        name: gvisor\n        description: |\n            two\n            lines\n        compatibility:\n            talos:\n                version: '>= v1.0.0'\n"
        );
    }

    #[test]
    fn long_plain_values_fold_past_column_80() {
        let text =
            "Virtual extension which specifies the schematic of the image built with schematic.";
        let doc = Node::Map(vec![("m", Node::Map(vec![("description", s(text))]))]);
        // "    description: " is 17 columns; the first space past column 80
        // breaks the line, continuing at the value's indentation (8).
        assert_eq!(
            encode(&doc),
            "m:\n    description: Virtual extension which specifies the schematic of the image built\n        with schematic.\n"
        );
    }

    #[test]
    fn empty_collections_and_strings() {
        let doc = Node::Map(vec![("layers", Node::Seq(vec![])), ("v", s(""))]);
        assert_eq!(encode(&doc), "layers: []\nv: \"\"\n");
    }
}

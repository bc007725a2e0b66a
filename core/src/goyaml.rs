//! go-yaml's (`go.yaml.in/yaml/v4`) encoder output for small value trees.
//!
//! Talos writes some files the factory must reproduce byte for byte with
//! go-yaml: the initramfs `extensions.yaml` and extension `manifest.yaml`
//! files (`yaml.NewEncoder(w).Encode(v)`, preferred line width 80), besides
//! the schematic's canonical form (`yaml.Marshal`, unlimited width). All of
//! them go through the one go-yaml emitter port in [`crate::schematic`], so
//! scalar quoting, indentation and folding rules live in a single place;
//! this module only exposes it for a generic tree of Go values.
//!
//! A [`Node`] stands for what go-yaml's representer sees: a struct or map
//! with keys in the order to write them (struct field order; callers apply
//! `omitempty` themselves), a slice, a string, an integer, a boolean or nil.
//! Strings get go-yaml's style choice (plain unless the text would read
//! back as another type, is a YAML 1.1 boolean or needs quoting; literal
//! blocks for multi-line text), exactly as in schematics.

use std::borrow::Cow;

use crate::schematic::encode::string;
use crate::schematic::yaml::emitter::{self, Scalar};
use crate::schematic::yaml::scalar::Style;

/// The line width go-yaml's `yaml.NewEncoder` keeps (go-yaml v3's default).
pub const ENCODER_LINE_WIDTH: usize = 80;

/// A Go value, as go-yaml's representer turns it into YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A struct or map: keys in the order they are written (`{}` if empty).
    Map(Vec<(String, Node)>),
    /// A slice (`[]` if empty).
    List(Vec<Node>),
    /// A string, styled as go-yaml styles Go strings.
    Str(String),
    /// A signed integer, written in decimal.
    Int(i64),
    /// A boolean (`true`/`false`).
    Bool(bool),
    /// A nil pointer, map or interface (`null`).
    Null,
}

impl Node {
    /// A map from `(key, value)` pairs, in order.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Node)>) -> Self {
        Self::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A string node.
    pub fn str(text: impl Into<String>) -> Self {
        Self::Str(text.into())
    }
}

/// How to encode: the settings that differ between go-yaml's entry points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EncodeOptions {
    /// go-yaml's preferred line width: once a line passes this column, the
    /// next space inside a plain, single- or double-quoted scalar (not a
    /// key) becomes a line break. `None` never folds (`yaml.Marshal`).
    /// As in go-yaml, a width of at most twice the indentation (8) means 80.
    pub line_width: Option<usize>,
}

impl EncodeOptions {
    /// `yaml.Marshal`: unlimited width.
    pub const MARSHAL: Self = Self { line_width: None };
    /// `yaml.NewEncoder(w).Encode(v)`: width [`ENCODER_LINE_WIDTH`].
    pub const ENCODER: Self = Self {
        line_width: Some(ENCODER_LINE_WIDTH),
    };
}

/// The document go-yaml writes for `root` (4-space indentation, sequences
/// indented under their key, a final line break).
pub fn encode(root: &Node, options: &EncodeOptions) -> String {
    // go-yaml's emitter: `best_width <= 2 * best_indent` falls back to 80.
    let width = options
        .line_width
        .map(|w| if w <= 8 { ENCODER_LINE_WIDTH } else { w });
    emitter::emit_with_width(&to_emitter(root), width)
}

fn to_emitter(node: &Node) -> emitter::Node<'_> {
    match node {
        Node::Map(pairs) => emitter::Node::Mapping(
            pairs
                .iter()
                .map(|(key, value)| (string(key), to_emitter(value)))
                .collect(),
        ),
        Node::List(items) => emitter::Node::Sequence(items.iter().map(to_emitter).collect()),
        Node::Str(text) => string(text),
        Node::Int(i) => plain(i.to_string()),
        Node::Bool(b) => plain(if *b { "true" } else { "false" }),
        Node::Null => plain("null"),
    }
}

fn plain<'a>(text: impl Into<Cow<'a, str>>) -> emitter::Node<'a> {
    emitter::Node::Scalar(Scalar {
        value: text.into(),
        style: Style::Plain,
        tag: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schematic::encode::string_style;
    use crate::schematic::yaml::scalar::{analyze, select_style};

    fn s(v: &str) -> Node {
        Node::str(v)
    }

    fn encoder(root: &Node) -> String {
        encode(root, &EncodeOptions::ENCODER)
    }

    /// The style a string mapping value ends up in.
    fn value_style(text: &str) -> Style {
        select_style(string_style(text), text, &analyze(text), false)
    }

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

    #[test]
    fn layout_of_nested_values() {
        let doc = Node::map([(
            "layers",
            Node::List(vec![Node::map([
                ("image", s("0.sqsh")),
                (
                    "metadata",
                    Node::map([
                        ("name", s("gvisor")),
                        ("description", s("two\nlines\n")),
                        (
                            "compatibility",
                            Node::map([("talos", Node::map([("version", s(">= v1.0.0"))]))]),
                        ),
                    ]),
                ),
            ])]),
        )]);
        assert_eq!(
            encoder(&doc),
            "layers:\n    - image: 0.sqsh\n      metadata:\n        name: gvisor\n        description: |\n            two\n            lines\n        compatibility:\n            talos:\n                version: '>= v1.0.0'\n"
        );
    }

    #[test]
    fn long_plain_values_fold_past_column_80() {
        let text =
            "Virtual extension which specifies the schematic of the image built with schematic.";
        let doc = Node::map([("m", Node::map([("description", s(text))]))]);
        // "    description: " is 17 columns; the first space past column 80
        // breaks the line, continuing at the value's indentation (8).
        assert_eq!(
            encoder(&doc),
            "m:\n    description: Virtual extension which specifies the schematic of the image built\n        with schematic.\n"
        );
        // Marshal never folds.
        assert_eq!(
            encode(&doc, &EncodeOptions::MARSHAL),
            format!("m:\n    description: {text}\n")
        );
    }

    #[test]
    fn quoted_values_fold_like_go_yaml() {
        let words = "word ".repeat(20);
        // Single-quoted (leading indicator): folds at the first inner space
        // past the width, not before a second space.
        let single = format!("# {words}end");
        let got = encoder(&Node::map([("k", s(&single))]));
        // The space after the 16th word sits at column 85, the first past 80.
        assert_eq!(
            got,
            format!(
                "k: '# {}word\n    word word word word end'\n",
                "word ".repeat(15)
            )
        );
        // Double-quoted (a tab forces it): a fold before a second space
        // keeps that space with a `\` at the start of the next line.
        let double = format!("\t{}  end", "x".repeat(85));
        assert_eq!(
            encoder(&Node::map([("k", s(&double))])),
            format!("k: \"\\t{}\n    \\ end\"\n", "x".repeat(85))
        );
        // Keys never fold.
        let key = format!("{}x", "a ".repeat(50));
        assert_eq!(
            encoder(&Node::map([(key.as_str(), Node::Null)])),
            format!("{key}: null\n")
        );
    }

    #[test]
    fn empty_collections_and_strings() {
        let doc = Node::map([("layers", Node::List(vec![])), ("v", s(""))]);
        assert_eq!(encoder(&doc), "layers: []\nv: \"\"\n");
    }

    #[test]
    fn non_string_scalars() {
        let doc = Node::map([
            ("i", Node::Int(-3)),
            ("b", Node::Bool(true)),
            ("nil", Node::Null),
            ("s", s("true")),
            // A string key is styled like any string: `n` is a YAML 1.1 bool.
            ("n", s("x")),
        ]);
        assert_eq!(
            encoder(&doc),
            "i: -3\nb: true\nnil: null\ns: \"true\"\n\"n\": x\n"
        );
    }

    #[test]
    fn tiny_widths_mean_80() {
        let text = "a ".repeat(60);
        let doc = Node::map([("k", s(text.trim_end()))]);
        assert_eq!(
            encode(
                &doc,
                &EncodeOptions {
                    line_width: Some(4)
                }
            ),
            encoder(&doc)
        );
    }
}

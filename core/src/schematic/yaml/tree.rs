//! go-yaml's composer stage: the first YAML document as a node tree.
//!
//! `saphyr-parser` supplies the events; this module keeps exactly what
//! go-yaml's decoder looks at for each node: its kind, the scalar text and
//! style (plain versus quoted/block matters for typing), the explicit tag in
//! go-yaml's short form (`!!int`, `!foo`, `!`), and the 1-based line and
//! column. Nodes live in an arena and aliases point at their anchor's node,
//! so an alias costs nothing until it is decoded (where the expansion is
//! bounded) and an alias inside its own anchor is a cycle the decoder
//! detects, as go-yaml does.
//!
//! Only the first document is read (go-yaml's `Decoder.Decode`); parsing
//! stops at its end. Nesting depth and node count are bounded so hostile
//! input is a clean error, never deep recursion or unbounded memory.

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};

use crate::schematic::error::{FatalProblem, LoadFailure, Mark, Stage};

/// Index of a node in [`Tree::nodes`].
pub(crate) type NodeId = usize;

/// Deepest allowed nesting of mappings and sequences (also applied to
/// nesting through aliases when decoding).
pub(crate) const MAX_DEPTH: usize = 64;

/// Most nodes a document may have.
pub(crate) const MAX_NODES: usize = 250_000;

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// What a node is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Scalar {
        value: String,
        style: Style,
    },
    Sequence(Vec<NodeId>),
    Mapping(Vec<(NodeId, NodeId)>),
    /// An alias; `name` is the anchor name as written.
    Alias {
        target: NodeId,
        name: String,
    },
}

/// One node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    /// Explicit tag in go-yaml's short form, if the document wrote one.
    pub(crate) tag: Option<String>,
    pub(crate) mark: Mark,
}

/// The first document of a stream.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: NodeId,
}

impl Tree {
    /// The node with this id. Ids come from the tree itself, so the lookup
    /// cannot fail; a placeholder keeps this total without panicking.
    pub(crate) fn node(&self, id: NodeId) -> &Node {
        self.nodes.get(id).unwrap_or(&PLACEHOLDER)
    }
}

static PLACEHOLDER: Node = Node {
    kind: Kind::Sequence(Vec::new()),
    tag: None,
    mark: Mark { line: 0, column: 0 },
};

/// Why no tree could be built.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ComposeError {
    /// The stream holds no document (go-yaml: `io.EOF`).
    NoDocument,
    /// The YAML is malformed.
    Syntax { mark: Mark, message: String },
    /// A limit or anchor problem.
    Load(LoadFailure),
}

/// Collection being filled while its events arrive.
struct Open {
    id: NodeId,
    children: Vec<NodeId>,
}

/// Parses the first document of `text` into a tree.
pub(crate) fn compose(text: &str) -> Result<Tree, ComposeError> {
    let mut builder = Builder {
        text,
        cursor: CharCursor::default(),
        nodes: Vec::new(),
        open: Vec::new(),
        anchors: Vec::new(),
        root: None,
    };
    let mut parser = Parser::new_from_str(text);
    let mut in_document = false;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| builder.scan_error(&e))?;
        match event {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => in_document = true,
            Event::DocumentEnd => break,
            Event::Alias(anchor) => builder.alias(anchor, span)?,
            Event::Scalar(value, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let kind = Kind::Scalar {
                    value: value.into_owned(),
                    style,
                };
                let id = builder.push(kind, tag.as_deref(), anchor, span)?;
                builder.attach(id);
            }
            Event::SequenceStart(anchor, tag) => {
                let id = builder.push(Kind::Sequence(Vec::new()), tag.as_deref(), anchor, span)?;
                builder.open_collection(id, span)?;
            }
            Event::MappingStart(anchor, tag) => {
                let id = builder.push(Kind::Mapping(Vec::new()), tag.as_deref(), anchor, span)?;
                builder.open_collection(id, span)?;
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close_collection(),
        }
    }
    match builder.root {
        Some(root) if in_document => Ok(Tree {
            nodes: builder.nodes,
            root,
        }),
        _ => Err(ComposeError::NoDocument),
    }
}

struct Builder<'t> {
    text: &'t str,
    cursor: CharCursor,
    nodes: Vec<Node>,
    open: Vec<Open>,
    /// Anchor id (from the parser) to node; ids start at 1.
    anchors: Vec<Option<NodeId>>,
    root: Option<NodeId>,
}

impl Builder<'_> {
    fn mark(span: Span) -> Mark {
        Mark {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }

    fn push(
        &mut self,
        kind: Kind,
        tag: Option<&Tag>,
        anchor: usize,
        span: Span,
    ) -> Result<NodeId, ComposeError> {
        if self.nodes.len() >= MAX_NODES {
            return Err(ComposeError::Load(LoadFailure {
                stage: Stage::Composer,
                mark: Some(Self::mark(span)),
                problem: FatalProblem::TooManyNodes { limit: MAX_NODES },
            }));
        }
        let id = self.nodes.len();
        self.nodes.push(Node {
            kind,
            tag: tag.map(short_tag),
            mark: Self::mark(span),
        });
        if anchor > 0 {
            if self.anchors.len() <= anchor {
                self.anchors.resize(anchor + 1, None);
            }
            if let Some(slot) = self.anchors.get_mut(anchor) {
                *slot = Some(id);
            }
        }
        Ok(id)
    }

    /// Records a finished node as the next child of the open collection,
    /// or as the document root.
    fn attach(&mut self, id: NodeId) {
        match self.open.last_mut() {
            Some(parent) => parent.children.push(id),
            None => self.root = Some(id),
        }
    }

    fn open_collection(&mut self, id: NodeId, span: Span) -> Result<(), ComposeError> {
        if self.open.len() >= MAX_DEPTH {
            return Err(ComposeError::Load(LoadFailure {
                stage: Stage::Composer,
                mark: Some(Self::mark(span)),
                problem: FatalProblem::TooDeep { limit: MAX_DEPTH },
            }));
        }
        self.open.push(Open {
            id,
            children: Vec::new(),
        });
        Ok(())
    }

    fn close_collection(&mut self) {
        let Some(Open { id, children }) = self.open.pop() else {
            return;
        };
        if let Some(node) = self.nodes.get_mut(id) {
            match &mut node.kind {
                Kind::Sequence(items) => *items = children,
                Kind::Mapping(pairs) => {
                    let mut iter = children.into_iter();
                    while let (Some(key), Some(value)) = (iter.next(), iter.next()) {
                        pairs.push((key, value));
                    }
                }
                Kind::Scalar { .. } | Kind::Alias { .. } => {}
            }
        }
        self.attach(id);
    }

    fn alias(&mut self, anchor: usize, span: Span) -> Result<(), ComposeError> {
        let name = self.alias_name(span);
        let Some(target) = self.anchors.get(anchor).copied().flatten() else {
            return Err(ComposeError::Load(LoadFailure {
                stage: Stage::Composer,
                mark: Some(Self::mark(span)),
                problem: FatalProblem::UnknownAnchor { name },
            }));
        };
        let id = self.push(Kind::Alias { target, name }, None, 0, span)?;
        self.attach(id);
        Ok(())
    }

    /// The name of an alias token (`*name`), read back from the source.
    fn alias_name(&mut self, span: Span) -> String {
        let start = self.cursor.byte_offset(self.text, span.start.index());
        let end = self.cursor.byte_offset(self.text, span.end.index());
        self.text
            .get(start..end)
            .unwrap_or_default()
            .trim_start_matches('*')
            .to_owned()
    }

    fn scan_error(&mut self, error: &ScanError) -> ComposeError {
        let marker = error.marker();
        let mark = Mark {
            line: marker.line(),
            column: marker.col() + 1,
        };
        if error.info() == "while parsing node, found unknown anchor" {
            // Report it as go-yaml's composer does, naming the anchor.
            let start = self.cursor.byte_offset(self.text, marker.index());
            let rest = self.text.get(start..).unwrap_or_default();
            let name: String = rest
                .trim_start_matches('*')
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
                .collect();
            return ComposeError::Load(LoadFailure {
                stage: Stage::Composer,
                mark: Some(mark),
                problem: FatalProblem::UnknownAnchor { name },
            });
        }
        ComposeError::Syntax {
            mark,
            message: error.info().to_owned(),
        }
    }
}

/// Turns the parser's character indices into byte offsets, walking forward
/// from the last position (positions mostly arrive in increasing order).
#[derive(Debug, Default)]
struct CharCursor {
    chars: usize,
    bytes: usize,
}

impl CharCursor {
    fn byte_offset(&mut self, text: &str, char_index: usize) -> usize {
        if char_index < self.chars {
            *self = CharCursor::default();
        }
        let rest = text.get(self.bytes..).unwrap_or_default();
        let mut chars = rest.char_indices();
        while self.chars < char_index {
            match chars.next() {
                Some((_, c)) => {
                    self.bytes += c.len_utf8();
                    self.chars += 1;
                }
                None => break,
            }
        }
        self.bytes
    }
}

/// The long prefix of the YAML core schema's tags.
const CORE_PREFIX: &str = "tag:yaml.org,2002:";

/// go-yaml's `shortTag`: `tag:yaml.org,2002:int` becomes `!!int`; local
/// tags (`!foo`) and the non-specific tag `!` stay as written.
fn short_tag(tag: &Tag) -> String {
    let full = format!("{}{}", tag.handle, tag.suffix);
    match full.strip_prefix(CORE_PREFIX) {
        Some(rest) => format!("!!{rest}"),
        None => full,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn scalar(tree: &Tree, id: NodeId) -> (&str, Style, Option<&str>, usize) {
        let node = tree.node(id);
        match &node.kind {
            Kind::Scalar { value, style } => (value, *style, node.tag.as_deref(), node.mark.line),
            other => panic!("not a scalar: {other:?}"),
        }
    }

    fn pairs(tree: &Tree, id: NodeId) -> Vec<(NodeId, NodeId)> {
        match &tree.node(id).kind {
            Kind::Mapping(pairs) => pairs.clone(),
            other => panic!("not a mapping: {other:?}"),
        }
    }

    #[test]
    fn keeps_style_tag_and_line() {
        let tree =
            compose("a: 1\nb: '2'\nc: !!int 3\nd: !foo x\ne: ! y\nf: !<tag:yaml.org,2002:str> z\n")
                .unwrap();
        let p = pairs(&tree, tree.root);
        assert_eq!(scalar(&tree, p[0].1), ("1", Style::Plain, None, 1));
        assert_eq!(scalar(&tree, p[1].1), ("2", Style::SingleQuoted, None, 2));
        assert_eq!(scalar(&tree, p[2].1), ("3", Style::Plain, Some("!!int"), 3));
        assert_eq!(scalar(&tree, p[3].1), ("x", Style::Plain, Some("!foo"), 4));
        assert_eq!(scalar(&tree, p[4].1), ("y", Style::Plain, Some("!"), 5));
        assert_eq!(scalar(&tree, p[5].1), ("z", Style::Plain, Some("!!str"), 6));
    }

    #[test]
    fn only_the_first_document_is_read() {
        let tree = compose("a: 1\n---\n[").unwrap();
        assert_eq!(pairs(&tree, tree.root).len(), 1);
    }

    #[test]
    fn empty_streams_have_no_document() {
        for text in ["", "   \n", "# only a comment\n", "..."] {
            assert_eq!(
                compose(text),
                Err(ComposeError::NoDocument),
                "text {text:?}"
            );
        }
    }

    #[test]
    fn aliases_point_at_their_anchor() {
        let tree = compose("a: &x [1]\nb: *x\n").unwrap();
        let p = pairs(&tree, tree.root);
        match &tree.node(p[1].1).kind {
            Kind::Alias { target, name } => {
                assert_eq!(*target, p[0].1);
                assert_eq!(name, "x");
            }
            other => panic!("not an alias: {other:?}"),
        }
    }

    #[test]
    fn unknown_anchor_is_a_composer_error() {
        let Err(ComposeError::Load(failure)) = compose("a: *b\n") else {
            panic!()
        };
        assert_eq!(
            failure.to_string(),
            "go-yaml load error in composer at L1.C4: unknown anchor 'b' referenced"
        );
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        let Err(ComposeError::Load(failure)) = compose(&deep) else {
            panic!()
        };
        assert_eq!(failure.problem, FatalProblem::TooDeep { limit: MAX_DEPTH });
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(compose(&ok).is_ok());
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let Err(ComposeError::Syntax { mark, .. }) = compose("a: [1,\n") else {
            panic!()
        };
        assert_eq!(mark.line, 2);
    }
}

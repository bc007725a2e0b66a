//! go-yaml's constructor stage for upstream's schematic struct, with
//! `KnownFields(true)` and unique keys, written out by hand.
//!
//! Each decoding function (split by target kind into `scalars`,
//! `collections` and `structs`) mirrors what go-yaml does when it decodes
//! a node into a Go value of one type (`string`, `uint8`, `uint`, `bool`, the
//! `BootloaderKind` text enum, `[]string`, a struct, `map[string]any`,
//! `any`), including the surprising parts, because they decide which bodies
//! upstream accepts and what they mean:
//!
//! - a string field takes any scalar's text as written (`0x10` stays
//!   `"0x10"`), nulls leave it empty, but a timestamp is a type error in v4;
//! - integers accept Go's spellings (`0xa`, `0o12`, `1_0`) and lossless
//!   floats (`10.0`), quoted numbers are strings and so type errors;
//! - a bool field also takes YAML 1.1 words (`yes`, `Off`), even quoted;
//! - null items are dropped from lists; null keys are ignored;
//! - merge keys (`<<`) work, parent keys winning;
//! - unknown fields, wrong types and duplicate keys are collected, in
//!   document order, and reported together; a few problems (bad explicit
//!   tags, bad base64, alias loops, excessive aliasing) abort at once.
//!
//! Aliases are followed lazily with a budget on the nodes reached through
//! them and a bound on nesting, so a billion-laughs document is a clean
//! error.

mod collections;
mod nodes;
mod scalars;
mod structs;

use base64::Engine as _;

use super::error::{ConstructError, ConstructProblem, FatalProblem, LoadFailure, Mark, Stage};
use super::model::Schematic;
use super::yaml::resolve::{self, BINARY, MAP, MERGE, Resolved, SEQ};
use super::yaml::tree::{Kind, MAX_DEPTH, Node, NodeId, Tree};
use collections::KeySet;
use nodes::{fatal, go_error_value, indicated_string, key_identity, node_tag};

/// Most nodes that may be reached through aliases (each alias expansion
/// counts every node below it).
pub(crate) const MAX_ALIAS_NODES: usize = 100_000;

/// Most construct errors collected (go-yaml has no limit; a pathological
/// document could otherwise produce millions of duplicate-key errors).
const MAX_ERRORS: usize = 1_000;

/// What decoding produced: the schematic, plus what validation needs.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) schematic: Schematic,
    /// An `enrollKeys` value that is not a known mode, with its line.
    pub(crate) invalid_enroll_keys: Option<(String, usize)>,
}

/// Why decoding failed.
#[derive(Debug)]
pub(crate) enum DecodeError {
    Fatal(LoadFailure),
    Construct(Vec<ConstructError>),
}

/// Decodes the document root into a schematic.
pub(crate) fn decode(tree: &Tree) -> Result<Decoded, DecodeError> {
    let mut decoder = Decoder {
        tree,
        errors: Vec::new(),
        active_aliases: Vec::new(),
        alias_depth: 0,
        alias_count: 0,
        depth: 0,
        merged: None,
        invalid_enroll_keys: None,
    };
    let mut schematic = Schematic::default();
    decoder
        .structure(tree.root, &mut schematic)
        .map_err(DecodeError::Fatal)?;
    if decoder.errors.is_empty() {
        Ok(Decoded {
            schematic,
            invalid_enroll_keys: decoder.invalid_enroll_keys,
        })
    } else {
        Err(DecodeError::Construct(decoder.errors))
    }
}

type Res<T> = Result<T, LoadFailure>;

struct Decoder<'t> {
    tree: &'t Tree,
    errors: Vec<ConstructError>,
    /// Alias nodes being expanded (to detect an alias inside its anchor).
    active_aliases: Vec<NodeId>,
    alias_depth: usize,
    alias_count: usize,
    depth: usize,
    /// go-yaml's `mergedFields`: keys already set while merging.
    merged: Option<KeySet>,
    invalid_enroll_keys: Option<(String, usize)>,
}

/// A scalar's value as go-yaml's `scalar()` sees it.
enum ScalarValue {
    Resolved(Resolved),
    /// A `!!binary` scalar, decoded.
    Binary(Vec<u8>),
    /// A scalar with a tag go-yaml does not resolve (`!foo`, `!`, `!!merge`).
    Unresolved,
}

/// The Go types the schematic decodes into, by upstream's type name.
mod go_type {
    pub(super) const STRING: &str = "string";
    pub(super) const UINT8: &str = "uint8";
    pub(super) const UINT: &str = "uint";
    pub(super) const BOOL: &str = "bool";
    pub(super) const STRINGS: &str = "[]string";
    pub(super) const METAS: &str = "[]schematic.MetaValue";
    pub(super) const OPTIONS: &str = "map[string]interface {}";
    pub(super) const BOOTLOADER: &str = "imageropts.BootloaderKind";
}

impl<'t> Decoder<'t> {
    // ----- node walking -------------------------------------------------

    /// go-yaml's `Construct` prologue: counts nodes reached through
    /// aliases, follows aliases (refusing loops) and bounds depth.
    fn enter<R>(&mut self, id: NodeId, f: impl FnOnce(&mut Self, &'t Node) -> Res<R>) -> Res<R> {
        let tree = self.tree;
        let node = tree.node(id);
        if self.alias_depth > 0 {
            self.alias_count += 1;
            if self.alias_count > MAX_ALIAS_NODES {
                return Err(fatal(
                    Stage::Constructor,
                    node.mark,
                    FatalProblem::ExcessiveAliasing,
                ));
            }
        }
        if let Kind::Alias { target, name } = &node.kind {
            if self.active_aliases.contains(&id) {
                let problem = FatalProblem::RecursiveAlias { name: name.clone() };
                return Err(fatal(Stage::Composer, node.mark, problem));
            }
            self.active_aliases.push(id);
            self.alias_depth += 1;
            let result = self.enter(*target, f);
            self.alias_depth -= 1;
            self.active_aliases.pop();
            return result;
        }
        self.depth += 1;
        // MAX_DEPTH collections, plus the scalar inside the deepest one.
        if self.depth > MAX_DEPTH + 1 {
            return Err(fatal(
                Stage::Constructor,
                node.mark,
                FatalProblem::TooDeep { limit: MAX_DEPTH },
            ));
        }
        let result = f(self, node);
        self.depth -= 1;
        result
    }

    /// The node an alias points at (or the node itself).
    fn target(&self, id: NodeId) -> &'t Node {
        let tree = self.tree;
        let node = tree.node(id);
        match node.kind {
            Kind::Alias { target, .. } => tree.node(target),
            _ => node,
        }
    }

    fn error(&mut self, mark: Mark, problem: ConstructProblem) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(ConstructError {
                line: mark.line,
                problem,
            });
        }
    }

    /// go-yaml's `tagError`: ``cannot construct !!str `abc` into uint8``.
    fn type_error(&mut self, node: &Node, target: &'static str, hint: Option<&'static str>) {
        let tag = node_tag(node);
        let value = match &node.kind {
            _ if tag == SEQ || tag == MAP => None,
            Kind::Scalar { value, .. } => Some(go_error_value(value)),
            _ => Some(String::new()),
        };
        self.error(
            node.mark,
            ConstructProblem::TypeMismatch {
                tag,
                value,
                target,
                hint,
            },
        );
    }

    /// go-yaml's `scalar()` resolution step.
    fn scalar_value(&mut self, node: &Node, text: &str) -> Res<ScalarValue> {
        if indicated_string(node) {
            return Ok(ScalarValue::Resolved(Resolved::Str));
        }
        let tag = node.tag.as_deref().unwrap_or("");
        if !resolve::resolvable(tag) {
            if tag == MERGE {
                return Ok(ScalarValue::Resolved(Resolved::Merge));
            }
            if tag != BINARY {
                return Ok(ScalarValue::Unresolved);
            }
            // Go's decoder skips line breaks inside base64 text and does not
            // insist on zero padding bits.
            let cleaned: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
            );
            return match engine.decode(cleaned) {
                Ok(bytes) => Ok(ScalarValue::Binary(bytes)),
                Err(_) => Err(fatal(
                    Stage::Constructor,
                    node.mark,
                    FatalProblem::InvalidBase64,
                )),
            };
        }
        resolve::resolve(tag, text)
            .map(ScalarValue::Resolved)
            .map_err(|mismatch| LoadFailure {
                stage: Stage::Resolver,
                mark: None,
                problem: FatalProblem::TagMismatch {
                    resolved: mismatch.resolved.to_owned(),
                    value: text.to_owned(),
                    tag: mismatch.tag,
                },
            })
    }

    /// Decoded `!!binary` bytes as text; go-yaml would keep arbitrary bytes
    /// in a Go string, which our model cannot hold.
    fn binary_text(&mut self, node: &Node, bytes: Vec<u8>) -> Option<String> {
        match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(_) => {
                self.error(node.mark, ConstructProblem::BinaryNotText);
                None
            }
        }
    }

    /// go-yaml's `UniqueKeys` check at the start of every mapping: each
    /// later key equal (same kind, same text) to an earlier one is an error
    /// at the later key. Returns whether the mapping may be decoded.
    fn unique_keys(&mut self, pairs: &[(NodeId, NodeId)]) -> bool {
        let before = self.errors.len();
        let tree = self.tree;
        // Group keys by (kind, text); report pairs in go-yaml's (i, j) order.
        let mut groups: std::collections::HashMap<(u8, &str), Vec<usize>> =
            std::collections::HashMap::new();
        let keys: Vec<(u8, &str)> = pairs
            .iter()
            .map(|&(key, _)| key_identity(tree.node(key)))
            .collect();
        for (i, identity) in keys.iter().enumerate() {
            groups.entry(*identity).or_default().push(i);
        }
        for (i, identity) in keys.iter().enumerate() {
            let Some(group) = groups.get(identity) else {
                continue;
            };
            if group.len() < 2 {
                continue;
            }
            let first = pairs.get(i).map(|&(key, _)| tree.node(key));
            for &j in group.iter().filter(|&&j| j > i) {
                let (Some(first), Some(&(dup, _))) = (first, pairs.get(j)) else {
                    continue;
                };
                let dup = tree.node(dup);
                let problem = ConstructProblem::DuplicateKey {
                    key: identity.1.to_owned(),
                    first_line: first.mark.line,
                };
                self.error(dup.mark, problem);
                if self.errors.len() >= MAX_ERRORS {
                    return false;
                }
            }
        }
        self.errors.len() == before
    }
}

//! go-yaml's constructor stage for upstream's schematic struct, with
//! `KnownFields(true)` and unique keys, written out by hand.
//!
//! Each function below mirrors what go-yaml does when it decodes a node into
//! a Go value of one type (`string`, `uint8`, `uint`, `bool`, the
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

use std::collections::HashSet;

use base64::Engine as _;

use super::error::{ConstructError, ConstructProblem, FatalProblem, LoadFailure, Mark, Stage};
use super::model::{
    Bootloader, Customization, DiskImage, EnrollKeys, MetaValue, Overlay, Schematic, SecureBoot,
    SystemExtensions,
};
use super::options::{OptionKey, OptionMap, OptionValue, OverlayOptions};
use super::yaml::resolve::{self, BINARY, MAP, MERGE, Resolved, SEQ, STR};
use super::yaml::tree::{Kind, MAX_DEPTH, Node, NodeId, Style, Tree};

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

    // ----- scalar targets -----------------------------------------------

    /// Decodes into a Go `string`. `None`: left unchanged (null, merge key,
    /// or an error was recorded).
    fn string(&mut self, id: NodeId) -> Res<Option<String>> {
        self.enter(id, |d, node| match &node.kind {
            Kind::Scalar { value, .. } => match d.scalar_value(node, value)? {
                ScalarValue::Resolved(Resolved::Null | Resolved::Merge) => Ok(None),
                ScalarValue::Resolved(Resolved::Timestamp(_)) | ScalarValue::Unresolved => {
                    d.type_error(node, go_type::STRING, None);
                    Ok(None)
                }
                ScalarValue::Resolved(_) => Ok(Some(value.clone())),
                ScalarValue::Binary(bytes) => Ok(d.binary_text(node, bytes)),
            },
            Kind::Mapping(pairs) => {
                if d.unique_keys(pairs) {
                    d.type_error(node, go_type::STRING, None);
                }
                Ok(None)
            }
            Kind::Sequence(_) | Kind::Alias { .. } => {
                d.type_error(node, go_type::STRING, None);
                Ok(None)
            }
        })
    }

    /// Decodes into a Go unsigned integer type no larger than `max`.
    fn unsigned(
        &mut self,
        id: NodeId,
        target: &'static str,
        max: u64,
        hint: Option<&'static str>,
    ) -> Res<Option<u64>> {
        self.enter(id, |d, node| {
            let fits = match &node.kind {
                Kind::Scalar { value, .. } => match d.scalar_value(node, value)? {
                    ScalarValue::Resolved(Resolved::Null | Resolved::Merge) => return Ok(None),
                    ScalarValue::Resolved(Resolved::Int(i)) => u64::try_from(i).ok(),
                    ScalarValue::Resolved(Resolved::Uint(u)) => Some(u),
                    ScalarValue::Resolved(Resolved::Float(f)) => lossless_u64(f),
                    _ => None,
                },
                Kind::Mapping(pairs) => {
                    if !d.unique_keys(pairs) {
                        return Ok(None);
                    }
                    None
                }
                Kind::Sequence(_) | Kind::Alias { .. } => None,
            };
            match fits.filter(|&v| v <= max) {
                Some(v) => Ok(Some(v)),
                None => {
                    d.type_error(node, target, hint);
                    Ok(None)
                }
            }
        })
    }

    /// Decodes into a Go `bool`.
    fn boolean(&mut self, id: NodeId) -> Res<Option<bool>> {
        self.enter(id, |d, node| {
            let value = match &node.kind {
                Kind::Scalar { value, .. } => match d.scalar_value(node, value)? {
                    ScalarValue::Resolved(Resolved::Null | Resolved::Merge) => return Ok(None),
                    ScalarValue::Resolved(Resolved::Bool(b)) => Some(b),
                    // Decoding into a typed bool also accepts YAML 1.1 words.
                    ScalarValue::Resolved(Resolved::Str) => yaml11_bool(value),
                    _ => None,
                },
                Kind::Mapping(pairs) => {
                    if !d.unique_keys(pairs) {
                        return Ok(None);
                    }
                    None
                }
                Kind::Sequence(_) | Kind::Alias { .. } => None,
            };
            if value.is_none() {
                d.type_error(node, go_type::BOOL, None);
            }
            Ok(value)
        })
    }

    /// Decodes into upstream's `BootloaderKind`, a text-unmarshalled enum:
    /// any scalar's text, matched exactly or lower-cased; `none` is unset.
    fn bootloader(&mut self, id: NodeId) -> Res<Option<Option<Bootloader>>> {
        self.enter(id, |d, node| {
            let Kind::Scalar { value, .. } = &node.kind else {
                let problem = ConstructProblem::NotText {
                    tag: node_tag(node),
                    target: go_type::BOOTLOADER,
                };
                d.error(node.mark, problem);
                return Ok(None);
            };
            let text = match d.scalar_value(node, value)? {
                ScalarValue::Resolved(Resolved::Null) => return Ok(None),
                ScalarValue::Binary(bytes) => match d.binary_text(node, bytes) {
                    Some(text) => text,
                    None => return Ok(None),
                },
                _ => value.clone(),
            };
            let lower = text.to_lowercase();
            let kind = [text.as_str(), lower.as_str()]
                .into_iter()
                .find_map(|name| match name {
                    "none" => Some(None),
                    "dual-boot" => Some(Some(Bootloader::DualBoot)),
                    "sd-boot" => Some(Some(Bootloader::SdBoot)),
                    "grub" => Some(Some(Bootloader::Grub)),
                    _ => None,
                });
            if kind.is_none() {
                d.error(
                    node.mark,
                    ConstructProblem::InvalidBootloader { value: text },
                );
            }
            Ok(kind)
        })
    }

    // ----- collections --------------------------------------------------

    /// Decodes into a Go `[]string`. Null gives an empty list.
    fn strings(&mut self, id: NodeId) -> Res<Option<Vec<String>>> {
        self.sequence(id, go_type::STRINGS, |d, item| d.string(item))
    }

    /// Decodes into `[]schematic.MetaValue`.
    fn metas(&mut self, id: NodeId) -> Res<Option<Vec<MetaValue>>> {
        self.sequence(id, go_type::METAS, |d, item| {
            let mut meta = MetaValue::default();
            Ok(d.structure(item, &mut meta)?.then_some(meta))
        })
    }

    /// go-yaml's `sequence()` into a slice; items that fail (or are null)
    /// are left out.
    fn sequence<T>(
        &mut self,
        id: NodeId,
        target: &'static str,
        mut item: impl FnMut(&mut Self, NodeId) -> Res<Option<T>>,
    ) -> Res<Option<Vec<T>>> {
        self.enter(id, |d, node| match &node.kind {
            Kind::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for &i in items {
                    if let Some(value) = item(d, i)? {
                        out.push(value);
                    }
                }
                Ok(Some(out))
            }
            Kind::Scalar { value, .. } => match d.scalar_value(node, value)? {
                ScalarValue::Resolved(Resolved::Null) => Ok(Some(Vec::new())),
                ScalarValue::Resolved(Resolved::Merge) => Ok(None),
                _ => {
                    d.type_error(node, target, None);
                    Ok(None)
                }
            },
            Kind::Mapping(pairs) => {
                if d.unique_keys(pairs) {
                    d.type_error(node, target, None);
                }
                Ok(None)
            }
            Kind::Alias { .. } => Ok(None),
        })
    }

    /// go-yaml's `mappingStruct` (after the mapping checks). Returns whether
    /// the node was a usable mapping (go-yaml's `good`).
    fn structure<S: GoStruct>(&mut self, id: NodeId, out: &mut S) -> Res<bool> {
        self.enter(id, |d, node| match &node.kind {
            Kind::Mapping(pairs) => {
                if !d.unique_keys(pairs) {
                    return Ok(false);
                }
                d.struct_fields(pairs, out)?;
                Ok(true)
            }
            Kind::Scalar { value, .. } => {
                match d.scalar_value(node, value)? {
                    ScalarValue::Resolved(Resolved::Null | Resolved::Merge) => {}
                    _ => d.type_error(node, S::TYPE_NAME, None),
                }
                Ok(false)
            }
            Kind::Sequence(_) | Kind::Alias { .. } => {
                d.type_error(node, S::TYPE_NAME, None);
                Ok(false)
            }
        })
    }

    fn struct_fields<S: GoStruct>(&mut self, pairs: &[(NodeId, NodeId)], out: &mut S) -> Res<()> {
        let mut outer = self.merged.take();
        let mut merge = None;
        let mut done = vec![false; S::FIELDS.len()];
        for &(key, value) in pairs {
            if is_merge(self.tree.node(key)) {
                merge = Some(value);
                continue;
            }
            let Some(name) = self.string(key)? else {
                continue;
            };
            if let Some(set) = &mut outer {
                let key = OptionKey::String(name.clone());
                if set.contains(&key) {
                    continue;
                }
                set.insert(key);
            }
            let key_mark = self.tree.node(key).mark;
            match S::FIELDS.iter().position(|field| *field == name) {
                Some(index) => {
                    if done.get(index).copied().unwrap_or(false) {
                        let problem = ConstructProblem::FieldAlreadySet {
                            field: name,
                            type_name: S::TYPE_NAME,
                        };
                        self.error(key_mark, problem);
                        continue;
                    }
                    if let Some(slot) = done.get_mut(index) {
                        *slot = true;
                    }
                    out.set(self, index, value)?;
                }
                None => {
                    let problem = ConstructProblem::UnknownField {
                        field: name,
                        type_name: S::TYPE_NAME,
                    };
                    self.error(key_mark, problem);
                }
            }
        }
        self.merged = outer;
        if let Some(merge) = merge {
            self.merge(pairs, merge, &mut |d, node| {
                d.structure(node, out).map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Decodes into the top-level `map[string]any` of overlay options.
    fn options(&mut self, id: NodeId) -> Res<Option<OverlayOptions>> {
        self.enter(id, |d, node| match &node.kind {
            Kind::Mapping(pairs) => {
                if !d.unique_keys(pairs) {
                    return Ok(None);
                }
                let mut entries = Vec::new();
                d.string_map(pairs, &mut entries)?;
                Ok(Some(entries.into_iter().collect()))
            }
            Kind::Scalar { value, .. } => match d.scalar_value(node, value)? {
                ScalarValue::Resolved(Resolved::Null) => Ok(Some(OverlayOptions::new())),
                ScalarValue::Resolved(Resolved::Merge) => Ok(None),
                _ => {
                    d.type_error(node, go_type::OPTIONS, None);
                    Ok(None)
                }
            },
            Kind::Sequence(_) | Kind::Alias { .. } => {
                d.type_error(node, go_type::OPTIONS, None);
                Ok(None)
            }
        })
    }

    /// go-yaml's `mapping()` into a `map[string]any` (merged content
    /// included), appending in document order; the caller applies Go map
    /// assignment (later keys replace earlier ones).
    fn string_map(
        &mut self,
        pairs: &[(NodeId, NodeId)],
        out: &mut Vec<(String, OptionValue)>,
    ) -> Res<()> {
        let mut outer = self.merged.take();
        let mut merge = None;
        for &(key, value) in pairs {
            if is_merge(self.tree.node(key)) {
                merge = Some(value);
                continue;
            }
            let Some(name) = self.string(key)? else {
                continue;
            };
            if let Some(set) = &mut outer {
                let key = OptionKey::String(name.clone());
                if set.contains(&key) {
                    continue;
                }
                set.insert(key);
            }
            if let Some(value) = self.any(value)? {
                out.push((name, value));
            }
        }
        self.merged = outer;
        if let Some(merge) = merge {
            self.merge(pairs, merge, &mut |d, node| {
                d.enter(node, |d, node| {
                    if let Kind::Mapping(pairs) = &node.kind
                        && d.unique_keys(pairs)
                    {
                        d.string_map(pairs, out)?;
                    }
                    Ok(())
                })
            })?;
        }
        Ok(())
    }

    /// go-yaml's `mapping()` into a `map[any]any` (or `map[string]any` when
    /// every key is a string, which decodes the same way here).
    fn any_map(
        &mut self,
        pairs: &[(NodeId, NodeId)],
        out: &mut Vec<(OptionKey, OptionValue)>,
    ) -> Res<()> {
        let string_keys = pairs.iter().all(|&(key, _)| {
            let tag = short_tag(self.target(key));
            tag == STR || tag == MERGE
        });
        let mut outer = self.merged.take();
        let mut merge = None;
        for &(key, value) in pairs {
            if is_merge(self.tree.node(key)) {
                merge = Some(value);
                continue;
            }
            let key_value = if string_keys {
                self.string(key)?.map(OptionKey::String)
            } else {
                match self.any(key)? {
                    Some(value) => Some(self.hashable_key(key, value)?),
                    None => None,
                }
            };
            let Some(key_value) = key_value else { continue };
            if let Some(set) = &mut outer {
                if set.contains(&key_value) {
                    continue;
                }
                set.insert(key_value.clone());
            }
            if let Some(value) = self.any(value)? {
                out.push((key_value, value));
            }
        }
        self.merged = outer;
        if let Some(merge) = merge {
            self.merge(pairs, merge, &mut |d, node| {
                d.enter(node, |d, node| {
                    if let Kind::Mapping(pairs) = &node.kind
                        && d.unique_keys(pairs)
                    {
                        d.any_map(pairs, out)?;
                    }
                    Ok(())
                })
            })?;
        }
        Ok(())
    }

    /// A decoded key as a map key; mappings and sequences cannot be one.
    fn hashable_key(&self, key: NodeId, value: OptionValue) -> Res<OptionKey> {
        Ok(match value {
            OptionValue::Null => OptionKey::Null,
            OptionValue::Bool(b) => OptionKey::Bool(b),
            OptionValue::Int(i) => OptionKey::Int(i),
            OptionValue::Uint(u) => OptionKey::Uint(u),
            OptionValue::Float(f) => OptionKey::Float(f),
            OptionValue::Timestamp(t) => OptionKey::Timestamp(t),
            OptionValue::String(s) => OptionKey::String(s),
            collection @ (OptionValue::List(_) | OptionValue::Map(_)) => {
                let problem = FatalProblem::UnhashableKey {
                    value: go_syntax(&collection),
                };
                return Err(fatal(Stage::Constructor, self.tree.node(key).mark, problem));
            }
        })
    }

    /// go-yaml's `merge()`: decodes the merged mapping(s) into the same
    /// target, skipping keys the parent mapping already has.
    fn merge(
        &mut self,
        parent: &[(NodeId, NodeId)],
        merge: NodeId,
        construct: &mut dyn FnMut(&mut Self, NodeId) -> Res<()>,
    ) -> Res<()> {
        let fresh = self.merged.is_none();
        if fresh {
            let mut set = KeySet::default();
            for &(key, _) in parent {
                if let Some(value) = self.any(key)? {
                    let key = self.hashable_key(key, value)?;
                    set.insert(key);
                }
            }
            self.merged = Some(set);
        }
        let node = self.tree.node(merge);
        let result = match &node.kind {
            Kind::Mapping(_) => construct(self, merge),
            Kind::Alias { target, .. } => {
                if matches!(self.tree.node(*target).kind, Kind::Mapping(_)) {
                    construct(self, merge)
                } else {
                    Err(fatal(
                        Stage::Constructor,
                        self.tree.node(*target).mark,
                        FatalProblem::MergeNotMapping,
                    ))
                }
            }
            Kind::Sequence(items) => {
                let mut result = Ok(());
                for &item in items {
                    let target = self.target(item);
                    if !matches!(target.kind, Kind::Mapping(_)) {
                        result = Err(fatal(
                            Stage::Constructor,
                            target.mark,
                            FatalProblem::MergeNotMapping,
                        ));
                        break;
                    }
                    result = construct(self, item);
                    if result.is_err() {
                        break;
                    }
                }
                result
            }
            Kind::Scalar { .. } => Err(fatal(
                Stage::Constructor,
                node.mark,
                FatalProblem::MergeNotMapping,
            )),
        };
        if fresh {
            self.merged = None;
        }
        result
    }

    /// Decodes into `any`, as go-yaml does for overlay option values.
    /// `None`: the node was dropped (a merge marker, or an error).
    fn any(&mut self, id: NodeId) -> Res<Option<OptionValue>> {
        self.enter(id, |d, node| match &node.kind {
            Kind::Scalar { value, .. } => Ok(match d.scalar_value(node, value)? {
                ScalarValue::Resolved(resolved) => match resolved {
                    Resolved::Null => Some(OptionValue::Null),
                    Resolved::Bool(b) => Some(OptionValue::Bool(b)),
                    Resolved::Int(i) => Some(OptionValue::Int(i)),
                    Resolved::Uint(u) => Some(OptionValue::Uint(u)),
                    Resolved::Float(f) => Some(OptionValue::Float(f)),
                    Resolved::Timestamp(t) => Some(OptionValue::Timestamp(t)),
                    Resolved::Str => Some(OptionValue::String(value.clone())),
                    Resolved::Merge => None,
                },
                ScalarValue::Binary(bytes) => d.binary_text(node, bytes).map(OptionValue::String),
                ScalarValue::Unresolved => Some(OptionValue::String(value.clone())),
            }),
            Kind::Sequence(items) => {
                let mut list = Vec::with_capacity(items.len());
                for &item in items {
                    if let Some(value) = d.any(item)? {
                        list.push(value);
                    }
                }
                Ok(Some(OptionValue::List(list)))
            }
            Kind::Mapping(pairs) => {
                if !d.unique_keys(pairs) {
                    return Ok(None);
                }
                let mut entries = Vec::new();
                d.any_map(pairs, &mut entries)?;
                Ok(Some(OptionValue::Map(
                    entries.into_iter().collect::<OptionMap>(),
                )))
            }
            Kind::Alias { .. } => Ok(None),
        })
    }

    /// Records the `enrollKeys` text for validation after decoding.
    fn enroll_keys(&mut self, id: NodeId) -> Res<Option<Option<EnrollKeys>>> {
        let line = self.tree.node(id).mark.line;
        let Some(text) = self.string(id)? else {
            return Ok(None);
        };
        let mode = match text.as_str() {
            "" => None,
            "off" => Some(EnrollKeys::Off),
            "manual" => Some(EnrollKeys::Manual),
            "if-safe" => Some(EnrollKeys::IfSafe),
            "force" => Some(EnrollKeys::Force),
            _ => {
                self.invalid_enroll_keys = Some((text, line));
                return Ok(Some(None));
            }
        };
        self.invalid_enroll_keys = None;
        Ok(Some(mode))
    }
}

/// A set of map keys with Go `==` semantics (go-yaml's `mergedFields`).
#[derive(Debug, Default)]
struct KeySet {
    strings: HashSet<String>,
    others: Vec<OptionKey>,
}

impl KeySet {
    fn contains(&self, key: &OptionKey) -> bool {
        match key {
            OptionKey::String(s) => self.strings.contains(s),
            OptionKey::Float(f) if f.is_nan() => false,
            other => self.others.iter().any(|k| go_key_equal(k, other)),
        }
    }

    fn insert(&mut self, key: OptionKey) {
        match key {
            OptionKey::String(s) => {
                self.strings.insert(s);
            }
            other => self.others.push(other),
        }
    }
}

fn go_key_equal(a: &OptionKey, b: &OptionKey) -> bool {
    match (a, b) {
        (OptionKey::Float(x), OptionKey::Float(y)) => x == y,
        _ => a == b,
    }
}

/// A struct of upstream's schematic package, decoded field by field.
trait GoStruct {
    /// Upstream's Go type name, as printed in error messages.
    const TYPE_NAME: &'static str;
    /// YAML field names, in declaration order.
    const FIELDS: &'static [&'static str];
    /// Decodes `value` into field number `field`.
    fn set(&mut self, d: &mut Decoder<'_>, field: usize, value: NodeId) -> Res<()>;
}

impl GoStruct for Schematic {
    const TYPE_NAME: &'static str = "schematic.Schematic";
    const FIELDS: &'static [&'static str] = &["owner", "overlay", "customization"];
    fn set(&mut self, d: &mut Decoder<'_>, field: usize, value: NodeId) -> Res<()> {
        match field {
            0 => set_some(&mut self.owner, d.string(value)?),
            1 => {
                d.structure(value, &mut self.overlay)?;
            }
            _ => {
                d.structure(value, &mut self.customization)?;
            }
        }
        Ok(())
    }
}

impl GoStruct for Overlay {
    const TYPE_NAME: &'static str = "schematic.Overlay";
    const FIELDS: &'static [&'static str] = &["image", "name", "options"];
    fn set(&mut self, d: &mut Decoder<'_>, field: usize, value: NodeId) -> Res<()> {
        match field {
            0 => set_some(&mut self.image, d.string(value)?),
            1 => set_some(&mut self.name, d.string(value)?),
            _ => set_some(&mut self.options, d.options(value)?),
        }
        Ok(())
    }
}

impl GoStruct for Customization {
    const TYPE_NAME: &'static str = "schematic.Customization";
    const FIELDS: &'static [&'static str] = &[
        "embeddedMachineConfiguration",
        "extraKernelArgs",
        "meta",
        "systemExtensions",
        "bootloader",
        "secureboot",
        "diskImage",
    ];
    fn set(&mut self, d: &mut Decoder<'_>, field: usize, value: NodeId) -> Res<()> {
        match field {
            0 => set_some(&mut self.embedded_machine_configuration, d.string(value)?),
            1 => set_some(&mut self.extra_kernel_args, d.strings(value)?),
            2 => set_some(&mut self.meta, d.metas(value)?),
            3 => {
                d.structure(value, &mut self.system_extensions)?;
            }
            4 => set_some(&mut self.bootloader, d.bootloader(value)?),
            5 => {
                d.structure(value, &mut self.secureboot)?;
            }
            _ => {
                d.structure(value, &mut self.disk_image)?;
            }
        }
        Ok(())
    }
}

impl GoStruct for MetaValue {
    const TYPE_NAME: &'static str = "schematic.MetaValue";
    const FIELDS: &'static [&'static str] = &["key", "value"];
    fn set(&mut self, d: &mut Decoder<'_>, field: usize, value: NodeId) -> Res<()> {
        match field {
            0 => {
                let key = d.unsigned(
                    value,
                    go_type::UINT8,
                    u64::from(u8::MAX),
                    Some("meta key must be 0-255"),
                )?;
                if let Some(key) = key.and_then(|k| u8::try_from(k).ok()) {
                    self.key = key;
                }
            }
            _ => set_some(&mut self.value, d.string(value)?),
        }
        Ok(())
    }
}

impl GoStruct for SystemExtensions {
    const TYPE_NAME: &'static str = "schematic.SystemExtensions";
    const FIELDS: &'static [&'static str] = &["officialExtensions"];
    fn set(&mut self, d: &mut Decoder<'_>, _field: usize, value: NodeId) -> Res<()> {
        set_some(&mut self.official_extensions, d.strings(value)?);
        Ok(())
    }
}

impl GoStruct for SecureBoot {
    const TYPE_NAME: &'static str = "schematic.SecureBootCustomization";
    const FIELDS: &'static [&'static str] = &["enrollKeys", "includeWellKnownCertificates"];
    fn set(&mut self, d: &mut Decoder<'_>, field: usize, value: NodeId) -> Res<()> {
        match field {
            0 => set_some(&mut self.enroll_keys, d.enroll_keys(value)?),
            _ => set_some(&mut self.include_well_known_certificates, d.boolean(value)?),
        }
        Ok(())
    }
}

impl GoStruct for DiskImage {
    const TYPE_NAME: &'static str = "schematic.DiskImageCustomization";
    const FIELDS: &'static [&'static str] = &["sectorSize"];
    fn set(&mut self, d: &mut Decoder<'_>, _field: usize, value: NodeId) -> Res<()> {
        set_some(
            &mut self.sector_size,
            d.unsigned(value, go_type::UINT, u64::MAX, None)?,
        );
        Ok(())
    }
}

fn set_some<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

fn fatal(stage: Stage, mark: Mark, problem: FatalProblem) -> LoadFailure {
    LoadFailure {
        stage,
        mark: Some(mark),
        problem,
    }
}

/// The tag go-yaml's resolver leaves on a node (`n.Tag`): the explicit tag,
/// else `!!str` for quoted and block scalars, the resolved tag for plain
/// ones, `!!seq`/`!!map` for collections.
fn node_tag(node: &Node) -> String {
    if let Some(tag) = &node.tag {
        return tag.clone();
    }
    match &node.kind {
        Kind::Scalar {
            value,
            style: Style::Plain,
        } => resolve::plain_tag(value).to_owned(),
        Kind::Scalar { .. } => STR.to_owned(),
        Kind::Sequence(_) => SEQ.to_owned(),
        Kind::Mapping(_) | Kind::Alias { .. } => MAP.to_owned(),
    }
}

/// go-yaml's `Node.ShortTag()`: like [`node_tag`], but a scalar tagged with
/// the non-specific `!` is a string.
fn short_tag(node: &Node) -> String {
    if indicated_string(node) {
        return STR.to_owned();
    }
    match (&node.kind, node.tag.as_deref()) {
        (Kind::Scalar { .. }, Some("!")) => STR.to_owned(),
        (Kind::Sequence(_), Some("!")) => SEQ.to_owned(),
        (Kind::Mapping(_), Some("!")) => MAP.to_owned(),
        _ => node_tag(node),
    }
}

/// go-yaml's `indicatedString`: tagged `!!str`, or quoted/block without a
/// specific tag.
fn indicated_string(node: &Node) -> bool {
    let Kind::Scalar { style, .. } = &node.kind else {
        return false;
    };
    match node.tag.as_deref() {
        Some(STR) => true,
        None | Some("!") => *style != Style::Plain,
        Some(_) => false,
    }
}

/// go-yaml's `isMerge`: a scalar whose tag is `!!merge` (plain `<<`).
fn is_merge(node: &Node) -> bool {
    matches!(node.kind, Kind::Scalar { .. }) && node_tag(node) == MERGE
}

/// What go-yaml's duplicate-key check compares: node kind and text.
fn key_identity(node: &Node) -> (u8, &str) {
    match &node.kind {
        Kind::Scalar { value, .. } => (0, value.as_str()),
        Kind::Sequence(_) => (1, ""),
        Kind::Mapping(_) => (2, ""),
        Kind::Alias { name, .. } => (3, name.as_str()),
    }
}

/// A value as go-yaml's `tagError` quotes it: values over 10 bytes are cut
/// to their first 7 bytes and `...` (Go cuts bytes, possibly inside a
/// character; the partial character becomes U+FFFD here).
fn go_error_value(value: &str) -> String {
    if value.len() <= 10 {
        return value.to_owned();
    }
    let head = value.as_bytes().get(..7).unwrap_or_default();
    format!("{}...", String::from_utf8_lossy(head))
}

/// The YAML 1.1 booleans go-yaml accepts when decoding into a `bool`.
fn yaml11_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// Go's float to unsigned conversion when it is lossless (values at or
/// above 2^64 fail, as Go's conversion does on amd64).
fn lossless_u64(f: f64) -> Option<u64> {
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    if !(0.0..TWO_POW_64).contains(&f) {
        return None;
    }
    let u = f as u64;
    (u as f64 == f).then_some(u)
}

/// Go's `%#v` of a decoded collection used as a key (best effort).
fn go_syntax(value: &OptionValue) -> String {
    fn inner(value: &OptionValue, out: &mut String) {
        match value {
            OptionValue::Null => out.push_str("interface {}(nil)"),
            OptionValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            OptionValue::Int(i) => out.push_str(&i.to_string()),
            OptionValue::Uint(u) => out.push_str(&format!("0x{u:x}")),
            OptionValue::Float(f) => out.push_str(&super::yaml::float::format(*f)),
            OptionValue::Timestamp(t) => out.push_str(&t.to_string()),
            OptionValue::String(s) => out.push_str(&super::yaml::goquote::quote(s)),
            OptionValue::List(items) => {
                out.push_str("[]interface {}{");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    inner(item, out);
                }
                out.push('}');
            }
            OptionValue::Map(map) => {
                let string_keys = map.iter().all(|(k, _)| matches!(k, OptionKey::String(_)));
                out.push_str(if string_keys {
                    "map[string]interface {}{"
                } else {
                    "map[interface {}]interface {}{"
                });
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let key = match k {
                        OptionKey::String(s) => OptionValue::String(s.clone()),
                        OptionKey::Null => OptionValue::Null,
                        OptionKey::Bool(b) => OptionValue::Bool(*b),
                        OptionKey::Int(n) => OptionValue::Int(*n),
                        OptionKey::Uint(n) => OptionValue::Uint(*n),
                        OptionKey::Float(f) => OptionValue::Float(*f),
                        OptionKey::Timestamp(t) => OptionValue::Timestamp(*t),
                    };
                    inner(&key, out);
                    out.push(':');
                    inner(v, out);
                }
                out.push('}');
            }
        }
    }
    let mut out = String::new();
    inner(value, &mut out);
    out
}

//! Decoding sequences and mappings: slices, structs (with merge keys),
//! the overlay options map and free-form `any` values.

use std::collections::HashSet;

use super::nodes::{fatal, go_syntax, is_merge, short_tag};
use super::structs::GoStruct;
use super::{Decoder, Res, ScalarValue, go_type};
use crate::schematic::error::{ConstructProblem, FatalProblem, Stage};
use crate::schematic::model::MetaValue;
use crate::schematic::options::{OptionKey, OptionMap, OptionValue, OverlayOptions};
use crate::schematic::yaml::resolve::{MERGE, Resolved, STR};
use crate::schematic::yaml::tree::{Kind, NodeId};

impl<'t> Decoder<'t> {
    /// Decodes into a Go `[]string`. Null gives an empty list.
    pub(super) fn strings(&mut self, id: NodeId) -> Res<Option<Vec<String>>> {
        self.sequence(id, go_type::STRINGS, |d, item| d.string(item))
    }

    /// Decodes into `[]schematic.MetaValue`.
    pub(super) fn metas(&mut self, id: NodeId) -> Res<Option<Vec<MetaValue>>> {
        self.sequence(id, go_type::METAS, |d, item| {
            let mut meta = MetaValue::default();
            Ok(d.structure(item, &mut meta)?.then_some(meta))
        })
    }

    /// go-yaml's `sequence()` into a slice; items that fail (or are null)
    /// are left out.
    pub(super) fn sequence<T>(
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
    pub(super) fn structure<S: GoStruct>(&mut self, id: NodeId, out: &mut S) -> Res<bool> {
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

    pub(super) fn struct_fields<S: GoStruct>(
        &mut self,
        pairs: &[(NodeId, NodeId)],
        out: &mut S,
    ) -> Res<()> {
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
    pub(super) fn options(&mut self, id: NodeId) -> Res<Option<OverlayOptions>> {
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
    pub(super) fn string_map(
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
    pub(super) fn any_map(
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
    pub(super) fn hashable_key(&self, key: NodeId, value: OptionValue) -> Res<OptionKey> {
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
    pub(super) fn merge(
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
    pub(super) fn any(&mut self, id: NodeId) -> Res<Option<OptionValue>> {
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
}

/// A set of map keys with Go `==` semantics (go-yaml's `mergedFields`).
#[derive(Debug, Default)]
pub(super) struct KeySet {
    strings: HashSet<String>,
    others: Vec<OptionKey>,
}

impl KeySet {
    pub(super) fn contains(&self, key: &OptionKey) -> bool {
        match key {
            OptionKey::String(s) => self.strings.contains(s),
            OptionKey::Float(f) if f.is_nan() => false,
            other => self.others.iter().any(|k| go_key_equal(k, other)),
        }
    }

    pub(super) fn insert(&mut self, key: OptionKey) {
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

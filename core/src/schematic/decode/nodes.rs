//! What go-yaml's constructor reads off a node (its effective tag, whether
//! it is a string or a merge key, its identity for duplicate checks) and the
//! Go conversions and formatting its messages use.

use crate::schematic::error::{FatalProblem, LoadFailure, Mark, Stage};
use crate::schematic::options::{OptionKey, OptionValue};
use crate::schematic::yaml::float;
use crate::schematic::yaml::resolve::{self, MAP, MERGE, SEQ, STR};
use crate::schematic::yaml::tree::{Kind, Node, Style};

pub(super) fn fatal(stage: Stage, mark: Mark, problem: FatalProblem) -> LoadFailure {
    LoadFailure {
        stage,
        mark: Some(mark),
        problem,
    }
}

/// The tag go-yaml's resolver leaves on a node (`n.Tag`): the explicit tag,
/// else `!!str` for quoted and block scalars, the resolved tag for plain
/// ones, `!!seq`/`!!map` for collections.
pub(super) fn node_tag(node: &Node) -> String {
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
pub(super) fn short_tag(node: &Node) -> String {
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
pub(super) fn indicated_string(node: &Node) -> bool {
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
pub(super) fn is_merge(node: &Node) -> bool {
    matches!(node.kind, Kind::Scalar { .. }) && node_tag(node) == MERGE
}

/// What go-yaml's duplicate-key check compares: node kind and text.
pub(super) fn key_identity(node: &Node) -> (u8, &str) {
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
pub(super) fn go_error_value(value: &str) -> String {
    if value.len() <= 10 {
        return value.to_owned();
    }
    let head = value.as_bytes().get(..7).unwrap_or_default();
    format!("{}...", String::from_utf8_lossy(head))
}

/// The YAML 1.1 booleans go-yaml accepts when decoding into a `bool`.
pub(super) fn yaml11_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// Go's float to unsigned conversion when it is lossless (values at or
/// above 2^64 fail, as Go's conversion does on amd64).
pub(super) fn lossless_u64(f: f64) -> Option<u64> {
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    if !(0.0..TWO_POW_64).contains(&f) {
        return None;
    }
    let u = f as u64;
    (u as f64 == f).then_some(u)
}

/// Go's `%#v` of a decoded collection used as a key (best effort).
pub(super) fn go_syntax(value: &OptionValue) -> String {
    fn inner(value: &OptionValue, out: &mut String) {
        match value {
            OptionValue::Null => out.push_str("interface {}(nil)"),
            OptionValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            OptionValue::Int(i) => out.push_str(&i.to_string()),
            OptionValue::Uint(u) => out.push_str(&format!("0x{u:x}")),
            OptionValue::Float(f) => out.push_str(&float::format(*f)),
            OptionValue::Timestamp(t) => out.push_str(&t.to_string()),
            OptionValue::String(s) => out.push_str(&crate::gotext::quote(s)),
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

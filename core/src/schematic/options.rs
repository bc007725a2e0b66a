//! Free-form overlay options: upstream's `map[string]any`.
//!
//! The overlay installer receives whatever YAML the user wrote under
//! `overlay.options`, so the model is a small YAML value tree. It is shaped
//! by what go-yaml v4 decodes into `any` and re-encodes, because the
//! canonical YAML (and so the schematic ID) is produced from that Go value:
//!
//! - scalars keep go-yaml's implicit types: `null`, booleans, `int`
//!   (`i64`), `uint64` (integers above `i64::MAX`), `float64`, timestamps
//!   (written back in RFC 3339 form) and strings;
//! - maps are kept in go-yaml's output key order and without duplicate keys
//!   (a later key replaces an earlier equal one, as assigning into a Go map
//!   does). Nested maps may have non-string keys (`{1: a}` stays an integer
//!   key), the top level is always string-keyed;
//! - lists keep order.
//!
//! Floats compare by bit pattern (all NaNs equal) so that the tree, and the
//! schematic holding it, can be `Eq`.

use std::collections::HashMap;

use super::yaml::keyorder::{self, KeyRef};
pub use super::yaml::timestamp::Timestamp;

/// The `overlay.options` mapping (string keys, go-yaml key order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverlayOptions {
    entries: Vec<(String, OptionValue)>,
}

impl OverlayOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether there are no options (then `options` is omitted from the
    /// canonical YAML).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of top-level options.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The options in canonical (go-yaml) key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &OptionValue)> {
        self.entries
            .iter()
            .map(|(key, value)| (key.as_str(), value))
    }

    /// The value of one option.
    pub fn get(&self, key: &str) -> Option<&OptionValue> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, value)| value)
    }

    /// Sets an option, keeping canonical order; returns the previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: OptionValue) -> Option<OptionValue> {
        let key = key.into();
        if let Some((_, slot)) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            return Some(std::mem::replace(slot, value));
        }
        let at = self
            .entries
            .iter()
            .position(|(existing, _)| keyorder::less_str(&key, existing))
            .unwrap_or(self.entries.len());
        self.entries.insert(at, (key, value));
        None
    }
}

impl FromIterator<(String, OptionValue)> for OverlayOptions {
    /// Later duplicates replace earlier ones, as in a Go map.
    fn from_iter<I: IntoIterator<Item = (String, OptionValue)>>(iter: I) -> Self {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut entries: Vec<(String, OptionValue)> = Vec::new();
        for (key, value) in iter {
            match index.get(&key).and_then(|&i| entries.get_mut(i)) {
                Some(slot) => slot.1 = value,
                None => {
                    index.insert(key.clone(), entries.len());
                    entries.push((key, value));
                }
            }
        }
        let entries = keyorder::sort_by_key(entries, &|(key, _): &(String, OptionValue)| {
            KeyRef::Str(key.as_str())
        });
        OverlayOptions { entries }
    }
}

/// One value in the options tree.
#[derive(Debug, Clone)]
pub enum OptionValue {
    /// `null`, `~` or an empty value.
    Null,
    /// `true`/`false` (YAML 1.2 spellings only; `yes` is a string).
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// An integer above `i64::MAX`.
    Uint(u64),
    /// A float (including `.inf`, `-.inf`, `.nan`).
    Float(f64),
    /// A timestamp (`2015-01-01`, `2015-02-24T18:19:39Z`, …).
    Timestamp(Timestamp),
    /// Any other text, or quoted text.
    String(String),
    /// A sequence.
    List(Vec<OptionValue>),
    /// A nested mapping.
    Map(OptionMap),
}

impl PartialEq for OptionValue {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (OptionValue::Null, OptionValue::Null) => true,
            (OptionValue::Bool(a), OptionValue::Bool(b)) => a == b,
            (OptionValue::Int(a), OptionValue::Int(b)) => a == b,
            (OptionValue::Uint(a), OptionValue::Uint(b)) => a == b,
            (OptionValue::Float(a), OptionValue::Float(b)) => float_bits(*a) == float_bits(*b),
            (OptionValue::Timestamp(a), OptionValue::Timestamp(b)) => a == b,
            (OptionValue::String(a), OptionValue::String(b)) => a == b,
            (OptionValue::List(a), OptionValue::List(b)) => a == b,
            (OptionValue::Map(a), OptionValue::Map(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for OptionValue {}

/// A key of a nested mapping: any YAML scalar.
#[derive(Debug, Clone)]
pub enum OptionKey {
    /// A `null` key.
    Null,
    /// A boolean key.
    Bool(bool),
    /// An integer key that fits `i64`.
    Int(i64),
    /// An integer key above `i64::MAX`.
    Uint(u64),
    /// A float key.
    Float(f64),
    /// A timestamp key.
    Timestamp(Timestamp),
    /// A string key.
    String(String),
}

impl OptionKey {
    pub(crate) fn as_key_ref(&self) -> KeyRef<'_> {
        match self {
            OptionKey::Null => KeyRef::Null,
            OptionKey::Bool(b) => KeyRef::Bool(*b),
            OptionKey::Int(i) => KeyRef::Int(*i),
            OptionKey::Uint(u) => KeyRef::Uint(*u),
            OptionKey::Float(f) => KeyRef::Float(*f),
            OptionKey::Timestamp(_) => KeyRef::Timestamp,
            OptionKey::String(s) => KeyRef::Str(s),
        }
    }

    /// Whether Go's `==` on the two keys (as `any` values) is true: same
    /// dynamic type and equal value, with IEEE float equality.
    fn go_equal(&self, other: &Self) -> bool {
        match (self, other) {
            (OptionKey::Null, OptionKey::Null) => true,
            (OptionKey::Bool(a), OptionKey::Bool(b)) => a == b,
            (OptionKey::Int(a), OptionKey::Int(b)) => a == b,
            (OptionKey::Uint(a), OptionKey::Uint(b)) => a == b,
            (OptionKey::Float(a), OptionKey::Float(b)) => a == b,
            (OptionKey::Timestamp(a), OptionKey::Timestamp(b)) => a == b,
            (OptionKey::String(a), OptionKey::String(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialEq for OptionKey {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (OptionKey::Float(a), OptionKey::Float(b)) => float_bits(*a) == float_bits(*b),
            _ => self.go_equal(other),
        }
    }
}

impl Eq for OptionKey {}

/// A nested mapping (go-yaml key order, no two keys equal in Go's sense).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionMap {
    entries: Vec<(OptionKey, OptionValue)>,
}

impl OptionMap {
    /// An empty mapping (written `{}`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the mapping is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entries in canonical key order.
    pub fn iter(&self) -> impl Iterator<Item = (&OptionKey, &OptionValue)> {
        self.entries.iter().map(|(key, value)| (key, value))
    }
}

impl FromIterator<(OptionKey, OptionValue)> for OptionMap {
    /// Later keys replace earlier Go-equal ones (the key too, as Go does for
    /// float keys), then entries are sorted into go-yaml order.
    fn from_iter<I: IntoIterator<Item = (OptionKey, OptionValue)>>(iter: I) -> Self {
        let mut entries: Vec<(OptionKey, OptionValue)> = Vec::new();
        let mut strings: HashMap<String, usize> = HashMap::new();
        for (key, value) in iter {
            let existing = match &key {
                OptionKey::String(s) => strings.get(s).copied(),
                _ => entries.iter().position(|(k, _)| k.go_equal(&key)),
            };
            match existing.and_then(|i| entries.get_mut(i)) {
                Some(slot) => *slot = (key, value),
                None => {
                    if let OptionKey::String(s) = &key {
                        strings.insert(s.clone(), entries.len());
                    }
                    entries.push((key, value));
                }
            }
        }
        let entries = keyorder::sort_by_key(entries, &|(key, _): &(OptionKey, OptionValue)| {
            key.as_key_ref()
        });
        OptionMap { entries }
    }
}

/// Bit pattern used for equality: all NaNs are one value.
fn float_bits(f: f64) -> u64 {
    if f.is_nan() {
        f64::NAN.to_bits()
    } else {
        f.to_bits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_keys_sort_in_go_order_and_replace() {
        let options: OverlayOptions = [
            ("b".to_owned(), OptionValue::Int(1)),
            ("a10".to_owned(), OptionValue::Int(2)),
            ("a2".to_owned(), OptionValue::Int(3)),
            ("b".to_owned(), OptionValue::Int(4)),
        ]
        .into_iter()
        .collect();
        let keys: Vec<&str> = options.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a2", "a10", "b"]);
        assert_eq!(options.get("b"), Some(&OptionValue::Int(4)));

        let mut options = options;
        assert_eq!(options.insert("a3", OptionValue::Null), None);
        let keys: Vec<&str> = options.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a2", "a3", "a10", "b"]);
    }

    #[test]
    fn nested_keys_use_go_equality() {
        let map: OptionMap = [
            (OptionKey::Float(0.0), OptionValue::Int(1)),
            (OptionKey::Int(0), OptionValue::Int(2)),
            (OptionKey::Float(-0.0), OptionValue::Int(3)),
        ]
        .into_iter()
        .collect();
        // 0.0 == -0.0 in Go, so the later key replaces the earlier one; the
        // int 0 is a different type. Equal numbers order by kind: int first.
        let entries: Vec<(OptionKey, OptionValue)> =
            map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_eq!(
            entries,
            [
                (OptionKey::Int(0), OptionValue::Int(2)),
                (OptionKey::Float(-0.0), OptionValue::Int(3))
            ]
        );
    }

    #[test]
    fn nan_values_are_equal_for_eq() {
        assert_eq!(OptionValue::Float(f64::NAN), OptionValue::Float(-f64::NAN));
        assert_ne!(OptionValue::Float(0.0), OptionValue::Float(-0.0));
        assert_ne!(OptionValue::Int(1), OptionValue::Uint(1));
    }
}

//! The order go-yaml writes map keys in (`keyList.Less` in go-yaml's
//! representer): numbers and booleans numerically and before everything
//! else, then by Go kind (null keys before strings, timestamps after), and
//! strings in a "natural" order where digit runs compare as numbers and
//! letters sort before other characters (`_x`, `1`, `A`, `a2`, `a10`, `b`).
//!
//! The comparison is ported rune for rune, including Go's wrapping integer
//! arithmetic on long digit runs. Go's `unicode.IsLetter`/`IsDigit` (general
//! categories L and Nd) are approximated with Rust's `is_alphabetic` and
//! `is_numeric`, which agree on ASCII and on the letters of common scripts.
//! Keys are sorted with a merge sort driven by `less` only, so even a
//! comparison that is not a total order (NaN keys) cannot make sorting
//! panic; equal keys keep document order.

/// A map key as go-yaml's sorter sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeyRef<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// Timestamps are Go structs: they compare equal to each other.
    Timestamp,
    Str(&'a str),
}

impl KeyRef<'_> {
    /// Go's `reflect.Kind` number of the key's dynamic type.
    fn kind(&self) -> u8 {
        match self {
            KeyRef::Bool(_) => 1,
            KeyRef::Int(_) => 2,
            KeyRef::Uint(_) => 11,
            KeyRef::Float(_) => 14,
            KeyRef::Null => 20,
            KeyRef::Str(_) => 24,
            KeyRef::Timestamp => 25,
        }
    }

    /// go-yaml's `keyFloat`.
    fn number(&self) -> Option<f64> {
        match *self {
            KeyRef::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            KeyRef::Int(i) => Some(i as f64),
            KeyRef::Uint(u) => Some(u as f64),
            KeyRef::Float(f) => Some(f),
            KeyRef::Null | KeyRef::Timestamp | KeyRef::Str(_) => None,
        }
    }
}

/// go-yaml's `keyList.Less(a, b)`.
pub(crate) fn less(a: KeyRef<'_>, b: KeyRef<'_>) -> bool {
    if let (Some(af), Some(bf)) = (a.number(), b.number()) {
        if af != bf {
            return af < bf;
        }
        if a.kind() != b.kind() {
            return a.kind() < b.kind();
        }
        return match (a, b) {
            (KeyRef::Int(x), KeyRef::Int(y)) => x < y,
            (KeyRef::Uint(x), KeyRef::Uint(y)) => x < y,
            (KeyRef::Float(x), KeyRef::Float(y)) => x < y,
            (KeyRef::Bool(x), KeyRef::Bool(y)) => !x && y,
            _ => false,
        };
    }
    match (a, b) {
        (KeyRef::Str(x), KeyRef::Str(y)) => less_str(x, y),
        _ => a.kind() < b.kind(),
    }
}

/// The string part of `keyList.Less`.
pub(crate) fn less_str(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut digits = false;
    for (i, (&ca, &cb)) in ar.iter().zip(br.iter()).enumerate() {
        if ca == cb {
            digits = is_digit(ca);
            continue;
        }
        let al = is_letter(ca);
        let bl = is_letter(cb);
        if al && bl {
            return ca < cb;
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ca == '0' || cb == '0' {
            for &c in ar.iter().take(i).rev() {
                if !is_digit(c) {
                    break;
                }
                if c != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let (an, ai) = digit_run(&ar, i, an);
        let (bn, bi) = digit_run(&br, i, bn);
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ca < cb;
    }
    ar.len() < br.len()
}

/// Accumulates the digit run starting at `from` like Go (`n*10 + (r-'0')`,
/// wrapping), returning the value and the index after the run.
fn digit_run(runes: &[char], from: usize, start: i64) -> (i64, usize) {
    let mut n = start;
    let mut end = from;
    for &c in runes.iter().skip(from) {
        if !is_digit(c) {
            break;
        }
        n = n
            .wrapping_mul(10)
            .wrapping_add(i64::from(c as u32) - i64::from(b'0'));
        end += 1;
    }
    (n, end)
}

fn is_letter(c: char) -> bool {
    c.is_alphabetic()
}

fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        c.is_numeric()
    }
}

/// Sorts `items` by go-yaml's key order (stable merge sort on `less`).
pub(crate) fn sort_by_key<T>(items: Vec<T>, key: &impl Fn(&T) -> KeyRef<'_>) -> Vec<T> {
    if items.len() <= 1 {
        return items;
    }
    let mut left = items;
    let right = left.split_off(left.len() / 2);
    let left = sort_by_key(left, key);
    let right = sort_by_key(right, key);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_right = match (left.peek(), right.peek()) {
            (Some(l), Some(r)) => less(key(r), key(l)),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right {
            right.next()
        } else {
            left.next()
        };
        if let Some(item) = next {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(keys: &[&str]) -> Vec<String> {
        let items: Vec<String> = keys.iter().map(|s| (*s).to_owned()).collect();
        sort_by_key(items, &|s: &String| KeyRef::Str(s.as_str()))
    }

    #[test]
    fn natural_string_order() {
        // Derived by hand from keyList.Less: '_' vs '1' compares digit runs
        // (0 < 1); a non-letter sorts before a letter; letters compare by
        // code point; digit runs compare numerically.
        assert_eq!(
            sorted(&["a10", "a2", "b", "A", "_x", "1"]),
            ["_x", "1", "A", "a2", "a10", "b"]
        );
        assert_eq!(sorted(&["a01", "a1", "a001"]), ["a1", "a01", "a001"]);
        assert_eq!(sorted(&["x2y", "x10y", "x2"]), ["x2", "x2y", "x10y"]);
        assert_eq!(sorted(&["ab", "a", "a-", "a1"]), ["a", "a-", "a1", "ab"]);
        assert_eq!(sorted(&["b", "B", "ä", "a"]), ["B", "a", "b", "ä"]);
    }

    #[test]
    fn mixed_key_kinds() {
        let items = vec![
            KeyRef::Str("a"),
            KeyRef::Timestamp,
            KeyRef::Null,
            KeyRef::Float(1.5),
            KeyRef::Int(2),
            KeyRef::Bool(true),
            KeyRef::Int(1),
            KeyRef::Uint(1),
        ];
        let order: Vec<String> = sort_by_key(items, &|k: &KeyRef<'_>| *k)
            .iter()
            .map(|k| format!("{k:?}"))
            .collect();
        // true == 1 == 1u numerically; ties break by kind: bool < int < uint.
        assert_eq!(
            order,
            [
                "Bool(true)",
                "Int(1)",
                "Uint(1)",
                "Float(1.5)",
                "Int(2)",
                "Null",
                "Str(\"a\")",
                "Timestamp",
            ]
        );
    }
}

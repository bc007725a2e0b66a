//! go-yaml v4's implicit typing of scalars (`resolve.go`).
//!
//! A plain scalar's type comes from its text: a fixed table (`true`/`True`/
//! `TRUE`, `false`…, `~`/`null`/`Null`/`NULL`/empty, `.inf`/`.nan` spellings,
//! `-0`, `<<`), then — depending on the first character — a float starting
//! with `.`, or a timestamp, Go integer (after removing `_`) or YAML-style
//! float. Note what v4 does *not* do: `yes`/`no`/`on`/`off` are strings
//! (YAML 1.2). Quoted and block scalars are strings without resolution. An
//! explicit core tag forces the type and fails when the text does not fit
//! (`!!int abc`), except that `!!float` accepts integers.
//!
//! The same table drives the emitter: a string that would resolve to
//! anything but `!!str` when written plain must be quoted.

use crate::schematic::yaml::gonum;
use crate::schematic::yaml::timestamp::Timestamp;

/// Short core tags.
pub(crate) const STR: &str = "!!str";
pub(crate) const INT: &str = "!!int";
pub(crate) const BOOL: &str = "!!bool";
pub(crate) const FLOAT: &str = "!!float";
pub(crate) const NULL: &str = "!!null";
pub(crate) const TIMESTAMP: &str = "!!timestamp";
pub(crate) const BINARY: &str = "!!binary";
pub(crate) const MERGE: &str = "!!merge";
pub(crate) const SEQ: &str = "!!seq";
pub(crate) const MAP: &str = "!!map";

/// The value a scalar resolves to (`Str` means: the text itself).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Timestamp(Timestamp),
    Str,
    Merge,
}

impl Resolved {
    /// The short tag of this kind of value.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Resolved::Null => NULL,
            Resolved::Bool(_) => BOOL,
            Resolved::Int(_) | Resolved::Uint(_) => INT,
            Resolved::Float(_) => FLOAT,
            Resolved::Timestamp(_) => TIMESTAMP,
            Resolved::Str => STR,
            Resolved::Merge => MERGE,
        }
    }
}

/// An explicit tag that the text does not satisfy (go-yaml fails hard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mismatch {
    pub(crate) resolved: &'static str,
    pub(crate) tag: String,
}

/// Whether go-yaml resolves scalars carrying this (short) tag; `""` means
/// untagged. Other tags (`!!binary`, `!!merge`, local tags, `!`) keep the
/// text as-is under their own tag.
pub(crate) fn resolvable(tag: &str) -> bool {
    matches!(tag, "" | STR | BOOL | INT | FLOAT | NULL | TIMESTAMP)
}

/// go-yaml's `resolve(tag, in)` for a resolvable `tag` (`""` = untagged).
pub(crate) fn resolve(tag: &str, text: &str) -> Result<Resolved, Mismatch> {
    let value = resolve_text(tag, text);
    let rtag = value.tag();
    if tag.is_empty() || tag == rtag || tag == STR || tag == BINARY {
        return Ok(value);
    }
    if tag == FLOAT {
        match value {
            Resolved::Int(i) => return Ok(Resolved::Float(i as f64)),
            Resolved::Uint(u) => return Ok(Resolved::Float(u as f64)),
            _ => {}
        }
    }
    Err(Mismatch {
        resolved: rtag,
        tag: tag.to_owned(),
    })
}

/// The tag go-yaml would give this text written as an untagged plain scalar.
pub(crate) fn plain_tag(text: &str) -> &'static str {
    resolve_text("", text).tag()
}

fn resolve_text(tag: &str, text: &str) -> Resolved {
    if tag == STR || tag == BINARY {
        return Resolved::Str;
    }
    let hint = match text.as_bytes().first() {
        None => Hint::Table,
        Some(b'+' | b'-' | b'0'..=b'9') => Hint::Number,
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' | b'<') => {
            Hint::Table
        }
        Some(b'.') => Hint::Dot,
        Some(_) => return Resolved::Str,
    };
    if let Some(value) = table(text) {
        return value;
    }
    match hint {
        Hint::Table => {}
        Hint::Dot => {
            if let Some(f) = gonum::parse_float(text) {
                return Resolved::Float(f);
            }
        }
        Hint::Number => {
            if (tag.is_empty() || tag == TIMESTAMP)
                && let Some(t) = Timestamp::parse(text)
            {
                return Resolved::Timestamp(t);
            }
            let plain: String = text.chars().filter(|&c| c != '_').collect();
            if let Some(i) = gonum::parse_int(&plain) {
                return Resolved::Int(i);
            }
            if let Some(u) = gonum::parse_uint(&plain) {
                return Resolved::Uint(u);
            }
            if gonum::is_yaml_style_float(&plain)
                && let Some(f) = gonum::parse_float(&plain)
            {
                return Resolved::Float(f);
            }
        }
    }
    Resolved::Str
}

#[derive(Clone, Copy)]
enum Hint {
    Table,
    Dot,
    Number,
}

/// go-yaml v4's `resolveMap`.
fn table(text: &str) -> Option<Resolved> {
    Some(match text {
        "true" | "True" | "TRUE" => Resolved::Bool(true),
        "false" | "False" | "FALSE" => Resolved::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        "-0" | "-0.0" => Resolved::Float(-0.0),
        "<<" => Resolved::Merge,
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_like_go_yaml_v4() {
        let cases = [
            ("", NULL),
            ("~", NULL),
            ("null", NULL),
            ("Null", NULL),
            ("NULL", NULL),
            ("nULL", STR),
            ("true", BOOL),
            ("True", BOOL),
            ("TRUE", BOOL),
            ("tRUE", STR),
            ("yes", STR),
            ("on", STR),
            ("y", STR),
            ("10", INT),
            ("0x1F", INT),
            ("0o17", INT),
            ("0b101", INT),
            ("1_000", INT),
            ("+5", INT),
            ("-5", INT),
            ("18446744073709551615", INT),
            ("1.5", FLOAT),
            (".5", FLOAT),
            ("1e3", FLOAT),
            ("09", FLOAT),
            ("-0", FLOAT),
            (".inf", FLOAT),
            ("-.Inf", FLOAT),
            (".NaN", FLOAT),
            (".nan_", STR),
            ("1e400", STR),
            ("1:30", STR),
            ("2015-01-01", TIMESTAMP),
            ("2015-01-01x", STR),
            ("<<", MERGE),
            ("-", STR),
            (".", STR),
            ("0x", STR),
            ("abc", STR),
        ];
        for (text, want) in cases {
            assert_eq!(plain_tag(text), want, "text {text:?}");
        }
    }

    #[test]
    fn values() {
        assert_eq!(resolve("", "0xa"), Ok(Resolved::Int(10)));
        assert_eq!(resolve("", "010"), Ok(Resolved::Int(8)));
        assert_eq!(resolve("", "1_0"), Ok(Resolved::Int(10)));
        assert_eq!(
            resolve("", "18446744073709551615"),
            Ok(Resolved::Uint(u64::MAX))
        );
        assert_eq!(resolve("", "09"), Ok(Resolved::Float(9.0)));
        assert_eq!(resolve("", "False"), Ok(Resolved::Bool(false)));
    }

    #[test]
    fn explicit_tags() {
        assert_eq!(resolve(STR, "10"), Ok(Resolved::Str));
        assert_eq!(resolve(INT, "10"), Ok(Resolved::Int(10)));
        assert_eq!(resolve(FLOAT, "10"), Ok(Resolved::Float(10.0)));
        assert_eq!(
            resolve(INT, "abc"),
            Err(Mismatch {
                resolved: STR,
                tag: INT.into()
            })
        );
        assert_eq!(
            resolve(BOOL, "yes"),
            Err(Mismatch {
                resolved: STR,
                tag: BOOL.into()
            })
        );
        assert_eq!(
            resolve(INT, "2015-01-01"),
            Err(Mismatch {
                resolved: STR,
                tag: INT.into()
            })
        );
        assert!(matches!(
            resolve(TIMESTAMP, "2015-01-01"),
            Ok(Resolved::Timestamp(_))
        ));
        assert!(!resolvable("!foo") && !resolvable(BINARY) && !resolvable("!") && resolvable(""));
    }
}

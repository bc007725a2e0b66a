//! Talos compatibility ranges (`metadata.compatibility.talos.version`).
//!
//! Talos parses the range with `blang/semver`'s `ParseRange` after deleting
//! every `v` that directly precedes a digit, and tests it against the Talos
//! version's `major.minor.patch` (pre-release dropped). This is a small
//! parser for the part of that grammar extensions use:
//!
//! - a comparison is an operator (`>=`, `>`, `<=`, `<`, `=`, `==`, `!=`,
//!   `!`, or none for equality) and a full SemVer version; spaces between
//!   the operator and the version are allowed (`>= v1.7.0`);
//! - comparisons separated by spaces must all hold (AND);
//! - groups separated by `||` are alternatives (OR; AND binds tighter);
//! - an empty range accepts every version (Talos skips the check).
//!
//! Not supported, and refused with an error rather than guessed: wildcard
//! versions (`1.x`, `1.2.x`) and partial versions (`1.7`), which `blang`
//! accepts only as wildcards. Versions compare by SemVer precedence
//! (build metadata ignored), as `blang`'s `Compare` does.

use std::cmp::Ordering;
use std::fmt;

use semver::Version;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A parsed compatibility range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    /// OR of ANDs.
    alternatives: Vec<Vec<(Op, Version)>>,
}

/// Why a range did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version range {range:?}: {reason}")]
pub struct RangeError {
    /// The range as written.
    pub range: String,
    /// What is wrong.
    pub reason: String,
}

impl VersionRange {
    /// Parses a range as Talos writes them (see the module docs).
    pub fn parse(range: &str) -> Result<VersionRange, RangeError> {
        let err = |reason: String| RangeError {
            range: range.to_owned(),
            reason,
        };
        let trimmed = strip_v_before_digits(range);
        let mut alternatives = Vec::new();
        for group in trimmed.split("||") {
            let mut all = Vec::new();
            for part in join_operators(group) {
                all.push(parse_comparison(&part).map_err(err)?);
            }
            if all.is_empty() {
                if trimmed.trim().is_empty() {
                    return Ok(VersionRange {
                        alternatives: Vec::new(),
                    });
                }
                return Err(err("empty alternative around `||`".to_owned()));
            }
            alternatives.push(all);
        }
        Ok(VersionRange { alternatives })
    }

    /// Whether `version` (compared without its pre-release and build parts,
    /// as Talos does) is in the range. The empty range holds everything.
    pub fn matches_core(&self, major: u64, minor: u64, patch: u64) -> bool {
        let v = Version::new(major, minor, patch);
        self.alternatives.is_empty()
            || self
                .alternatives
                .iter()
                .any(|all| all.iter().all(|(op, bound)| compare(*op, &v, bound)))
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        })
    }
}

fn compare(op: Op, v: &Version, bound: &Version) -> bool {
    let ord = v
        .major
        .cmp(&bound.major)
        .then(v.minor.cmp(&bound.minor))
        .then(v.patch.cmp(&bound.patch))
        .then_with(|| v.pre.cmp(&bound.pre));
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
    }
}

/// Talos's `trim`: drops each `v` directly followed by a digit.
fn strip_v_before_digits(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == 'v' && chars.peek().is_some_and(char::is_ascii_digit) {
            continue;
        }
        out.push(c);
    }
    out
}

/// Splits a group on whitespace, gluing a lone operator to the version
/// that follows it (`>= 1.0.0` is one comparison).
fn join_operators(group: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut glue = false;
    for word in group.split_whitespace() {
        match parts.last_mut() {
            Some(last) if glue => last.push_str(word),
            _ => parts.push(word.to_owned()),
        }
        glue = word.ends_with(['>', '<', '=', '!']);
    }
    parts
}

fn parse_comparison(part: &str) -> Result<(Op, Version), String> {
    let digit = part
        .find(|c: char| c.is_ascii_digit())
        .ok_or_else(|| format!("no version in {part:?}"))?;
    let (op, version) = part.split_at(digit);
    let op = match op {
        "" | "=" | "==" => Op::Eq,
        "!" | "!=" => Op::Ne,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "<" => Op::Lt,
        "<=" => Op::Le,
        other => return Err(format!("unknown operator {other:?}")),
    };
    if version.contains(".x") || version.ends_with('x') {
        return Err(format!("wildcard version {version:?} is not supported"));
    }
    let parsed =
        Version::parse(version).map_err(|e| format!("version {version:?} is not SemVer: {e}"))?;
    Ok((op, parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(range: &str, v: (u64, u64, u64)) -> bool {
        VersionRange::parse(range)
            .unwrap()
            .matches_core(v.0, v.1, v.2)
    }

    #[test]
    fn forms_talos_uses() {
        assert!(ok(">= v1.0.0", (1, 7, 0)));
        assert!(ok(">=v1.7.0", (1, 7, 0)));
        assert!(!ok(">= v1.8.0", (1, 7, 9)));
        assert!(ok(">= 1.0.0", (1, 0, 0)));
        assert!(ok(">= v1.7.0 < v1.9.0", (1, 8, 3)));
        assert!(!ok(">= v1.7.0 < v1.9.0", (1, 9, 0)));
        assert!(ok("< v1.5.0 || >= v1.7.0", (1, 7, 1)));
        assert!(!ok("< v1.5.0 || >= v1.7.0", (1, 6, 0)));
        assert!(ok("v1.8.0", (1, 8, 0)));
        assert!(ok("!= 1.8.0", (1, 8, 1)));
        assert!(ok("", (0, 0, 1)));
        // A pre-release bound sorts before its release.
        assert!(ok(">= v1.8.0-alpha.1", (1, 8, 0)));
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        for bad in [">= 1.x", ">= 1.7", "~> 1.0.0", "|| 1.0.0", ">= abc"] {
            assert!(VersionRange::parse(bad).is_err(), "{bad}");
        }
    }
}

//! Why a schematic body is refused, with the text the HTTP 400 body carries.
//!
//! Upstream answers every decode failure with go-yaml's own error text, and
//! clients (and upstream's integration tests) compare those strings, so the
//! `Display` of each kind reproduces go-yaml v4's wording:
//!
//! - non-fatal problems found while mapping the document onto the schematic
//!   (unknown fields, wrong types, duplicate keys) are collected in document
//!   order and reported together as `yaml: construct errors: line N: …; line M: …`;
//! - fatal problems stop decoding at once and read
//!   `go-yaml load error in <stage> at L<line>.C<column>: <problem>`.
//!
//! Where we deliberately say more than upstream (the valid range of a META
//! key, the valid bootloader names) the addition is appended in parentheses
//! so the upstream prefix stays intact. Tests match on the typed kinds below.

use std::fmt;

/// A refused schematic body. `Display` is the message for the HTTP 400 body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct SchematicError {
    kind: SchematicErrorKind,
}

impl SchematicError {
    /// What went wrong.
    pub fn kind(&self) -> &SchematicErrorKind {
        &self.kind
    }

    /// The 1-based line the problem was found on, where one is known (the
    /// first one for a list of construct errors).
    pub fn line(&self) -> Option<usize> {
        match &self.kind {
            SchematicErrorKind::Syntax { line, .. } => Some(*line),
            SchematicErrorKind::Load(failure) => failure.mark.map(|mark| mark.line),
            SchematicErrorKind::Construct(errors) => errors.first().map(|error| error.line),
            SchematicErrorKind::InvalidEnrollKeys { line, .. } => Some(*line),
            SchematicErrorKind::TooLarge { .. }
            | SchematicErrorKind::Empty
            | SchematicErrorKind::Encoding { .. }
            | SchematicErrorKind::OwnerNotAllowed
            | SchematicErrorKind::NotRoundTrippable => None,
        }
    }
}

impl From<SchematicErrorKind> for SchematicError {
    fn from(kind: SchematicErrorKind) -> Self {
        SchematicError { kind }
    }
}

/// The kinds of [`SchematicError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchematicErrorKind {
    /// The body exceeds [`super::MAX_SCHEMATIC_BYTES`].
    #[error("schematic is too large: {size} bytes (the limit is {limit} bytes)")]
    TooLarge {
        /// Size of the body in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The body holds no YAML document at all (empty, blank or only
    /// comments). Upstream answers `EOF`, the text of Go's `io.EOF`.
    #[error("EOF")]
    Empty,
    /// The bytes are not text go-yaml accepts (bad UTF-8/UTF-16, control
    /// characters). go-yaml reports these without a position.
    #[error("go-yaml load error in reader at <unknown position>: {problem}")]
    Encoding {
        /// Byte offset of the offending input.
        offset: usize,
        /// What is wrong with it.
        problem: EncodingProblem,
    },
    /// The text is not well-formed YAML. The message comes from our YAML
    /// parser and so differs in wording from go-yaml's scanner messages.
    #[error("go-yaml load error in parser at L{line}.C{column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// The parser's description.
        message: String,
    },
    /// A problem that stops decoding at once (go-yaml panics internally and
    /// reports only this one).
    #[error("{0}")]
    Load(LoadFailure),
    /// Problems mapping the document onto the schematic, in document order.
    #[error("yaml: construct errors: {}", ConstructList(.0))]
    Construct(Vec<ConstructError>),
    /// The body sets `owner`, which only upstream's Enterprise edition
    /// supports; this deployment has no multi-tenancy.
    #[error("owner field is only supported in Enterprise edition")]
    OwnerNotAllowed,
    /// `customization.secureboot.enrollKeys` is not a systemd-boot mode.
    /// Upstream accepts any string here and fails later when an asset is
    /// built; we refuse it up front.
    #[error(
        "line {line}: invalid secureboot.enrollKeys value {value:?} (valid values: off, manual, if-safe, force)"
    )]
    InvalidEnrollKeys {
        /// The value as decoded.
        value: String,
        /// 1-based line of the value.
        line: usize,
    },
    /// go-yaml's emitter would write this schematic in a form that does not
    /// read back as the same schematic (see the module docs of
    /// `schematic::encode`), so it could not be stored and served safely.
    #[error(
        "schematic cannot be stored: its canonical YAML form does not read back as the same schematic (a string uses characters or a layout that the canonical YAML emitter cannot represent faithfully)"
    )]
    NotRoundTrippable,
}

/// Formats a list of construct errors the way go-yaml v4's `LoadErrors`
/// does: each as `line N: message`, joined with `; `.
struct ConstructList<'a>(&'a [ConstructError]);

impl fmt::Display for ConstructList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// Bytes go-yaml's reader refuses, with its wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodingProblem {
    /// A byte that cannot start a UTF-8 sequence.
    #[error("invalid leading UTF-8 octet (value: {0})")]
    InvalidLeadingOctet(u8),
    /// The input ends inside a UTF-8 sequence.
    #[error("incomplete UTF-8 octet sequence")]
    IncompleteUtf8,
    /// A continuation byte is missing.
    #[error("invalid trailing UTF-8 octet (value: {0})")]
    InvalidTrailingOctet(u8),
    /// An overlong UTF-8 encoding.
    #[error("invalid length of a UTF-8 sequence")]
    InvalidLength,
    /// A surrogate or a value above U+10FFFF.
    #[error("invalid Unicode character (value: {0})")]
    InvalidCharacter(u32),
    /// The input ends inside a UTF-16 code unit.
    #[error("incomplete UTF-16 character")]
    IncompleteUtf16,
    /// A UTF-16 low surrogate without a high one.
    #[error("unexpected low surrogate area (value: {0})")]
    UnexpectedLowSurrogate(u32),
    /// The input ends inside a UTF-16 surrogate pair.
    #[error("incomplete UTF-16 surrogate pair")]
    IncompleteSurrogatePair,
    /// A UTF-16 high surrogate not followed by a low one.
    #[error("expected low surrogate area (value: {0})")]
    ExpectedLowSurrogate(u32),
    /// A character YAML does not allow in a stream (C0 controls other than
    /// tab, LF and CR; U+FFFE; U+FFFF).
    #[error("control characters are not allowed (value: {0})")]
    ControlCharacter(u32),
}

/// The go-yaml pipeline stage a fatal failure is attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Building the node tree (anchors and aliases, size and depth limits).
    Composer,
    /// Resolving an explicitly tagged scalar.
    Resolver,
    /// Mapping nodes onto Go (here: Rust) values.
    Constructor,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Composer => "composer",
            Stage::Resolver => "resolver",
            Stage::Constructor => "constructor",
        })
    }
}

/// A 1-based position in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// A fatal decoding failure: `go-yaml load error in <stage> at <mark>: <problem>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("go-yaml load error in {stage} at {}: {problem}", MarkText(.mark))]
pub struct LoadFailure {
    /// The stage that failed.
    pub stage: Stage,
    /// Where, when known (go-yaml's resolver reports no position).
    pub mark: Option<Mark>,
    /// What failed.
    pub problem: FatalProblem,
}

/// go-yaml's short position form: `L3.C5`, or `<unknown position>`.
struct MarkText<'a>(&'a Option<Mark>);

impl fmt::Display for MarkText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(mark) => write!(f, "L{}.C{}", mark.line, mark.column),
            None => f.write_str("<unknown position>"),
        }
    }
}

/// The problems that abort decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FatalProblem {
    /// An alias names an anchor not defined before it.
    #[error("unknown anchor '{name}' referenced")]
    UnknownAnchor {
        /// The alias name.
        name: String,
    },
    /// An alias refers to a node that contains the alias.
    #[error("anchor '{name}' value contains itself")]
    RecursiveAlias {
        /// The alias name.
        name: String,
    },
    /// An explicitly tagged scalar whose text is not of that type
    /// (`!!int abc`).
    #[error("cannot construct {resolved} `{value}` as a {tag}")]
    TagMismatch {
        /// The type the text resolves to.
        resolved: String,
        /// The scalar text.
        value: String,
        /// The explicit tag.
        tag: String,
    },
    /// A `!!binary` scalar that is not base64.
    #[error("!!binary value contains invalid base64 data")]
    InvalidBase64,
    /// Aliases expand to more nodes than we are willing to build
    /// (billion-laughs protection).
    #[error("document contains excessive aliasing")]
    ExcessiveAliasing,
    /// Nesting (including through aliases) is deeper than the limit.
    #[error("exceeded max depth of {limit}")]
    TooDeep {
        /// The depth limit.
        limit: usize,
    },
    /// The document has more nodes than the limit.
    #[error("exceeded max node count of {limit}")]
    TooManyNodes {
        /// The node limit.
        limit: usize,
    },
    /// A mapping or sequence used as a key of a free-form map.
    #[error("cannot use '{value}' as a map key; try decoding into yaml.Node")]
    UnhashableKey {
        /// Go `%#v` rendering of the key.
        value: String,
    },
    /// A merge key (`<<`) whose value is not a mapping or a list of them.
    #[error("map merge requires map or sequence of maps as the value")]
    MergeNotMapping,
}

/// One problem mapping the document onto the schematic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ConstructError {
    /// 1-based line of the offending node.
    pub line: usize,
    /// What is wrong.
    pub problem: ConstructProblem,
}

/// The non-fatal problems go-yaml collects while decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConstructProblem {
    /// A key that is not a field of the struct (`KnownFields(true)`).
    #[error("field {field} not found in type {type_name}")]
    UnknownField {
        /// The key.
        field: String,
        /// Upstream's Go type name, e.g. `schematic.Customization`.
        type_name: &'static str,
    },
    /// Two different keys naming the same field (e.g. one of them
    /// `!!binary`-encoded).
    #[error("field {field} already set in type {type_name}")]
    FieldAlreadySet {
        /// The field name.
        field: String,
        /// Upstream's Go type name.
        type_name: &'static str,
    },
    /// The same key twice in one mapping.
    #[error("mapping key {} already defined at line {first_line}", crate::gotext::quote(.key))]
    DuplicateKey {
        /// The key text.
        key: String,
        /// 1-based line of its first occurrence.
        first_line: usize,
    },
    /// A node of the wrong type, e.g. ``cannot construct !!str `abc` into uint8``.
    #[error("cannot construct {tag}{} into {target}{}", ValueText(.value), HintText(.hint))]
    TypeMismatch {
        /// The node's (short) tag.
        tag: String,
        /// The scalar text as go-yaml quotes it (cut to 7 bytes and `...`
        /// when longer than 10 bytes); `None` for mappings and sequences.
        value: Option<String>,
        /// Upstream's Go type name of the target.
        target: &'static str,
        /// Our addition, e.g. `meta key must be 0-255`.
        hint: Option<&'static str>,
    },
    /// A mapping or sequence where a text-decoded value is expected.
    #[error("cannot construct {tag} into {target} (TextUnmarshaler)")]
    NotText {
        /// The node's (short) tag.
        tag: String,
        /// Upstream's Go type name of the target.
        target: &'static str,
    },
    /// A `!!binary` value whose bytes are not UTF-8 text. go-yaml would
    /// keep the raw bytes (and re-encode them as `!!binary`); the schematic
    /// model holds text only.
    #[error("!!binary value is not valid UTF-8 text")]
    BinaryNotText,
    /// An unknown `bootloader` name (upstream's enumer message plus the list).
    #[error(
        "{value} does not belong to BootloaderKind values (valid values: none, dual-boot, sd-boot, grub)"
    )]
    InvalidBootloader {
        /// The value as written.
        value: String,
    },
}

/// `` `text` `` after the tag, as go-yaml prints scalar values.
struct ValueText<'a>(&'a Option<String>);

impl fmt::Display for ValueText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(value) => write!(f, " `{value}`"),
            None => Ok(()),
        }
    }
}

/// ` (hint)` after the target type.
struct HintText<'a>(&'a Option<&'static str>);

impl fmt::Display for HintText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(hint) => write!(f, " ({hint})"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn construct_list_joins_like_go_yaml_v4() {
        let error = SchematicError::from(SchematicErrorKind::Construct(vec![
            ConstructError {
                line: 1,
                problem: ConstructProblem::UnknownField {
                    field: "something".into(),
                    type_name: "schematic.Schematic",
                },
            },
            ConstructError {
                line: 4,
                problem: ConstructProblem::TypeMismatch {
                    tag: "!!int".into(),
                    value: Some("256".into()),
                    target: "uint8",
                    hint: Some("meta key must be 0-255"),
                },
            },
        ]));
        assert_eq!(
            error.to_string(),
            "yaml: construct errors: line 1: field something not found in type schematic.Schematic; \
             line 4: cannot construct !!int `256` into uint8 (meta key must be 0-255)"
        );
        assert_eq!(error.line(), Some(1));
    }

    #[test]
    fn fatal_failures_use_the_short_position_form() {
        let with_mark = LoadFailure {
            stage: Stage::Composer,
            mark: Some(Mark { line: 1, column: 4 }),
            problem: FatalProblem::UnknownAnchor { name: "b".into() },
        };
        assert_eq!(
            with_mark.to_string(),
            "go-yaml load error in composer at L1.C4: unknown anchor 'b' referenced"
        );
        let without = LoadFailure {
            stage: Stage::Resolver,
            mark: None,
            problem: FatalProblem::TagMismatch {
                resolved: "!!str".into(),
                value: "abc".into(),
                tag: "!!int".into(),
            },
        };
        assert_eq!(
            without.to_string(),
            "go-yaml load error in resolver at <unknown position>: cannot construct !!str `abc` as a !!int"
        );
    }

    #[test]
    fn sequence_type_errors_have_no_value() {
        let problem = ConstructProblem::TypeMismatch {
            tag: "!!seq".into(),
            value: None,
            target: "schematic.Customization",
            hint: None,
        };
        assert_eq!(
            problem.to_string(),
            "cannot construct !!seq into schematic.Customization"
        );
    }
}

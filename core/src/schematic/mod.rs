//! Schematics: strict parsing, the canonical YAML form and the
//! content-addressed ID.
//!
//! A schematic's identity is `sha256(yaml.Marshal(schematic))` computed by
//! upstream with go-yaml v4 (`go.yaml.in/yaml/v4`), and its error answers are
//! go-yaml's decoder messages. Both must match upstream exactly, so this
//! module does not use a generic serde YAML stack:
//!
//! - **Parsing** drives `saphyr-parser` at the event level and builds a small
//!   node tree that keeps, per node, what go-yaml's decoder looks at: plain
//!   versus quoted style (`10` is an integer, `"10"` a string), the explicit
//!   tag, and the line for every error. The tree is then decoded into the
//!   model by hand (`decode`), following go-yaml's rules for each Go type
//!   of upstream's struct and producing its messages
//!   (`yaml: construct errors: line 1: field something not found in type
//!   schematic.Schematic`). Only the first document is read; an empty body
//!   is `EOF`, as upstream answers.
//! - **Canonical YAML** is written by a port of go-yaml's emitter
//!   (`encode`, `yaml::emitter`): 4-space indentation, sequences indented
//!   under their key, go-yaml's scalar style rules and map key order.
//! - **The ID** is the sha256 of those bytes ([`SchematicId`]).
//!
//! Why not serde: `serde-saphyr`, `serde_yaml_ng` and `serde_norway` all
//! deserialize through serde's data model, which loses the scalar style
//! (so `"10"` into a `u8` would be accepted, and `0xa`/`yes`/timestamps
//! would be typed by YAML 1.2 or 1.1 rules rather than go-yaml v4's),
//! reports their own error texts without go-yaml's aggregation, and their
//! serializers differ from go-yaml in indentation and quoting (only
//! `serde-saphyr` can be configured to 4-space indented sequences, and its
//! scalar quoting still differs). A hand-written decoder and emitter for the
//! closed struct are small and can be checked against upstream's vectors.
//!
//! [`Schematic::parse`] also re-reads the canonical YAML it would store and
//! refuses schematics whose canonical form does not read back as the same
//! schematic (go-yaml's emitter has a few blind spots, see `encode`), and
//! it returns the schematic as read back from that form, so
//! `parse(canonical(parse(x))) == parse(x)` always holds.

mod decode;
pub(crate) mod encode;
mod error;
mod id;
mod model;
mod options;
pub(crate) mod yaml;

pub use error::{
    ConstructError, ConstructProblem, EncodingProblem, FatalProblem, LoadFailure, Mark,
    SchematicError, SchematicErrorKind, Stage,
};
pub use id::{InvalidSchematicId, SchematicId};
pub use model::{
    Bootloader, Customization, DiskImage, EnrollKeys, MetaValue, Overlay, Schematic, SecureBoot,
    SystemExtensions,
};
pub use options::{OptionKey, OptionMap, OptionValue, OverlayOptions, Timestamp};

use yaml::tree::ComposeError;

/// Largest schematic body accepted, in bytes. The HTTP frontend refuses
/// larger bodies with 413 before parsing; [`Schematic::parse`] checks again.
pub const MAX_SCHEMATIC_BYTES: usize = 1024 * 1024;

impl Schematic {
    /// Strictly parses a YAML or JSON body (JSON is YAML), as upstream's
    /// decoder with `KnownFields(true)` does, and rejects a non-empty
    /// `owner` (no multi-tenancy here) and unknown `secureboot.enrollKeys`
    /// modes. Never panics, whatever the bytes.
    pub fn parse(body: &[u8]) -> Result<Schematic, SchematicError> {
        if body.len() > MAX_SCHEMATIC_BYTES {
            return Err(SchematicErrorKind::TooLarge {
                size: body.len(),
                limit: MAX_SCHEMATIC_BYTES,
            }
            .into());
        }
        let first = decode_body(body)?;
        // Store only what reads back: re-read the canonical form and return
        // that reading (which also normalises e.g. `1.0` to the integer 1,
        // since the canonical YAML writes it as `1`). The canonical form may
        // be larger than the body (deeper indentation, expanded aliases), so
        // the size limit does not apply to it.
        let canonical = first.canonical_yaml();
        match decode_body(canonical.as_bytes()) {
            Ok(second) if second.canonical_yaml() == canonical => Ok(second),
            _ => Err(SchematicErrorKind::NotRoundTrippable.into()),
        }
    }

    /// Canonical YAML, byte-identical to go.yaml.in/yaml/v4 `yaml.Marshal` of
    /// upstream's Go struct.
    pub fn canonical_yaml(&self) -> String {
        encode::canonical_yaml(self)
    }

    /// sha256 of [`Self::canonical_yaml`], lowercase hex.
    pub fn id(&self) -> SchematicId {
        SchematicId::of_canonical_yaml(&self.canonical_yaml())
    }
}

/// Bytes to validated schematic, without the size limit and the read-back
/// check.
fn decode_body(body: &[u8]) -> Result<Schematic, SchematicError> {
    let text = yaml::input::decode(body).map_err(|e| SchematicErrorKind::Encoding {
        offset: e.offset,
        problem: e.problem,
    })?;
    let tree = yaml::tree::compose(&text).map_err(|e| match e {
        ComposeError::NoDocument => SchematicErrorKind::Empty,
        ComposeError::Syntax { mark, message } => SchematicErrorKind::Syntax {
            line: mark.line,
            column: mark.column,
            message,
        },
        ComposeError::Load(failure) => SchematicErrorKind::Load(failure),
    })?;
    let decoded = decode::decode(&tree).map_err(|e| match e {
        decode::DecodeError::Fatal(failure) => SchematicErrorKind::Load(failure),
        decode::DecodeError::Construct(errors) => SchematicErrorKind::Construct(errors),
    })?;
    if !decoded.schematic.owner.is_empty() {
        return Err(SchematicErrorKind::OwnerNotAllowed.into());
    }
    if let Some((value, line)) = decoded.invalid_enroll_keys {
        return Err(SchematicErrorKind::InvalidEnrollKeys { value, line }.into());
    }
    Ok(decoded.schematic)
}

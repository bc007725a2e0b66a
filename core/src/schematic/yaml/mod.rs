//! The parts of go-yaml (`go.yaml.in/yaml/v4`) that schematics depend on,
//! re-implemented for the closed set of shapes a schematic can take.
//!
//! Schematic IDs are the sha256 of the bytes go-yaml's `Marshal` produces, and
//! the HTTP 400 bodies are go-yaml's decoder messages, so this module follows
//! go-yaml's own pipeline stage by stage rather than a generic YAML library:
//!
//! - [`input`]: the reader stage (encodings, character checks, its messages);
//! - [`tree`]: the composer stage, a node tree built from `saphyr-parser`
//!   events that keeps what go-yaml's decoder looks at (scalar style, explicit
//!   tag, line) and bounds depth and size;
//! - [`resolve`], [`gonum`], [`timestamp`]: go-yaml's implicit typing of
//!   plain scalars, with Go's number and time parsing rules;
//! - [`emitter`], [`scalar`], [`float`], [`keyorder`]: the dumper stage, a port
//!   of the libyaml-derived emitter for block-style output (4-space indent,
//!   no line wrapping for `Marshal`, width 80 for `NewEncoder`) with
//!   go-yaml's scalar style choices and map key order;
//! - Go's `%q` formatting used inside error messages lives in `crate::gotext`.
//!
//! Everything here is crate-private; [`super`] exposes the typed result, and
//! [`crate::goyaml`] exposes the emitter for other documents.

pub(crate) mod emitter;
pub(crate) mod float;
pub(crate) mod gonum;
pub(crate) mod input;
pub(crate) mod keyorder;
pub(crate) mod resolve;
pub(crate) mod scalar;
pub(crate) mod timestamp;
pub(crate) mod tree;

//! The slice of go-yaml's encoder that `extensions.yaml` needs.
//!
//! Talos writes `extensions.yaml` with `yaml.NewEncoder(f).Encode(cfg)`
//! (go.yaml.in/yaml/v4, v3-compatible defaults: 4-space indent, indented
//! sequences, width 80). `factory_core` has a complete go-yaml emitter for
//! schematics, but it is crate-private and fixed to `Marshal`'s unlimited
//! width, so this crate keeps a small local port for string-valued
//! documents. Its one approximation (which plain texts go-yaml would
//! resolve as non-strings) is described in [`style`]; unifying with core's
//! emitter (exposing it with a width option) would remove it.

mod emit;
mod style;

pub(crate) use emit::{Node, encode};

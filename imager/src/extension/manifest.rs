//! `manifest.yaml` of a system extension, decoded leniently as Talos does.
//!
//! Talos reads the manifest with go-yaml's `Decoder.Decode` into a plain
//! struct: unknown keys are ignored, any scalar lands in a string field as
//! its text (`version: 1.0` is the string `1.0`), a plain null (`~`,
//! `null`, empty) leaves the field empty, a mapping or sequence where a
//! string is expected is an error, and only the first document is read.
//! This decoder follows those rules on `saphyr-parser` events for the closed
//! struct below. Differences, documented rather than hidden: anchors are
//! accepted but aliases are refused (no extension uses them, and refusing
//! them removes alias-expansion bombs), nesting is bounded at
//! [`MAX_DEPTH`], and duplicate keys are refused as go-yaml v4 does.

use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Deepest nesting of mappings and sequences accepted (also inside ignored
/// keys).
pub const MAX_DEPTH: usize = 64;

/// The manifest: format version and metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Must be `v1alpha1`.
    pub version: String,
    /// What the extension says about itself.
    pub metadata: Metadata,
}

/// Extension metadata, as written into `extensions.yaml` layers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Extension name (`gvisor`).
    pub name: String,
    /// Extension version (`20220117.0-v1.0.0`).
    pub version: String,
    /// Author.
    pub author: String,
    /// Free text, often with a trailing newline (folded `>` in manifests).
    pub description: String,
    /// Which Talos versions it works with.
    pub compatibility: Compatibility,
    /// Extra information (the schematic extension puts the schematic here);
    /// omitted from YAML when empty.
    pub extra_info: String,
}

/// Compatibility section of the metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compatibility {
    /// The Talos constraint.
    pub talos: Constraint,
}

/// A version constraint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Constraint {
    /// A range such as `>= v1.7.0`; empty means any version.
    pub version: String,
}

/// Why a manifest could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The document is empty (go-yaml answers `EOF`).
    #[error("EOF")]
    Empty,
    /// YAML syntax error.
    #[error("yaml: line {line}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A value of the wrong kind for its field.
    #[error("yaml: line {line}: cannot unmarshal {found} into {field}")]
    WrongKind {
        /// 1-based line.
        line: usize,
        /// What was found (`!!map`, `!!seq`, `!!str`).
        found: &'static str,
        /// Field path (`metadata.name`).
        field: String,
    },
    /// A key appears twice in one mapping.
    #[error("yaml: line {line}: mapping key {key:?} already defined")]
    DuplicateKey {
        /// 1-based line.
        line: usize,
        /// The key.
        key: String,
    },
    /// An alias (`*name`).
    #[error("yaml: line {line}: aliases are not supported in extension manifests")]
    Alias {
        /// 1-based line.
        line: usize,
    },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("yaml: line {line}: nesting deeper than {MAX_DEPTH}")]
    TooDeep {
        /// 1-based line.
        line: usize,
    },
}

/// Decodes a manifest (the first YAML document of `text`).
pub fn parse_manifest(text: &str) -> Result<Manifest, ManifestError> {
    let mut events = Events {
        parser: Parser::new_from_str(text),
        line: 1,
    };
    loop {
        match events.next()? {
            Event::StreamStart | Event::DocumentStart(_) => {}
            Event::StreamEnd => return Err(ManifestError::Empty),
            first => {
                let mut manifest = Manifest::default();
                decode_struct(
                    &mut events,
                    first,
                    "Manifest",
                    0,
                    &mut |ev, key, depth| match key {
                        "version" => decode_string(ev, "version", &mut manifest.version),
                        "metadata" => decode_metadata(ev, depth, &mut manifest.metadata),
                        _ => skip_value(ev, depth),
                    },
                )?;
                return Ok(manifest);
            }
        }
    }
}

struct Events<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    line: usize,
}

impl<'a> Events<'a> {
    fn next(&mut self) -> Result<Event<'a>, ManifestError> {
        match self.parser.next_event() {
            None => Ok(Event::StreamEnd),
            Some(Ok((event, span))) => {
                self.line = span.start.line();
                match event {
                    Event::Alias(_) => Err(ManifestError::Alias { line: self.line }),
                    event => Ok(event),
                }
            }
            Some(Err(e)) => Err(ManifestError::Syntax {
                line: e.marker().line(),
                message: e.info().to_owned(),
            }),
        }
    }
}

type FieldFn<'f, 'a> = dyn FnMut(&mut Events<'a>, &str, usize) -> Result<(), ManifestError> + 'f;

fn is_null(value: &str, style: ScalarStyle) -> bool {
    style == ScalarStyle::Plain && matches!(value, "" | "~" | "null" | "Null" | "NULL")
}

/// Decodes a mapping whose first event is `first` into a struct through
/// `field` (called with each key, positioned before its value). A plain
/// null leaves the struct empty.
fn decode_struct<'a>(
    events: &mut Events<'a>,
    first: Event<'a>,
    what: &str,
    depth: usize,
    field: &mut FieldFn<'_, 'a>,
) -> Result<(), ManifestError> {
    match first {
        Event::MappingStart(..) => {}
        Event::Scalar(value, style, ..) if is_null(&value, style) => return Ok(()),
        other => {
            return Err(ManifestError::WrongKind {
                line: events.line,
                found: kind_of(&other),
                field: what.to_owned(),
            });
        }
    }
    if depth >= MAX_DEPTH {
        return Err(ManifestError::TooDeep { line: events.line });
    }
    let mut seen: Vec<String> = Vec::new();
    loop {
        let key = match events.next()? {
            Event::MappingEnd => return Ok(()),
            Event::Scalar(key, ..) => key.into_owned(),
            other => {
                // A complex key never names a field: skip it and its value.
                skip_node(events, other, depth + 1)?;
                skip_value(events, depth + 1)?;
                continue;
            }
        };
        if seen.contains(&key) {
            return Err(ManifestError::DuplicateKey {
                line: events.line,
                key,
            });
        }
        field(events, &key, depth + 1)?;
        seen.push(key);
    }
}

fn decode_metadata(
    events: &mut Events<'_>,
    depth: usize,
    metadata: &mut Metadata,
) -> Result<(), ManifestError> {
    let first = events.next()?;
    decode_struct(
        events,
        first,
        "metadata",
        depth,
        &mut |ev, key, depth| match key {
            "name" => decode_string(ev, "metadata.name", &mut metadata.name),
            "version" => decode_string(ev, "metadata.version", &mut metadata.version),
            "author" => decode_string(ev, "metadata.author", &mut metadata.author),
            "description" => decode_string(ev, "metadata.description", &mut metadata.description),
            "extraInfo" => decode_string(ev, "metadata.extraInfo", &mut metadata.extra_info),
            "compatibility" => {
                let first = ev.next()?;
                let talos = &mut metadata.compatibility.talos;
                decode_struct(
                    ev,
                    first,
                    "metadata.compatibility",
                    depth,
                    &mut |ev, key, depth| match key {
                        "talos" => {
                            let first = ev.next()?;
                            decode_struct(
                                ev,
                                first,
                                "metadata.compatibility.talos",
                                depth,
                                &mut |ev, key, depth| match key {
                                    "version" => decode_string(
                                        ev,
                                        "metadata.compatibility.talos.version",
                                        &mut talos.version,
                                    ),
                                    _ => skip_value(ev, depth),
                                },
                            )
                        }
                        _ => skip_value(ev, depth),
                    },
                )
            }
            _ => skip_value(ev, depth),
        },
    )
}

fn decode_string(
    events: &mut Events<'_>,
    field: &str,
    out: &mut String,
) -> Result<(), ManifestError> {
    match events.next()? {
        Event::Scalar(value, style, ..) => {
            if !is_null(&value, style) {
                *out = Cow::into_owned(value);
            }
            Ok(())
        }
        other => Err(ManifestError::WrongKind {
            line: events.line,
            found: kind_of(&other),
            field: field.to_owned(),
        }),
    }
}

fn kind_of(event: &Event<'_>) -> &'static str {
    match event {
        Event::MappingStart(..) => "!!map",
        Event::SequenceStart(..) => "!!seq",
        _ => "!!str",
    }
}

fn skip_value(events: &mut Events<'_>, depth: usize) -> Result<(), ManifestError> {
    let first = events.next()?;
    skip_node(events, first, depth)
}

/// Skips the node starting with `first`, bounding nesting.
fn skip_node(events: &mut Events<'_>, first: Event<'_>, depth: usize) -> Result<(), ManifestError> {
    if !matches!(first, Event::MappingStart(..) | Event::SequenceStart(..)) {
        return Ok(());
    }
    let mut open = 1usize;
    while open > 0 {
        if depth + open > MAX_DEPTH {
            return Err(ManifestError::TooDeep { line: events.line });
        }
        match events.next()? {
            Event::MappingStart(..) | Event::SequenceStart(..) => open += 1,
            Event::MappingEnd | Event::SequenceEnd => open -= 1,
            Event::StreamEnd => return Ok(()),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_upstream_test_manifest() {
        let text = "version: v1alpha1\nmetadata:\n  name: gvisor\n  version: 20220117.0-v1.0.0\n  author: Andrew Rynhard\n  description: >\n    This system extension provides gVisor using containerd's runtime handler.\n  compatibility:\n    talos:\n      version: \">= v1.0.0\"\n";
        let m = parse_manifest(text).unwrap();
        assert_eq!(m.version, "v1alpha1");
        assert_eq!(m.metadata.name, "gvisor");
        assert_eq!(
            m.metadata.description,
            "This system extension provides gVisor using containerd's runtime handler.\n"
        );
        assert_eq!(m.metadata.compatibility.talos.version, ">= v1.0.0");
    }

    #[test]
    fn lenient_like_go_yaml() {
        let m = parse_manifest("version: v1alpha1\nextra: [1, {a: b}]\nmetadata:\n  version: 1.0\n  author: ~\n  other: {x: y}\n").unwrap();
        assert_eq!(m.metadata.version, "1.0");
        assert_eq!(m.metadata.author, "");
        assert!(matches!(
            parse_manifest("metadata:\n  name: [a]\n"),
            Err(ManifestError::WrongKind { .. })
        ));
        assert!(matches!(
            parse_manifest("version: a\nversion: b\n"),
            Err(ManifestError::DuplicateKey { .. })
        ));
        assert!(matches!(
            parse_manifest("a: &x b\nversion: *x\n"),
            Err(ManifestError::Alias { .. })
        ));
        assert_eq!(parse_manifest(""), Err(ManifestError::Empty));
        let deep = format!("x: {}{}\n", "[".repeat(100), "]".repeat(100));
        assert!(matches!(
            parse_manifest(&deep),
            Err(ManifestError::TooDeep { .. })
        ));
    }
}

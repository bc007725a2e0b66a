//! The canonical YAML of a schematic: what go-yaml v4's `yaml.Marshal`
//! writes for upstream's Go struct, byte for byte, since the schematic ID
//! is its sha256.
//!
//! This is go-yaml's representer for the closed struct: fields in upstream's
//! declaration order, `omitempty` fields dropped when zero (a struct is zero
//! when all its fields are; `overlay.image`/`overlay.name` and
//! `meta[].key`/`value` are not `omitempty`, and `customization` is always
//! written, as `{}` when empty), then go-yaml's choice of scalar style for
//! every string:
//!
//! - text containing a line break: literal block (`|`), unless it is shorter
//!   than two bytes or only whitespace (then double-quoted);
//! - YAML 1.1 booleans (`yes`, `On`, …), base-60-looking numbers (`1:30`)
//!   and `<<`: double-quoted (see [`LEGACY_QUOTE`]);
//! - text that would read back as another type (`10`, `true`, `null`, `""`,
//!   `1.5`, `0x1F`, `2015-01-01`): double-quoted;
//! - anything else plain, and the emitter downgrades to single or double
//!   quotes when the text cannot be plain (see `yaml::scalar`).
//!
//! go-yaml's emitter has blind spots that make some output not read back as
//! written (a literal block starting with an empty line followed by an
//! indented line gets no indentation indicator; the indicator it writes for
//! text starting with a space assumes a 4-space step, which is wrong inside
//! `- ` items; U+2028/U+2029 are written raw as line breaks). We reproduce
//! those bytes faithfully, because the ID depends on them, and
//! [`super::Schematic::parse`] refuses schematics whose canonical form does
//! not read back, since they could not be served back correctly.

use std::borrow::Cow;

use super::model::{Customization, Overlay, Schematic};
use super::options::{OptionKey, OptionValue, OverlayOptions};
use super::yaml::emitter::{self, Node, Scalar};
use super::yaml::resolve::{self, STR, TIMESTAMP};
use super::yaml::scalar::Style;
use super::yaml::{float, timestamp::Timestamp};

/// The style go-yaml v4's representer gives YAML 1.1 booleans,
/// base-60-looking numbers and `<<`.
///
/// go-yaml v3 double-quoted these (`"yes"`). One v4 pre-release hard-coded
/// single quotes; later v4 sources route the choice through a quote
/// preference whose default for `yaml.Marshal` (`DefaultOptions`,
/// `QuotePreference: QuoteLegacy`) is double quotes in the representer, so
/// that IDs stay what v3 gave. Upstream pins a v4 build after that change
/// and states that IDs did not move across its v3 → v4 switch, so we emit
/// double quotes (`enrollKeys: "off"`, `"yes"`).
pub(crate) const LEGACY_QUOTE: Style = Style::DoubleQuoted;

/// The canonical YAML of `schematic`.
pub(crate) fn canonical_yaml(schematic: &Schematic) -> String {
    let mut top = Vec::new();
    if !schematic.owner.is_empty() {
        top.push(field("owner", string(&schematic.owner)));
    }
    if !overlay_is_zero(&schematic.overlay) {
        top.push(field("overlay", overlay(&schematic.overlay)));
    }
    top.push(field(
        "customization",
        customization(&schematic.customization),
    ));
    emitter::emit(&Node::Mapping(top))
}

fn overlay_is_zero(overlay: &Overlay) -> bool {
    overlay.image.is_empty() && overlay.name.is_empty() && overlay.options.is_empty()
}

fn overlay(overlay: &Overlay) -> Node<'_> {
    let mut pairs = vec![
        field("image", string(&overlay.image)),
        field("name", string(&overlay.name)),
    ];
    if !overlay.options.is_empty() {
        pairs.push(field("options", options(&overlay.options)));
    }
    Node::Mapping(pairs)
}

fn customization(c: &Customization) -> Node<'_> {
    let mut pairs = Vec::new();
    if !c.embedded_machine_configuration.is_empty() {
        pairs.push(field(
            "embeddedMachineConfiguration",
            string(&c.embedded_machine_configuration),
        ));
    }
    if !c.extra_kernel_args.is_empty() {
        pairs.push(field("extraKernelArgs", strings(&c.extra_kernel_args)));
    }
    if !c.meta.is_empty() {
        let items = c
            .meta
            .iter()
            .map(|meta| {
                Node::Mapping(vec![
                    field("key", plain(meta.key.to_string())),
                    field("value", string(&meta.value)),
                ])
            })
            .collect();
        pairs.push(field("meta", Node::Sequence(items)));
    }
    if !c.system_extensions.official_extensions.is_empty() {
        let extensions = strings(&c.system_extensions.official_extensions);
        pairs.push(field(
            "systemExtensions",
            Node::Mapping(vec![field("officialExtensions", extensions)]),
        ));
    }
    if let Some(bootloader) = c.bootloader {
        pairs.push(field("bootloader", string(bootloader.as_str())));
    }
    let secureboot = &c.secureboot;
    if secureboot.enroll_keys.is_some() || secureboot.include_well_known_certificates {
        let mut fields = Vec::new();
        if let Some(mode) = secureboot.enroll_keys {
            fields.push(field("enrollKeys", string(mode.as_str())));
        }
        if secureboot.include_well_known_certificates {
            fields.push(field("includeWellKnownCertificates", plain("true")));
        }
        pairs.push(field("secureboot", Node::Mapping(fields)));
    }
    if c.disk_image.sector_size != 0 {
        let size = plain(c.disk_image.sector_size.to_string());
        pairs.push(field(
            "diskImage",
            Node::Mapping(vec![field("sectorSize", size)]),
        ));
    }
    Node::Mapping(pairs)
}

fn options(options: &OverlayOptions) -> Node<'_> {
    Node::Mapping(
        options
            .iter()
            .map(|(key, value)| (string(key), option_value(value)))
            .collect(),
    )
}

fn option_value(value: &OptionValue) -> Node<'_> {
    match value {
        OptionValue::Null => plain("null"),
        OptionValue::Bool(b) => plain(if *b { "true" } else { "false" }),
        OptionValue::Int(i) => plain(i.to_string()),
        OptionValue::Uint(u) => plain(u.to_string()),
        OptionValue::Float(f) => plain(float::format(*f)),
        OptionValue::Timestamp(t) => timestamp(t),
        OptionValue::String(s) => string(s),
        OptionValue::List(items) => Node::Sequence(items.iter().map(option_value).collect()),
        OptionValue::Map(map) => Node::Mapping(
            map.iter()
                .map(|(key, value)| (option_key(key), option_value(value)))
                .collect(),
        ),
    }
}

fn option_key(key: &OptionKey) -> Node<'_> {
    match key {
        OptionKey::Null => plain("null"),
        OptionKey::Bool(b) => plain(if *b { "true" } else { "false" }),
        OptionKey::Int(i) => plain(i.to_string()),
        OptionKey::Uint(u) => plain(u.to_string()),
        OptionKey::Float(f) => plain(float::format(*f)),
        OptionKey::Timestamp(t) => timestamp(t),
        OptionKey::String(s) => string(s),
    }
}

/// A timestamp in RFC 3339 form. go-yaml keeps the `!!timestamp` tag when
/// that text would not read back as a timestamp (an offset of `+24:60`
/// prints as `+25:00`).
fn timestamp(t: &Timestamp) -> Node<'static> {
    let text = t.to_string();
    let tag = (resolve::plain_tag(&text) != TIMESTAMP).then_some("!!timestamp");
    Node::Scalar(Scalar {
        value: Cow::Owned(text),
        style: Style::Plain,
        tag,
    })
}

fn field<'a>(name: &'static str, value: Node<'a>) -> (Node<'a>, Node<'a>) {
    (string(name), value)
}

fn strings(items: &[String]) -> Node<'_> {
    Node::Sequence(items.iter().map(|s| string(s)).collect())
}

fn plain<'a>(text: impl Into<Cow<'a, str>>) -> Node<'a> {
    Node::Scalar(Scalar {
        value: text.into(),
        style: Style::Plain,
        tag: None,
    })
}

/// go-yaml's representer and desolver for a Go string.
pub(crate) fn string(text: &str) -> Node<'_> {
    Node::Scalar(Scalar {
        value: Cow::Borrowed(text),
        style: string_style(text),
        tag: None,
    })
}

/// The style go-yaml requests for a string (before emitter downgrades).
pub(crate) fn string_style(text: &str) -> Style {
    if text.contains('\n') {
        return if should_use_literal(text) {
            Style::Literal
        } else {
            Style::DoubleQuoted
        };
    }
    if is_base60_float(text) || is_old_bool(text) || text == "<<" {
        return LEGACY_QUOTE;
    }
    if resolve::plain_tag(text) != STR {
        Style::DoubleQuoted
    } else {
        Style::Plain
    }
}

/// go-yaml's `shouldUseLiteralStyle`: at least two bytes and some
/// non-whitespace character.
fn should_use_literal(text: &str) -> bool {
    text.len() >= 2 && text.chars().any(|c| !c.is_whitespace())
}

/// go-yaml's `isOldBool`: YAML 1.1 booleans that YAML 1.2 reads as strings.
fn is_old_bool(text: &str) -> bool {
    matches!(
        text,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// go-yaml's `isBase60Float`:
/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        // [0-5]?[0-9]
        match (b.get(i + 1), b.get(i + 2)) {
            (Some(b'0'..=b'5'), Some(b'0'..=b'9')) => i += 3,
            (Some(b'0'..=b'9'), _) => i += 2,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base60_detection() {
        for yes in ["1:30", "-1:30", "190:20:30", "1:5", "1:59.5", "1_0:00"] {
            assert!(is_base60_float(yes), "{yes}");
        }
        for no in [
            "1:60", "1:", ":30", "1:30:", "a1:30", "1.5", "1:30x", "1:3a",
        ] {
            assert!(!is_base60_float(no), "{no}");
        }
    }
}

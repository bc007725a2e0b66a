//! Golden tests of the scalar style go-yaml v4's `Marshal` picks for a
//! string. Each expectation is derived from go-yaml's source (representer
//! `stringv`, desolver, emitter `analyzeScalar`/`selectScalarStyle` and
//! writers), as the comment on each case explains, not from our output.
//!
//! Strings are placed in `customization.embeddedMachineConfiguration`
//! (a mapping value at indent 4, content indent 8) unless noted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use factory_core::schematic::{Customization, OptionValue, Overlay, OverlayOptions, Schematic};

fn as_field(value: &str) -> String {
    let schematic = Schematic {
        customization: Customization {
            embedded_machine_configuration: value.to_owned(),
            ..Customization::default()
        },
        ..Schematic::default()
    };
    let yaml = schematic.canonical_yaml();
    let body = yaml
        .strip_prefix("customization:\n    embeddedMachineConfiguration:")
        .unwrap();
    body.to_owned()
}

#[test]
fn scalar_styles() {
    let cases: &[(&str, &str)] = &[
        // Resolves to !!str and nothing in it needs quoting: plain.
        ("plain", " plain\n"),
        // Would resolve to !!int/!!bool/!!null/!!float: the desolver asks
        // for the legacy quote preference's double quotes.
        ("10", " \"10\"\n"),
        ("true", " \"true\"\n"),
        ("True", " \"True\"\n"),
        ("null", " \"null\"\n"),
        ("NULL", " \"NULL\"\n"),
        ("~", " \"~\"\n"),
        ("1.5", " \"1.5\"\n"),
        ("0x1F", " \"0x1F\"\n"),
        ("09", " \"09\"\n"), // not octal, but a YAML-style float
        (".inf", " \".inf\"\n"),
        ("2015-01-01", " \"2015-01-01\"\n"), // a timestamp
        // Not a type in v4 but in YAML 1.1 (isOldBool, isBase60Float, "<<"):
        // the representer's legacy quote preference double-quotes them.
        ("yes", " \"yes\"\n"),
        ("on", " \"on\"\n"),
        ("Off", " \"Off\"\n"),
        ("y", " \"y\"\n"),
        ("1:30", " \"1:30\"\n"),
        ("<<", " \"<<\"\n"),
        // Plain requested, but the emitter's analysis forbids plain (indicator
        // characters, ": ", " #", leading/trailing space): single quotes.
        (
            "{\"externalIPs\":[\"1.2.3.4\"]}",
            " '{\"externalIPs\":[\"1.2.3.4\"]}'\n",
        ),
        ("a: b", " 'a: b'\n"),
        ("a:", " 'a:'\n"),
        ("a #b", " 'a #b'\n"),
        ("x #", " 'x #'\n"),
        (" lead", " ' lead'\n"),
        ("trail ", " 'trail '\n"),
        ("- x", " '- x'\n"),
        ("-", " '-'\n"),
        ("@x", " '@x'\n"),
        ("%x", " '%x'\n"),
        ("*x", " '*x'\n"),
        ("&x", " '&x'\n"),
        ("!x", " '!x'\n"),
        ("#x", " '#x'\n"),
        ("?", " '?'\n"),
        ("|", " '|'\n"),
        (">", " '>'\n"),
        ("`x", " '`x'\n"),
        ("...", " '...'\n"),
        ("---x", " '---x'\n"),
        // A leading quote is an indicator; quotes inside single quotes double.
        ("'x", " '''x'\n"),
        ("\"x", " '\"x'\n"),
        ("it's: here", " 'it''s: here'\n"),
        // Allowed plain: '-', '?', ':' at the start only matter before a
        // space; '#' only after one; quotes only at the start.
        ("-dash", " -dash\n"),
        ("?x", " ?x\n"),
        (":x", " :x\n"),
        ("a:b", " a:b\n"),
        ("a#b", " a#b\n"),
        ("quote'd", " quote'd\n"),
        ("1e400", " 1e400\n"), // out of float range: a string in Go
        ("nULL", " nULL\n"),
        // Non-ASCII BMP text is printable and written as-is (unicode output).
        ("héllo", " héllo\n"),
        ("a\u{a0}b", " a\u{a0}b\n"),
        // Tabs forbid plain and single quotes: double quotes with escapes.
        ("a\tb", " \"a\\tb\"\n"),
        // go-yaml's isPrintable stops at U+FFFF: emoji are escaped.
        ("hi 😀", " \"hi \\U0001F600\"\n"),
        // Control characters, DEL, NEL force double quotes.
        ("a\u{1}b", " \"a\\x01b\"\n"),
        ("a\u{7f}", " \"a\\x7F\"\n"),
        ("a\u{85}b", " \"a\\Nb\"\n"),
        // A leading BOM makes go-yaml escape every character.
        ("\u{feff}x", " \"\\uFEFF\\x78\"\n"),
        // Line breaks: literal block, chomping from the trailing breaks,
        // content 4 deeper than the key.
        ("a\nb", " |-\n        a\n        b\n"),
        ("a\nb\n", " |\n        a\n        b\n"),
        ("a\n\n", " |+\n        a\n\n"),
        ("a\n", " |\n        a\n"),
        ("a\n\nb", " |-\n        a\n\n        b\n"),
        // Starting with a space: go-yaml adds its indent size as indicator.
        (" a\nb", " |4-\n         a\n        b\n"),
        // Tabs are fine inside a literal block.
        ("a\n\tb", " |-\n        a\n        \tb\n"),
        // Shorter than two bytes, only whitespace, or a space before a line
        // break (no block style): double quotes.
        ("\n", " \"\\n\"\n"),
        (" \n ", " \" \\n \"\n"),
        ("a \nb", " \"a \\nb\"\n"),
        ("a\r\nb", " \"a\\r\\nb\"\n"),
    ];
    for (input, want) in cases {
        assert_eq!(as_field(input), *want, "input {input:?}");
    }
}

#[test]
fn empty_strings_that_are_not_omitted_are_double_quoted() {
    // "" resolves to !!null, so it is double-quoted where it is written at
    // all (MetaValue.Value is not omitempty).
    let schematic = Schematic {
        customization: Customization {
            meta: vec![factory_core::schematic::MetaValue {
                key: 1,
                value: String::new(),
            }],
            ..Customization::default()
        },
        ..Schematic::default()
    };
    assert_eq!(
        schematic.canonical_yaml(),
        "customization:\n    meta:\n        - key: 1\n          value: \"\"\n"
    );
}

#[test]
fn sequence_items_indent_by_two() {
    let schematic = Schematic {
        customization: Customization {
            extra_kernel_args: vec!["a b".into(), "10".into(), "x\ny".into(), "'q".into()],
            ..Customization::default()
        },
        ..Schematic::default()
    };
    // Items are written after "- " at indent 8; a block scalar inside an
    // item is indented 2 more (10).
    assert_eq!(
        schematic.canonical_yaml(),
        "customization:\n    extraKernelArgs:\n        - a b\n        - \"10\"\n        - |-\n          x\n          y\n        - '''q'\n"
    );
}

#[test]
fn option_keys_follow_the_same_rules_and_long_keys_are_explicit() {
    let long = "k".repeat(129);
    let mut options = OverlayOptions::new();
    options.insert("yes", OptionValue::Int(1));
    options.insert("10", OptionValue::Int(2));
    options.insert("a: b", OptionValue::Int(3));
    options.insert(long.clone(), OptionValue::Int(4));
    options.insert("two\nlines", OptionValue::Int(5));
    let schematic = Schematic {
        overlay: Overlay {
            name: "x".into(),
            options,
            ..Overlay::default()
        },
        ..Schematic::default()
    };
    // Keys sort in go-yaml order ("10" < "a: b" < "k…" < "two…" < "yes");
    // a key over 128 bytes or with a line break is written as `? key` /
    // `: value`, and a multi-line key may then use a literal block.
    let want = format!(
        "overlay:\n    image: \"\"\n    name: x\n    options:\n        \"10\": 2\n        'a: b': 3\n        ? {long}\n        : 4\n        ? |-\n            two\n            lines\n        : 5\n        \"yes\": 1\ncustomization: {{}}\n"
    );
    assert_eq!(schematic.canonical_yaml(), want);
}

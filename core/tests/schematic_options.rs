//! Overlay options: go-yaml v4 decodes them into `map[string]any` and
//! writes them back sorted, typed and styled by its own rules. Expected
//! outputs are derived from go-yaml's resolver, `keyList.Less` and
//! `FormatFloat`/`RFC3339Nano` formatting, as the comments say.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use factory_core::schematic::{OptionKey, OptionValue, Schematic};

fn canonical(body: &str) -> String {
    Schematic::parse(body.as_bytes())
        .unwrap_or_else(|e| panic!("{body:?}: {e}"))
        .canonical_yaml()
}

const TREE: &str = r#"
overlay:
  name: rpi_generic
  image: img
  options:
    b: true
    a10: 1
    a2: -2
    A: 1.5
    _x: ~
    "1": "quoted"
    list: [1, two, 3.0, null, {}, [], yes, 0x10, 1e400]
    nested:
      z: {}
      y: []
      x: 2015-01-01
      w: .inf
      v: -.Inf
      u: .nan
      t: 18446744073709551615
      s: 1e6
      r: "2015-01-01"
    ints: {10: c, 2: b, x: d, 1: a}
"#;

#[test]
fn options_tree_is_sorted_typed_and_styled_like_go_yaml() {
    // Key order (keyList.Less): "_x" < "1" (digit runs 0 < 1), non-letters
    // before letters, 'A' < 'a', a2 < a10 (numeric runs). Integer keys of a
    // nested map sort numerically before string keys. 3.0 is a float64 3,
    // which FormatFloat writes as "3"; 0x10 is the int 16; yes is a string
    // (v4 resolves only true/false) written "yes"; 1e400 overflows, so it
    // is a string; 1e6 is written 1e+06; 2015-01-01 becomes a time.Time in
    // RFC 3339 form while the quoted one stays a string. The key `y` is a
    // YAML 1.1 boolean word, so it is double-quoted like any such string.
    let want = "\
overlay:
    image: img
    name: rpi_generic
    options:
        _x: null
        \"1\": quoted
        A: 1.5
        a2: -2
        a10: 1
        b: true
        ints:
            1: a
            2: b
            10: c
            x: d
        list:
            - 1
            - two
            - 3
            - null
            - {}
            - []
            - \"yes\"
            - 16
            - 1e400
        nested:
            r: \"2015-01-01\"
            s: 1e+06
            t: 18446744073709551615
            u: .nan
            v: -.inf
            w: .inf
            x: 2015-01-01T00:00:00Z
            \"y\": []
            z: {}
customization: {}
";
    assert_eq!(canonical(TREE), want);
    // And it is a fixed point.
    assert_eq!(canonical(want), want);
}

#[test]
fn decoded_values_have_go_yamls_types() {
    let s = Schematic::parse(TREE.as_bytes()).unwrap();
    let options = &s.overlay.options;
    assert_eq!(options.get("b"), Some(&OptionValue::Bool(true)));
    assert_eq!(options.get("a2"), Some(&OptionValue::Int(-2)));
    assert_eq!(options.get("A"), Some(&OptionValue::Float(1.5)));
    assert_eq!(options.get("_x"), Some(&OptionValue::Null));
    assert_eq!(
        options.get("1"),
        Some(&OptionValue::String("quoted".into()))
    );
    let Some(OptionValue::List(list)) = options.get("list") else {
        panic!()
    };
    // parse() returns the schematic as read back from its canonical form,
    // where the float 3 was written "3": an integer.
    assert_eq!(list[2], OptionValue::Int(3));
    assert_eq!(list[6], OptionValue::String("yes".into()));
    assert_eq!(list[7], OptionValue::Int(16));
    let Some(OptionValue::Map(nested)) = options.get("nested") else {
        panic!()
    };
    let t = nested
        .iter()
        .find(|(k, _)| **k == OptionKey::String("t".into()))
        .unwrap()
        .1;
    assert_eq!(*t, OptionValue::Uint(u64::MAX));
    let x = nested
        .iter()
        .find(|(k, _)| **k == OptionKey::String("x".into()))
        .unwrap()
        .1;
    assert!(matches!(x, OptionValue::Timestamp(ts) if ts.to_string() == "2015-01-01T00:00:00Z"));
    let Some(OptionValue::Map(ints)) = options.get("ints") else {
        panic!()
    };
    let keys: Vec<&OptionKey> = ints.iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            &OptionKey::Int(1),
            &OptionKey::Int(2),
            &OptionKey::Int(10),
            &OptionKey::String("x".into())
        ]
    );
}

#[test]
fn key_order_of_the_brief() {
    assert_eq!(
        canonical("overlay:\n  options: {a10: 1, a2: 2, b: 3, A: 4, _x: 5, 1: 6}\n"),
        "overlay:\n    image: \"\"\n    name: \"\"\n    options:\n        _x: 5\n        \"1\": 6\n        A: 4\n        a2: 2\n        a10: 1\n        b: 3\ncustomization: {}\n"
    );
}

#[test]
fn go_map_semantics() {
    // Top level: keys are strings (1 and 0x1 stay distinct text), both need
    // quotes because they would read back as integers; "0x1" < "1".
    assert_eq!(
        canonical("overlay:\n  options: {1: a, 0x1: b}\n"),
        "overlay:\n    image: \"\"\n    name: \"\"\n    options:\n        \"0x1\": b\n        \"1\": a\ncustomization: {}\n"
    );
    // Nested: 1 and 0x1 are the same int key; the later one wins. Bools sort
    // as 0/1; a null key is written `null`; the value `n` is a YAML 1.1
    // boolean word, hence quoted.
    assert_eq!(
        canonical("overlay:\n  options:\n    m: {1: a, 0x1: b, true: t, false: f, ~: n}\n"),
        "overlay:\n    image: \"\"\n    name: \"\"\n    options:\n        m:\n            false: f\n            true: t\n            1: b\n            null: \"n\"\ncustomization: {}\n"
    );
    // A null key at the top level is dropped (it cannot be a Go string).
    assert_eq!(
        canonical("overlay:\n  options: {~: a, b: c}\n"),
        canonical("overlay:\n  options: {b: c}\n")
    );
    // Null items stay in free-form lists (unlike typed lists).
    assert_eq!(
        canonical("overlay:\n  options: {l: [~, a]}\n"),
        "overlay:\n    image: \"\"\n    name: \"\"\n    options:\n        l:\n            - null\n            - a\ncustomization: {}\n"
    );
    // Empty or null options are omitted.
    assert_eq!(
        canonical("overlay:\n  name: x\n  options: {}\n"),
        canonical("overlay:\n  name: x\n  options:\n")
    );
}

#[test]
fn merge_keys() {
    // Parent keys win over merged ones; among merged mappings the first wins.
    assert_eq!(
        canonical("overlay:\n  options:\n    <<: [{a: 1, c: 3}, {a: 2, d: 4}]\n    a: 0\n"),
        "overlay:\n    image: \"\"\n    name: \"\"\n    options:\n        a: 0\n        c: 3\n        d: 4\ncustomization: {}\n"
    );
    assert_eq!(
        canonical(
            "customization:\n  <<: {extraKernelArgs: [a], meta: []}\n  extraKernelArgs: [b]\n"
        ),
        "customization:\n    extraKernelArgs:\n        - b\n"
    );
    let err = Schematic::parse(b"customization:\n  <<: [a]\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "go-yaml load error in constructor at L2.C8: map merge requires map or sequence of maps as the value"
    );
}

#[test]
fn strings_keep_their_text_in_string_fields() {
    // A string field takes a scalar's text as written; the canonical YAML
    // then quotes what would read back as another type.
    assert_eq!(
        canonical("customization:\n  extraKernelArgs: [0x10, true, 1.50, yes, ~, a]\n"),
        "customization:\n    extraKernelArgs:\n        - \"0x10\"\n        - \"true\"\n        - \"1.50\"\n        - \"yes\"\n        - a\n"
    );
    // Typed bools accept YAML 1.1 words, quoted or not.
    for word in ["yes", "On", "'Y'", "\"yes\""] {
        let body =
            format!("customization:\n  secureboot:\n    includeWellKnownCertificates: {word}\n");
        assert!(
            Schematic::parse(body.as_bytes())
                .unwrap()
                .customization
                .secureboot
                .include_well_known_certificates,
            "{word}"
        );
    }
}

#[test]
fn timestamps_with_offsets_and_fractions() {
    assert_eq!(
        canonical(
            "overlay:\n  options:\n    t: 2015-02-24 18:19:39.120\n    u: 2015-2-3t3:4:5-03:00\n"
        ),
        "overlay:\n    image: \"\"\n    name: \"\"\n    options:\n        t: 2015-02-24T18:19:39.12Z\n        u: 2015-02-03T03:04:05-03:00\ncustomization: {}\n"
    );
}

#[test]
fn explicit_core_tags_are_honoured() {
    // !!str keeps the text a string (so it is quoted on output); !!float
    // turns an integer into a float64 (written back as "1", an integer);
    // a quoted !!int is an integer; !!binary is base64-decoded.
    assert_eq!(
        canonical(
            "overlay:\n  options: {a: !!str 10, b: !!float 1, c: !!int \"7\", d: !!binary aGk=}\n"
        ),
        "overlay:\n    image: \"\"\n    name: \"\"\n    options:\n        a: \"10\"\n        b: 1\n        c: 7\n        d: hi\ncustomization: {}\n"
    );
}

//! Refused bodies: exact messages (go-yaml v4's wording where upstream
//! answers with it) and typed kinds.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use factory_core::schematic::{
    ConstructProblem, EncodingProblem, FatalProblem, MAX_SCHEMATIC_BYTES, Schematic,
    SchematicError, SchematicErrorKind, Stage,
};

fn error(body: &str) -> SchematicError {
    match Schematic::parse(body.as_bytes()) {
        Ok(s) => panic!("{body:?} parsed as {s:?}"),
        Err(e) => e,
    }
}

fn message(body: &str) -> String {
    error(body).to_string()
}

#[test]
fn unknown_fields_use_upstreams_exact_message() {
    // Upstream's integration test expects exactly this body for `something:`.
    assert_eq!(
        message("something:"),
        "yaml: construct errors: line 1: field something not found in type schematic.Schematic"
    );
    let cases = [
        (
            "customization:\n  extraKernelArgs: [a]\n  foo: bar\n",
            3,
            "foo",
            "schematic.Customization",
        ),
        ("overlay:\n  nme: x\n", 2, "nme", "schematic.Overlay"),
        (
            "customization:\n  meta:\n    - key: 1\n      vale: x\n",
            4,
            "vale",
            "schematic.MetaValue",
        ),
        (
            "customization:\n  systemExtensions:\n    extensions: [a]\n",
            3,
            "extensions",
            "schematic.SystemExtensions",
        ),
        (
            "customization:\n  secureboot:\n    enroll: force\n",
            3,
            "enroll",
            "schematic.SecureBootCustomization",
        ),
        (
            "customization:\n  diskImage:\n    sectorsize: 4096\n",
            3,
            "sectorsize",
            "schematic.DiskImageCustomization",
        ),
        (
            "{\"customization\": {\"extraKernelArg\": []}}",
            1,
            "extraKernelArg",
            "schematic.Customization",
        ),
    ];
    for (body, line, field, type_name) in cases {
        let err = error(body);
        assert_eq!(
            err.to_string(),
            format!(
                "yaml: construct errors: line {line}: field {field} not found in type {type_name}"
            ),
            "body {body:?}"
        );
        assert_eq!(err.line(), Some(line));
        let SchematicErrorKind::Construct(list) = err.kind() else {
            panic!("{err:?}")
        };
        assert!(matches!(
            &list[0].problem,
            ConstructProblem::UnknownField { .. }
        ));
    }
}

#[test]
fn all_construct_errors_are_reported_together_in_document_order() {
    let body = "a: 1\ncustomization:\n  b: 2\n  meta:\n    - key: 256\n      value: x\n  extraKernelArgs: foo\n";
    assert_eq!(
        message(body),
        "yaml: construct errors: line 1: field a not found in type schematic.Schematic; \
         line 3: field b not found in type schematic.Customization; \
         line 5: cannot construct !!int `256` into uint8 (meta key must be 0-255); \
         line 7: cannot construct !!str `foo` into []string"
    );
}

#[test]
fn duplicate_keys() {
    assert_eq!(
        message("customization: {}\ncustomization: {}\n"),
        "yaml: construct errors: line 2: mapping key \"customization\" already defined at line 1"
    );
    // Same text counts as the same key, quoted or not, and each later
    // duplicate is reported against each earlier one.
    assert_eq!(
        message("overlay:\n  options:\n    a: 1\n    \"a\": 2\n    a: 3\n"),
        "yaml: construct errors: line 4: mapping key \"a\" already defined at line 3; \
         line 5: mapping key \"a\" already defined at line 3; \
         line 5: mapping key \"a\" already defined at line 4"
    );
    let SchematicErrorKind::Construct(list) = error("a: 1\na: 2").kind().clone() else {
        panic!()
    };
    assert_eq!(
        list[0].problem,
        ConstructProblem::DuplicateKey {
            key: "a".into(),
            first_line: 1
        }
    );
}

#[test]
fn wrong_types() {
    let cases = [
        (
            "hello",
            "line 1: cannot construct !!str `hello` into schematic.Schematic",
        ),
        (
            "[1]",
            "line 1: cannot construct !!seq into schematic.Schematic",
        ),
        (
            "customization: []",
            "line 1: cannot construct !!seq into schematic.Customization",
        ),
        (
            "customization: \"\"",
            "line 1: cannot construct !!str `` into schematic.Customization",
        ),
        (
            "customization:\n  extraKernelArgs: 5",
            "line 2: cannot construct !!int `5` into []string",
        ),
        (
            "customization:\n  extraKernelArgs: [[a]]",
            "line 2: cannot construct !!seq into string",
        ),
        (
            "customization:\n  meta:\n    - key: 1\n      value: {a: 1}",
            "line 4: cannot construct !!map into string",
        ),
        (
            "customization:\n  meta: {key: 1}",
            "line 2: cannot construct !!map into []schematic.MetaValue",
        ),
        (
            "customization:\n  secureboot:\n    includeWellKnownCertificates: 1",
            "line 3: cannot construct !!int `1` into bool",
        ),
        (
            "customization:\n  secureboot:\n    includeWellKnownCertificates: \"true\"",
            "line 3: cannot construct !!str `true` into bool",
        ),
        (
            "customization:\n  diskImage:\n    sectorSize: -1",
            "line 3: cannot construct !!int `-1` into uint",
        ),
        (
            "customization:\n  diskImage:\n    sectorSize: \"4096\"",
            "line 3: cannot construct !!str `4096` into uint",
        ),
        // Values over 10 bytes are cut to 7 and "...".
        (
            "customization:\n  diskImage:\n    sectorSize: abcdefghijk",
            "line 3: cannot construct !!str `abcdefg...` into uint",
        ),
        (
            "overlay:\n  options: 5",
            "line 2: cannot construct !!int `5` into map[string]interface {}",
        ),
        (
            "overlay:\n  options: [a]",
            "line 2: cannot construct !!seq into map[string]interface {}",
        ),
        // go-yaml v4 refuses a timestamp where a string is expected.
        (
            "customization:\n  extraKernelArgs: [2024-01-01]",
            "line 2: cannot construct !!timestamp `2024-01-01` into string",
        ),
        (
            "customization:\n  bootloader: {a: b}",
            "line 2: cannot construct !!map into imageropts.BootloaderKind (TextUnmarshaler)",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(
            message(body),
            format!("yaml: construct errors: {want}"),
            "body {body:?}"
        );
    }
}

#[test]
fn meta_keys_are_uint8() {
    for (key, want) in [
        ("256", "!!int `256`"),
        ("-1", "!!int `-1`"),
        ("\"10\"", "!!str `10`"),
        ("1.5", "!!float `1.5`"),
        ("true", "!!bool `true`"),
    ] {
        let body = format!("customization:\n  meta:\n    - key: {key}\n      value: x\n");
        let err = error(&body);
        assert_eq!(
            err.to_string(),
            format!(
                "yaml: construct errors: line 3: cannot construct {want} into uint8 (meta key must be 0-255)"
            ),
        );
        let SchematicErrorKind::Construct(list) = err.kind() else {
            panic!()
        };
        assert!(matches!(
            &list[0].problem,
            ConstructProblem::TypeMismatch {
                target: "uint8",
                hint: Some(_),
                ..
            }
        ));
    }
    // Go integer spellings and lossless floats are accepted.
    for key in [
        "10", "0xa", "0XA", "0o12", "012", "0b1010", "1_0", "+10", "10.0", "1e1", "255",
    ] {
        let body = format!("customization:\n  meta:\n    - key: {key}\n      value: x\n");
        let schematic = Schematic::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{key}: {e}"));
        let want = if key == "255" { 255 } else { 10 };
        assert_eq!(schematic.customization.meta[0].key, want, "key {key}");
    }
}

#[test]
fn bootloader_names() {
    assert_eq!(
        message("customization:\n  bootloader: auto"),
        "yaml: construct errors: line 2: auto does not belong to BootloaderKind values \
         (valid values: none, dual-boot, sd-boot, grub)"
    );
    assert_eq!(
        *error("customization:\n  bootloader: 1").kind(),
        SchematicErrorKind::Construct(vec![factory_core::schematic::ConstructError {
            line: 2,
            problem: ConstructProblem::InvalidBootloader { value: "1".into() },
        }])
    );
    let parsed = Schematic::parse(b"customization:\n  bootloader: GRUB").unwrap();
    assert_eq!(
        parsed.canonical_yaml(),
        "customization:\n    bootloader: grub\n"
    );
    let none = Schematic::parse(b"customization:\n  bootloader: none").unwrap();
    assert_eq!(none.canonical_yaml(), "customization: {}\n");
}

#[test]
fn enroll_keys_are_validated() {
    let err = error("customization:\n  secureboot:\n    enrollKeys: sometimes\n");
    assert_eq!(
        err.to_string(),
        "line 3: invalid secureboot.enrollKeys value \"sometimes\" (valid values: off, manual, if-safe, force)"
    );
    assert_eq!(err.line(), Some(3));
    // Valid modes parse; `off` is a YAML 1.1 boolean word, so go-yaml quotes it.
    let off = Schematic::parse(b"customization:\n  secureboot:\n    enrollKeys: off\n").unwrap();
    assert_eq!(
        off.canonical_yaml(),
        "customization:\n    secureboot:\n        enrollKeys: \"off\"\n"
    );
    let force =
        Schematic::parse(b"customization:\n  secureboot:\n    enrollKeys: force\n").unwrap();
    assert_eq!(
        force.canonical_yaml(),
        "customization:\n    secureboot:\n        enrollKeys: force\n"
    );
}

#[test]
fn owner_is_refused() {
    let err = error("owner: alice\ncustomization: {}\n");
    assert_eq!(*err.kind(), SchematicErrorKind::OwnerNotAllowed);
    assert_eq!(
        err.to_string(),
        "owner field is only supported in Enterprise edition"
    );
    // An empty owner is the same as none.
    assert!(Schematic::parse(b"owner: \"\"").is_ok());
}

#[test]
fn empty_bodies_are_eof() {
    for body in ["", "\n\n", "# just a comment\n", "   "] {
        let err = error(body);
        assert_eq!(*err.kind(), SchematicErrorKind::Empty, "body {body:?}");
        assert_eq!(err.to_string(), "EOF");
    }
    // An explicit empty document is a null document: an empty schematic.
    assert_eq!(Schematic::parse(b"---\n").unwrap(), Schematic::default());
}

#[test]
fn bytes_go_yaml_does_not_read() {
    let err = Schematic::parse(b"customization: \xff").unwrap_err();
    assert_eq!(
        err.to_string(),
        "go-yaml load error in reader at <unknown position>: invalid leading UTF-8 octet (value: 255)"
    );
    assert_eq!(
        *err.kind(),
        SchematicErrorKind::Encoding {
            offset: 15,
            problem: EncodingProblem::InvalidLeadingOctet(255)
        }
    );
    let err = Schematic::parse(b"customization: \"\x07\"").unwrap_err();
    assert_eq!(
        err.to_string(),
        "go-yaml load error in reader at <unknown position>: control characters are not allowed (value: 7)"
    );
    // UTF-16 with a byte order mark is accepted, as go-yaml does.
    let utf16: Vec<u8> = "\u{feff}customization: {}"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert_eq!(Schematic::parse(&utf16).unwrap(), Schematic::default());
}

#[test]
fn syntax_errors_have_a_position() {
    let err = error("customization:\n  extraKernelArgs: [a,\n");
    let SchematicErrorKind::Syntax { line, .. } = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(*line, 3);
    assert!(
        err.to_string()
            .starts_with("go-yaml load error in parser at L3."),
        "{err}"
    );
}

#[test]
fn too_large_bodies() {
    let body = vec![b' '; MAX_SCHEMATIC_BYTES + 1];
    let err = Schematic::parse(&body).unwrap_err();
    assert_eq!(
        *err.kind(),
        SchematicErrorKind::TooLarge {
            size: MAX_SCHEMATIC_BYTES + 1,
            limit: MAX_SCHEMATIC_BYTES
        }
    );
}

#[test]
fn bodies_under_the_limit_parse_even_when_their_canonical_form_is_larger() {
    // The canonical form indents the block 8 spaces instead of 4, so it is
    // larger than the limit; only the body is limited.
    let mut body = String::from("customization:\n  embeddedMachineConfiguration: |\n");
    while body.len() < MAX_SCHEMATIC_BYTES - 100 {
        body.push_str("    0123456789012345678901234567890123456789\n");
    }
    let schematic = Schematic::parse(body.as_bytes()).unwrap();
    assert!(schematic.canonical_yaml().len() > MAX_SCHEMATIC_BYTES);
}

#[test]
fn deep_nesting_is_a_clean_error() {
    let body = format!("overlay:\n  options:\n    a: {}", "[".repeat(65));
    let err = error(&body);
    let SchematicErrorKind::Load(failure) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(failure.problem, FatalProblem::TooDeep { limit: 64 });
    assert_eq!(
        err.to_string(),
        "go-yaml load error in composer at L3.C69: exceeded max depth of 64"
    );
    // Much deeper input may hit the YAML scanner's own limit first.
    for depth in [1_000, 100_000] {
        let body = format!("overlay:\n  options:\n    a: {}", "[".repeat(depth));
        let err = error(&body);
        assert!(
            matches!(
                err.kind(),
                SchematicErrorKind::Load(_) | SchematicErrorKind::Syntax { .. }
            ),
            "{err:?}"
        );
    }
    // Flow mappings hit the YAML parser's own recursion limit first.
    let body = format!("overlay:\n  options:\n    a: {}", "{a: ".repeat(10_000));
    let err = error(&body);
    assert!(
        matches!(
            err.kind(),
            SchematicErrorKind::Load(_) | SchematicErrorKind::Syntax { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn alias_bombs_are_a_clean_error() {
    let mut body =
        String::from("overlay:\n  name: x\n  options:\n    a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
        let prev = ["a", "b", "c", "d", "e", "f", "g", "h"][i];
        body.push_str(&format!("    {name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    let err = error(&body);
    let SchematicErrorKind::Load(failure) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(failure.stage, Stage::Constructor);
    assert_eq!(failure.problem, FatalProblem::ExcessiveAliasing);
    assert!(
        err.to_string()
            .ends_with(": document contains excessive aliasing"),
        "{err}"
    );
}

#[test]
fn anchor_problems() {
    assert_eq!(
        message("customization: *x"),
        "go-yaml load error in composer at L1.C16: unknown anchor 'x' referenced"
    );
    assert_eq!(
        message("overlay:\n  options: &a\n    b: *a\n"),
        "go-yaml load error in composer at L3.C8: anchor 'a' value contains itself"
    );
    // Aliases that are fine are expanded.
    let s = Schematic::parse(
        b"customization:\n  extraKernelArgs: &args [a, b]\n  systemExtensions:\n    officialExtensions: *args\n",
    )
    .unwrap();
    assert_eq!(
        s.customization.system_extensions.official_extensions,
        ["a", "b"]
    );
}

#[test]
fn explicit_tags_that_do_not_fit() {
    assert_eq!(
        message("customization:\n  meta:\n    - key: !!int abc\n"),
        "go-yaml load error in resolver at <unknown position>: cannot construct !!str `abc` as a !!int"
    );
    assert_eq!(
        message("customization:\n  extraKernelArgs: [!!binary \"not base64!\"]"),
        "go-yaml load error in constructor at L2.C21: !!binary value contains invalid base64 data"
    );
    // A tag that fits is honoured.
    let s = Schematic::parse(
        b"customization:\n  meta:\n    - key: !!int \"7\"\n      value: !!str 10\n",
    )
    .unwrap();
    assert_eq!(s.customization.meta[0].key, 7);
    assert_eq!(s.customization.meta[0].value, "10");
}

#[test]
fn a_field_given_twice_under_different_keys() {
    // A !!binary key decodes to the same field name as a later plain key.
    assert_eq!(
        message("!!binary Y3VzdG9taXphdGlvbg==: {}\ncustomization: {}\n"),
        "yaml: construct errors: line 2: field customization already set in type schematic.Schematic"
    );
}

#[test]
fn schematics_whose_canonical_form_does_not_read_back_are_refused() {
    // go-yaml writes `|4-` for text starting with a space, which is only
    // right where the parent is indented by a multiple of 4: not in a list.
    let in_list = error("{\"customization\": {\"extraKernelArgs\": [\" a\\nb\"]}}");
    assert_eq!(*in_list.kind(), SchematicErrorKind::NotRoundTrippable);
    // A block scalar starting with an empty line and then an indented line
    // gets no indentation indicator at all.
    let leading_break = error("{\"customization\": {\"embeddedMachineConfiguration\": \"\\n a\"}}");
    assert_eq!(*leading_break.kind(), SchematicErrorKind::NotRoundTrippable);
    // U+2028 is written raw, as a line break, which YAML 1.2 reads as text.
    let line_separator = error("{\"customization\": {\"extraKernelArgs\": [\"a\\u2028b\"]}}");
    assert_eq!(
        *line_separator.kind(),
        SchematicErrorKind::NotRoundTrippable
    );
    // Where the indicator happens to be right, the same text is fine.
    let ok =
        Schematic::parse(b"{\"customization\": {\"embeddedMachineConfiguration\": \" a\\nb\"}}")
            .unwrap();
    assert_eq!(ok.customization.embedded_machine_configuration, " a\nb");
    assert_eq!(
        ok.canonical_yaml(),
        "customization:\n    embeddedMachineConfiguration: |4-\n         a\n        b\n"
    );
}

#[test]
fn the_deepest_nesting_the_composer_accepts_decodes() {
    // Root, overlay and options are 3 levels; 61 lists make 64.
    let body = format!(
        "overlay:\n  options:\n    a: {}x{}\n",
        "[".repeat(61),
        "]".repeat(61)
    );
    let s = Schematic::parse(body.as_bytes()).unwrap();
    assert!(s.canonical_yaml().contains("- x"));
    // Through an alias the decoder bounds nesting itself.
    let body = format!(
        "overlay:\n  options:\n    a: &d {}x{}\n    b: [[[[*d]]]]\n",
        "[".repeat(58),
        "]".repeat(58)
    );
    let err = error(&body);
    let SchematicErrorKind::Load(failure) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(
        (failure.stage, &failure.problem),
        (Stage::Constructor, &FatalProblem::TooDeep { limit: 64 })
    );
}

//! Property tests: canonical YAML round-trips for arbitrary schematics, and
//! parsing never panics.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use factory_core::schematic::{
    Bootloader, Customization, DiskImage, EnrollKeys, MetaValue, OptionKey, OptionMap, OptionValue,
    Overlay, OverlayOptions, Schematic, SchematicErrorKind, SecureBoot, SystemExtensions,
    Timestamp,
};
use proptest::prelude::*;

/// Pieces strings are built from: quotes, colons, `#`, spaces, tabs, line
/// breaks, indicators, non-ASCII and astral characters, controls, digits,
/// and whole words that YAML reads as other types.
const PIECES: &[&str] = &[
    "a",
    "b",
    "Z",
    "0",
    "1",
    "9",
    " ",
    " ",
    "\t",
    "\n",
    "\n",
    ":",
    ": ",
    "#",
    " #",
    "-",
    "- ",
    "?",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    "\"",
    "\\",
    "!",
    "&",
    "*",
    "|",
    ">",
    "%",
    "@",
    "`",
    ".",
    "~",
    "_",
    "+",
    "é",
    "ß",
    "中",
    "😀",
    "\u{a0}",
    "\u{85}",
    "\u{feff}",
    "\r",
    "\u{1}",
    "\u{7f}",
    "yes",
    "no",
    "On",
    "null",
    "true",
    "0x1F",
    "1:30",
    "<<",
    "2015-01-01",
    "1.5",
    "---",
    "...",
    "=",
    "\u{2028}",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..8).prop_map(|pieces| pieces.concat())
}

/// Text that go-yaml's emitter may not write faithfully (see `encode`): a
/// block scalar whose first content line starts with a space, or U+2028 /
/// U+2029 written raw as line breaks.
fn hazardous(s: &str) -> bool {
    s.contains(['\u{2028}', '\u{2029}'])
        || (s.contains('\n') && (s.starts_with(' ') || s.contains("\n ")))
}

fn safe_text() -> impl Strategy<Value = String> {
    text().prop_filter("go-yaml emitter blind spot", |s| !hazardous(s))
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_map(|f| if f.fract() == 0.0 && f.abs() < 1e21 {
            f + 0.5
        } else {
            f
        }),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(1.5e-7),
    ]
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (
        0u32..=9999,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
        0u32..1_000_000_000,
        prop_oneof![
            Just(None),
            (any::<bool>(), 0u32..24, 0u32..60).prop_map(Some)
        ],
    )
        .prop_map(|(y, mo, d, h, mi, s, ns, zone)| {
            let zone = match zone {
                None => "Z".to_owned(),
                Some((neg, zh, zm)) => format!("{}{zh:02}:{zm:02}", if neg { '-' } else { '+' }),
            };
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ns:09}{zone}");
            Timestamp::parse(&text).unwrap_or_else(|| panic!("{text}"))
        })
}

fn option_key() -> impl Strategy<Value = OptionKey> {
    prop_oneof![
        Just(OptionKey::Null),
        any::<bool>().prop_map(OptionKey::Bool),
        any::<i64>().prop_map(OptionKey::Int),
        ((i64::MAX as u64 + 1)..=u64::MAX).prop_map(OptionKey::Uint),
        float()
            .prop_filter("NaN keys never compare equal", |f| !f.is_nan())
            .prop_map(OptionKey::Float),
        timestamp().prop_map(OptionKey::Timestamp),
        // A leading letter keeps string keys from reading like typed ones.
        safe_text().prop_map(|s| OptionKey::String(format!("k{s}"))),
    ]
}

fn option_value() -> impl Strategy<Value = OptionValue> {
    let leaf = prop_oneof![
        Just(OptionValue::Null),
        any::<bool>().prop_map(OptionValue::Bool),
        any::<i64>().prop_map(OptionValue::Int),
        ((i64::MAX as u64 + 1)..=u64::MAX).prop_map(OptionValue::Uint),
        float().prop_map(OptionValue::Float),
        timestamp().prop_map(OptionValue::Timestamp),
        safe_text().prop_map(OptionValue::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(OptionValue::List),
            prop::collection::vec((option_key(), inner), 0..4)
                .prop_map(|entries| OptionValue::Map(entries.into_iter().collect::<OptionMap>())),
        ]
    })
}

fn options() -> impl Strategy<Value = OverlayOptions> {
    prop::collection::vec((safe_text(), option_value()), 0..4)
        .prop_map(|entries| entries.into_iter().collect::<OverlayOptions>())
}

fn schematic_with(strings: BoxedStrategy<String>) -> impl Strategy<Value = Schematic> {
    let overlay =
        (strings.clone(), strings.clone(), options()).prop_map(|(image, name, options)| Overlay {
            image,
            name,
            options,
        });
    let meta = prop::collection::vec(
        (any::<u8>(), strings.clone()).prop_map(|(key, value)| MetaValue { key, value }),
        0..3,
    );
    let customization = (
        strings.clone(),
        prop::collection::vec(strings.clone(), 0..4),
        meta,
        prop::collection::vec(strings, 0..3),
        prop::option::of(prop::sample::select(Bootloader::ALL.to_vec())),
        prop::option::of(prop::sample::select(EnrollKeys::ALL.to_vec())),
        any::<bool>(),
        prop_oneof![Just(0u64), Just(512), Just(4096), any::<u64>()],
    )
        .prop_map(
            |(embedded, args, meta, extensions, bootloader, enroll, well_known, sector)| {
                Customization {
                    embedded_machine_configuration: embedded,
                    extra_kernel_args: args,
                    meta,
                    system_extensions: SystemExtensions {
                        official_extensions: extensions,
                    },
                    bootloader,
                    secureboot: SecureBoot {
                        enroll_keys: enroll,
                        include_well_known_certificates: well_known,
                    },
                    disk_image: DiskImage {
                        sector_size: sector,
                    },
                }
            },
        );
    (overlay, customization).prop_map(|(overlay, customization)| Schematic {
        owner: String::new(),
        overlay,
        customization,
    })
}

/// Every string, wherever it is in the schematic.
fn all_strings(s: &Schematic) -> Vec<String> {
    fn value_strings(v: &OptionValue, out: &mut Vec<String>) {
        match v {
            OptionValue::String(s) => out.push(s.clone()),
            OptionValue::List(items) => items.iter().for_each(|i| value_strings(i, out)),
            OptionValue::Map(map) => map.iter().for_each(|(k, v)| {
                if let OptionKey::String(s) = k {
                    out.push(s.clone());
                }
                value_strings(v, out);
            }),
            _ => {}
        }
    }
    let c = &s.customization;
    let mut out = vec![
        s.overlay.image.clone(),
        s.overlay.name.clone(),
        c.embedded_machine_configuration.clone(),
    ];
    out.extend(c.extra_kernel_args.iter().cloned());
    out.extend(c.meta.iter().map(|m| m.value.clone()));
    out.extend(c.system_extensions.official_extensions.iter().cloned());
    for (k, v) in s.overlay.options.iter() {
        out.push(k.to_owned());
        value_strings(v, &mut out);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// parse(canonical(s)) == s and canonical is a fixed point.
    #[test]
    fn canonical_yaml_round_trips(s in schematic_with(safe_text().boxed())) {
        let canonical = s.canonical_yaml();
        let parsed = Schematic::parse(canonical.as_bytes())
            .map_err(|e| TestCaseError::fail(format!("{e}\n--- canonical:\n{canonical}")))?;
        prop_assert_eq!(&parsed, &s, "canonical:\n{}", canonical);
        prop_assert_eq!(parsed.canonical_yaml(), canonical);
        prop_assert_eq!(parsed.id(), s.id());
    }

    /// With any strings, including the emitter's blind spots, written as a
    /// flow document with escaped double-quoted strings (so the body means
    /// exactly `s`): parse gives back `s`, or refuses it because its
    /// canonical form would not read back — and only then.
    #[test]
    fn blind_spots_are_refused_not_misread(s in schematic_with(text().boxed())) {
        let body = flow(&s);
        match Schematic::parse(body.as_bytes()) {
            Ok(parsed) => {
                prop_assert_eq!(&parsed, &s, "body:\n{}", body);
                let canonical = parsed.canonical_yaml();
                prop_assert_eq!(Schematic::parse(canonical.as_bytes()), Ok(parsed));
            }
            Err(e) => {
                prop_assert_eq!(e.kind(), &SchematicErrorKind::NotRoundTrippable, "{}", body);
                prop_assert!(all_strings(&s).iter().any(|t| hazardous(t)), "{}", body);
            }
        }
    }

    /// The flow encoding of safe schematics parses back exactly too.
    #[test]
    fn flow_documents_parse_exactly(s in schematic_with(safe_text().boxed())) {
        let body = flow(&s);
        prop_assert_eq!(Schematic::parse(body.as_bytes()), Ok(s), "body:\n{}", body);
    }

    /// Arbitrary bytes never panic; whatever parses is canonical-stable.
    #[test]
    fn parse_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(s) = Schematic::parse(&bytes) {
            let canonical = s.canonical_yaml();
            prop_assert_eq!(Schematic::parse(canonical.as_bytes()).map(|p| p.canonical_yaml()), Ok(canonical));
        }
    }

    /// Near-YAML text never panics; whatever parses is a fixed point.
    #[test]
    fn parse_never_panics_on_near_yaml(pieces in prop::collection::vec(prop::sample::select(YAMLISH), 0..40)) {
        let body = pieces.concat();
        if let Ok(s) = Schematic::parse(body.as_bytes()) {
            let canonical = s.canonical_yaml();
            let again = Schematic::parse(canonical.as_bytes()).unwrap();
            prop_assert_eq!(&again, &s);
            prop_assert_eq!(again.canonical_yaml(), canonical);
        }
    }
}

/// A YAML flow document for `s` in which every string is double-quoted with
/// escapes for everything but printable ASCII, so it means exactly `s`.
fn flow(s: &Schematic) -> String {
    fn q(text: &str) -> String {
        let mut out = String::from("\"");
        for c in text.chars() {
            match c {
                ' '..='~' if c != '"' && c != '\\' => out.push(c),
                c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
                c => out.push_str(&format!("\\U{:08X}", c as u32)),
            }
        }
        out.push('"');
        out
    }
    fn float(f: f64) -> String {
        if f.is_nan() {
            ".nan".into()
        } else if f.is_infinite() {
            if f > 0.0 {
                ".inf".into()
            } else {
                "-.inf".into()
            }
        } else {
            format!("{f:?}")
        }
    }
    fn key(k: &OptionKey) -> String {
        match k {
            OptionKey::Null => "null".into(),
            OptionKey::Bool(b) => b.to_string(),
            OptionKey::Int(i) => i.to_string(),
            OptionKey::Uint(u) => u.to_string(),
            OptionKey::Float(f) => float(*f),
            OptionKey::Timestamp(t) => t.to_string(),
            OptionKey::String(s) => q(s),
        }
    }
    fn value(v: &OptionValue) -> String {
        match v {
            OptionValue::Null => "null".into(),
            OptionValue::Bool(b) => b.to_string(),
            OptionValue::Int(i) => i.to_string(),
            OptionValue::Uint(u) => u.to_string(),
            OptionValue::Float(f) => float(*f),
            OptionValue::Timestamp(t) => t.to_string(),
            OptionValue::String(s) => q(s),
            OptionValue::List(items) => format!(
                "[{}]",
                items.iter().map(value).collect::<Vec<_>>().join(", ")
            ),
            OptionValue::Map(map) => format!(
                "{{{}}}",
                map.iter()
                    .map(|(k, v)| format!("{}: {}", key(k), value(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    let list = |items: &[String]| {
        format!(
            "[{}]",
            items.iter().map(|i| q(i)).collect::<Vec<_>>().join(", ")
        )
    };
    let options = s
        .overlay
        .options
        .iter()
        .map(|(k, v)| format!("{}: {}", q(k), value(v)))
        .collect::<Vec<_>>()
        .join(", ");
    let c = &s.customization;
    let meta = c
        .meta
        .iter()
        .map(|m| format!("{{\"key\": {}, \"value\": {}}}", m.key, q(&m.value)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut fields = vec![
        format!(
            "\"embeddedMachineConfiguration\": {}",
            q(&c.embedded_machine_configuration)
        ),
        format!("\"extraKernelArgs\": {}", list(&c.extra_kernel_args)),
        format!("\"meta\": [{meta}]"),
        format!(
            "\"systemExtensions\": {{\"officialExtensions\": {}}}",
            list(&c.system_extensions.official_extensions)
        ),
        format!(
            "\"diskImage\": {{\"sectorSize\": {}}}",
            c.disk_image.sector_size
        ),
    ];
    if let Some(b) = c.bootloader {
        fields.push(format!("\"bootloader\": {}", q(b.as_str())));
    }
    let enroll = c
        .secureboot
        .enroll_keys
        .map(|e| format!("\"enrollKeys\": {}, ", q(e.as_str())))
        .unwrap_or_default();
    fields.push(format!(
        "\"secureboot\": {{{enroll}\"includeWellKnownCertificates\": {}}}",
        c.secureboot.include_well_known_certificates
    ));
    format!(
        "{{\"overlay\": {{\"image\": {}, \"name\": {}, \"options\": {{{options}}}}},\n \"customization\": {{{}}}}}\n",
        q(&s.overlay.image),
        q(&s.overlay.name),
        fields.join(", ")
    )
}

const YAMLISH: &[&str] = &[
    "customization",
    "overlay",
    "options",
    "extraKernelArgs",
    "meta",
    "key",
    "value",
    "secureboot",
    "enrollKeys",
    "bootloader",
    "diskImage",
    "sectorSize",
    "systemExtensions",
    "officialExtensions",
    "name",
    "image",
    "owner",
    ":",
    ": ",
    "\n",
    "\n  ",
    "\n    ",
    "  ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "<<",
    "!!int ",
    "!!str ",
    "!!binary ",
    "!!float ",
    "!!timestamp ",
    "! ",
    "!x ",
    "'",
    "\"",
    "|",
    "|-",
    ">",
    "#",
    "? ",
    "~",
    "null",
    "yes",
    "0x10",
    "256",
    "-1",
    "1.5",
    "2015-01-01",
    "\t",
    "---",
    "...",
    "\u{2028}",
    "é",
    "😀",
    "\\",
    "\\n",
    "force",
    "grub",
    "aGk=",
];

#![no_main]
//! Fuzzes schematic parsing: any bytes must give a schematic or a typed
//! error, never a panic; and whatever parses must be stable through its
//! canonical YAML (canonical → parse → canonical is a fixed point, and the
//! parsed value itself comes back).
use factory_core::schematic::Schematic;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(schematic) = Schematic::parse(data) else {
        return;
    };
    let canonical = schematic.canonical_yaml();
    let again = match Schematic::parse(canonical.as_bytes()) {
        Ok(again) => again,
        Err(e) => panic!("canonical YAML does not parse: {e}\n{canonical}"),
    };
    assert_eq!(again, schematic, "canonical:\n{canonical}");
    assert_eq!(again.canonical_yaml(), canonical);
    assert_eq!(again.id(), schematic.id());
});

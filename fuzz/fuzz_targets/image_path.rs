#![no_main]
//! Fuzzes the image path grammar: parsing arbitrary UTF-8 must never panic,
//! and every accepted path must print a canonical name that parses back to
//! the same request.
use factory_core::image_path::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = parse(path) {
        let name = parsed.file_name();
        assert_eq!(
            parse(&name).as_ref(),
            Ok(&parsed),
            "{path:?} printed as {name:?}"
        );
    }
});

#![no_main]
//! Placeholder fuzz target; filled in with its module.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|_data: &[u8]| {});

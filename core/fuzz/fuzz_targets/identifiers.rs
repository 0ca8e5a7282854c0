//! Arbitrary text through every identifier parser; the invariants are the
//! assertions in `src/lib.rs` (shared with the property tests).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The parsers take `&str`: the browser and the database only ever hand
    // them valid UTF-8.
    if let Ok(text) = std::str::from_utf8(data) {
        healipro_core_fuzz::check(text);
    }
});

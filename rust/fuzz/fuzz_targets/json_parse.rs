//! The JSON parser on any bytes: no panic; what it accepts, written compactly, parses
//! back to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medpay_core::json::{parse, to_compact, Limits};

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = parse(data, Limits::default()) {
        let text = to_compact(&v);
        let again = parse(text.as_bytes(), Limits::default()).expect("compact JSON parses");
        assert_eq!(to_compact(&again), text);
    }
});

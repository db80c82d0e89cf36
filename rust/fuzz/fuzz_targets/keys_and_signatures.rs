//! Keys in every format people hold them, and signatures raw or DER, on any bytes: an
//! error or a value, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medpay_core::sm2::{PrivateKey, PublicKey, Signature};

fuzz_target!(|data: &[u8]| {
    let _ = PrivateKey::from_bytes(data);
    let _ = PublicKey::from_bytes(data);
    let _ = Signature::parse(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PrivateKey::from_string(text);
        let _ = PublicKey::from_string(text);
    }
});

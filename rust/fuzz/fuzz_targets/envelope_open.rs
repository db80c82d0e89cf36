//! Opening an envelope (parse, the mandatory fields, decryption, verification) on any
//! bytes: an error or a message, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medpay_core::envelope::{Credentials, EnvelopeCodec};
use medpay_core::sign_text::KeyOrder;
use medpay_core::sm2::PrivateKey;
use std::sync::{Arc, OnceLock};

fn codec() -> &'static EnvelopeCodec {
    static CODEC: OnceLock<EnvelopeCodec> = OnceLock::new();
    CODEC.get_or_init(|| {
        let key = PrivateKey::from_bytes(&[7u8; 32]).expect("a valid scalar");
        let peer = key.public_key().clone();
        let creds = Credentials::new(
            "43AF047BBA47FC8A1AE8EFB232BDBBCB",
            "4117E877F5FA0A0188891283E4B617D5",
            Some(key),
            Some(peer),
            KeyOrder::Ordinal,
        )
        .expect("credentials");
        EnvelopeCodec::new(Arc::new(creds))
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = codec().unpack_json(data, true);
    let _ = codec().unpack_json(data, false);
});

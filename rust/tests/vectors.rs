//! Public evidence (tests/vectors/protocol.json, read by pytest too): signatures the
//! center's Java SDK and the national service platform's front end made, and ciphertexts
//! they sent, checked with the crate (docs/protocol.md §9).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use medpay_core::data_key::derive_sm4_key;
use medpay_core::json::{self, Limits, Text, Value};
use medpay_core::sign_text::{sign_text, KeyOrder};
use medpay_core::sm2::{PrivateKey, DEFAULT_UID};

fn vectors() -> serde_json::Value {
    serde_json::from_str(include_str!("../../tests/vectors/protocol.json")).expect("protocol.json")
}

/// A vector's JSON object as the crate's members (numbers keep their literal).
fn members(v: &serde_json::Value) -> Vec<(Text, Value)> {
    match json::parse(v.to_string().as_bytes(), Limits::default()).expect("JSON") {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn s<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key}"))
}

#[test]
fn the_sdks_6301_signature_verifies_over_our_sign_text_and_the_rejected_one_does_not() {
    let doc = vectors();
    let (v, text_vector) = (&doc["sdk_signed_6301"], &doc["sign_text_6301"]);
    let sk = PrivateKey::from_string(s(v, "private_key_base64")).unwrap();
    let pk = sk.public_key();
    assert_eq!(pk.to_hex().to_uppercase(), s(v, "public_key").to_uppercase());
    let text = sign_text(&members(&text_vector["message"]), s(text_vector, "app_secret"), KeyOrder::Ordinal);
    assert_eq!(text, s(v, "sign_text"));
    assert!(pk.verify(text.as_bytes(), &B64.decode(s(v, "sign_data")).unwrap(), DEFAULT_UID));
    assert!(!pk.verify(text.as_bytes(), &B64.decode(s(v, "sign_data_rejected")).unwrap(), DEFAULT_UID));
}

#[test]
fn the_national_front_ends_requests_verify_and_decrypt() {
    let doc = vectors();
    let v = &doc["national_front_end"];
    let sk = PrivateKey::from_string(s(v, "private_key")).unwrap();
    let pk = sk.public_key();
    assert_eq!(pk.to_hex().to_uppercase(), s(v, "public_key").to_uppercase());
    let key = derive_sm4_key(s(v, "app_code"), s(v, "app_secret")).unwrap();
    assert_eq!(&key, s(v, "data_key_ascii").as_bytes());
    for request in v["requests"].as_array().unwrap() {
        let mut fields = members(&request["message"]);
        let enc = fields
            .iter()
            .find(|(k, _)| k == "data")
            .and_then(|(_, d)| d.get("encData"))
            .and_then(Value::as_str)
            .map(String::from);
        if let Some(enc) = enc {
            // Version 1.0.0 carries the ciphertext inside data: {"data":{"encData":…}}.
            let plain =
                medpay_core::sm4::ecb_decrypt(&key, &medpay_core::hex::decode(enc.as_bytes()).unwrap()).unwrap();
            assert_eq!(std::str::from_utf8(&plain).unwrap(), s(request, "plaintext"));
            let data = json::parse(&plain, Limits::default()).unwrap();
            for (k, d) in fields.iter_mut() {
                if k == "data" {
                    *d = data.clone();
                }
            }
        }
        let text = sign_text(&fields, s(v, "app_secret"), KeyOrder::Ordinal);
        assert_eq!(text, s(request, "sign_text"));
        let sig = fields.iter().find(|(k, _)| k == "signData").and_then(|(_, x)| x.as_str()).unwrap();
        assert!(pk.verify(text.as_bytes(), &B64.decode(sig).unwrap(), DEFAULT_UID));
        assert!(!pk.verify(text.as_bytes(), &B64.decode(sig).unwrap(), s(v, "app_secret").as_bytes()));
    }
}

/// The spec's own worked example of the data key and encData.
#[test]
fn the_specs_enc_data_decrypts_under_the_derived_key() {
    let doc = vectors();
    let v = &doc["enc_data_spec_example"];
    let key = derive_sm4_key(s(v, "app_id"), s(v, "app_secret")).unwrap();
    assert_eq!(&key, s(v, "data_key_ascii").as_bytes());
    let plain =
        medpay_core::sm4::ecb_decrypt(&key, &medpay_core::hex::decode(s(v, "enc_data").as_bytes()).unwrap()).unwrap();
    assert_eq!(std::str::from_utf8(&plain).unwrap(), s(v, "plaintext"));
}

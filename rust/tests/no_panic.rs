//! Hostile input never panics: random and mutated bytes through every parser of the
//! crate's public API (JSON, keys, DER, signatures, envelopes). A poor man's fuzzer that
//! runs in `cargo test`; the same entry points are what a cargo-fuzz target would call.

use medpay_core::envelope::{Credentials, EnvelopeCodec, PackOptions};
use medpay_core::json::{parse, Limits, Value};
use medpay_core::sign_text::KeyOrder;
use medpay_core::sm2::{PrivateKey, PublicKey, Signature};
use std::sync::Arc;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, so a failure reproduces.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..1 + self.below(4) {
            if v.is_empty() {
                break;
            }
            let i = self.below(v.len());
            match self.below(4) {
                0 => v[i] ^= 1 << self.below(8),
                1 => {
                    const BYTES: &[u8] = b"{}[]\",:\\0123456789eE-+.tfn \x00\xff";
                    v[i] = BYTES[self.below(BYTES.len())];
                }
                2 => {
                    v.remove(i);
                }
                _ => v.insert(i, self.next() as u8),
            }
        }
        v
    }
}

const APP_ID: &str = "43AF047BBA47FC8A1AE8EFB232BDBBCB";
const SECRET: &str = "4117E877F5FA0A0188891283E4B617D5";

#[test]
fn json_parser_survives_random_and_mutated_input() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let seeds: [&[u8]; 4] = [
        br#"{"a":[1,2.50,{"b":null,"c":"\u4e2d\n"}],"d":true}"#,
        br#"[-0.0e+12,"x",{},[[]]]"#,
        br#""\ud83d\ude00 plain text that is long enough for the fast path""#,
        br#"{"k":"v","k2":{"k3":[false,null,1E5]}}"#,
    ];
    let limits = Limits { max_bytes: 1 << 16, max_depth: 16 };
    for _ in 0..20_000 {
        let input = if rng.below(3) == 0 {
            rng.bytes(64)
        } else {
            let seed = seeds[rng.below(seeds.len())];
            rng.mutate(seed)
        };
        if let Ok(v) = parse(&input, limits) {
            // Whatever parses re-serializes to something that parses to the same value.
            let text = medpay_core::json::to_compact(&v);
            assert_eq!(parse(text.as_bytes(), limits).ok(), Some(v));
        }
    }
}

#[test]
fn key_and_signature_parsers_survive_random_input() {
    let mut rng = Rng(42);
    let sk = PrivateKey::generate().unwrap();
    let seeds = [sk.to_pkcs8_der().to_vec(), sk.to_sec1_der().to_vec(), sk.public_key().to_spki_der()];
    let sig = Signature::from_raw(&sk.sign(b"m", b"1234567812345678").unwrap()).unwrap().to_der();
    for _ in 0..5_000 {
        let pick = rng.below(seeds.len());
        let input = rng.mutate(&seeds[pick]);
        let _ = PrivateKey::from_bytes(&input);
        let _ = PublicKey::from_bytes(&input);
        let _ = PrivateKey::from_string(&String::from_utf8_lossy(&input));
        let _ = PublicKey::from_string(&String::from_utf8_lossy(&input));
        let s = rng.mutate(&sig);
        let _ = Signature::parse(&s);
        let _ = sk.public_key().verify(b"m", &s, b"1234567812345678");
    }
}

#[test]
fn envelope_unpack_survives_mutated_envelopes() {
    let mut rng = Rng(7);
    let sk = PrivateKey::generate().unwrap();
    let creds =
        Credentials::new(APP_ID, SECRET, Some(sk.clone()), Some(sk.public_key().clone()), KeyOrder::Ordinal).unwrap();
    let codec = EnvelopeCodec::new(Arc::new(creds));
    let data = parse(br#"{"payOrdId":"P1","amt":100.00,"list":[{"a":"1"}]}"#, Limits::default()).unwrap();
    let body = codec.pack_json(data.clone(), PackOptions::default()).unwrap();
    let mut accepted = 0;
    for _ in 0..3_000 {
        let input = rng.mutate(body.as_bytes());
        if let Ok(msg) = codec.unpack_json(&input, true) {
            // A mutation that still verifies must not have changed the data.
            assert_eq!(msg.data, data);
            accepted += 1;
        }
    }
    assert!(accepted < 3_000, "some mutations must be refused");
    let _ = codec.unpack(vec![("appId".into(), Value::String(APP_ID.into()))], false);
}

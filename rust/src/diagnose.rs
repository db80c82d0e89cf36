//! `diagnose`: why does the peer reject my signature? Rebuilds the sign text the protocol's
//! way, checks the signature, and when it fails, tries the known mistakes of other ports
//! (PROTOCOL.md §2 "Variants") to name the one the signer made.

use crate::data_key::derive_sm4_key;
use crate::envelope::{decode_signature_b64, decrypt_data_with};
use crate::json::{Limits, Text, Value};
use crate::sign_text::{sign_text_with_style, KeyOrder, NumberStyle, Stringify, Style};
use crate::sm2::signature::message_digest;
use crate::sm2::{PublicKey, Signature, DEFAULT_UID};
use crate::sm4::Sm4Key;
use zeroize::Zeroizing;

/// The outcome of a diagnosis.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    /// The protocol's sign text (ordinal order), with the appSecret at its end.
    pub sign_text: String,
    /// Whether the signature verifies over the protocol's text (either key order).
    pub verifies: bool,
    /// The name of the variant that verifies, if the protocol's text does not.
    pub variant: Option<String>,
    /// The sign text of that variant.
    pub variant_sign_text: Option<String>,
    /// Observations, in the order they were made.
    pub findings: Vec<String>,
    app_secret_len: usize,
}

impl Diagnosis {
    /// A report for a person; the appSecret is masked.
    pub fn report(&self) -> String {
        let mask = |t: &str| {
            let cut = t.len().saturating_sub(self.app_secret_len);
            format!("{}{}", &t[..cut], "*".repeat(self.app_secret_len.min(8)))
        };
        let mut out = String::new();
        out.push_str("medpay signature diagnosis\n");
        out.push_str(&format!("sign text (protocol): {}\n", mask(&self.sign_text)));
        if self.verifies {
            out.push_str("result: the signature VERIFIES over the protocol's sign text.\n");
        } else if let Some(v) = &self.variant {
            out.push_str("result: the signature does NOT verify over the protocol's sign text.\n");
            out.push_str(&format!("it verifies over a known variant: {v}\n"));
            if let Some(t) = &self.variant_sign_text {
                out.push_str(&format!("signed text was: {}\n", mask(t)));
            }
        } else {
            out.push_str("result: the signature does NOT verify, and no known variant explains it:\n");
            out.push_str("  check the key pair (is this the signer's public key?), the appSecret and the message bytes.\n");
        }
        for f in &self.findings {
            out.push_str(&format!("- {f}\n"));
        }
        out
    }
}

fn styles() -> Vec<(&'static str, Style)> {
    let p = Style::PROTOCOL;
    vec![
        ("protocol (ordinal key order)", p),
        ("protocol with case-insensitive nested key order", Style { key_order: KeyOrder::CaseInsensitive, ..p }),
        ("only the top-level scalars of data stringified (nested numbers left as numbers)", Style { stringify: Stringify::TopLevelOnly, ..p }),
        ("numbers and booleans kept as JSON values, not strings", Style { stringify: Stringify::None, ..p }),
        ("numbers reformatted through floats, JavaScript style (100.00 -> 100)", Style { numbers: NumberStyle::FloatJs, ..p }),
        ("numbers reformatted through floats, Java style (100.00 -> 100.0)", Style { numbers: NumberStyle::FloatJava, ..p }),
        ("empty strings and empty objects kept", Style { keep_empty: true, ..p }),
        ("numbers as JSON values and empty values kept", Style { stringify: Stringify::None, keep_empty: true, ..p }),
    ]
}

/// Diagnose the signature of `envelope` (its members; `data` plaintext or `encData`),
/// checked with `public_key` (the signer's) and the shared `app_secret`.
pub fn diagnose(envelope: &[(Text, Value)], app_secret: &str, public_key: &PublicKey) -> Diagnosis {
    let mut findings = Vec::new();
    let get = |n: &str| envelope.iter().find(|(k, _)| k == n).map(|(_, v)| v);
    let app_id = get("appId").and_then(Value::as_str).unwrap_or("");
    if app_id.is_empty() {
        findings.push("the envelope has no appId".to_string());
    }
    let mut fields: Vec<(Text, Value)> = envelope.iter().filter(|(k, _)| k != "data").cloned().collect();
    let data = match (get("data"), get("encData").and_then(Value::as_str)) {
        (Some(d), _) if !matches!(d, Value::Null) => Some(d.clone()),
        (_, Some(enc)) if !enc.is_empty() => decrypt_for_diagnosis(app_id, app_secret, enc, &mut findings),
        _ => None,
    };
    if let Some(d) = data {
        fields.push(("data".into(), d));
    }
    let protocol_text = sign_text_with_style(&fields, app_secret, Style::PROTOCOL);
    let mut diag = Diagnosis {
        sign_text: protocol_text,
        verifies: false,
        variant: None,
        variant_sign_text: None,
        findings,
        app_secret_len: app_secret.len(),
    };
    let sig_text = match get("signData") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            diag.findings.push("the envelope has no signData".into());
            return diag;
        }
    };
    let Some(candidates) = signature_candidates(&sig_text, &mut diag.findings) else { return diag };

    let uids: Vec<(String, Vec<u8>)> = vec![
        ("default uid 1234567812345678".into(), DEFAULT_UID.to_vec()),
        ("the appSecret used as the SM2 uid".into(), app_secret.as_bytes().to_vec()),
        ("the appId used as the SM2 uid".into(), app_id.as_bytes().to_vec()),
        ("an empty SM2 uid".into(), Vec::new()),
    ];
    for (ui, (uid_name, uid)) in uids.iter().enumerate() {
        for (si, (style_name, style)) in styles().into_iter().enumerate() {
            let text = sign_text_with_style(&fields, app_secret, style);
            let Ok(e) = message_digest(public_key, text.as_bytes(), uid) else { continue };
            if candidates.iter().any(|sig| public_key.verify_digest(&e, sig)) {
                if ui == 0 && si <= 1 {
                    diag.verifies = true;
                    if si == 1 {
                        diag.findings.push("signed with case-insensitive nested key order (accepted by the protocol's verifiers)".into());
                    }
                } else {
                    let name = if ui == 0 { style_name.to_string() } else { format!("{style_name}, with {uid_name}") };
                    diag.variant = Some(name);
                    diag.variant_sign_text = Some(text);
                }
                return diag;
            }
        }
    }
    diag
}

/// Decrypt `encData` for the diagnosis; when the protocol's key fails, try the key
/// mistakes seen in the field and say which one worked.
fn decrypt_for_diagnosis(app_id: &str, secret: &str, enc: &str, findings: &mut Vec<String>) -> Option<Value> {
    let limits = Limits::default();
    let derived = derive_sm4_key(app_id, secret).ok().map(Zeroizing::new);
    if let Some(k) = &derived {
        match decrypt_data_with(&Sm4Key::new(k), enc, limits) {
            Ok(v) => return Some(v),
            Err(e) => findings.push(format!("encData does not decrypt with the protocol's data key: {e}")),
        }
    } else {
        findings.push("cannot derive the data key: appId shorter than 16 characters".into());
    }
    let mut wrong: Vec<(&str, Vec<u8>)> = Vec::new();
    if secret.len() >= 16 {
        wrong.push(("the first 16 characters of the appSecret", secret.as_bytes()[..16].to_vec()));
    }
    if app_id.len() >= 16 {
        let k0 = &app_id.as_bytes()[..16];
        wrong.push(("the first 16 characters of the appId", k0.to_vec()));
        if let Ok(c) = crate::sm4::ecb_encrypt(k0, secret.as_bytes()) {
            wrong.push(("the raw 16 bytes of SM4(appId, appSecret) instead of their hex text", c[..16].to_vec()));
            let lower = crate::hex::encode_upper(&c[..8]).to_lowercase();
            wrong.push(("lowercase hex of SM4(appId, appSecret)", lower.into_bytes()));
        }
    }
    for (name, key) in wrong {
        if let Ok(k) = Sm4Key::from_slice(&key) {
            if let Ok(v) = decrypt_data_with(&k, enc, limits) {
                findings.push(format!("encData was encrypted with a wrong data key: {name}"));
                return Some(v);
            }
        }
    }
    None
}

/// The signatures `signData` could mean: raw, DER, or raw with r or s not zero-padded.
fn signature_candidates(b64: &str, findings: &mut Vec<String>) -> Option<Vec<Signature>> {
    let bytes = match decode_signature_b64(b64) {
        Ok(b) => b,
        Err(e) => {
            findings.push(e.to_string());
            return None;
        }
    };
    if bytes.len() == 64 {
        return Signature::from_raw(&bytes).map(|s| vec![s]).map_err(|e| findings.push(e.to_string())).ok();
    }
    if let Ok(s) = Signature::from_der(&bytes) {
        findings.push("signData is DER-encoded; the protocol sends raw r||s (64 bytes). medpay accepts DER, the center may not".into());
        return Some(vec![s]);
    }
    if (62..64).contains(&bytes.len()) {
        findings.push(format!(
            "signData is {} bytes: r or s was not zero-padded to 32 bytes",
            bytes.len()
        ));
        let mut out = Vec::new();
        for rl in bytes.len() - 32..=32 {
            let (r, s) = bytes.split_at(rl);
            if s.len() <= 32 {
                let mut raw = [0u8; 64];
                raw[32 - r.len()..32].copy_from_slice(r);
                raw[64 - s.len()..].copy_from_slice(s);
                if let Ok(sig) = Signature::from_raw(&raw) {
                    out.push(sig);
                }
            }
        }
        return Some(out);
    }
    findings.push(format!("signData is {} bytes, neither raw r||s (64) nor DER", bytes.len()));
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{Credentials, EnvelopeCodec, PackOptions};
    use crate::json::parse;
    use crate::sm2::PrivateKey;
    use base64::Engine as _;
    use std::sync::Arc;

    const APP_ID: &str = "43AF047BBA47FC8A1AE8EFB232BDBBCB";
    const SECRET: &str = "4117E877F5FA0A0188891283E4B617D5";

    fn envelope_signed_with(style: Style, uid: &[u8], der: bool) -> (Vec<(Text, Value)>, PublicKey) {
        let sk = PrivateKey::generate().unwrap();
        let data = parse(br#"{"amt":100.00,"n":{"x":1},"e":"","list":[{"q":2}]}"#, Limits::default()).unwrap();
        let mut fields = vec![
            ("appId".into(), Value::String(APP_ID.into())),
            ("timestamp".into(), Value::String("1".into())),
            ("data".into(), data),
        ];
        let text = sign_text_with_style(&fields, SECRET, style);
        let raw = sk.sign(text.as_bytes(), uid).unwrap();
        let sig = if der { Signature::from_raw(&raw).unwrap().to_der() } else { raw.to_vec() };
        fields.push(("signData".into(), Value::String(base64::engine::general_purpose::STANDARD.encode(sig).into())));
        (fields, sk.public_key().clone())
    }

    #[test]
    fn a_good_signature_verifies() {
        let (env, pk) = envelope_signed_with(Style::PROTOCOL, DEFAULT_UID, false);
        let d = diagnose(&env, SECRET, &pk);
        assert!(d.verifies && d.variant.is_none(), "{}", d.report());
        assert!(!d.report().contains(SECRET));
    }

    #[test]
    fn each_known_variant_is_named() {
        let p = Style::PROTOCOL;
        let cases: Vec<(Style, &[u8], &str)> = vec![
            (Style { stringify: Stringify::TopLevelOnly, ..p }, DEFAULT_UID, "top-level scalars"),
            (Style { stringify: Stringify::None, ..p }, DEFAULT_UID, "kept as JSON values"),
            (Style { numbers: NumberStyle::FloatJava, ..p }, DEFAULT_UID, "Java style"),
            (Style { numbers: NumberStyle::FloatJs, ..p }, DEFAULT_UID, "JavaScript style"),
            (Style { keep_empty: true, ..p }, DEFAULT_UID, "empty strings"),
            (p, SECRET.as_bytes(), "appSecret used as the SM2 uid"),
        ];
        for (style, uid, want) in cases {
            let (env, pk) = envelope_signed_with(style, uid, false);
            let d = diagnose(&env, SECRET, &pk);
            assert!(!d.verifies);
            let v = d.variant.clone().unwrap_or_default();
            assert!(v.contains(want), "wanted {want:?}, got {v:?}\n{}", d.report());
        }
    }

    #[test]
    fn der_signature_and_unknown_failure_are_reported() {
        let (env, pk) = envelope_signed_with(Style::PROTOCOL, DEFAULT_UID, true);
        let d = diagnose(&env, SECRET, &pk);
        assert!(d.verifies && d.findings.iter().any(|f| f.contains("DER")));
        let other = PrivateKey::generate().unwrap();
        let d = diagnose(&env, SECRET, other.public_key());
        assert!(!d.verifies && d.variant.is_none());
        assert!(d.report().contains("no known variant"));
    }

    #[test]
    fn wrong_data_key_is_named() {
        let sk = PrivateKey::generate().unwrap();
        let creds = Credentials::new(APP_ID, SECRET, Some(sk.clone()), None, KeyOrder::Ordinal).unwrap();
        let (mut env, _) = EnvelopeCodec::new(Arc::new(creds)).pack(
            parse(br#"{"a":"1"}"#, Limits::default()).unwrap(), PackOptions::default()).unwrap();
        let wrong = Sm4Key::from_slice(&SECRET.as_bytes()[..16]).unwrap();
        for (k, v) in env.iter_mut() {
            if k == "encData" {
                *v = Value::String(crate::hex::encode_upper(&wrong.encrypt_ecb_pkcs7(br#"{"a":"1"}"#)).into());
            }
        }
        let d = diagnose(&env, SECRET, sk.public_key());
        assert!(d.verifies, "{}", d.report());
        assert!(d.findings.iter().any(|f| f.contains("first 16 characters of the appSecret")), "{}", d.report());
    }
}

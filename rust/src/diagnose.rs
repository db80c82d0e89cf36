//! `diagnose`: why does the peer reject my signature? Rebuilds the sign text the SDK's
//! way, checks the signature, and when it fails, tries the known mistakes of other ports
//! (docs/protocol.md, "Variants") to name the one the signer made.

use crate::data_key::derive_sm4_key;
use crate::envelope::{data_source, decode_signature_b64, decrypt_data_with, parse_data_text, DataSource};
use crate::error::{Error, Result};
use crate::json::{Limits, Text, Value};
use crate::sign_text::{
    sign_text_with_style, Empties, Escapes, KeyOrder, NumberStyle, Separators, Stringify, Style, SECRET_MASK,
};
use crate::sm2::signature::message_digest;
use crate::sm2::{PublicKey, Signature, DEFAULT_UID};
use crate::sm4::Sm4Key;
use zeroize::Zeroizing;

/// The outcome of a diagnosis.
#[derive(Clone)]
pub struct Diagnosis {
    /// The SDK's sign text (ordinal order), with the appSecret at its end.
    pub sign_text: String,
    /// Whether the signature verifies over a text the protocol's verifiers accept (the
    /// SDK's, or the same with the other key order or escaping).
    pub verifies: bool,
    /// The name of the variant that verifies, if the protocol's texts do not.
    pub variant: Option<String>,
    /// The sign text of that variant.
    pub variant_sign_text: Option<String>,
    /// Observations, in the order they were made; the likeliest cause first.
    pub findings: Vec<String>,
    /// Whether `encData` could not be decrypted (the sign text then lacks the data).
    pub data_unreadable: bool,
    /// The two texts with every occurrence of the appSecret masked, for the report.
    masked: (String, Option<String>),
}

impl std::fmt::Debug for Diagnosis {
    /// The texts with the appSecret masked, as in [`Diagnosis::report`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Diagnosis")
            .field("sign_text", &self.masked.0)
            .field("verifies", &self.verifies)
            .field("variant", &self.variant)
            .field("variant_sign_text", &self.masked.1)
            .field("findings", &self.findings)
            .field("data_unreadable", &self.data_unreadable)
            .finish()
    }
}

impl Diagnosis {
    /// [`Diagnosis::sign_text`] fit to show: the appSecret masked wherever it stands.
    pub fn shown_sign_text(&self) -> &str {
        &self.masked.0
    }

    /// [`Diagnosis::variant_sign_text`] fit to show: the appSecret masked wherever it stands.
    pub fn shown_variant_sign_text(&self) -> Option<&str> {
        self.masked.1.as_deref()
    }

    /// A report for a person; the appSecret is masked.
    pub fn report(&self) -> String {
        let mut out = String::new();
        out.push_str("medpay signature diagnosis\n");
        if self.data_unreadable {
            out.push_str("result: encData does NOT decrypt with the data key of this appId and appSecret:\n");
            out.push_str("  the appSecret (or the appId) is probably wrong; check both with the center.\n");
        }
        out.push_str(&format!("sign text (protocol): {}\n", self.masked.0));
        if self.verifies {
            out.push_str("result: the signature VERIFIES over the protocol's sign text.\n");
        } else if let Some(v) = &self.variant {
            out.push_str("result: the signature does NOT verify over the protocol's sign text.\n");
            out.push_str(&format!("it verifies over a known variant: {v}\n"));
            if let Some(t) = &self.masked.1 {
                out.push_str(&format!("signed text was: {t}\n"));
            }
        } else {
            out.push_str("result: the signature does NOT verify, and no known variant explains it:\n");
            out.push_str(
                "  check the key pair (is this the signer's public key?), the appSecret and the message bytes.\n",
            );
        }
        for f in &self.findings {
            out.push_str(&format!("- {f}\n"));
        }
        out
    }
}

/// Texts the protocol's verifiers accept, with the finding each deserves (none for the
/// SDK's own).
fn accepted_styles() -> Vec<(Style, Option<&'static str>)> {
    let p = Style::PROTOCOL;
    let two = Style { escapes: Escapes::Fastjson2, ..p };
    let ci = Style::with_order(KeyOrder::CaseInsensitive);
    vec![
        (p, None),
        (
            ci,
            Some(
                "signed with case-insensitive nested key order (accepted by medpay; the center's SDK sorts ordinally)",
            ),
        ),
        (two, Some("strings escaped as fastjson2 does, not fastjson 1.x (accepted by medpay)")),
        (
            Style { key_order: KeyOrder::CaseInsensitive, ..two },
            Some("case-insensitive nested key order and fastjson2 escaping (accepted by medpay)"),
        ),
    ]
}

/// The mistakes of other ports that one [`Style`] reproduces.
fn variant_styles() -> Vec<(&'static str, Style)> {
    let p = Style::PROTOCOL;
    vec![
        (
            "only the top-level scalars of data stringified (nested numbers left as numbers)",
            Style { stringify: Stringify::TopLevelOnly, ..p },
        ),
        ("numbers and booleans kept as JSON values, not strings", Style { stringify: Stringify::None, ..p }),
        (
            "numbers reformatted through floats, JavaScript style (100.00 -> 100)",
            Style { numbers: NumberStyle::FloatJs, ..p },
        ),
        (
            "numbers reformatted through floats, Java style (100.00 -> 100.0)",
            Style { numbers: NumberStyle::FloatJava, ..p },
        ),
        (
            "numbers written as their JSON literal, not as Java's BigDecimal prints them (1e2 -> 1E+2, -0.00 -> 0.00)",
            Style { numbers: NumberStyle::Literal, ..p },
        ),
        ("empty strings kept", Style { empties: Empties::KeepStrings, ..p }),
        (
            "empty objects dropped, as medpay before 0.2 did (the SDK keeps {})",
            Style { empties: Empties::DropEmptied, numbers: NumberStyle::Literal, escapes: Escapes::Fastjson2, ..p },
        ),
        (
            "empty arrays kept (the SDK drops them, or writes null inside an array)",
            Style { empties: Empties::KeepArrays, ..p },
        ),
        (
            "numbers as JSON values and empty strings kept",
            Style { stringify: Stringify::None, empties: Empties::KeepStrings, ..p },
        ),
        (
            "Python json.dumps default separators (\", \" and \": \") in the data's JSON",
            Style { separators: Separators::PythonDefault, ..p },
        ),
    ]
}

/// The mistakes made at the end of the text: the appSecret appended wrongly.
fn tail_variants(text: &str, secret: &str) -> Vec<(&'static str, String)> {
    let body = &text[..text.len() - "key=".len() - secret.len()];
    vec![
        ("\"&key=\" forgotten: the appSecret appended without it", format!("{body}{secret}")),
        ("\"&key=<appSecret>\" forgotten: nothing appended", body.trim_end_matches('&').to_string()),
        ("\"key=<appSecret>\" forgotten after the last \"&\"", body.to_string()),
        ("the signer's appSecret ends with a newline", format!("{text}\n")),
        ("the signer's appSecret ends with CR LF", format!("{text}\r\n")),
        ("the signer's appSecret ends with a space", format!("{text} ")),
        ("the signer's appSecret has spaces around it", format!("{body}key= {secret} ")),
    ]
}

/// Diagnose the signature of `envelope` (its members; `data` plaintext, a JSON string, or
/// `encData`), checked with `public_key` (the signer's) and the shared `app_secret`.
pub fn diagnose(envelope: &[(Text, Value)], app_secret: &str, public_key: &PublicKey) -> Diagnosis {
    masked(diagnose_texts(envelope, app_secret, std::slice::from_ref(public_key)), app_secret)
}

/// [`diagnose`] with several public keys the signer may have used (a peer rotating its
/// key: the credentials' [`crate::envelope::Credentials::peer_public_keys`]). Every text
/// is checked with each key in turn; a finding names the key that verified when it is not
/// the first. No key at all is an [`Error::KeyFormat`].
pub fn diagnose_with_keys(
    envelope: &[(Text, Value)],
    app_secret: &str,
    public_keys: &[PublicKey],
) -> Result<Diagnosis> {
    if public_keys.is_empty() {
        return Err(Error::key("no public key to check the signature with: give at least one"));
    }
    Ok(masked(diagnose_texts(envelope, app_secret, public_keys), app_secret))
}

/// `diag` with its texts masked for showing.
fn masked(mut diag: Diagnosis, app_secret: &str) -> Diagnosis {
    // Wherever the secret stands (a variant may have lost its "key="), the report hides it.
    let mask = |t: &str| if app_secret.is_empty() { t.to_string() } else { t.replace(app_secret, SECRET_MASK) };
    diag.masked = (mask(&diag.sign_text), diag.variant_sign_text.as_deref().map(mask));
    diag
}

fn diagnose_texts(envelope: &[(Text, Value)], app_secret: &str, public_keys: &[PublicKey]) -> Diagnosis {
    let mut findings = Vec::new();
    let get = |n: &str| envelope.iter().find(|(k, _)| k == n).map(|(_, v)| v);
    let app_id = get("appId").and_then(Value::as_str).unwrap_or("");
    if app_id.is_empty() {
        findings.push("the envelope has no appId".to_string());
    }
    let mut fields: Vec<(Text, Value)> = envelope.iter().filter(|(k, _)| k != "data").cloned().collect();
    let mut data_unreadable = false;
    // Read as unpack reads it (one rule: envelope::data_source).
    let data = match data_source(envelope) {
        DataSource::Text(s) => match parse_data_text(s, Limits::default()) {
            Ok(v) => Some(v),
            Err(e) => {
                findings.push(e.to_string());
                None
            }
        },
        DataSource::Value(d) => Some(d.clone()),
        DataSource::Encrypted(enc) => {
            let d = decrypt_for_diagnosis(app_id, app_secret, enc, &mut findings);
            data_unreadable = d.is_none();
            d
        }
        DataSource::Absent => None,
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
        data_unreadable,
        masked: (String::new(), None),
    };
    let sig_text = match get("signData") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            diag.findings.push("the envelope has no signData".into());
            return diag;
        }
    };
    let Some(candidates) = signature_candidates(&sig_text, &mut diag.findings) else { return diag };
    // Which key verified, when one did.
    let verified_by = std::cell::Cell::new(None);
    let verifies = |text: &str, uid: &[u8]| {
        let by = public_keys.iter().position(|key| {
            message_digest(key, text.as_bytes(), uid)
                .map(|e| candidates.iter().any(|sig| key.verify_digest(&e, sig)))
                .unwrap_or(false)
        });
        verified_by.set(by);
        by.is_some()
    };
    let by_which = |findings: &mut Vec<String>| {
        if let Some(i @ 1..) = verified_by.get() {
            findings.push(format!(
                "it verifies with public key {} of the {} given, not the first",
                i + 1,
                public_keys.len()
            ));
        }
    };

    for (style, note) in accepted_styles() {
        if verifies(&sign_text_with_style(&fields, app_secret, style), DEFAULT_UID) {
            diag.verifies = true;
            diag.findings.extend(note.map(String::from));
            by_which(&mut diag.findings);
            return diag;
        }
    }
    let uids: Vec<(&str, Vec<u8>)> = vec![
        ("", DEFAULT_UID.to_vec()),
        ("the appSecret used as the SM2 uid", app_secret.as_bytes().to_vec()),
        ("the appId used as the SM2 uid", app_id.as_bytes().to_vec()),
        ("an empty SM2 uid", Vec::new()),
    ];
    for (uid_name, uid) in &uids {
        let mut candidates: Vec<(String, String)> = Vec::new();
        if !uid_name.is_empty() {
            candidates.push((uid_name.to_string(), diag.sign_text.clone()));
        }
        for (name, style) in variant_styles() {
            candidates.push((name.to_string(), sign_text_with_style(&fields, app_secret, style)));
        }
        for (name, text) in tail_variants(&diag.sign_text, app_secret) {
            candidates.push((name.to_string(), text));
        }
        for (name, text) in candidates {
            if verifies(&text, uid) {
                let with_uid = !uid_name.is_empty() && name != *uid_name;
                diag.variant = Some(if with_uid { format!("{name}, with {uid_name}") } else { name });
                diag.variant_sign_text = Some(text);
                by_which(&mut diag.findings);
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
            // The error says the likely cause first (a wrong appSecret or appId) when the
            // ciphertext is whole but does not decrypt, as unpack's does.
            Err(e) => findings.push(e.to_string()),
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
        findings.push(
            "signData is DER-encoded; the protocol sends raw r||s (64 bytes). medpay accepts DER, the center may not"
                .into(),
        );
        return Some(vec![s]);
    }
    if (62..64).contains(&bytes.len()) {
        findings.push(format!("signData is {} bytes: r or s was not zero-padded to 32 bytes", bytes.len()));
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
        let data = parse(
            br#"{"amt":100.00,"n":{"x":1},"e":"","list":[{"q":2}],"o":{"z":null},"l":[],"x":1e2}"#,
            Limits::default(),
        )
        .unwrap();
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
            (Style { empties: Empties::KeepStrings, ..p }, DEFAULT_UID, "empty strings kept"),
            (Style { empties: Empties::KeepArrays, ..p }, DEFAULT_UID, "empty arrays kept"),
            (
                Style {
                    empties: Empties::DropEmptied,
                    numbers: NumberStyle::Literal,
                    escapes: Escapes::Fastjson2,
                    ..p
                },
                DEFAULT_UID,
                "empty objects dropped",
            ),
            (Style { numbers: NumberStyle::Literal, ..p }, DEFAULT_UID, "JSON literal"),
            (Style { separators: Separators::PythonDefault, ..p }, DEFAULT_UID, "json.dumps"),
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
        let (mut env, _) = EnvelopeCodec::new(Arc::new(creds))
            .pack(parse(br#"{"a":"1"}"#, Limits::default()).unwrap(), PackOptions::default())
            .unwrap();
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

    fn signed_over(text: &str, fields: &mut Vec<(Text, Value)>) -> PublicKey {
        let sk = PrivateKey::generate().unwrap();
        let raw = sk.sign(text.as_bytes(), DEFAULT_UID).unwrap();
        fields.push(("signData".into(), Value::String(base64::engine::general_purpose::STANDARD.encode(raw).into())));
        sk.public_key().clone()
    }

    #[test]
    fn mistakes_at_the_end_of_the_text_are_named() {
        let (env, _) = envelope_signed_with(Style::PROTOCOL, DEFAULT_UID, false);
        let fields: Vec<(Text, Value)> = env.into_iter().filter(|(k, _)| k != "signData").collect();
        let text = sign_text_with_style(&fields, SECRET, Style::PROTOCOL);
        let body = &text[..text.len() - 4 - SECRET.len()];
        for (signed, want) in [
            (format!("{body}{SECRET}"), "\"&key=\" forgotten"),
            (body.trim_end_matches('&').to_string(), "nothing appended"),
            (format!("{text}\n"), "ends with a newline"),
            (format!("{text} "), "ends with a space"),
        ] {
            let mut f = fields.clone();
            let pk = signed_over(&signed, &mut f);
            let d = diagnose(&f, SECRET, &pk);
            assert!(!d.verifies);
            assert!(d.variant.as_deref().unwrap_or("").contains(want), "wanted {want:?}\n{}", d.report());
        }
    }

    #[test]
    fn the_other_escaping_verifies_with_a_finding() {
        let data = parse("{\"name\":\"张\u{a0}三\u{85}\"}".as_bytes(), Limits::default()).unwrap();
        let mut fields = vec![("appId".into(), Value::String(APP_ID.into())), ("data".into(), data)];
        let two = Style { escapes: Escapes::Fastjson2, ..Style::PROTOCOL };
        let text = sign_text_with_style(&fields, SECRET, two);
        let pk = signed_over(&text, &mut fields);
        let d = diagnose(&fields, SECRET, &pk);
        assert!(d.verifies && d.findings.iter().any(|f| f.contains("fastjson2")), "{}", d.report());
    }

    #[test]
    fn data_sent_as_a_json_string_is_read_as_unpack_reads_it() {
        let mut fields = vec![
            ("appId".into(), Value::String(APP_ID.into())),
            ("data".into(), Value::String(r#"{"b":1.50,"a":{}}"#.into())),
        ];
        let parsed =
            vec![fields[0].clone(), ("data".into(), parse(br#"{"b":1.50,"a":{}}"#, Limits::default()).unwrap())];
        let text = sign_text_with_style(&parsed, SECRET, Style::PROTOCOL);
        assert!(text.contains(r#"data={"a":{},"b":"1.50"}"#), "{text}");
        let pk = signed_over(&text, &mut fields);
        let d = diagnose(&fields, SECRET, &pk);
        assert!(d.verifies, "{}", d.report());
        assert_eq!(d.sign_text, text);
    }

    #[test]
    fn undecryptable_data_says_first_that_the_secret_is_probably_wrong() {
        let sk = PrivateKey::generate().unwrap();
        let creds =
            Credentials::new(APP_ID, "ANOTHER-SECRET-0123456789ABCDEF", Some(sk.clone()), None, KeyOrder::Ordinal)
                .unwrap();
        let (env, _) = EnvelopeCodec::new(Arc::new(creds))
            .pack(parse(br#"{"a":"1"}"#, Limits::default()).unwrap(), PackOptions::default())
            .unwrap();
        let d = diagnose(&env, SECRET, sk.public_key());
        assert!(d.data_unreadable);
        assert!(d.findings[0].contains("appSecret (or the appId) is probably wrong"), "{:?}", d.findings);
        let report = d.report();
        assert!(report.lines().nth(1).unwrap().contains("does NOT decrypt"), "{report}");
    }

    #[test]
    fn the_secret_is_masked_wherever_it_stands() {
        let (env, _) = envelope_signed_with(Style::PROTOCOL, DEFAULT_UID, false);
        let mut fields: Vec<(Text, Value)> = env.into_iter().filter(|(k, _)| k != "signData").collect();
        let text = sign_text_with_style(&fields, SECRET, Style::PROTOCOL);
        let forgot = text.replace(&format!("&key={SECRET}"), &format!("&{SECRET}"));
        let pk = signed_over(&forgot, &mut fields);
        let d = diagnose(&fields, SECRET, &pk);
        assert!(d.variant.is_some());
        assert!(!d.report().contains(SECRET) && !format!("{d:?}").contains(SECRET), "{}", d.report());
        assert!(d.sign_text.contains(SECRET) && !d.shown_sign_text().contains(SECRET));
        assert!(d.variant_sign_text.as_deref().unwrap().contains(SECRET));
        assert!(!d.shown_variant_sign_text().unwrap().contains(SECRET));
        assert!(d.shown_sign_text().ends_with("&key=********"));
    }

    #[test]
    fn with_several_keys_the_one_that_verifies_is_named() {
        let (env, old) = envelope_signed_with(Style::PROTOCOL, DEFAULT_UID, false);
        let new = PrivateKey::generate().unwrap().public_key().clone();
        let d = diagnose_with_keys(&env, SECRET, &[new.clone(), old.clone()]).unwrap();
        assert!(d.verifies && d.findings.iter().any(|f| f.contains("public key 2 of the 2")), "{}", d.report());
        let d = diagnose_with_keys(&env, SECRET, &[old.clone(), new.clone()]).unwrap();
        assert!(d.verifies && !d.findings.iter().any(|f| f.contains("public key")), "{}", d.report());
        // A variant is found with any key too.
        let (env, old) =
            envelope_signed_with(Style { numbers: NumberStyle::FloatJava, ..Style::PROTOCOL }, DEFAULT_UID, false);
        let d = diagnose_with_keys(&env, SECRET, &[new.clone(), old]).unwrap();
        assert!(!d.verifies && d.variant.as_deref().unwrap_or("").contains("Java style"), "{}", d.report());
        assert!(d.findings.iter().any(|f| f.contains("public key 2 of the 2")), "{}", d.report());
        let d = diagnose_with_keys(&env, SECRET, &[new]).unwrap();
        assert!(!d.verifies && d.variant.is_none());
        assert!(matches!(diagnose_with_keys(&env, SECRET, &[]), Err(Error::KeyFormat(_))));
    }
}

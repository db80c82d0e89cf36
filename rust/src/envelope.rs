//! The envelope codec (docs/protocol.md §1-§4): credentials, `pack` (sign then encrypt) and
//! `unpack` (decrypt, rebuild the sign text, verify).

use crate::data_key::derive_sm4_key;
use crate::error::{Error, Result};
use crate::json::{self, JsonError, Limits, Members, Text, Value};
use crate::sign_text::{
    mask_secret, sign_text_of_json_data, sign_text_with_style, signable_sign_text, KeyOrder, Style,
};
use crate::sm2::{message_digest, Backend, Nonce, PreparedVerification, PrivateKey, PublicKey, Signature, DEFAULT_UID};
use crate::sm4::Sm4Key;
use crate::status::Status;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The fields the codec writes itself; callers cannot set them through `fields`.
pub const RESERVED_FIELDS: [&str; 8] =
    ["appId", "data", "encData", "encType", "signData", "signType", "timestamp", "version"];

/// Messages whose data has at least this much JSON sign and encrypt (pack) or verify and
/// convert (the Python layer's unpack) on two cores at once; below it the hand-off to a
/// helper thread costs more than it saves.
pub const OVERLAP_BYTES: usize = 4096;

/// The protocol version this crate speaks.
pub const VERSION: &str = "2.0.1";

/// What one party holds to talk to the other: the shared appId and appSecret, its own
/// private key (signs what it sends) and the peer's public key (verifies what it receives).
/// Everything that depends only on these is computed once here: the SM4 data key and, in
/// the keys, Z and (1 + d)^-1.
///
/// Key rotation: while the peer changes its key, the credentials may hold several peer
/// public keys ([`Credentials::with_peer_public_keys`]); a signature made by any of them
/// verifies. The first is tried first, exactly as a single key is, and the others only
/// when it fails, so one key costs what it always did. Signing is unchanged.
pub struct Credentials {
    app_id: String,
    app_secret: Zeroizing<String>,
    data_key: Sm4Key,
    private_key: Option<PrivateKey>,
    /// In the order given; empty when there is none to verify with.
    peer_public_keys: Vec<PublicKey>,
    key_order: KeyOrder,
    uid: Vec<u8>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("app_id", &self.app_id)
            .field("app_secret", &"***")
            .field("key_order", &self.key_order)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Build credentials; fails if the appId cannot key the data-key derivation.
    ///
    /// The appId and the appSecret are taken without surrounding white space: they are
    /// pasted from the center's e-mail or a file, and a trailing newline would change the
    /// data key and every signature while looking the same. This is the one place where
    /// that happens (the CLI and the Python layer pass them through).
    ///
    /// ```
    /// use medpay_core::envelope::Credentials;
    /// use medpay_core::sign_text::KeyOrder;
    /// let c = Credentials::new(" 43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5\n",
    ///                          None, None, KeyOrder::Ordinal).unwrap();
    /// assert_eq!((c.app_id(), c.app_secret()), ("43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5"));
    /// ```
    pub fn new(
        app_id: &str,
        app_secret: &str,
        private_key: Option<PrivateKey>,
        peer_public_key: Option<PublicKey>,
        key_order: KeyOrder,
    ) -> Result<Self> {
        let (app_id, app_secret) = (app_id.trim(), app_secret.trim());
        if app_secret.is_empty() {
            return Err(Error::key("appSecret is empty (or only white space)"));
        }
        let key = Zeroizing::new(derive_sm4_key(app_id, app_secret)?);
        Ok(Credentials {
            app_id: app_id.to_owned(),
            app_secret: Zeroizing::new(app_secret.to_owned()),
            data_key: Sm4Key::new(&key),
            private_key,
            peer_public_keys: peer_public_key.into_iter().collect(),
            key_order,
            uid: DEFAULT_UID.to_vec(),
        })
    }

    /// Verify with any of `keys` (the peer's new key and its old one while it rotates),
    /// in place of the peer public key given to [`Credentials::new`]. The first is tried
    /// first; the others only when a signature does not verify with it. An empty list is
    /// an [`Error::KeyFormat`]: credentials without a peer key are made with `None`.
    ///
    /// ```
    /// use medpay_core::envelope::Credentials;
    /// use medpay_core::sign_text::KeyOrder;
    /// use medpay_core::sm2::PrivateKey;
    /// let (new, old) = (PrivateKey::generate().unwrap(), PrivateKey::generate().unwrap());
    /// let c = Credentials::new("43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5",
    ///                          None, None, KeyOrder::Ordinal).unwrap()
    ///     .with_peer_public_keys(vec![new.public_key().clone(), old.public_key().clone()]).unwrap();
    /// assert_eq!(c.peer_public_key(), Some(new.public_key()));
    /// assert_eq!(c.peer_public_keys().len(), 2);
    /// ```
    pub fn with_peer_public_keys(mut self, keys: Vec<PublicKey>) -> Result<Self> {
        if keys.is_empty() {
            return Err(Error::key(
                "peer_public_key is an empty list: give at least one key (several while the peer rotates its key)",
            ));
        }
        self.peer_public_keys = keys;
        Ok(self)
    }

    /// Use another SM2 uid than `1234567812345678` for both signing and verifying.
    pub fn with_uid(mut self, uid: &[u8]) -> Result<Self> {
        if uid.len() > 8191 {
            return Err(Error::key("the SM2 uid is longer than 8191 bytes"));
        }
        self.uid = uid.to_vec();
        Ok(self)
    }

    pub fn app_id(&self) -> &str {
        &self.app_id
    }
    pub fn app_secret(&self) -> &str {
        &self.app_secret
    }
    pub fn key_order(&self) -> KeyOrder {
        self.key_order
    }
    pub fn uid(&self) -> &[u8] {
        &self.uid
    }
    pub fn private_key(&self) -> Option<&PrivateKey> {
        self.private_key.as_ref()
    }
    /// The peer's public key: the first of [`Credentials::peer_public_keys`].
    pub fn peer_public_key(&self) -> Option<&PublicKey> {
        self.peer_public_keys.first()
    }
    /// Every public key a peer's signature may verify with, in the order they are tried.
    pub fn peer_public_keys(&self) -> &[PublicKey] {
        &self.peer_public_keys
    }
    /// The SM4 key of §4, expanded.
    pub fn data_key(&self) -> &Sm4Key {
        &self.data_key
    }

    /// Encrypt `data`'s compact JSON to uppercase hex (the `encData` of §4).
    pub fn encrypt_data(&self, data: &Value) -> String {
        crate::hex::encode_upper(&self.data_key.encrypt_ecb_pkcs7(json::to_compact(data).as_bytes()))
    }

    fn signer(&self) -> Result<&PrivateKey> {
        self.private_key().ok_or_else(|| Error::key("these credentials have no private key to sign with"))
    }

    /// The first peer key, the one every verification starts with (its Z makes the digest
    /// a verification computes while the signature's point is prepared).
    fn peer(&self) -> Result<&PublicKey> {
        self.peer_public_key()
            .ok_or_else(|| Error::signature("these credentials have no peer public key to verify with"))
    }

    /// The sign text of `fields` (the plaintext `data` among them) and its SM2 signature;
    /// an [`Error::Envelope`] naming the place when the data holds what the center's SDK
    /// cannot sign (see [`crate::sign_text::Unsignable`]).
    pub fn sign_fields(&self, fields: &[(Text, Value)]) -> Result<(String, [u8; 64])> {
        let signer = self.signer()?;
        let text = self.signable_text(fields)?;
        let sig = signer.sign(text.as_bytes(), self.uid())?;
        Ok((text, sig))
    }

    /// The sign text `pack` signs, or why the center's SDK could not verify it.
    fn signable_text(&self, fields: &[(Text, Value)]) -> Result<String> {
        signable_sign_text(fields, self.app_secret(), self.key_order()).map_err(|u| Error::envelope(u.to_string()))
    }

    /// [`Credentials::signable_text`] and its digest e under `key`, the signer's own public
    /// key: the half of signing that needs the message.
    fn signable_digest(&self, fields: &[(Text, Value)], key: &PublicKey) -> Result<DigestedText> {
        let text = self.signable_text(fields)?;
        let digest = message_digest(key, text.as_bytes(), self.uid())?;
        Ok(DigestedText { text, digest })
    }

    /// The sign text of `fields` in `style` and its digest e under `key` (whose Z it
    /// takes): the half of verifying that needs the message.
    fn digested(&self, fields: &[(Text, Value)], style: Style, key: &PublicKey) -> Result<DigestedText> {
        let text = sign_text_with_style(fields, self.app_secret(), style);
        let digest = message_digest(key, text.as_bytes(), self.uid())?;
        Ok(DigestedText { text, digest })
    }

    /// Decrypt an `encData` hex string to its JSON value.
    pub fn decrypt_data(&self, enc_data: &str, limits: Limits) -> Result<Value> {
        decrypt_data_with(&self.data_key, enc_data, limits)
    }

    /// A sign text that verified, fit to show: its appSecret masked
    /// ([`crate::sign_text::mask_secret`]).
    fn shown(&self, text: String) -> String {
        mask_secret(text, self.app_secret())
    }
}

/// Decrypt `encData` under `key` and parse the JSON inside.
pub fn decrypt_data_with(key: &Sm4Key, enc_data: &str, limits: Limits) -> Result<Value> {
    let plain = decrypt_text(key, enc_data)?;
    json::parse(&plain, limits).map_err(decrypted_json_error)
}

/// Decrypt `encData` under `key` to the JSON text inside. Ciphertext that is not hex or
/// not whole blocks was cut or corrupted on the way; whole blocks that do not decrypt
/// (bad padding) almost always mean another data key, and the error says so first.
fn decrypt_text(key: &Sm4Key, enc_data: &str) -> Result<Zeroizing<Vec<u8>>> {
    let cipher = crate::hex::decode(enc_data.trim().as_bytes()).map_err(|e| match e {
        crate::hex::HexError::OddLength => Error::decrypt("encData has an odd number of hex digits"),
        crate::hex::HexError::InvalidChar(i) => {
            Error::decrypt(format!("encData has a non-hex character at position {i}"))
        }
    })?;
    if cipher.is_empty() || cipher.len() % 16 != 0 {
        return Err(Error::decrypt(format!(
            "encData is {} bytes, not a non-zero multiple of 16: cut short or corrupted",
            cipher.len()
        )));
    }
    match key.decrypt_ecb_pkcs7(&cipher) {
        Ok(plain) => Ok(Zeroizing::new(plain)),
        Err(_) => Err(Error::wrong_key("encData does not decrypt under their data key (bad PKCS#7 padding)")),
    }
}

/// The error for decrypted `encData` that is not acceptable JSON: text that is not UTF-8
/// or not JSON is the work of a wrong key (the likely cause first); JSON over the limits
/// or with duplicate keys is an envelope error like any other.
pub fn decrypted_json_error(e: JsonError) -> Error {
    match e {
        JsonError::Syntax { .. } => Error::wrong_key(format!("decrypted encData is not JSON text ({e})")),
        other => Error::envelope(format!("decrypted data: {other}")),
    }
}

/// The error for a plaintext `data` string that is not acceptable JSON.
pub fn data_string_json_error(e: JsonError) -> Error {
    Error::envelope(format!("data: {e}"))
}

/// The error for a body that is not acceptable JSON, read before it is known to be an
/// envelope (a callback, the sandbox, a file): the same refusals as an envelope's.
pub fn body_json_error(e: JsonError) -> Error {
    Error::envelope(format!("body: {e}"))
}

/// Parse an envelope's JSON text within `limits`: its members, or an EnvelopeError (not
/// JSON, not an object, duplicate keys, over the limits).
///
/// ```
/// use medpay_core::envelope::parse_envelope;
/// use medpay_core::json::Limits;
/// assert_eq!(parse_envelope(br#"{"appId":"A1"}"#, Limits::default()).unwrap().len(), 1);
/// assert!(parse_envelope(b"[1]", Limits::default()).is_err());
/// ```
pub fn parse_envelope(body: &[u8], limits: Limits) -> Result<Members> {
    match json::parse(body, limits) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(Error::envelope(format!("an envelope is a JSON object, not {}", other.type_name()))),
        Err(e) => Err(Error::envelope(format!("envelope: {e}"))),
    }
}

/// Where an envelope's plaintext `data` comes from, by the one rule every reader follows
/// (`unpack`, `sign_text`, `diagnose`; docs/protocol.md §2, "What is sent is what is
/// signed"): a `data` that is not null wins, and a `data` string is the data's JSON text
/// (some senders put it there); otherwise a non-empty `encData` is decrypted.
#[derive(Debug, Clone, Copy)]
pub enum DataSource<'a> {
    /// `data` as a non-empty string: JSON text, read with [`parse_data_text`].
    Text(&'a str),
    /// `data` as any other value that is not null (`""` included).
    Value(&'a Value),
    /// A non-empty `encData` string: hex to decrypt.
    Encrypted(&'a str),
    /// Neither.
    Absent,
}

/// The [`DataSource`] of an envelope's members.
///
/// ```
/// use medpay_core::envelope::{data_source, DataSource};
/// use medpay_core::json::{Text, Value};
/// let env: Vec<(Text, Value)> = vec![("data".into(), Value::String(r#"{"a":1}"#.into()))];
/// assert!(matches!(data_source(&env), DataSource::Text(r#"{"a":1}"#)));
/// ```
pub fn data_source(envelope: &[(Text, Value)]) -> DataSource<'_> {
    let get = |name: &str| envelope.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    match (get("data"), get("encData")) {
        (Some(Value::String(s)), _) if !s.is_empty() => DataSource::Text(s),
        (Some(v), _) if !matches!(v, Value::Null) => DataSource::Value(v),
        (_, Some(Value::String(e))) if !e.is_empty() => DataSource::Encrypted(e),
        _ => DataSource::Absent,
    }
}

/// Parse a `data` string ([`DataSource::Text`]) as the JSON it holds.
///
/// ```
/// use medpay_core::envelope::parse_data_text;
/// use medpay_core::json::{Limits, Value};
/// let v = parse_data_text(r#"{"amt":1.50}"#, Limits::default()).unwrap();
/// assert_eq!(v.get("amt"), Some(&Value::Number("1.50".into())));
/// ```
pub fn parse_data_text(text: &str, limits: Limits) -> Result<Value> {
    json::parse(text.as_bytes(), limits).map_err(data_string_json_error)
}

/// Wire options of one `pack`.
#[derive(Debug, Clone, Default)]
pub struct PackOptions {
    /// `timestamp`; epoch milliseconds now when `None`.
    pub timestamp: Option<String>,
    /// `version`; `2.0.1` when `None`.
    pub version: Option<String>,
    /// More top-level fields, signed too (`code`, `message`, `success` of a response).
    pub fields: Vec<(Text, Value)>,
}

/// An unpacked message: the plaintext `data`, the other top-level fields, the protocol
/// fields read from them, and the sign text that verified.
#[derive(Debug, Clone)]
pub struct Message {
    /// The plaintext `data` (`Null` when the message carried none).
    pub data: Value,
    /// Every top-level field except `data` and `encData`, in wire order.
    pub fields: Vec<(Text, Value)>,
    /// The sign text the signature verified over, its appSecret masked (`…&key=********`,
    /// see [`crate::sign_text::mask_secret`]); `None` if unsigned.
    pub sign_text: Option<String>,
    /// `code`, `success` and `message`, read once ([`Status::read`]). Verified when
    /// `sign_text` is set; as sent (and to be treated as unverified) otherwise.
    pub status: Status,
}

impl Message {
    /// A top-level field.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// A sign text and its digest e (SM3 of Z and the text), which SM2 signs.
#[derive(Clone)]
pub struct DigestedText {
    /// The sign text.
    pub text: String,
    /// e = SM3(Z || text).
    pub digest: [u8; 32],
}

impl std::fmt::Debug for DigestedText {
    /// The text ends with the appSecret: only its length is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestedText")
            .field("text", &format_args!("<{} bytes, ending with the appSecret>", self.text.len()))
            .field("digest", &crate::hex::encode_upper(&self.digest))
            .finish()
    }
}

/// An envelope decrypted and checked but not yet verified ([`EnvelopeCodec::open`]).
#[derive(Debug, Clone)]
pub struct Opened {
    /// Every top-level field except `encData`, the plaintext `data` last.
    fields: Members,
    signature: Option<Signature>,
    status: Status,
}

impl Opened {
    /// The plaintext `data` (`Null` when the message carried none).
    pub fn data(&self) -> &Value {
        const NULL: Value = Value::Null;
        self.fields.last().map_or(&NULL, |(_, v)| v)
    }

    /// The top-level fields other than `data` and `encData`, in wire order.
    pub fn fields(&self) -> &[(Text, Value)] {
        &self.fields[..self.fields.len().saturating_sub(1)]
    }

    /// The protocol fields (unverified until [`Opened::verify`] has passed).
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The protocol fields, taken: the rest is no longer needed.
    pub fn into_status(self) -> Status {
        self.status
    }

    /// Whether the envelope carried `signData`.
    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }

    /// Verify `signData` over the rebuilt sign text; the text that verified (its appSecret
    /// masked), or `None` for an unsigned envelope that [`EnvelopeCodec::open`] let through.
    pub fn verify(&self, codec: &EnvelopeCodec) -> Result<Option<String>> {
        if self.signature.is_none() {
            return Ok(None);
        }
        let prepared = self.prepare(codec)?;
        let digested = self.digest(codec)?;
        self.conclude(codec, prepared, digested)
    }

    /// The half of [`Opened::verify`] that needs no message: the signature's curve point
    /// (`None` when unsigned). It can run while another thread runs [`Opened::digest`].
    pub fn prepare(&self, codec: &EnvelopeCodec) -> Result<Option<PreparedVerification>> {
        prepare_signature(codec, self.signature.as_ref())
    }

    /// The other half: the sign text in the credentials' key order, and its digest.
    pub fn digest(&self, codec: &EnvelopeCodec) -> Result<DigestedText> {
        let creds = &codec.creds;
        creds.digested(&self.fields, Style::with_order(creds.key_order()), creds.peer()?)
    }

    /// Join the halves: the text that verified (its appSecret masked), or `None` for an
    /// unsigned envelope. When the first text fails, it is tried with the credentials'
    /// other peer keys (key rotation), then the other texts a verifier accepts are tried
    /// with every key ([`Style::verifying`]: the other key order, the other JSON library's
    /// escaping).
    pub fn conclude(
        &self,
        codec: &EnvelopeCodec,
        prepared: Option<PreparedVerification>,
        first: DigestedText,
    ) -> Result<Option<String>> {
        let creds = &codec.creds;
        let sig = self.signature.as_ref();
        conclude_with(creds, sig, prepared, first, |style| creds.digested(&self.fields, style, creds.peer()?))
    }

    /// The message, once [`Opened::verify`] has returned `sign_text`.
    pub fn into_message(mut self, sign_text: Option<String>) -> Message {
        let data = self.fields.pop().map(|(_, v)| v).unwrap_or(Value::Null);
        Message { data, fields: self.fields, sign_text, status: self.status }
    }
}

/// Sign and encrypt messages for one party, and open the other party's.
#[derive(Clone, Debug)]
pub struct EnvelopeCodec {
    creds: Arc<Credentials>,
    limits: Limits,
}

fn epoch_millis() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    now.to_string()
}

impl EnvelopeCodec {
    /// A codec for these credentials with the default limits (8 MiB, depth 64).
    pub fn new(creds: Arc<Credentials>) -> Self {
        EnvelopeCodec { creds, limits: Limits::default() }
    }

    /// The same with other limits.
    pub fn with_limits(creds: Arc<Credentials>, limits: Limits) -> Self {
        EnvelopeCodec { creds, limits }
    }

    pub fn credentials(&self) -> &Arc<Credentials> {
        &self.creds
    }
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Build the wire envelope of `data`: fields sorted by name, `encData` and `signData`
    /// present, `data` absent. Returns the envelope's members and the sign text (which
    /// ends with the appSecret: keep it out of logs, or show it through
    /// [`crate::sign_text::mask_secret`]).
    pub fn pack(&self, data: Value, opts: PackOptions) -> Result<(Vec<(Text, Value)>, String)> {
        self.creds.signer()?;
        if !matches!(data, Value::Object(_) | Value::Array(_)) {
            return Err(Error::envelope(format!("data must be an object or array, not {}", data.type_name())));
        }
        let mut fields: Vec<(Text, Value)> = Vec::with_capacity(8 + opts.fields.len());
        for (k, v) in opts.fields {
            if RESERVED_FIELDS.contains(&k.as_str()) {
                return Err(Error::envelope(format!("field {k:?} is written by the codec and cannot be passed")));
            }
            if fields.iter().any(|(e, _)| *e == k) {
                return Err(Error::envelope(format!("field {k:?} given twice")));
            }
            fields.push((k, v));
        }
        let s = |x: &str| Value::String(x.into());
        fields.push(("appId".into(), s(self.creds.app_id())));
        fields.push(("encType".into(), s("SM4")));
        fields.push(("signType".into(), s("SM2")));
        fields.push(("timestamp".into(), Value::String(opts.timestamp.unwrap_or_else(epoch_millis).into())));
        fields.push(("version".into(), Value::String(opts.version.as_deref().unwrap_or(VERSION).into())));
        fields.push(("data".into(), data));
        let fields = Arc::new(fields);
        // Hash the sign text on a helper (it and SM3 are most of the work) while this thread
        // draws the nonce (k G, the rest of signing) and encrypts the data, when the
        // message is large enough to repay the hand-off.
        let large = json::to_compact_len_at_least(&fields[fields.len() - 1].1, OVERLAP_BYTES);
        let (text, sig, enc_data) = if large {
            let signer = self.creds.signer()?;
            let (creds, on_helper) = (self.creds.clone(), fields.clone());
            let hashing = crate::overlap::spawn(move || {
                let own = creds.signer()?.public_key();
                creds.signable_digest(&on_helper, own)
            });
            let nonce = Nonce::generate(Backend::default());
            let enc_data = self.creds.encrypt_data(&fields[fields.len() - 1].1);
            let hashed = hashing.wait()?;
            (hashed.text, signer.sign_digest(&hashed.digest, nonce?)?, enc_data)
        } else {
            let (text, sig) = self.creds.sign_fields(&fields)?;
            (text, sig, self.creds.encrypt_data(&fields[fields.len() - 1].1))
        };
        let mut fields = Arc::try_unwrap(fields).unwrap_or_else(|shared| (*shared).clone());
        let data = fields.pop();
        if large {
            // Freeing a large value tree takes a while: leave it to the helper.
            crate::overlap::discard(data);
        }
        fields.push(("encData".into(), Value::String(enc_data.into())));
        fields.push(("signData".into(), Value::String(B64.encode(sig).into())));
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((fields, text))
    }

    /// [`EnvelopeCodec::pack`] as compact JSON text.
    pub fn pack_json(&self, data: Value, opts: PackOptions) -> Result<String> {
        let (fields, _) = self.pack(data, opts)?;
        Ok(json::to_compact(&Value::Object(fields)))
    }

    /// Parse an envelope's JSON text within the codec's limits ([`parse_envelope`]).
    pub fn parse(&self, body: &[u8]) -> Result<Members> {
        parse_envelope(body, self.limits)
    }

    /// Open an envelope's JSON text; see [`EnvelopeCodec::unpack`].
    pub fn unpack_json(&self, body: &[u8], require_signature: bool) -> Result<Message> {
        self.unpack(self.parse(body)?, require_signature)
    }

    /// Open an envelope: check its protocol fields, decrypt `encData` (or take a plaintext
    /// `data`), rebuild the sign text and verify `signData` with the peer's public key.
    /// A message without `signData` is accepted only when `require_signature` is false.
    pub fn unpack(&self, envelope: Members, require_signature: bool) -> Result<Message> {
        let opened = self.open(envelope, require_signature)?;
        let text = opened.verify(self)?;
        Ok(opened.into_message(text))
    }

    /// The first half of [`EnvelopeCodec::unpack`]: everything but the signature check,
    /// which [`Opened::verify`] does (possibly on another thread, while the caller reads
    /// the data).
    pub fn open(&self, envelope: Members, require_signature: bool) -> Result<Opened> {
        self.open_text(envelope, require_signature)?.parse(self)
    }

    /// [`EnvelopeCodec::open`] short of parsing the data: the plaintext JSON text stays
    /// text, for a caller that builds its own form of it straight from the text.
    ///
    /// Every mandatory field is checked here, each with an EnvelopeError naming it, before
    /// any signature check (docs/protocol.md §1), in this order:
    /// 1. `signData`: a string; required unless `require_signature` is false.
    /// 2. A signed envelope must then carry `appId` (these credentials' own), `version`
    ///    `2.0.1`, a string `timestamp`, `signType` SM2, `encType` SM4 with its `encData`,
    ///    and `encData` (or a plaintext `data`) unless it is a refusal (a `code` other
    ///    than 0, which may come without data). These fixed values are what keeps the
    ///    sign text, which does not escape its values, from being read another way.
    /// 3. An unsigned envelope (only with `require_signature` false) is read as sent:
    ///    whichever of those fields it has must be right, none is required, so that a
    ///    gateway's bare `{"code":…,"message":…}` refusal reads too.
    ///
    /// `code` must be a number or a string when present; neither `data` and `encData`
    /// together, nor an `encData` that is not a string, is accepted.
    pub fn open_text(&self, envelope: Members, require_signature: bool) -> Result<OpenedText> {
        let get = |name: &str| envelope.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let string_field = |name: &'static str| -> Result<Option<&str>> {
            match get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(v) => Err(Error::envelope_field(name, format!("{name} must be a string, not {}", v.type_name()))),
            }
        };
        // Present and not empty: an empty string is no value (the sign text drops it too).
        let present =
            |name: &'static str| -> Result<Option<&str>> { Ok(string_field(name)?.filter(|s| !s.is_empty())) };
        let missing = |name: &'static str| Error::envelope_field(name, format!("the envelope has no {name}"));

        let sign_data = present("signData")?;
        let signed = sign_data.is_some();
        if !signed && require_signature {
            return Err(Error::envelope_field(
                "signData",
                "the envelope has no signData (an unsigned message is read only with require_signature=False)",
            ));
        }
        match present("appId")? {
            Some(id) if id == self.creds.app_id() => {}
            Some(id) => {
                return Err(Error::envelope_field(
                    "appId",
                    format!("appId {id:?} is not the appId of these credentials ({:?})", self.creds.app_id()),
                ))
            }
            None if signed => return Err(missing("appId")),
            None => {}
        }
        match present("version")? {
            Some(VERSION) => {}
            Some(v) => {
                return Err(Error::envelope_field("version", format!("version {v:?} is not supported; only {VERSION}")))
            }
            None if signed => return Err(missing("version")),
            None => {}
        }
        if present("timestamp")?.is_none() && signed {
            return Err(missing("timestamp"));
        }
        match present("signType")? {
            Some(t) if t.eq_ignore_ascii_case("SM2") => {}
            Some(t) => {
                return Err(Error::envelope_field("signType", format!("signType {t:?} is not supported; only SM2")))
            }
            None if signed => return Err(missing("signType")),
            None => {}
        }
        let enc = present("encData")?;
        match present("encType")? {
            Some(t) if t.eq_ignore_ascii_case("SM4") => {}
            Some(t) => {
                return Err(Error::envelope_field("encType", format!("encType {t:?} is not supported; only SM4")))
            }
            None if signed && enc.is_some() => return Err(missing("encType")),
            None => {}
        }
        let status = Status::read(&envelope)?;
        let source = data_source(&envelope);
        match source {
            DataSource::Text(_) | DataSource::Value(_) if enc.is_some() => {
                return Err(Error::envelope_field("encData", "the envelope has both data and encData"))
            }
            DataSource::Absent if signed && !status.is_refusal() => {
                return Err(Error::envelope_field(
                    "encData",
                    "the envelope has no encData (only a refusal, a code other than 0, may come without data)",
                ))
            }
            _ => {}
        }
        let encrypted = matches!(source, DataSource::Encrypted(_));
        let signature = match sign_data {
            Some(s) => Some(Signature::parse(&decode_signature_b64(s)?)?),
            None => None,
        };
        let (mut enc_data, mut data) = (None, Value::Null);
        let mut fields: Members = Vec::with_capacity(envelope.len());
        for (k, v) in envelope {
            match k.as_str() {
                "encData" => enc_data = Some(v),
                "data" => data = v,
                _ => fields.push((k, v)),
            }
        }
        let data = match (enc_data, data) {
            (Some(Value::String(hex)), _) if encrypted => DataText::Encrypted(hex),
            (_, Value::String(s)) if !s.is_empty() => DataText::String(s),
            (_, v) => DataText::Parsed(v),
        };
        Ok(OpenedText { fields, data, signature, status })
    }
}

/// The `data` of an opened envelope, before decryption and parsing.
#[derive(Clone)]
enum DataText {
    /// `encData` (hex).
    Encrypted(Text),
    /// `encData` decrypted ([`OpenedText::decrypt`]).
    Decrypted(Zeroizing<Vec<u8>>),
    /// A JSON text sent as the string `data`.
    String(Text),
    /// A JSON value sent as `data` (or `Null` when there was none).
    Parsed(Value),
}

/// An envelope opened like [`Opened`] but its data not yet decrypted or parsed
/// ([`EnvelopeCodec::open_text`]). The signature can be checked from the data's text
/// directly: [`OpenedText::digest`] decrypts it and builds its canonical JSON without
/// parsing it into a [`Value`], so that one thread can do that while another builds its
/// own form of the data from [`OpenedText::plaintext`].
#[derive(Clone)]
pub struct OpenedText {
    /// Every top-level field except `data` and `encData`.
    fields: Members,
    data: DataText,
    signature: Option<Signature>,
    status: Status,
}

impl OpenedText {
    /// About how many bytes of JSON the data has (0 if it arrived as a JSON value).
    pub fn text_len(&self) -> usize {
        match &self.data {
            DataText::Encrypted(hex) => hex.len() / 2,
            DataText::Decrypted(b) => b.len(),
            DataText::String(s) => s.len(),
            DataText::Parsed(_) => 0,
        }
    }

    /// Decrypt `encData` now, so that [`OpenedText::text`] has it (and other threads need
    /// not decrypt it again).
    pub fn decrypt(mut self, codec: &EnvelopeCodec) -> Result<Self> {
        if let DataText::Encrypted(hex) = &self.data {
            let plain = decrypt_text(codec.creds.data_key(), hex).map_err(|e| e.with_center(&self.status))?;
            self.data = DataText::Decrypted(plain);
        }
        Ok(self)
    }

    /// The data's JSON text, once decrypted; `None` while still encrypted, or when the data
    /// arrived as a JSON value.
    pub fn text(&self) -> Option<&[u8]> {
        match &self.data {
            DataText::Decrypted(b) => Some(b),
            DataText::String(s) => Some(s.as_bytes()),
            DataText::Encrypted(_) | DataText::Parsed(_) => None,
        }
    }

    /// Run `f` on the data's JSON text (decrypting it for the call if need be); `None`
    /// when the data arrived as a JSON value.
    fn with_text<R>(&self, codec: &EnvelopeCodec, f: impl FnOnce(Option<&[u8]>) -> Result<R>) -> Result<R> {
        match &self.data {
            DataText::Encrypted(hex) => {
                f(Some(&decrypt_text(codec.creds.data_key(), hex).map_err(|e| e.with_center(&self.status))?))
            }
            _ => f(self.text()),
        }
    }

    /// The top-level fields other than `data` and `encData`, in wire order.
    pub fn fields(&self) -> &[(Text, Value)] {
        &self.fields
    }

    /// Whether the envelope carried `signData`.
    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }

    /// The protocol fields (unverified until the signature is checked).
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// How a JSON error in the data's text is reported (for decrypted text, with the
    /// center's refusal if the envelope carried one: [`Error::with_center`]).
    pub fn json_error(&self, e: JsonError) -> Error {
        match &self.data {
            DataText::String(_) => data_string_json_error(e),
            _ => decrypted_json_error(e).with_center(&self.status),
        }
    }

    /// Decrypt and parse the data: the [`Opened`] envelope.
    pub fn parse(self, codec: &EnvelopeCodec) -> Result<Opened> {
        let data = self.with_text(codec, |text| match (text, &self.data) {
            (Some(t), _) => json::parse(t, codec.limits).map_err(|e| self.json_error(e)),
            // Only data that arrived as a JSON value has no text.
            (None, DataText::Parsed(v)) => Ok(v.clone()),
            (None, _) => Ok(Value::Null),
        })?;
        let mut fields = self.fields;
        fields.push(("data".into(), data));
        Ok(Opened { fields, signature: self.signature, status: self.status })
    }

    /// [`Opened::prepare`]: the signature's curve point, no message needed.
    pub fn prepare(&self, codec: &EnvelopeCodec) -> Result<Option<PreparedVerification>> {
        prepare_signature(codec, self.signature.as_ref())
    }

    /// [`Opened::digest`] from the data text: its canonical JSON is built in one pass over
    /// the text (the data's JSON errors are those of [`OpenedText::parse`]).
    pub fn digest(&self, codec: &EnvelopeCodec) -> Result<DigestedText> {
        self.digest_in(codec, Style::with_order(codec.creds.key_order()))
    }

    /// [`OpenedText::digest`] in `style`.
    fn digest_in(&self, codec: &EnvelopeCodec, style: Style) -> Result<DigestedText> {
        let creds = &codec.creds;
        let text = self.with_text(codec, |text| match text {
            Some(t) => sign_text_of_json_data(&self.fields, t, codec.limits, creds.app_secret(), style)
                .map_err(|e| self.json_error(e)),
            None => Ok(None),
        })?;
        match text {
            Some(text) => {
                let digest = message_digest(creds.peer()?, text.as_bytes(), creds.uid())?;
                Ok(DigestedText { text, digest })
            }
            // A scalar (or already parsed) data: the parsed route.
            None => {
                let opened = self.clone().parse(codec)?;
                creds.digested(&opened.fields, style, creds.peer()?)
            }
        }
    }

    /// [`Opened::conclude`]; the other texts, if needed, are built straight from the data
    /// text too, so that a signature that fails never costs a parsed copy of the data.
    pub fn conclude(
        &self,
        codec: &EnvelopeCodec,
        prepared: Option<PreparedVerification>,
        first: DigestedText,
    ) -> Result<Option<String>> {
        conclude_with(&codec.creds, self.signature.as_ref(), prepared, first, |style| self.digest_in(codec, style))
    }
}

/// Join the halves of a verification: the text that verified (its appSecret masked), or
/// `None` when unsigned. `prepared` and `first` are the first peer key's: its prepared
/// signature and the digest of the text in the credentials' own style. When that fails,
/// the text is tried with the other peer keys, if the credentials hold several (key
/// rotation: each is prepared now, once, and each text is hashed under its Z). Then the
/// other texts a verifier accepts ([`Style::verifying`]: the other key order, the other
/// JSON library's escaping) are built by `digested` and tried in turn with every key. Only
/// one text is held at a time (of those tried, only their digests under the first key are
/// kept, to skip a text equal to one tried): each is as large as the data, and a
/// junk-signed message should cost no more than one.
fn conclude_with(
    creds: &Credentials,
    signature: Option<&Signature>,
    prepared: Option<PreparedVerification>,
    first: DigestedText,
    mut digested: impl FnMut(Style) -> Result<DigestedText>,
) -> Result<Option<String>> {
    let Some(prepared) = prepared else { return Ok(None) };
    if prepared.accepts(&first.digest) {
        return Ok(Some(creds.shown(first.text)));
    }
    // The other peer keys, prepared only now that the first has failed.
    let others: Vec<(&PublicKey, PreparedVerification)> = match signature {
        Some(sig) => creds.peer_public_keys().iter().skip(1).map(|k| (k, k.prepare_verification(sig))).collect(),
        None => Vec::new(),
    };
    let by_another = |text: &str| -> Result<bool> {
        for (key, prepared) in &others {
            if prepared.accepts(&message_digest(key, text.as_bytes(), creds.uid())?) {
                return Ok(true);
            }
        }
        Ok(false)
    };
    if by_another(&first.text)? {
        return Ok(Some(creds.shown(first.text)));
    }
    let mut tried = vec![first.digest];
    drop(first.text);
    for style in Style::verifying(creds.key_order()).into_iter().skip(1) {
        let alt = digested(style)?;
        if tried.contains(&alt.digest) {
            continue;
        }
        if prepared.accepts(&alt.digest) || by_another(&alt.text)? {
            return Ok(Some(creds.shown(alt.text)));
        }
        tried.push(alt.digest);
    }
    Err(Error::signature(if others.is_empty() {
        "signData does not verify: the message was altered, or it was signed with another key, appSecret or sign text (try medpay doctor)"
    } else {
        "signData does not verify with any of the peer public keys: the message was altered, or it was signed with another key, appSecret or sign text (try medpay doctor)"
    }))
}

/// The message-independent half of verifying `signature` with the (first) peer key; the
/// others, when the credentials hold several, are prepared only if it fails.
fn prepare_signature(codec: &EnvelopeCodec, signature: Option<&Signature>) -> Result<Option<PreparedVerification>> {
    match signature {
        None => Ok(None),
        Some(sig) => Ok(Some(codec.creds.peer()?.prepare_verification(sig))),
    }
}

/// Decode `signData` Base64 (white space, which some transports insert, is ignored).
pub fn decode_signature_b64(b64: &str) -> Result<Vec<u8>> {
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    B64.decode(compact.as_bytes()).map_err(|_| Error::signature("signData is not valid Base64"))
}

/// An envelope's top-level fields with its plaintext `data` as a value, as `unpack` reads
/// them: `encData` decrypted with the key derived from the envelope's `appId` and
/// `app_secret`, or a `data` string parsed as the JSON text it holds.
pub fn plaintext_fields(envelope: &[(Text, Value)], app_secret: &str, limits: Limits) -> Result<Members> {
    let mut fields: Members = envelope.iter().filter(|(k, _)| k != "data").cloned().collect();
    let data = match data_source(envelope) {
        DataSource::Text(s) => parse_data_text(s, limits)?,
        DataSource::Value(v) => v.clone(),
        DataSource::Encrypted(e) => {
            let app_id =
                envelope.iter().find(|(k, _)| k == "appId").and_then(|(_, v)| v.as_str()).ok_or_else(|| {
                    Error::envelope_field("appId", "encData without appId: cannot derive the data key")
                })?;
            let key = Zeroizing::new(derive_sm4_key(app_id, app_secret)?);
            decrypt_data_with(&Sm4Key::new(&key), e, limits)?
        }
        DataSource::Absent => return Ok(fields),
    };
    fields.push(("data".into(), data));
    Ok(fields)
}

/// The sign text of a whole envelope given as its members ([`plaintext_fields`]), the
/// SDK's rules with the given nested key order.
pub fn envelope_sign_text(
    envelope: &[(Text, Value)],
    app_secret: &str,
    order: KeyOrder,
    limits: Limits,
) -> Result<String> {
    let fields = plaintext_fields(envelope, app_secret, limits)?;
    Ok(sign_text_with_style(&fields, app_secret, Style::with_order(order)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP_ID: &str = "43AF047BBA47FC8A1AE8EFB232BDBBCB";
    const SECRET: &str = "4117E877F5FA0A0188891283E4B617D5";

    fn pair() -> (EnvelopeCodec, EnvelopeCodec) {
        let inst = PrivateKey::generate().unwrap();
        let center = PrivateKey::generate().unwrap();
        let c_inst =
            Credentials::new(APP_ID, SECRET, Some(inst.clone()), Some(center.public_key().clone()), KeyOrder::Ordinal)
                .unwrap();
        let c_center =
            Credentials::new(APP_ID, SECRET, Some(center), Some(inst.public_key().clone()), KeyOrder::Ordinal).unwrap();
        (EnvelopeCodec::new(Arc::new(c_inst)), EnvelopeCodec::new(Arc::new(c_center)))
    }

    fn obj(s: &str) -> Value {
        json::parse(s.as_bytes(), Limits::default()).unwrap()
    }

    /// docs/protocol.md §4: the spec's own encData decrypts to the documented plaintext.
    #[test]
    fn spec_enc_data_example_decrypts() {
        let enc = "64A9C5A7AB3AEA5FC01DE87025F999521C08D25DA13BD715D7E036A7D7C1DBCB6AB7914898A23A99C97EBEFE5277247AD7D0DD9B18F4DCC71A2C280C5143F25B857C795E6BA9F399652C3A4264FC2CBBA7E06B08E151362301659FC3F3773480966E8D19AB082B64A4F9B9BDBABCE57DC2CA95C9975090885AB286BB736BA3BB98F3540962552F40C8350926B93CD21CB7A624E6C4E41E349627E7B36B5C1B5F94604EDC42EA6034D63B2D387A87F42130F0D47B9445F9D729566FE183F9A959";
        let c = Credentials::new(APP_ID, SECRET, None, None, KeyOrder::Ordinal).unwrap();
        let v = c.decrypt_data(enc, Limits::default()).unwrap();
        assert_eq!(
            json::to_compact(&v),
            r#"{"appId":"43AF047BBA47FC8A1AE8EFB232BDBBCB","appUserId":"o8z4C5avQXqC0aWFPf1Mzu6D7WCQ_bd","idNo":"350582199711193519","idType":"01","phoneNumber":"13763873033","userName":"闽政通测试"}"#
        );
        assert_eq!(c.encrypt_data(&v), enc);
        assert_eq!(c.decrypt_data(&enc.to_lowercase(), Limits::default()).unwrap(), v);
    }

    #[test]
    fn pack_then_unpack_round_trips_and_signs_extra_fields() {
        let (inst, center) = pair();
        let data = obj(r#"{"amt":100.00,"name":"张三","l":[{"a":1}]}"#);
        let opts = PackOptions {
            timestamp: Some("1692977670450".into()),
            fields: vec![("code".into(), Value::Number("0".into())), ("success".into(), Value::Bool(true))],
            ..Default::default()
        };
        let (env, text) = center.pack(data.clone(), opts).unwrap();
        assert!(env.iter().any(|(k, _)| k == "encData") && !env.iter().any(|(k, _)| k == "data"));
        assert!(text.starts_with("appId=") && text.contains("&code=0&") && text.contains("&success=true&"));
        let msg = inst.unpack(env.clone(), true).unwrap();
        assert_eq!(msg.data, data);
        assert_eq!(msg.sign_text, Some(mask_secret(text.clone(), SECRET)));
        assert!(text.ends_with(SECRET) && !msg.sign_text.as_deref().unwrap().contains(SECRET));
        // No Debug form carries the secret either.
        let opened = inst.open(env.clone(), true).unwrap();
        let debug = format!("{msg:?} {opened:?} {:?} {inst:?}", opened.digest(&inst).unwrap());
        assert!(!debug.contains(SECRET), "{debug}");
        assert_eq!((msg.status.code, msg.status.success), (Some(crate::status::Code::Int(0)), Some(true)));
        // A changed signed field breaks the signature.
        let mut t = env;
        for (k, v) in t.iter_mut() {
            if k == "code" {
                *v = Value::Number("1".into());
            }
        }
        assert!(matches!(inst.unpack(t, true), Err(Error::Signature(_))));
    }

    /// Large data takes the two-core path of pack (sign on the helper thread while this one
    /// encrypts) and the split open/verify of unpack; results are those of the serial path.
    #[test]
    fn large_messages_round_trip_with_and_without_the_helper() {
        let (inst, center) = pair();
        let lines: Vec<String> =
            (0..300).map(|i| format!(r#"{{"sn":"FD{i:06}","amt":12.50,"dept":"内科"}}"#)).collect();
        let data = obj(&format!(r#"{{"feedetailList":[{}]}}"#, lines.join(",")));
        assert!(json::to_compact_len_at_least(&data, OVERLAP_BYTES));
        let opts = || PackOptions { timestamp: Some("1".into()), ..Default::default() };
        let (env, text) = center.pack(data.clone(), opts()).unwrap();
        let (serial_env, serial_text) = crate::overlap::serial(|| center.pack(data.clone(), opts())).unwrap();
        assert_eq!(text, serial_text);
        let without_sig = |e: &Members| e.iter().filter(|(k, _)| k != "signData").cloned().collect::<Vec<_>>();
        assert_eq!(without_sig(&env), without_sig(&serial_env));
        let opened = inst.open(env.clone(), true).unwrap();
        assert!(opened.is_signed() && *opened.data() == data);
        let verified = opened.verify(&inst).unwrap();
        assert_eq!(verified, Some(mask_secret(text, SECRET)));
        assert_eq!(opened.into_message(verified).data, data);
        assert_eq!(inst.unpack(serial_env, true).unwrap().data, data);
        // Tampering is caught by verify, not by open.
        let mut tampered = env;
        for (k, v) in tampered.iter_mut() {
            if k == "timestamp" {
                *v = Value::String("2".into());
            }
        }
        let opened = inst.open(tampered, true).unwrap();
        assert!(matches!(opened.verify(&inst), Err(Error::Signature(_))));
    }

    #[test]
    fn verifies_a_case_insensitive_signature_too() {
        let inst = PrivateKey::generate().unwrap();
        let center = PrivateKey::generate().unwrap();
        let signer = Credentials::new(APP_ID, SECRET, Some(center.clone()), None, KeyOrder::CaseInsensitive).unwrap();
        let reader =
            Credentials::new(APP_ID, SECRET, Some(inst), Some(center.public_key().clone()), KeyOrder::Ordinal).unwrap();
        let data = obj(r#"{"feedetailList":[{"x":"1"}],"feeType":"01"}"#);
        let (env, text) = EnvelopeCodec::new(Arc::new(signer)).pack(data, PackOptions::default()).unwrap();
        let msg = EnvelopeCodec::new(Arc::new(reader)).unpack(env, true).unwrap();
        assert_eq!(msg.sign_text.unwrap(), mask_secret(text.clone(), SECRET));
        assert!(text.contains(r#"{"feedetailList""#));
    }

    #[test]
    fn missing_signature_needs_consent() {
        let (inst, _) = pair();
        let env = vec![("appId".into(), Value::String(APP_ID.into())), ("data".into(), obj(r#"{"a":"1"}"#))];
        let e = inst.unpack(env.clone(), true).unwrap_err();
        assert!(matches!(e, Error::Envelope(_)) && e.field() == Some("signData"), "{e:?}");
        let msg = inst.unpack(env, false).unwrap();
        assert_eq!(msg.data, obj(r#"{"a":"1"}"#));
        assert!(msg.sign_text.is_none());
    }

    /// The envelope `center` packs, with `change` applied: `None` removes the field.
    fn altered(center: &EnvelopeCodec, opts: PackOptions, change: &[(&str, Option<Value>)]) -> Members {
        let (mut env, _) = center.pack(obj(r#"{"a":"1"}"#), opts).unwrap();
        for (name, value) in change {
            env.retain(|(k, _)| k != name);
            if let Some(v) = value {
                env.push((Text::from(*name), v.clone()));
            }
        }
        env
    }

    /// docs/protocol.md §1: each mandatory field of a signed envelope, missing or wrong, is
    /// an EnvelopeError naming it, found before the signature is checked (the signature
    /// is left intact, so a failed check would say "does not verify").
    #[test]
    fn every_mandatory_field_has_its_own_envelope_error() {
        let (inst, center) = pair();
        let s = |x: &str| Some(Value::String(x.into()));
        let cases: Vec<(&str, Option<Value>, &str)> = vec![
            ("appId", None, "no appId"),
            ("appId", s("43AF047BBA47FC8A0THER0APPID00000"), "not the appId"),
            ("appId", Some(Value::Number("7".into())), "must be a string"),
            ("version", None, "no version"),
            ("version", s("1.0"), "\"1.0\" is not supported"),
            ("version", s(""), "no version"),
            ("timestamp", None, "no timestamp"),
            ("timestamp", Some(Value::Number("1692977670450".into())), "timestamp must be a string, not number"),
            ("timestamp", s(""), "no timestamp"),
            ("signType", None, "no signType"),
            ("signType", s("RSA"), "only SM2"),
            ("encType", None, "no encType"),
            ("encType", s("AES"), "only SM4"),
            ("encData", None, "no encData"),
            ("encData", Some(Value::Number("1".into())), "encData must be a string"),
            ("signData", None, "no signData"),
            ("signData", Some(Value::Bool(true)), "signData must be a string"),
            ("code", Some(Value::Bool(false)), "code must be a number or a string"),
        ];
        for (field, value, words) in cases {
            let env = altered(&center, PackOptions::default(), &[(field, value.clone())]);
            let e = inst.unpack(env, true).unwrap_err();
            assert!(matches!(e, Error::Envelope(_)), "{field} {value:?}: {e:?}");
            assert_eq!(e.field(), Some(field), "{e:?}");
            assert!(e.message().contains(words), "{field} {value:?}: {e}");
        }
        // With data in plaintext instead, a signed envelope needs no encData nor encType.
        let env = altered(
            &center,
            PackOptions::default(),
            &[("encData", None), ("encType", None), ("data", Some(obj("{}")))],
        );
        assert!(matches!(inst.unpack(env, true), Err(Error::Signature(_))));
        // Both forms of data at once.
        let env = altered(&center, PackOptions::default(), &[("data", Some(obj(r#"{"a":"1"}"#)))]);
        assert_eq!(inst.unpack(env, true).unwrap_err().field(), Some("encData"));
    }

    #[test]
    fn a_signed_refusal_may_come_without_data() {
        let (inst, center) = pair();
        for (code, ok) in [
            (Value::Number("1004".into()), true),
            (Value::String("E01".into()), true),
            (Value::String(" 0 ".into()), false),
        ] {
            let opts = PackOptions { fields: vec![("code".into(), code.clone())], ..Default::default() };
            let (env, text) = center.pack(obj("{}"), opts).unwrap();
            let env: Members = env.into_iter().filter(|(k, _)| k != "encData" && k != "encType").collect();
            // The signer signed over `data={}`: re-sign the envelope as sent, without data.
            let without: Members = env.iter().filter(|(k, _)| k != "signData").cloned().collect();
            let resigned = sign_text_with_style(&without, SECRET, Style::PROTOCOL);
            assert_ne!(resigned, text);
            let sk = center.credentials().private_key().unwrap();
            let sig = B64.encode(sk.sign(resigned.as_bytes(), DEFAULT_UID).unwrap());
            let mut env = without;
            env.push(("signData".into(), Value::String(sig.into())));
            match inst.unpack(env, true) {
                Ok(msg) if ok => assert!(msg.data == Value::Null && msg.sign_text.is_some() && msg.status.is_refusal()),
                Err(e) if !ok => assert_eq!(e.field(), Some("encData"), "{e:?}"),
                other => panic!("{code:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_unsigned_envelope_is_read_as_sent_and_what_it_has_must_be_right() {
        let (inst, _) = pair();
        let bare = br#"{"code":"1002","msg":" unknown appId ","success":"False"}"#;
        let msg = inst.unpack_json(bare, false).unwrap();
        assert!(msg.sign_text.is_none() && msg.data == Value::Null);
        assert_eq!(msg.status.code, Some(crate::status::Code::Int(1002)));
        assert_eq!((msg.status.success, msg.status.message.as_deref()), (Some(false), Some(" unknown appId ")));
        for (bad, field) in [
            (r#"{"code":1,"version":"1.0"}"#, "version"),
            (r#"{"code":1,"appId":"another"}"#, "appId"),
            (r#"{"code":1,"timestamp":1}"#, "timestamp"),
            (r#"{"code":true}"#, "code"),
        ] {
            assert_eq!(inst.unpack_json(bad.as_bytes(), false).unwrap_err().field(), Some(field), "{bad}");
        }
    }

    /// docs/protocol.md §4: whole blocks that do not decrypt, or decrypt to no JSON text,
    /// say first that the appSecret (or appId) is probably wrong; an envelope with a
    /// non-zero code shows the center's code and message, marked as not verified.
    #[test]
    fn undecryptable_data_names_the_likely_cause_and_the_centers_refusal() {
        let (inst, _) = pair();
        let other = Credentials::new(APP_ID, "ANOTHER-SECRET-0123456789ABCDEF", None, None, KeyOrder::Ordinal).unwrap();
        let plain = |t: &[u8]| crate::hex::encode_upper(&other.data_key().encrypt_ecb_pkcs7(t));
        let garbage = crate::hex::encode_upper(&[0x5Au8; 32]);
        let sender = inst_pack_source();
        for enc in [plain(br#"{"a":"1"}"#), garbage] {
            let refusal = vec![
                ("code".into(), Value::Number("1004".into())),
                ("message".into(), Value::String("签名错误".into())),
            ];
            let opts = PackOptions { fields: refusal, ..Default::default() };
            let mut env = altered(&sender, opts, &[("encData", Some(Value::String(enc.into())))]);
            let e = inst.unpack(env.clone(), true).unwrap_err();
            assert!(matches!(e, Error::Decrypt(_)), "{e:?}");
            assert!(e.message().starts_with("the appSecret (or the appId) is probably wrong"), "{e}");
            assert!(e.message().contains(r#"the envelope says code 1004, message "签名错误"; not verified"#), "{e}");
            let center = e.center().unwrap();
            assert_eq!((&center.code, center.message.as_deref()), (&crate::status::Code::Int(1004), Some("签名错误")));
            // Without a refusal, no center part.
            env.retain(|(k, _)| k != "code");
            let e = inst.unpack(env, true).unwrap_err();
            assert!(e.center().is_none() && !e.message().contains("envelope says"), "{e}");
        }
    }

    /// A codec with the pair's appId and secret that packs (any key: decryption fails first).
    fn inst_pack_source() -> EnvelopeCodec {
        let sk = PrivateKey::generate().unwrap();
        EnvelopeCodec::new(Arc::new(Credentials::new(APP_ID, SECRET, Some(sk), None, KeyOrder::Ordinal).unwrap()))
    }

    #[test]
    fn credentials_take_the_app_id_and_secret_without_surrounding_white_space() {
        let pasted =
            Credentials::new(&format!(" {APP_ID}\t"), &format!("{SECRET}\r\n"), None, None, KeyOrder::Ordinal).unwrap();
        let clean = Credentials::new(APP_ID, SECRET, None, None, KeyOrder::Ordinal).unwrap();
        assert_eq!((pasted.app_id(), pasted.app_secret()), (APP_ID, SECRET));
        assert_eq!(pasted.encrypt_data(&obj(r#"{"a":"1"}"#)), clean.encrypt_data(&obj(r#"{"a":"1"}"#)));
        assert!(matches!(Credentials::new(APP_ID, " \n ", None, None, KeyOrder::Ordinal), Err(Error::KeyFormat(_))));
    }

    #[test]
    fn bad_enc_data_is_a_decrypt_error_and_the_secret_is_never_in_one() {
        let (inst, center) = pair();
        let (env, _) = center.pack(obj(r#"{"a":"1"}"#), PackOptions::default()).unwrap();
        for bad in ["ABC", "ZZ", "00", "0011223344556677"] {
            let t: Vec<_> = env
                .iter()
                .map(
                    |(k, v)| {
                        if k == "encData" {
                            (k.clone(), Value::String(bad.into()))
                        } else {
                            (k.clone(), v.clone())
                        }
                    },
                )
                .collect();
            let e = inst.unpack(t, true).unwrap_err();
            assert!(matches!(e, Error::Decrypt(_)), "{bad}");
            assert!(!e.message().contains(SECRET) && !format!("{e:?}").contains(SECRET));
        }
    }

    #[test]
    fn wrong_app_id_and_both_data_forms_are_envelope_errors() {
        let (inst, center) = pair();
        let (mut env, _) = center.pack(obj(r#"{"a":"1"}"#), PackOptions::default()).unwrap();
        env.push(("data".into(), obj("{}")));
        assert!(matches!(inst.unpack(env, true), Err(Error::Envelope(_))));
        let other = vec![("appId".into(), Value::String("X".into()))];
        assert!(matches!(inst.unpack(other, true), Err(Error::Envelope(_))));
    }

    #[test]
    fn reserved_fields_cannot_be_overridden() {
        let (inst, _) = pair();
        let opts = PackOptions { fields: vec![("signData".into(), Value::Null)], ..Default::default() };
        assert!(matches!(inst.pack(obj("{}"), opts), Err(Error::Envelope(_))));
    }

    #[test]
    fn envelope_sign_text_decrypts_enc_data_itself() {
        let (inst, _) = pair();
        let (env, text) = inst.pack(obj(r#"{"a":2}"#), PackOptions::default()).unwrap();
        assert_eq!(envelope_sign_text(&env, SECRET, KeyOrder::Ordinal, Limits::default()).unwrap(), text);
    }

    /// Key rotation: credentials that verify with the center's new key and its old one.
    fn rotating(keys: &[&PrivateKey]) -> EnvelopeCodec {
        let inst = PrivateKey::generate().unwrap();
        let creds = Credentials::new(APP_ID, SECRET, Some(inst), None, KeyOrder::Ordinal)
            .unwrap()
            .with_peer_public_keys(keys.iter().map(|k| k.public_key().clone()).collect())
            .unwrap();
        EnvelopeCodec::new(Arc::new(creds))
    }

    fn signer(key: &PrivateKey, order: KeyOrder) -> EnvelopeCodec {
        EnvelopeCodec::new(Arc::new(Credentials::new(APP_ID, SECRET, Some(key.clone()), None, order).unwrap()))
    }

    /// Unpack `env` on both routes: parsed ([`EnvelopeCodec::unpack`]) and from the data
    /// text ([`OpenedText`], what the bindings' two-core unpack runs), which must agree.
    fn unpack_both_ways(codec: &EnvelopeCodec, env: Members) -> Result<Option<String>> {
        let from_text = (|| {
            let opened = codec.open_text(env.clone(), true)?.decrypt(codec)?;
            let prepared = opened.prepare(codec)?;
            let digested = opened.digest(codec)?;
            opened.conclude(codec, prepared, digested)
        })();
        let parsed = codec.unpack(env, true).map(|m| m.sign_text);
        assert_eq!(format!("{parsed:?}"), format!("{from_text:?}"));
        parsed
    }

    #[test]
    fn with_several_peer_keys_a_signature_by_any_of_them_verifies() {
        let (new, old, stranger) =
            (PrivateKey::generate().unwrap(), PrivateKey::generate().unwrap(), PrivateKey::generate().unwrap());
        let reader = rotating(&[&new, &old]);
        assert_eq!(reader.credentials().peer_public_key(), Some(new.public_key()));
        assert_eq!(reader.credentials().peer_public_keys(), &[new.public_key().clone(), old.public_key().clone()]);
        let data = obj(r#"{"feedetailList":[{"x":"1","B":2.50}],"feeType":"01"}"#);
        for key in [&new, &old] {
            // The credentials' own order, and the other one (found among the other texts).
            for order in [KeyOrder::Ordinal, KeyOrder::CaseInsensitive] {
                let (env, text) = signer(key, order).pack(data.clone(), PackOptions::default()).unwrap();
                assert_eq!(unpack_both_ways(&reader, env.clone()).unwrap(), Some(mask_secret(text, SECRET)));
                // The other order of the keys, too.
                assert!(unpack_both_ways(&rotating(&[&old, &new]), env).is_ok());
            }
        }
        let (env, _) = signer(&stranger, KeyOrder::Ordinal).pack(data.clone(), PackOptions::default()).unwrap();
        let e = unpack_both_ways(&reader, env.clone()).unwrap_err();
        assert!(matches!(e, Error::Signature(_)) && e.message().contains("any of the peer public keys"), "{e:?}");
        // One key: what it always was.
        let e = unpack_both_ways(&rotating(&[&new]), env).unwrap_err();
        assert!(matches!(e, Error::Signature(_)) && !e.message().contains("any of"), "{e:?}");
        let (env, _) = signer(&old, KeyOrder::Ordinal).pack(data, PackOptions::default()).unwrap();
        assert!(matches!(unpack_both_ways(&rotating(&[&new]), env), Err(Error::Signature(_))));
    }

    #[test]
    fn an_altered_message_fails_with_every_key() {
        let (new, old) = (PrivateKey::generate().unwrap(), PrivateKey::generate().unwrap());
        let (mut env, _) = signer(&old, KeyOrder::Ordinal).pack(obj(r#"{"a":"1"}"#), PackOptions::default()).unwrap();
        for (k, v) in env.iter_mut() {
            if k == "timestamp" {
                *v = Value::String("2".into());
            }
        }
        assert!(matches!(unpack_both_ways(&rotating(&[&new, &old]), env), Err(Error::Signature(_))));
    }

    #[test]
    fn an_empty_list_of_peer_keys_is_a_key_format_error() {
        let c = Credentials::new(APP_ID, SECRET, None, None, KeyOrder::Ordinal).unwrap();
        assert!(c.peer_public_key().is_none() && c.peer_public_keys().is_empty());
        let e = c.with_peer_public_keys(Vec::new()).unwrap_err();
        assert!(matches!(e, Error::KeyFormat(_)) && e.message().contains("empty"), "{e:?}");
        // One key given to new is a list of one.
        let k = PrivateKey::generate().unwrap();
        let c = Credentials::new(APP_ID, SECRET, None, Some(k.public_key().clone()), KeyOrder::Ordinal).unwrap();
        assert_eq!(c.peer_public_keys(), std::slice::from_ref(k.public_key()));
        assert!(!format!("{c:?}").contains(SECRET));
    }
}

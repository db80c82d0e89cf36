//! What a language binding supplies to the codec, and everything the codec runs around it.
//! A binding (the PyO3 layer) only converts: its objects to the core's values and back,
//! and it says how to release its runtime's lock (Python's GIL). The order of the work,
//! which thread does what, and when the second core helps, is decided here, so that every
//! binding gets the same and none re-implements it.
//!
//! - [`unpack`]: a large signed message is verified on a helper thread (sign text built
//!   straight from the decrypted text, then hashed) while the caller computes the
//!   signature's point and the binding builds its objects from the same text, dropped if
//!   the signature fails; a small one is verified first and converted after. The binding
//!   builds at most [`VERIFY_FIRST_OBJECT_BYTES`] of objects before the signature is
//!   checked, then waits for it ([`Gate`]): unauthenticated input costs at most that much,
//!   however large, and a legitimate message of any usual size keeps the overlap whole.
//! - [`pack`]: the binding converts with its lock held, the codec signs and encrypts with
//!   it released (on two cores when the data is large, see `EnvelopeCodec::pack`).
//! - [`pack_many`], [`unpack_many`]: batches in pipelined chunks: the cores process one
//!   chunk while the binding converts the next chunk's inputs and the previous one's
//!   results.

use crate::batch::Pipeline;
use crate::envelope::{decrypted_json_error, EnvelopeCodec, Message, OpenedText, PackOptions, OVERLAP_BYTES};
use crate::error::Error;
use crate::json::{JsonError, Limits, Members, Text, Value};
use crate::status::Status;
use std::sync::Arc;

/// The runtime a binding builds its objects in.
pub trait Host {
    /// The runtime's error (a raised Python exception).
    type Error;
    /// The core's error as the runtime's.
    fn error(&self, e: Error) -> Self::Error;
    /// Run `f`, which touches none of the runtime's objects, with the runtime's lock
    /// released, so that its other threads run meanwhile.
    fn unlocked<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R;
}

/// A host without a lock whose errors are the core's: Rust callers, and the tests.
///
/// ```
/// use medpay_core::binding::{Host, Plain};
/// assert_eq!(Plain.unlocked(|| 6 * 7), 42);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl Host for Plain {
    type Error = Error;
    fn error(&self, e: Error) -> Error {
        e
    }
    fn unlocked<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        f()
    }
}

// ---------------------------------------------------------------------------------------
// unpack

/// An envelope as the binding has it.
#[derive(Debug)]
pub enum Envelope<'a> {
    /// The body's bytes as received (the preferred form: numbers keep their literal).
    Body(&'a [u8]),
    /// Its members, converted from the binding's objects.
    Members(Members),
}

/// The data of an unpacked message, in the form the binding is to build from.
#[derive(Debug, Clone, Copy)]
pub enum Data<'a> {
    /// The data's JSON text: parse it straight into the binding's objects, reporting JSON
    /// errors with [`Contents::json_error`].
    Text(&'a [u8]),
    /// The data as a value (`Null` when the message carried none).
    Value(&'a Value),
}

/// What the binding builds its objects from: the data and the other top-level fields.
#[derive(Clone, Copy)]
pub struct Contents<'a> {
    data: Data<'a>,
    fields: &'a [(Text, Value)],
    limits: Limits,
    opened: Option<&'a OpenedText>,
    gate: Option<&'a Gate<'a>>,
}

/// Where a binding building from [`Data::Text`] waits for the signature: once the objects
/// it has built cost [`VERIFY_FIRST_OBJECT_BYTES`] (by its own estimate), it calls
/// [`Gate::pass`], which waits until the signature is checked. `false` means it failed:
/// stop building (the unpack reports the signature's error).
pub struct Gate<'a> {
    verify: &'a dyn Fn() -> bool,
    waited: std::cell::Cell<bool>,
}

impl Gate<'_> {
    /// Whether building may go on: waits for the signature the first time.
    pub fn pass(&self) -> bool {
        self.waited.set(true);
        (self.verify)()
    }
}

impl<'a> Contents<'a> {
    /// The data.
    pub fn data(&self) -> Data<'a> {
        self.data
    }
    /// The top-level fields other than `data` and `encData`, in wire order.
    pub fn fields(&self) -> &'a [(Text, Value)] {
        self.fields
    }
    /// The codec's limits, for parsing [`Data::Text`].
    pub fn limits(&self) -> Limits {
        self.limits
    }
    /// The gate a binding building from [`Data::Text`] passes.
    pub fn gate(&self) -> Option<&'a Gate<'a>> {
        self.gate
    }
    /// The error for a JSON error in [`Data::Text`]: as the one-thread route reports it.
    pub fn json_error(&self, e: JsonError) -> Error {
        match self.opened {
            Some(o) => o.json_error(e),
            None => decrypted_json_error(e),
        }
    }
}

/// A message unpacked into the binding's objects.
#[derive(Debug)]
pub struct Unpacked<T> {
    /// What the binding built from [`Contents`].
    pub built: T,
    /// `code`, `success`, `message`, read once by the core ([`Status::read`]); verified
    /// when `sign_text` is set.
    pub status: Status,
    /// The sign text that verified, its appSecret masked; `None` if unsigned.
    pub sign_text: Option<String>,
}

/// Decrypt, verify and build a message: checks, decryption and verification run with the
/// host's lock released, `build` with it held. A large signed message (data of at least
/// [`OVERLAP_BYTES`] of JSON) is verified on a helper thread while `build` runs, and what
/// it built is dropped if the signature fails (`build` waits at the [`Gate`] once its
/// objects cost [`VERIFY_FIRST_OBJECT_BYTES`]); a smaller one is verified before `build`.
/// Errors are those of [`EnvelopeCodec::unpack`], on both routes.
///
/// ```
/// use medpay_core::binding::{unpack, Data, Envelope, Plain};
/// use medpay_core::envelope::{Credentials, EnvelopeCodec, PackOptions};
/// use medpay_core::json::{to_compact, Value};
/// use medpay_core::sign_text::KeyOrder;
/// use medpay_core::sm2::PrivateKey;
/// use std::sync::Arc;
/// let (inst, center) = (PrivateKey::generate().unwrap(), PrivateKey::generate().unwrap());
/// let (id, secret) = ("43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5");
/// let ours = EnvelopeCodec::new(Arc::new(Credentials::new(id, secret, Some(inst), Some(center.public_key().clone()), KeyOrder::Ordinal).unwrap()));
/// let theirs = EnvelopeCodec::new(Arc::new(Credentials::new(id, secret, Some(center), None, KeyOrder::Ordinal).unwrap()));
/// let data = Value::Object(vec![("payOrdId".into(), Value::String("ORD1".into()))]);
/// let body = theirs.pack_json(data, PackOptions::default()).unwrap();
/// let msg = unpack(&Plain, &ours, Envelope::Body(body.as_bytes()), true, |c| Ok(match c.data() {
///     Data::Value(v) => to_compact(v),
///     Data::Text(t) => String::from_utf8_lossy(t).into_owned(),
/// })).unwrap();
/// assert_eq!(msg.built, r#"{"payOrdId":"ORD1"}"#);
/// assert!(msg.sign_text.unwrap().ends_with("&key=********"));
/// ```
pub fn unpack<H: Host, T>(
    host: &H,
    codec: &EnvelopeCodec,
    envelope: Envelope<'_>,
    require_signature: bool,
    build: impl FnOnce(Contents<'_>) -> Result<T, H::Error>,
) -> Result<Unpacked<T>, H::Error> {
    let opened = match envelope {
        Envelope::Body(body) => {
            if body.len() >= 2 * OVERLAP_BYTES {
                // Wake a helper now: the parse and decryption below take about as long
                // as it takes to wake one, and it will verify.
                crate::overlap::prepare();
            }
            host.unlocked(|| codec.parse(body).and_then(|m| codec.open_text(m, require_signature)?.decrypt(codec)))
        }
        Envelope::Members(m) => host.unlocked(|| codec.open_text(m, require_signature)?.decrypt(codec)),
    }
    .map_err(|e| host.error(e))?;
    match opened.text() {
        Some(_) if opened.is_signed() && opened.text_len() >= OVERLAP_BYTES => on_two_cores(host, codec, opened, build),
        _ => on_one_core(host, codec, opened, build),
    }
}

/// Verify, then build from the parsed value.
fn on_one_core<H: Host, T>(
    host: &H,
    codec: &EnvelopeCodec,
    opened: OpenedText,
    build: impl FnOnce(Contents<'_>) -> Result<T, H::Error>,
) -> Result<Unpacked<T>, H::Error> {
    let (opened, sign_text) = host
        .unlocked(|| {
            let opened = opened.parse(codec)?;
            let text = opened.verify(codec)?;
            Ok((opened, text))
        })
        .map_err(|e| host.error(e))?;
    let contents = Contents {
        data: Data::Value(opened.data()),
        fields: opened.fields(),
        limits: codec.limits(),
        opened: None,
        gate: None,
    };
    let built = build(contents)?;
    Ok(Unpacked { built, status: opened.into_status(), sign_text })
}

/// How much a binding's objects may cost before the signature is checked ([`Gate`]). They
/// cost many times the text (Python's some 60 times for small members), and before the
/// signature is checked the text is anyone's: a junk-signed 8 MiB body built whole would
/// cost half a gigabyte. A 6201 upload of 1,000 fee lines is some 4 MiB of Python objects
/// by the binding's estimate: built whole meanwhile, as a smaller message is.
pub const VERIFY_FIRST_OBJECT_BYTES: usize = 8 << 20;

/// Build from the text on this thread while a helper builds and hashes the sign text from
/// the same text; past [`VERIFY_FIRST_OBJECT_BYTES`] of objects, the building waits at the
/// [`Gate`] until the signature has verified.
fn on_two_cores<H: Host, T>(
    host: &H,
    codec: &EnvelopeCodec,
    opened: OpenedText,
    build: impl FnOnce(Contents<'_>) -> Result<T, H::Error>,
) -> Result<Unpacked<T>, H::Error> {
    let opened = Arc::new(opened);
    let (on_helper, helper_codec) = (opened.clone(), codec.clone());
    let digesting = crate::overlap::spawn(move || on_helper.digest(&helper_codec));
    let prepared = host.unlocked(|| opened.prepare(codec));
    // The signature's verdict, reached once: at the gate, or after building.
    let pending = std::cell::RefCell::new(Some((digesting, prepared)));
    let verdict: std::cell::RefCell<Option<Result<Option<String>, Error>>> = std::cell::RefCell::new(None);
    let verify = || {
        if let Some((digesting, prepared)) = pending.borrow_mut().take() {
            let v = host.unlocked(|| {
                let digested = digesting.wait();
                opened.conclude(codec, prepared?, digested?)
            });
            *verdict.borrow_mut() = Some(v);
        }
        matches!(*verdict.borrow(), Some(Ok(_)))
    };
    let gate = Gate { verify: &verify, waited: std::cell::Cell::new(false) };
    let contents = Contents {
        data: Data::Text(opened.text().unwrap_or_default()),
        fields: opened.fields(),
        limits: codec.limits(),
        opened: Some(&opened),
        gate: Some(&gate),
    };
    let built = build(contents);
    verify();
    let (built, sign_text) = match (built, verdict.take().unwrap_or(Ok(None))) {
        // Stopped at the gate: the signature's error, not what the building made of it.
        (Err(_), Err(e)) if gate.waited.get() => return Err(host.error(e)),
        // A JSON error in the text is found on both threads alike; report this thread's.
        (Err(e), _) => return Err(e),
        (Ok(_), Err(e)) => return Err(host.error(e)),
        (Ok(built), Ok(sign_text)) => (built, sign_text),
    };
    let status = opened.status().clone();
    // Wiping and freeing the decrypted text is left to the helper.
    crate::overlap::discard(opened);
    Ok(Unpacked { built, status, sign_text })
}

// ---------------------------------------------------------------------------------------
// pack

/// From this many top-level members plus items of top-level lists, the data is probably
/// large enough for `EnvelopeCodec::pack` to sign and encrypt on two cores, and a helper
/// is woken before the conversion so that it is awake when the signing starts.
pub const LARGE_PACK_ITEMS: usize = 32;

/// Convert with the host's lock held (`convert` gives the data and the options, the extra
/// fields among them), then sign and encrypt with it released: the wire envelope's
/// members. `top_level_items` is the binding's cheap count of the data's top-level
/// members plus the items of the lists among them (0 if it cannot tell).
///
/// ```
/// use medpay_core::binding::{pack, Plain};
/// use medpay_core::envelope::{Credentials, EnvelopeCodec, PackOptions};
/// use medpay_core::json::Value;
/// use medpay_core::sign_text::KeyOrder;
/// use medpay_core::sm2::PrivateKey;
/// use std::sync::Arc;
/// let creds = Credentials::new("43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5",
///                              Some(PrivateKey::generate().unwrap()), None, KeyOrder::Ordinal).unwrap();
/// let codec = EnvelopeCodec::new(Arc::new(creds));
/// let env = pack(&Plain, &codec, 1, || Ok((Value::Object(vec![]), PackOptions::default()))).unwrap();
/// assert!(env.iter().any(|(k, _)| k == "signData"));
/// ```
pub fn pack<H: Host>(
    host: &H,
    codec: &EnvelopeCodec,
    top_level_items: usize,
    convert: impl FnOnce() -> Result<(Value, PackOptions), H::Error>,
) -> Result<Members, H::Error> {
    if top_level_items >= LARGE_PACK_ITEMS {
        crate::overlap::prepare();
    }
    let (data, opts) = convert()?;
    // The sign text pack returns ends with the appSecret: it stays here.
    host.unlocked(|| codec.pack(data, opts)).map(|(members, _)| members).map_err(|e| host.error(e))
}

// ---------------------------------------------------------------------------------------
// batches

/// Items converted, processed and converted back per chunk of this many: a batch's memory
/// stays proportional to its inputs and outputs plus a chunk or two.
pub const BATCH_CHUNK: usize = 256;

/// One envelope of a batch, as the binding converted it.
#[derive(Debug)]
pub enum BatchEnvelope {
    /// The body's bytes.
    Body(Vec<u8>),
    /// Its members.
    Members(Members),
    /// What the binding could not convert: this item's result.
    Invalid(Error),
}

/// Pack every item on every core (at most `threads`): `input` converts an item (with the
/// host's lock), `emit` takes each chunk's results in order (with the lock), each the
/// envelope's JSON text or that item's own error.
///
/// ```
/// use medpay_core::binding::{pack_many, Plain};
/// use medpay_core::envelope::{Credentials, EnvelopeCodec, PackOptions};
/// use medpay_core::json::Value;
/// use medpay_core::sign_text::KeyOrder;
/// use medpay_core::sm2::PrivateKey;
/// use std::sync::Arc;
/// let creds = Credentials::new("43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5",
///                              Some(PrivateKey::generate().unwrap()), None, KeyOrder::Ordinal).unwrap();
/// let codec = EnvelopeCodec::new(Arc::new(creds));
/// let mut out = Vec::new();
/// let items = vec![Value::Object(vec![]), Value::Null].into_iter().map(Ok);
/// pack_many(&Plain, &codec, items, PackOptions::default(), None, |v| Ok(Ok(v)), |r| {
///     out.extend(r);
///     Ok(())
/// }).unwrap();
/// assert!(out[0].is_ok() && out[1].is_err());
/// ```
pub fn pack_many<H: Host, I>(
    host: &H,
    codec: &EnvelopeCodec,
    items: impl Iterator<Item = Result<I, H::Error>>,
    opts: PackOptions,
    threads: Option<usize>,
    input: impl FnMut(I) -> Result<Result<Value, Error>, H::Error>,
    emit: impl FnMut(Vec<Result<String, Error>>) -> Result<(), H::Error>,
) -> Result<(), H::Error> {
    let codec = codec.clone();
    let mut pipeline =
        Pipeline::new(move |item: Result<Value, Error>| item.and_then(|v| codec.pack_json(v, opts.clone())), threads);
    run_batch(host, items, &mut pipeline, input, emit)
}

/// Unpack every envelope on every core (at most `threads`), as [`pack_many`] packs: each
/// result the message or that envelope's own error.
///
/// ```
/// use medpay_core::binding::{unpack_many, BatchEnvelope, Plain};
/// use medpay_core::envelope::{Credentials, EnvelopeCodec};
/// use medpay_core::sign_text::KeyOrder;
/// use std::sync::Arc;
/// let creds = Credentials::new("43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5",
///                              None, None, KeyOrder::Ordinal).unwrap();
/// let codec = EnvelopeCodec::new(Arc::new(creds));
/// let mut out = Vec::new();
/// let bodies = [br#"{"code":1002,"msg":"unknown appId"}"#.to_vec(), b"nope".to_vec()].into_iter().map(Ok);
/// unpack_many(&Plain, &codec, bodies, false, None, |b| Ok(BatchEnvelope::Body(b)), |r| {
///     out.extend(r);
///     Ok(())
/// }).unwrap();
/// assert_eq!(out[0].as_ref().unwrap().status.message.as_deref(), Some("unknown appId"));
/// assert!(out[1].is_err());
/// ```
pub fn unpack_many<H: Host, I>(
    host: &H,
    codec: &EnvelopeCodec,
    items: impl Iterator<Item = Result<I, H::Error>>,
    require_signature: bool,
    threads: Option<usize>,
    input: impl FnMut(I) -> Result<BatchEnvelope, H::Error>,
    emit: impl FnMut(Vec<Result<Message, Error>>) -> Result<(), H::Error>,
) -> Result<(), H::Error> {
    let codec = codec.clone();
    let mut pipeline = Pipeline::new(
        move |item: BatchEnvelope| match item {
            BatchEnvelope::Body(b) => codec.unpack_json(&b, require_signature),
            BatchEnvelope::Members(m) => codec.unpack(m, require_signature),
            BatchEnvelope::Invalid(e) => Err(e),
        },
        threads,
    );
    run_batch(host, items, &mut pipeline, input, emit)
}

/// Feed `items` through `pipeline` in chunks of [`BATCH_CHUNK`]; the lock is released
/// while the pipeline runs.
fn run_batch<H: Host, I, T: Send + 'static, R: Send + 'static>(
    host: &H,
    items: impl Iterator<Item = Result<I, H::Error>>,
    pipeline: &mut Pipeline<T, R>,
    mut input: impl FnMut(I) -> Result<T, H::Error>,
    mut emit: impl FnMut(Vec<R>) -> Result<(), H::Error>,
) -> Result<(), H::Error> {
    let mut chunk = Vec::with_capacity(BATCH_CHUNK);
    for item in items {
        chunk.push(input(item?)?);
        if chunk.len() == BATCH_CHUNK {
            if let Some(done) = host.unlocked(|| pipeline.push(std::mem::take(&mut chunk))) {
                emit(done)?;
            }
        }
    }
    if let Some(done) = host.unlocked(|| pipeline.push(chunk)) {
        emit(done)?;
    }
    if let Some(done) = host.unlocked(|| pipeline.finish()) {
        emit(done)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Credentials;
    use crate::json::{parse, to_compact};
    use crate::sign_text::{KeyOrder, SECRET_MASK};
    use crate::sm2::PrivateKey;

    const APP_ID: &str = "43AF047BBA47FC8A1AE8EFB232BDBBCB";
    const SECRET: &str = "4117E877F5FA0A0188891283E4B617D5";

    fn pair() -> (EnvelopeCodec, EnvelopeCodec) {
        let (inst, center) = (PrivateKey::generate().unwrap(), PrivateKey::generate().unwrap());
        let ours =
            Credentials::new(APP_ID, SECRET, Some(inst.clone()), Some(center.public_key().clone()), KeyOrder::Ordinal);
        let theirs = Credentials::new(APP_ID, SECRET, Some(center), Some(inst.public_key().clone()), KeyOrder::Ordinal);
        (EnvelopeCodec::new(Arc::new(ours.unwrap())), EnvelopeCodec::new(Arc::new(theirs.unwrap())))
    }

    /// What a binding would build: the data's compact JSON, which route gave it, the fields.
    fn built(c: Contents<'_>) -> Result<(String, &'static str, Vec<String>), Error> {
        let fields = c.fields().iter().map(|(k, _)| k.to_string()).collect();
        Ok(match c.data() {
            Data::Value(v) => (to_compact(v), "value", fields),
            Data::Text(t) => (to_compact(&parse(t, c.limits()).map_err(|e| c.json_error(e))?), "text", fields),
        })
    }

    fn large() -> Value {
        let lines: Vec<String> = (0..300).map(|i| format!(r#"{{"sn":"FD{i:06}","amt":12.50}}"#)).collect();
        parse(format!(r#"{{"feedetailList":[{}]}}"#, lines.join(",")).as_bytes(), Limits::default()).unwrap()
    }

    #[test]
    fn small_messages_build_from_the_value_and_large_ones_from_the_text() {
        let (ours, theirs) = pair();
        let small = parse(br#"{"a":"1"}"#, Limits::default()).unwrap();
        for (data, route) in [(small, "value"), (large(), "text")] {
            let opts = PackOptions { fields: vec![("code".into(), Value::Number("0".into()))], ..Default::default() };
            let body = theirs.pack_json(data.clone(), opts).unwrap();
            let msg = unpack(&Plain, &ours, Envelope::Body(body.as_bytes()), true, built).unwrap();
            assert_eq!((msg.built.0.as_str(), msg.built.1), (to_compact(&data).as_str(), route));
            assert!(
                msg.built.2.contains(&"code".to_string()) && !msg.built.2.iter().any(|k| k == "data" || k == "encData")
            );
            assert_eq!(msg.status.code, Some(crate::status::Code::Int(0)));
            let text = msg.sign_text.unwrap();
            assert!(text.ends_with(&format!("&key={SECRET_MASK}")) && !text.contains(SECRET));
            // The same through the members and through the batch route.
            let members = theirs.parse(body.as_bytes()).unwrap();
            assert_eq!(unpack(&Plain, &ours, Envelope::Members(members), true, built).unwrap().built.0, msg.built.0);
            assert_eq!(ours.unpack_json(body.as_bytes(), true).unwrap().sign_text.as_deref(), Some(text.as_str()));
        }
    }

    #[test]
    fn a_bad_signature_fails_on_both_routes_after_building() {
        let (ours, theirs) = pair();
        for data in [parse(br#"{"a":"1"}"#, Limits::default()).unwrap(), large()] {
            let mut env = theirs.pack(data, PackOptions::default()).unwrap().0;
            for (k, v) in env.iter_mut() {
                if k == "timestamp" {
                    *v = Value::String("2".into());
                }
            }
            let e = unpack(&Plain, &ours, Envelope::Members(env), true, built).unwrap_err();
            assert!(matches!(e, Error::Signature(_)), "{e:?}");
        }
    }

    #[test]
    fn a_binding_that_stops_at_the_gate_gets_the_signature_error_and_builds_no_further() {
        let (ours, theirs) = pair();
        let mut env = theirs.pack(large(), PackOptions::default()).unwrap().0;
        // Signed right: the gate lets the building go on.
        let passed = unpack(&Plain, &ours, Envelope::Members(env.clone()), true, |c| Ok(c.gate().map(|g| g.pass())));
        assert_eq!(passed.unwrap().built, Some(true));
        for (k, v) in env.iter_mut() {
            if k == "timestamp" {
                *v = Value::String("2".into());
            }
        }
        let mut after_gate = 0;
        let e = unpack(&Plain, &ours, Envelope::Members(env), true, |c| {
            match c.gate() {
                Some(g) if !g.pass() => return Err(Error::envelope("stopped")),
                _ => after_gate += 1,
            }
            Ok(())
        });
        assert!(matches!(e.unwrap_err(), Error::Signature(_)), "the signature's error, not the binding's");
        assert_eq!(after_gate, 0);
    }

    #[test]
    fn a_build_error_is_returned_after_the_helper_is_done() {
        let (ours, theirs) = pair();
        let body = theirs.pack_json(large(), PackOptions::default()).unwrap();
        let e = unpack(&Plain, &ours, Envelope::Body(body.as_bytes()), true, |_| -> Result<(), Error> {
            Err(Error::envelope("the binding gave up"))
        });
        assert_eq!(e.unwrap_err().message(), "the binding gave up");
    }

    #[test]
    fn an_unsigned_refusal_unpacks_without_a_signature_only_when_allowed() {
        let (ours, _) = pair();
        let body = br#"{"code":1002,"message":"unknown appId","success":false}"#;
        let msg = unpack(&Plain, &ours, Envelope::Body(body), false, built).unwrap();
        assert!(msg.sign_text.is_none() && msg.built.0 == "null");
        assert_eq!((msg.status.code, msg.status.success), (Some(crate::status::Code::Int(1002)), Some(false)));
        let e = unpack(&Plain, &ours, Envelope::Body(body), true, built).unwrap_err();
        assert_eq!(e.field(), Some("signData"));
    }

    #[test]
    fn batches_keep_the_order_and_each_items_own_result() {
        let (ours, theirs) = pair();
        let items: Vec<Value> =
            (0..600).map(|i| Value::Object(vec![("i".into(), Value::Number(i.to_string().into()))])).collect();
        let mut bodies = Vec::new();
        let inputs = items.iter().cloned().chain([Value::Null]).map(Ok);
        pack_many(
            &Plain,
            &theirs,
            inputs,
            PackOptions::default(),
            None,
            |v| Ok(Ok(v)),
            |r| {
                bodies.extend(r);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(bodies.len(), 601);
        assert!(bodies[600].is_err());
        let mut messages = Vec::new();
        let envelopes = bodies.into_iter().map(|b| Ok(b.map(String::into_bytes)));
        let input = |b: Result<Vec<u8>, Error>| Ok(b.map_or_else(BatchEnvelope::Invalid, BatchEnvelope::Body));
        unpack_many(&Plain, &ours, envelopes, true, Some(2), input, |r| {
            messages.extend(r);
            Ok(())
        })
        .unwrap();
        let got: Vec<Value> = messages[..600].iter().map(|m| m.as_ref().unwrap().data.clone()).collect();
        assert_eq!(got, items);
        assert!(messages[600].is_err());
    }
}

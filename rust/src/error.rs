//! The one error type of the core. Each variant maps to one Python exception class
//! (`KeyFormatError`, `SignatureError`, `DecryptError`, `EnvelopeError`).
//! Messages describe what was wrong with the input; they never quote key material or
//! the app secret.

use crate::status::{Code, Status};
use std::fmt;

/// What went wrong, by kind, with a message for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A key or credential could not be read or is not a valid SM2 key.
    KeyFormat(String),
    /// A signature is malformed or does not verify.
    Signature(String),
    /// `encData` is not valid ciphertext under the data key (hex, length, padding, text).
    Decrypt(DecryptFailure),
    /// The envelope or its JSON is malformed, incomplete, too large or too deep.
    Envelope(EnvelopeFailure),
}

/// Why `encData` could not be read, and what the envelope said around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptFailure {
    /// The message for a person (it already names the center's refusal, if any).
    pub message: String,
    /// The center's `code` and `message` when the envelope carried a non-zero code. Not
    /// verified: the signature covers the plaintext, which could not be read.
    pub center: Option<CenterRefusal>,
}

/// A refusal read from an envelope whose signature could not be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CenterRefusal {
    /// The envelope's `code`, read as [`Status`] reads it.
    pub code: Code,
    /// The envelope's `message` (or `msg`).
    pub message: Option<String>,
}

/// A malformed envelope, and which of its top-level fields is at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeFailure {
    /// The message for a person (it names the field too).
    pub message: String,
    /// The top-level field that is missing, mistyped or wrong (`None` when the fault is
    /// not one field's: not JSON, too large, the data's content).
    pub field: Option<&'static str>,
}

/// What a DecryptError says first when the ciphertext is well-formed but does not decrypt
/// to JSON text: with SM4-ECB the likeliest cause by far is another data key, and the
/// data key is made of the appId's first 16 characters and the appSecret (§4).
const WRONG_KEY: &str = "the appSecret (or the appId) is probably wrong";

impl Error {
    pub(crate) fn key(msg: impl Into<String>) -> Self {
        Error::KeyFormat(msg.into())
    }
    pub(crate) fn signature(msg: impl Into<String>) -> Self {
        Error::Signature(msg.into())
    }
    pub(crate) fn decrypt(msg: impl Into<String>) -> Self {
        Error::Decrypt(DecryptFailure { message: msg.into(), center: None })
    }
    /// A DecryptError for ciphertext that decrypts to no valid text: the likely cause first.
    pub(crate) fn wrong_key(what: impl fmt::Display) -> Self {
        Error::decrypt(format!(
            "{WRONG_KEY}: {what}; the data key is made of the first 16 characters of the appId and the appSecret"
        ))
    }
    pub(crate) fn envelope(msg: impl Into<String>) -> Self {
        Error::Envelope(EnvelopeFailure { message: msg.into(), field: None })
    }
    /// An EnvelopeError about one top-level field.
    pub(crate) fn envelope_field(field: &'static str, msg: impl Into<String>) -> Self {
        Error::Envelope(EnvelopeFailure { message: msg.into(), field: Some(field) })
    }

    /// A DecryptError of an envelope that carried a non-zero `code`: the center's code and
    /// message are added (marked as not verified), so that its readable refusal is not
    /// hidden behind the decryption failure. Other errors are returned as they are.
    ///
    /// ```
    /// use medpay_core::error::{DecryptFailure, Error};
    /// use medpay_core::json::{Text, Value};
    /// use medpay_core::status::{Code, Status};
    /// let fields: Vec<(Text, Value)> = vec![("code".into(), Value::String("1004".into()))];
    /// let bad = Error::Decrypt(DecryptFailure { message: "bad padding".into(), center: None });
    /// let e = bad.with_center(&Status::read(&fields).unwrap());
    /// assert_eq!(e.message(), "bad padding (the envelope says code 1004; not verified)");
    /// assert_eq!(e.center().unwrap().code, Code::Int(1004));
    /// ```
    pub fn with_center(self, status: &Status) -> Self {
        match self {
            Error::Decrypt(DecryptFailure { message, center: None }) if status.is_refusal() => {
                let Some(code) = status.code.clone() else { return Error::decrypt(message) };
                let said = match &status.message {
                    Some(m) => format!("code {code}, message {m:?}"),
                    None => format!("code {code}"),
                };
                Error::Decrypt(DecryptFailure {
                    message: format!("{message} (the envelope says {said}; not verified)"),
                    center: Some(CenterRefusal { code, message: status.message.clone() }),
                })
            }
            other => other,
        }
    }

    /// The message without the kind.
    pub fn message(&self) -> &str {
        match self {
            Error::KeyFormat(m) | Error::Signature(m) => m,
            Error::Decrypt(d) => &d.message,
            Error::Envelope(e) => &e.message,
        }
    }

    /// The top-level field an EnvelopeError is about, if it is about one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Envelope(e) => e.field,
            _ => None,
        }
    }

    /// The center's unverified refusal a DecryptError carries, if any.
    pub fn center(&self) -> Option<&CenterRefusal> {
        match self {
            Error::Decrypt(d) => d.center.as_ref(),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

/// Result with the core's error.
pub type Result<T> = std::result::Result<T, Error>;

//! The one error type of the core. Each variant maps to one Python exception class
//! (`KeyFormatError`, `SignatureError`, `DecryptError`, `EnvelopeError`).
//! Messages describe what was wrong with the input; they never quote key material or
//! the app secret.

use std::fmt;

/// What went wrong, by kind, with a message for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A key or credential could not be read or is not a valid SM2 key.
    KeyFormat(String),
    /// A signature is malformed or does not verify.
    Signature(String),
    /// `encData` is not valid ciphertext under the data key (hex, length, padding, text).
    Decrypt(String),
    /// The envelope or its JSON is malformed, incomplete, too large or too deep.
    Envelope(String),
}

impl Error {
    pub(crate) fn key(msg: impl Into<String>) -> Self {
        Error::KeyFormat(msg.into())
    }
    pub(crate) fn signature(msg: impl Into<String>) -> Self {
        Error::Signature(msg.into())
    }
    pub(crate) fn decrypt(msg: impl Into<String>) -> Self {
        Error::Decrypt(msg.into())
    }
    pub(crate) fn envelope(msg: impl Into<String>) -> Self {
        Error::Envelope(msg.into())
    }

    /// The message without the kind.
    pub fn message(&self) -> &str {
        match self {
            Error::KeyFormat(m) | Error::Signature(m) | Error::Decrypt(m) | Error::Envelope(m) => m,
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

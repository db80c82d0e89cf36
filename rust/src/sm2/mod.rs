//! SM2 signatures (GB/T 32918.2, SM3withSM2) and SM2 keys as people hold them.
//!
//! The group arithmetic is ours (`fast`, the default) with RustCrypto's `sm2` crate
//! (`arithmetic` only) as the portable reference backend; the
//! signature scheme, Z value, key formats and encodings are ours, so that the uid is any
//! byte string, per-key constants are cached, and errors are precise.

pub mod curve;
pub mod der;
pub mod fast;
pub mod keys;
pub mod signature;

pub use fast::{available_backends, Backend};
pub use keys::{PrivateKey, PublicKey};
pub use signature::{message_digest, Nonce, PreparedVerification, Signature, DEFAULT_UID};

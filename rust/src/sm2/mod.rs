//! SM2 signatures (GB/T 32918.2, SM3withSM2) and SM2 keys as people hold them.
//!
//! The group arithmetic comes from RustCrypto's `sm2` crate (`arithmetic` only); the
//! signature scheme, Z value, key formats and encodings are ours, so that the uid is any
//! byte string, per-key constants are cached, and errors are precise.

pub mod curve;
pub mod der;
pub mod keys;
pub mod signature;

pub use keys::{PrivateKey, PublicKey};
pub use signature::{Signature, DEFAULT_UID};

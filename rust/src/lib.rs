//! medpay-core: the protocol and crypto of China's medical-insurance mobile payment
//! interface 2.0.1 (SM2/SM3/SM4 and the signed, encrypted envelope), in plain Rust.
//! The PyO3 layer (`python` feature) is a thin wrapper over these modules.

pub mod batch;
pub mod binding;
pub mod data_key;
pub mod diagnose;
pub mod envelope;
pub mod error;
pub mod hex;
pub mod json;
pub mod overlap;
pub mod sign_text;
pub mod sm2;
pub mod sm3;
pub mod sm4;
pub mod status;

pub use error::{Error, Result};

#[cfg(feature = "python")]
mod python;

// The extension's allocations (values, texts, envelopes) are made on one thread and freed
// on another whenever a batch or a large message uses two cores; mimalloc handles that
// far better than the system allocator. Plain Rust users keep their own allocator.
#[cfg(feature = "python")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

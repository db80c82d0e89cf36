//! SM4 (GB/T 32907-2016) in ECB mode with PKCS#7 padding: the only mode the protocol uses.
//!
//! Several constant-time implementations of the block cipher sit behind [`Sm4Key`], picked
//! at run time from what the CPU offers (see [`Backend`]); all give the same output:
//! - [`Backend::GfniAvx512`] / [`Backend::Gfni`]: the S-box as two GF(2^8) affine
//!   instructions (one with inversion), 16 / 8 blocks per register set;
//! - [`Backend::AesNi`]: the S-box through AES SubBytes and the field isomorphism;
//! - [`Backend::ArmSm4`]: the Armv8.2 SM4 instructions (`SM4E`, `SM4EKEY`), four rounds
//!   per instruction, 8 blocks at a time (aarch64, e.g. Kunpeng 920);
//! - [`Backend::Portable`]: a bitsliced boolean circuit, 64 blocks per batch.
//!
//! Each works on many blocks at once in a word-sliced layout, so ECB over a buffer runs
//! in large batches. Round keys are expanded once per key.

use crate::error::{Error, Result};
use zeroize::Zeroize;

/// The body of a SIMD backend's `crypt(rk, data)`: runs `$kernel::<K>(rk, &ptrs)`, which
/// encrypts K sets of `$set` blocks, the set i at `ptrs[i]`, over groups of `$n` sets. The
/// last group takes up to `$n + 1` sets so a lone short tail does not cost a whole
/// latency-bound pass of its own; a partial last set goes through a stack buffer.
/// `$sizes` lists 1..=`$n + 1`, for which the kernel is instantiated.
#[cfg(target_arch = "x86_64")]
macro_rules! crypt_in_groups {
    ($rk:expr, $data:expr, $kernel:ident, $set:expr, $n:expr, [$($k:literal),*]) => {{
        let rk: &[u32; 32] = $rk;
        let data: &mut [u8] = $data;
        debug_assert!(data.len().is_multiple_of(16));
        const SET_BYTES: usize = $set * 16;
        let full_sets = data.len() / SET_BYTES;
        let tail_start = full_sets * SET_BYTES;
        let tail = data.len() - tail_start;
        let total = full_sets + (tail != 0) as usize;
        let mut buf = [0u8; SET_BYTES];
        buf[..tail].copy_from_slice(&data[tail_start..]);
        {
            let base = data.as_mut_ptr();
            let bufp = buf.as_mut_ptr();
            // Sets below `full_sets` lie inside `data`; the one after is the buffer.
            let set_ptr = |i: usize| if i < full_sets { base.wrapping_add(i * SET_BYTES) } else { bufp };
            let mut i = 0;
            while total - i > $n + 1 {
                let ptrs: [*mut u8; $n] = core::array::from_fn(|j| set_ptr(i + j));
                // SAFETY: each pointer is a whole set inside `data` or `buf`, and the CPU
                // features were checked by the caller's contract.
                unsafe { $kernel::<$n>(rk, &ptrs) };
                i += $n;
            }
            match total - i {
                $($k => {
                    let ptrs: [*mut u8; $k] = core::array::from_fn(|j| set_ptr(i + j));
                    // SAFETY: as above.
                    unsafe { $kernel::<$k>(rk, &ptrs) };
                })*
                _ => {}
            }
        }
        data[tail_start..].copy_from_slice(&buf[..tail]);
        // The tail may be decrypted plaintext; the rest is output for zero blocks.
        zeroize::Zeroize::zeroize(&mut buf[..tail]);
    }};
}

#[cfg(target_arch = "aarch64")]
mod aarch64_ce;
#[cfg(target_arch = "x86_64")]
mod aesni;
#[cfg(target_arch = "x86_64")]
mod gfni;
mod portable;
#[cfg(test)]
mod tests;

/// SM4 block size in bytes.
pub const BLOCK: usize = 16;

/// An implementation of the SM4 block cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// Bitsliced, constant-time, any CPU.
    Portable,
    /// AES-NI + SSSE3 (x86-64).
    AesNi,
    /// AES-NI + AVX2: the AES-NI method on 256-bit registers, SubBytes on each 128-bit
    /// half (x86-64).
    AesNiAvx2,
    /// VAES + AVX2: the AES-NI method on 256-bit registers throughout (x86-64).
    Vaes,
    /// GFNI + AVX2 (x86-64).
    Gfni,
    /// GFNI + AVX-512 F/BW (x86-64).
    GfniAvx512,
    /// The SM4 crypto extension, FEAT_SM4 (aarch64).
    ArmSm4,
}

impl Backend {
    /// Every backend, fastest first.
    pub const ALL: [Backend; 7] = [
        Backend::ArmSm4,
        Backend::GfniAvx512,
        Backend::Gfni,
        Backend::Vaes,
        Backend::AesNiAvx2,
        Backend::AesNi,
        Backend::Portable,
    ];

    /// A short name, for logs and benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Portable => "portable",
            Backend::AesNi => "aes-ni",
            Backend::AesNiAvx2 => "aes-ni-avx2",
            Backend::Vaes => "vaes-avx2",
            Backend::Gfni => "gfni-avx2",
            Backend::GfniAvx512 => "gfni-avx512",
            Backend::ArmSm4 => "arm-sm4",
        }
    }

    /// Whether this CPU can run the backend.
    pub fn is_available(self) -> bool {
        match self {
            Backend::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Backend::AesNi => is_x86_feature_detected!("aes") && is_x86_feature_detected!("ssse3"),
            #[cfg(target_arch = "x86_64")]
            Backend::AesNiAvx2 => is_x86_feature_detected!("aes") && is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Backend::Vaes => {
                is_x86_feature_detected!("aes") && is_x86_feature_detected!("vaes") && is_x86_feature_detected!("avx2")
            }
            #[cfg(target_arch = "x86_64")]
            Backend::Gfni => is_x86_feature_detected!("gfni") && is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Backend::GfniAvx512 => {
                is_x86_feature_detected!("gfni")
                    && is_x86_feature_detected!("avx2")
                    && is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
            }
            #[cfg(target_arch = "aarch64")]
            Backend::ArmSm4 => std::arch::is_aarch64_feature_detected!("sm4"),
            #[allow(unreachable_patterns)] // every backend of another architecture
            _ => false,
        }
    }

    /// The fastest backend this CPU can run.
    pub fn best() -> Backend {
        Backend::ALL.into_iter().find(|b| b.is_available()).unwrap_or(Backend::Portable)
    }
}

/// The backends this CPU can run, fastest first; the first is the default.
pub fn available_backends() -> Vec<Backend> {
    Backend::ALL.into_iter().filter(|b| b.is_available()).collect()
}

/// FK of the key schedule.
const FK: [u32; 4] = [0xa3b1_bac6, 0x56aa_3350, 0x677d_9197, 0xb270_22dc];

/// CK of the key schedule: byte j of CK_i is (4i + j)·7 mod 256.
const CK: [u32; 32] = {
    let mut ck = [0u32; 32];
    let mut i = 0;
    while i < 32 {
        let mut j = 0;
        while j < 4 {
            ck[i] = (ck[i] << 8) | (((4 * i + j) * 7) % 256) as u32;
            j += 1;
        }
        i += 1;
    }
    ck
};

/// An SM4 key with its round keys expanded once, bound to one [`Backend`].
#[derive(Clone)]
pub struct Sm4Key {
    /// Encryption round keys; decryption uses them in reverse order.
    enc: [u32; 32],
    dec: [u32; 32],
    backend: Backend,
}

impl Drop for Sm4Key {
    fn drop(&mut self) {
        self.enc.zeroize();
        self.dec.zeroize();
    }
}

impl Sm4Key {
    /// Expand a 16-byte key for the fastest backend of this CPU.
    pub fn new(key: &[u8; 16]) -> Self {
        Self::expand(key, Backend::best())
    }

    /// Expand a 16-byte key for a given backend; fails if this CPU cannot run it.
    pub fn with_backend(key: &[u8; 16], backend: Backend) -> Result<Self> {
        if !backend.is_available() {
            return Err(Error::key(format!("this CPU cannot run the {} SM4 backend", backend.name())));
        }
        Ok(Self::expand(key, backend))
    }

    /// Expand a key given as a slice; it must be 16 bytes.
    pub fn from_slice(key: &[u8]) -> Result<Self> {
        let k: &[u8; 16] =
            key.try_into().map_err(|_| Error::key(format!("an SM4 key is 16 bytes, not {}", key.len())))?;
        Ok(Self::new(k))
    }

    /// The backend this key runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn expand(key: &[u8; 16], backend: Backend) -> Self {
        let mut k = [0u32; 4];
        for (i, w) in k.iter_mut().enumerate() {
            *w = u32::from_be_bytes([key[4 * i], key[4 * i + 1], key[4 * i + 2], key[4 * i + 3]]) ^ FK[i];
        }
        #[cfg(target_arch = "aarch64")]
        if backend == Backend::ArmSm4 {
            // SAFETY: the backend passed `is_available`, which detected FEAT_SM4.
            let enc = unsafe { aarch64_ce::expand(&k, &CK) };
            k.zeroize();
            let mut dec = enc;
            dec.reverse();
            return Self { enc, dec, backend };
        }
        let mut enc = [0u32; 32];
        for i in 0..32 {
            let b = tau(backend, k[(i + 1) % 4] ^ k[(i + 2) % 4] ^ k[(i + 3) % 4] ^ CK[i]);
            let rk = k[i % 4] ^ b ^ b.rotate_left(13) ^ b.rotate_left(23);
            k[i % 4] = rk;
            enc[i] = rk;
        }
        k.zeroize();
        let mut dec = enc;
        dec.reverse();
        Self { enc, dec, backend }
    }

    /// Run the cipher with round keys `rk` over whole blocks in place.
    fn crypt(&self, rk: &[u32; 32], data: &mut [u8]) {
        debug_assert!(data.len().is_multiple_of(BLOCK));
        match self.backend {
            // SAFETY (all arms below): a key only holds a SIMD backend after
            // `is_available` confirmed the CPU features its functions require.
            #[cfg(target_arch = "x86_64")]
            Backend::GfniAvx512 => unsafe { gfni::crypt_avx512(rk, data) },
            #[cfg(target_arch = "x86_64")]
            Backend::Gfni => unsafe { gfni::crypt_avx2(rk, data) },
            #[cfg(target_arch = "x86_64")]
            Backend::Vaes => unsafe { aesni::crypt_vaes(rk, data) },
            #[cfg(target_arch = "x86_64")]
            Backend::AesNiAvx2 => unsafe { aesni::crypt_avx2(rk, data) },
            #[cfg(target_arch = "x86_64")]
            Backend::AesNi => unsafe { aesni::crypt(rk, data) },
            #[cfg(target_arch = "aarch64")]
            Backend::ArmSm4 => unsafe { aarch64_ce::crypt(rk, data) },
            _ => portable::crypt(rk, data),
        }
    }

    /// Encrypt one block in place.
    pub fn encrypt_block(&self, block: &mut [u8; 16]) {
        self.crypt(&self.enc, block);
    }

    /// Decrypt one block in place.
    pub fn decrypt_block(&self, block: &mut [u8; 16]) {
        self.crypt(&self.dec, block);
    }

    /// Encrypt whole blocks in place (raw ECB, no padding); the length must be a
    /// multiple of 16.
    pub fn encrypt_blocks(&self, data: &mut [u8]) -> Result<()> {
        whole_blocks(data.len())?;
        self.crypt(&self.enc, data);
        Ok(())
    }

    /// Decrypt whole blocks in place (raw ECB, no padding); the length must be a
    /// multiple of 16.
    pub fn decrypt_blocks(&self, data: &mut [u8]) -> Result<()> {
        whole_blocks(data.len())?;
        self.crypt(&self.dec, data);
        Ok(())
    }

    /// SM4-ECB with PKCS#7 padding (always 1 to 16 bytes of padding).
    ///
    /// ```
    /// let key = medpay_core::sm4::Sm4Key::new(b"0123456789abcdef");
    /// let c = key.encrypt_ecb_pkcs7(b"hello");
    /// assert_eq!(key.decrypt_ecb_pkcs7(&c).unwrap(), b"hello");
    /// ```
    pub fn encrypt_ecb_pkcs7(&self, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.encrypt_ecb_pkcs7_into(plain, &mut out);
        out
    }

    /// [`Sm4Key::encrypt_ecb_pkcs7`] into `out` (cleared first), reusing its allocation.
    pub fn encrypt_ecb_pkcs7_into(&self, plain: &[u8], out: &mut Vec<u8>) {
        let pad = BLOCK - plain.len() % BLOCK;
        out.clear();
        out.reserve(plain.len() + pad);
        out.extend_from_slice(plain);
        out.resize(plain.len() + pad, pad as u8);
        self.crypt(&self.enc, out);
    }

    /// SM4-ECB-PKCS#7 ciphertext as uppercase hex, as the protocol sends `encData`.
    /// Encrypts and encodes in cache-sized chunks without an intermediate buffer.
    pub fn encrypt_ecb_pkcs7_hex_upper(&self, plain: &[u8]) -> String {
        const CHUNK: usize = 1024;
        let pad = BLOCK - plain.len() % BLOCK;
        let total = plain.len() + pad;
        let mut hex = vec![0u8; 2 * total];
        // One spare block, so the padded block joins the last chunk instead of taking a
        // (latency-bound) cipher pass of its own.
        let mut buf = [0u8; CHUNK + BLOCK];
        let mut done = 0;
        while done < total {
            let n = if total - done > CHUNK + BLOCK {
                buf[..CHUNK].copy_from_slice(&plain[done..done + CHUNK]);
                CHUNK
            } else {
                // The last chunk: the remaining bytes plus the padding.
                let rest = plain.len() - done;
                buf[..rest].copy_from_slice(&plain[done..]);
                buf[rest..rest + pad].fill(pad as u8);
                rest + pad
            };
            self.crypt(&self.enc, &mut buf[..n]);
            crate::hex::encode_upper_into(&buf[..n], &mut hex[2 * done..2 * (done + n)]);
            done += n;
        }
        // `buf` holds only ciphertext now (encrypted in place), so it needs no wiping.
        // Only ASCII hex digits were written.
        String::from_utf8(hex).unwrap_or_default()
    }

    /// Inverse of [`Sm4Key::encrypt_ecb_pkcs7`]; rejects lengths that are not whole blocks
    /// and invalid padding.
    pub fn decrypt_ecb_pkcs7(&self, cipher: &[u8]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.decrypt_ecb_pkcs7_into(cipher, &mut out)?;
        Ok(out)
    }

    /// [`Sm4Key::decrypt_ecb_pkcs7`] into `out` (cleared first, left empty on error),
    /// reusing its allocation.
    pub fn decrypt_ecb_pkcs7_into(&self, cipher: &[u8], out: &mut Vec<u8>) -> Result<()> {
        out.clear();
        if cipher.is_empty() || !cipher.len().is_multiple_of(BLOCK) {
            return Err(Error::decrypt(format!("ciphertext is {} bytes, not a non-zero multiple of 16", cipher.len())));
        }
        out.extend_from_slice(cipher);
        self.crypt(&self.dec, out);
        match strip_pkcs7(out) {
            Ok(pad) => {
                out.truncate(out.len() - pad);
                Ok(())
            }
            Err(e) => {
                out.zeroize();
                out.clear();
                Err(e)
            }
        }
    }
}

fn whole_blocks(len: usize) -> Result<()> {
    if !len.is_multiple_of(BLOCK) {
        return Err(Error::decrypt(format!("{len} bytes is not a whole number of 16-byte blocks")));
    }
    Ok(())
}

/// τ (four S-boxes) on one word for the key schedule, on the backend's own S-box so it
/// stays constant-time without the cost of the bitsliced circuit where SIMD exists.
fn tau(backend: Backend, w: u32) -> u32 {
    match backend {
        // SAFETY (both arms): the backend passed `is_available`, which checked the
        // features these functions require.
        #[cfg(target_arch = "x86_64")]
        Backend::GfniAvx512 | Backend::Gfni => unsafe { gfni::tau(w) },
        #[cfg(target_arch = "x86_64")]
        Backend::AesNi | Backend::AesNiAvx2 | Backend::Vaes => unsafe { aesni::tau(w) },
        _ => portable::tau(w),
    }
}

/// Length of valid PKCS#7 padding at the end of `data`, checked without branching on
/// the padding bytes themselves (the plaintext is secret).
fn strip_pkcs7(data: &[u8]) -> Result<usize> {
    let last = data[data.len() - 1];
    let n = last as usize;
    let mut bad = (n == 0) as u8 | (n > BLOCK) as u8;
    let tail = &data[data.len() - BLOCK..];
    for (i, &b) in tail.iter().enumerate() {
        // Byte i (from the block start) is padding when i >= 16 - n.
        let in_pad = ((BLOCK - i) <= n) as u8;
        bad |= in_pad & ((b != last) as u8);
    }
    if bad != 0 {
        return Err(Error::decrypt("bad PKCS#7 padding: wrong key or corrupted encData"));
    }
    Ok(n)
}

/// One-shot SM4-ECB-PKCS#7 encryption under a 16-byte key.
pub fn ecb_encrypt(key: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
    Ok(Sm4Key::from_slice(key)?.encrypt_ecb_pkcs7(plain))
}

/// One-shot SM4-ECB-PKCS#7 decryption under a 16-byte key.
pub fn ecb_decrypt(key: &[u8], cipher: &[u8]) -> Result<Vec<u8>> {
    Sm4Key::from_slice(key)?.decrypt_ecb_pkcs7(cipher)
}

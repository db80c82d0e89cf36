//! SM4 (GB/T 32907-2016) in ECB mode with PKCS#7 padding: the only mode the protocol uses.
//! The block cipher is RustCrypto's `sm4` behind `Sm4Key`, so a faster backend can replace
//! it without touching callers.

use crate::error::{Error, Result};
use sm4::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use sm4::Sm4;

/// SM4 block size in bytes.
pub const BLOCK: usize = 16;

/// An SM4 key with its round keys expanded once.
#[derive(Clone)]
pub struct Sm4Key {
    cipher: Sm4,
}

impl Sm4Key {
    /// Expand a 16-byte key.
    pub fn new(key: &[u8; 16]) -> Self {
        Self { cipher: Sm4::new(&Array::from(*key)) }
    }

    /// Expand a key given as a slice; it must be 16 bytes.
    pub fn from_slice(key: &[u8]) -> Result<Self> {
        let k: &[u8; 16] = key
            .try_into()
            .map_err(|_| Error::key(format!("an SM4 key is 16 bytes, not {}", key.len())))?;
        Ok(Self::new(k))
    }

    /// Encrypt one block in place.
    pub fn encrypt_block(&self, block: &mut [u8; 16]) {
        let b: &mut Array<u8, _> = block.into();
        self.cipher.encrypt_block(b);
    }

    /// Decrypt one block in place.
    pub fn decrypt_block(&self, block: &mut [u8; 16]) {
        let b: &mut Array<u8, _> = block.into();
        self.cipher.decrypt_block(b);
    }

    /// SM4-ECB with PKCS#7 padding (always 1 to 16 bytes of padding).
    ///
    /// ```
    /// let key = medpay_core::sm4::Sm4Key::new(b"0123456789abcdef");
    /// let c = key.encrypt_ecb_pkcs7(b"hello");
    /// assert_eq!(key.decrypt_ecb_pkcs7(&c).unwrap(), b"hello");
    /// ```
    pub fn encrypt_ecb_pkcs7(&self, plain: &[u8]) -> Vec<u8> {
        let pad = BLOCK - plain.len() % BLOCK;
        let mut out = Vec::with_capacity(plain.len() + pad);
        out.extend_from_slice(plain);
        out.resize(plain.len() + pad, pad as u8);
        for chunk in out.chunks_exact_mut(BLOCK) {
            let block: &mut [u8; 16] = chunk.try_into().unwrap_or_else(|_| unreachable!());
            self.encrypt_block(block);
        }
        out
    }

    /// Inverse of [`Sm4Key::encrypt_ecb_pkcs7`]; rejects lengths that are not whole blocks
    /// and invalid padding.
    pub fn decrypt_ecb_pkcs7(&self, cipher: &[u8]) -> Result<Vec<u8>> {
        if cipher.is_empty() || cipher.len() % BLOCK != 0 {
            return Err(Error::decrypt(format!(
                "ciphertext is {} bytes, not a non-zero multiple of 16",
                cipher.len()
            )));
        }
        let mut out = cipher.to_vec();
        for chunk in out.chunks_exact_mut(BLOCK) {
            let block: &mut [u8; 16] = chunk.try_into().unwrap_or_else(|_| unreachable!());
            self.decrypt_block(block);
        }
        let pad = strip_pkcs7(&out)?;
        out.truncate(out.len() - pad);
        Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::{decode, encode_upper};

    fn h(s: &str) -> Vec<u8> {
        decode(s.as_bytes()).unwrap()
    }

    // GB/T 32907-2016, appendix A, example 1.
    #[test]
    fn gbt_32907_example_1_one_block() {
        let key = Sm4Key::from_slice(&h("0123456789ABCDEFFEDCBA9876543210")).unwrap();
        let mut b: [u8; 16] = h("0123456789ABCDEFFEDCBA9876543210").try_into().unwrap();
        key.encrypt_block(&mut b);
        assert_eq!(encode_upper(&b), "681EDF34D206965E86B3E94F536E4246");
        key.decrypt_block(&mut b);
        assert_eq!(encode_upper(&b), "0123456789ABCDEFFEDCBA9876543210");
    }

    // GB/T 32907-2016, appendix A, example 2: one million encryptions.
    #[test]
    fn gbt_32907_example_2_million_rounds() {
        let key = Sm4Key::from_slice(&h("0123456789ABCDEFFEDCBA9876543210")).unwrap();
        let mut b: [u8; 16] = h("0123456789ABCDEFFEDCBA9876543210").try_into().unwrap();
        for _ in 0..1_000_000 {
            key.encrypt_block(&mut b);
        }
        assert_eq!(encode_upper(&b), "595298C7C6FD271F0402F804C33D3F66");
    }

    #[test]
    fn pkcs7_pads_a_whole_block_when_aligned() {
        let key = Sm4Key::new(&[7u8; 16]);
        assert_eq!(key.encrypt_ecb_pkcs7(&[0u8; 16]).len(), 32);
        assert_eq!(key.encrypt_ecb_pkcs7(&[]).len(), 16);
        for n in 0..40 {
            let p: Vec<u8> = (0..n as u8).collect();
            assert_eq!(key.decrypt_ecb_pkcs7(&key.encrypt_ecb_pkcs7(&p)).unwrap(), p);
        }
    }

    #[test]
    fn rejects_bad_padding_and_partial_blocks() {
        let key = Sm4Key::new(&[7u8; 16]);
        let mut c = key.encrypt_ecb_pkcs7(b"0123456789abcdefghij");
        assert!(key.decrypt_ecb_pkcs7(&c[..15]).is_err());
        assert!(key.decrypt_ecb_pkcs7(&[]).is_err());
        // A block whose plaintext ends in 0x00 or in inconsistent padding bytes.
        let mut bad = [0u8; 16];
        key.encrypt_block(&mut bad);
        assert!(matches!(key.decrypt_ecb_pkcs7(&bad), Err(Error::Decrypt(_))));
        let mut bad2 = [0u8; 16];
        bad2[15] = 3;
        bad2[14] = 3;
        bad2[13] = 2;
        key.encrypt_block(&mut bad2);
        assert!(key.decrypt_ecb_pkcs7(&bad2).is_err());
        c[0] ^= 1;
        // Flipping the first block leaves the padding block intact: decrypts, to other bytes.
        assert_ne!(key.decrypt_ecb_pkcs7(&c).unwrap(), b"0123456789abcdefghij");
    }

    #[test]
    fn wrong_key_length_is_a_key_error() {
        assert!(matches!(ecb_encrypt(&[0u8; 15], b"x"), Err(Error::KeyFormat(_))));
    }
}

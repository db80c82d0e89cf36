//! The SM4 data key (docs/protocol.md §4): SM4-ECB-PKCS#7 of the appSecret under the first 16
//! characters of the appId; the uppercase hex of that, cut to 32 characters (the spec's
//! "new key string"), of which the cipher uses the first 16 as ASCII bytes.

use crate::error::{Error, Result};
use crate::hex::encode_upper;
use crate::sm4::Sm4Key;

/// Derive the 16-byte SM4 key that encrypts `data` for this (appId, appSecret).
///
/// ```
/// let k = medpay_core::data_key::derive_sm4_key(
///     "43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5").unwrap();
/// assert_eq!(&k, b"863B5F40C70B71EA");
/// ```
pub fn derive_sm4_key(app_id: &str, app_secret: &str) -> Result<[u8; 16]> {
    let k0 =
        app_id.as_bytes().get(..16).filter(|b| b.is_ascii()).ok_or_else(|| {
            Error::key("appId must start with 16 ASCII characters (they key the data-key derivation)")
        })?;
    let c = Sm4Key::from_slice(k0)?.encrypt_ecb_pkcs7(app_secret.as_bytes());
    // The hex of c is at least 32 characters (one block); its first 16 are the key.
    let hex = encode_upper(&c[..8]);
    let mut key = [0u8; 16];
    key.copy_from_slice(hex.as_bytes());
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    // docs/protocol.md §4, from the spec's section 2.2.3.2 step 5.
    #[test]
    fn spec_worked_example() {
        let k = derive_sm4_key("43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5").unwrap();
        assert_eq!(&k, b"863B5F40C70B71EA");
    }

    #[test]
    fn uses_only_the_first_16_characters_of_app_id() {
        let a = derive_sm4_key("0123456789ABCDEF-one", "s").unwrap();
        let b = derive_sm4_key("0123456789ABCDEF-two", "s").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, derive_sm4_key("0123456789ABCDEX", "s").unwrap());
    }

    #[test]
    fn key_is_uppercase_hex_of_the_ciphertext_prefix() {
        let k = derive_sm4_key("0123456789ABCDEF", "").unwrap();
        let c = Sm4Key::new(b"0123456789ABCDEF").encrypt_ecb_pkcs7(b"");
        assert_eq!(&k[..], &encode_upper(&c).as_bytes()[..16]);
    }

    #[test]
    fn short_or_non_ascii_app_id_is_refused() {
        assert!(matches!(derive_sm4_key("short", "s"), Err(Error::KeyFormat(_))));
        assert!(derive_sm4_key("张三张三张三张三张三张三", "s").is_err());
    }
}

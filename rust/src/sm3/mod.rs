//! SM3 (GB/T 32905-2016). The backend is RustCrypto's `sm3`; callers only see these
//! functions, so a faster backend can replace it without touching them.

use sm3::{Digest, Sm3 as Backend};

/// An incremental SM3 hasher.
#[derive(Clone, Default)]
pub struct Sm3 {
    inner: Backend,
}

impl Sm3 {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }
    /// Absorb `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }
    /// The 32-byte digest.
    pub fn finalize(self) -> [u8; 32] {
        self.inner.finalize().into()
    }
}

/// SM3 digest of `data`.
///
/// ```
/// let d = medpay_core::sm3::sm3(b"abc");
/// assert_eq!(d[0], 0x66);
/// ```
pub fn sm3(data: &[u8]) -> [u8; 32] {
    let mut h = Sm3::new();
    h.update(data);
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::encode_upper;

    // GB/T 32905-2016, appendix A.
    #[test]
    fn gbt_32905_example_1_abc() {
        assert_eq!(
            encode_upper(&sm3(b"abc")),
            "66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0"
        );
    }

    #[test]
    fn gbt_32905_example_2_512_bits() {
        let msg = b"abcd".repeat(16);
        assert_eq!(
            encode_upper(&sm3(&msg)),
            "DEBE9FF92275B8A138604889C18E5A4D6FDB70E5387E5765293DCBA39C0C5732"
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        let mut h = Sm3::new();
        h.update(b"ab");
        h.update(b"c");
        assert_eq!(h.finalize(), sm3(b"abc"));
    }
}

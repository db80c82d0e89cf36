//! SM2 private and public keys, read from every format of docs/protocol.md §5 and written in
//! the formats integrators need. Each key caches what signing or verifying with the default
//! uid needs: the Z value and, for a private key, (1 + d)^-1.

use super::curve;
use super::der::{self, Reader};
use super::fast;
use super::signature::{z_value, DEFAULT_UID};
use crate::error::{Error, Result};
use base64::Engine as _;
use sm2::elliptic_curve::ff::PrimeField;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::{FieldBytes, NonZeroScalar, Scalar};
use std::sync::Arc;
use zeroize::Zeroizing;

/// An SM2 public key: a point on the curve, not the identity.
#[derive(Clone)]
pub struct PublicKey {
    pub(crate) point: sm2::PublicKey,
    uncompressed: [u8; 65],
    pub(crate) default_z: [u8; 32],
    /// The point in the fast backend's form, and its comb once built; shared by clones.
    pub(crate) fast: Arc<fast::PublicCache>,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.uncompressed == other.uncompressed
    }
}
impl Eq for PublicKey {}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl PublicKey {
    fn from_point(point: sm2::PublicKey) -> Self {
        let enc = point.to_sec1_point(false);
        let mut uncompressed = [0u8; 65];
        uncompressed.copy_from_slice(enc.as_bytes());
        let fast = Arc::new(fast::PublicCache::new(&uncompressed));
        let mut k = PublicKey { point, uncompressed, default_z: [0; 32], fast };
        k.default_z = z_value(&k, DEFAULT_UID);
        k
    }

    /// From SEC1 bytes: `04||X||Y` (65), `X||Y` (64) or compressed (33). The point must be
    /// on the curve.
    pub fn from_sec1(bytes: &[u8]) -> Result<Self> {
        let mut buf = [0u8; 65];
        let sec1: &[u8] = match bytes.len() {
            64 => {
                buf[0] = 4;
                buf[1..].copy_from_slice(bytes);
                &buf
            }
            65 | 33 => bytes,
            n => return Err(Error::key(format!("an SM2 public key is 65, 64 or 33 bytes, not {n}"))),
        };
        sm2::PublicKey::from_sec1_bytes(sec1)
            .map(Self::from_point)
            .map_err(|_| Error::key("the public key is not a point on the SM2 curve"))
    }

    /// From DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der_bytes: &[u8]) -> Result<Self> {
        let mut outer = Reader::new(der_bytes);
        let spki = outer.expect(der::SEQUENCE, "SubjectPublicKeyInfo")?;
        if !outer.is_empty() {
            return Err(Error::key("trailing bytes after SubjectPublicKeyInfo"));
        }
        let mut r = Reader::new(spki);
        der::check_sm2_algorithm(r.expect(der::SEQUENCE, "an AlgorithmIdentifier")?)?;
        let bits = r.expect(der::BIT_STRING, "the public key BIT STRING")?;
        match bits {
            [0, point @ ..] => Self::from_sec1(point),
            _ => Err(Error::key("malformed public key BIT STRING")),
        }
    }

    /// From any text form of docs/protocol.md §5: hex or Base64 of 65, 64 or 33 bytes, or
    /// PEM / Base64 DER SubjectPublicKeyInfo.
    ///
    /// ```
    /// use medpay_core::sm2::{PrivateKey, PublicKey};
    /// let pk = PrivateKey::generate().unwrap().public_key().clone();
    /// assert_eq!(PublicKey::from_string(&pk.to_hex()).unwrap(), pk);
    /// ```
    pub fn from_string(text: &str) -> Result<Self> {
        let t = text.trim();
        if t.contains("-----BEGIN") {
            let (_, d) = der::pem_decode(t, &["PUBLIC KEY"])?;
            return Self::from_spki_der(&d);
        }
        if t.is_empty() {
            return Err(Error::key("the public key is empty"));
        }
        if t.bytes().all(|b| b.is_ascii_hexdigit()) && matches!(t.len(), 130 | 128 | 66) {
            let bytes = crate::hex::decode(t.as_bytes()).map_err(|_| Error::key("bad hex"))?;
            return Self::from_sec1(&bytes);
        }
        let bytes = decode_base64(t).ok_or_else(|| Error::key("the public key is neither hex, Base64 nor PEM"))?;
        if bytes.first() == Some(&der::SEQUENCE) && bytes.len() > 65 {
            return Self::from_spki_der(&bytes);
        }
        Self::from_sec1(&bytes)
    }

    /// From bytes: SEC1 (65, 64, 33 bytes) or DER SubjectPublicKeyInfo.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.first() == Some(&der::SEQUENCE) && bytes.len() > 65 {
            Self::from_spki_der(bytes)
        } else {
            Self::from_sec1(bytes)
        }
    }

    /// `04||X||Y`.
    pub fn to_uncompressed(&self) -> [u8; 65] {
        self.uncompressed
    }

    /// `02/03||X`.
    pub fn to_compressed(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out.copy_from_slice(self.point.to_sec1_point(true).as_bytes());
        out
    }

    /// 130 uppercase hex characters of `04||X||Y`.
    pub fn to_hex(&self) -> String {
        crate::hex::encode_upper(&self.uncompressed)
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let mut inner = Vec::new();
        der::push(&mut inner, der::SEQUENCE, &der::sm2_algorithm());
        let mut bits = vec![0u8];
        bits.extend_from_slice(&self.uncompressed);
        der::push(&mut inner, der::BIT_STRING, &bits);
        let mut out = Vec::new();
        der::push(&mut out, der::SEQUENCE, &inner);
        out
    }

    /// PEM `PUBLIC KEY`.
    pub fn to_pem(&self) -> String {
        der::pem_encode("PUBLIC KEY", &self.to_spki_der())
    }
}

/// An SM2 private key d, 1 <= d <= n - 2, with its public key and cached constants.
#[derive(Clone)]
pub struct PrivateKey {
    pub(crate) d: NonZeroScalar,
    /// (1 + d)^-1 mod n, the per-key constant of every signature.
    pub(crate) inv_one_plus_d: Scalar,
    /// d and (1 + d)^-1 in the fast backend's form.
    pub(crate) fast: fast::SecretScalars,
    public: PublicKey,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret: only its public half.
        write!(f, "PrivateKey(public={})", self.public.to_hex())
    }
}

impl PrivateKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Self> {
        loop {
            let mut b = Zeroizing::new([0u8; 32]);
            getrandom::fill(&mut b[..]).map_err(|_| Error::key("the operating system's random generator failed"))?;
            if let Ok(k) = Self::from_scalar_bytes(&b) {
                return Ok(k);
            }
        }
    }

    /// From the 32-byte big-endian scalar.
    pub fn from_scalar_bytes(bytes: &[u8; 32]) -> Result<Self> {
        let fb = FieldBytes::from(*bytes);
        let s: Option<Scalar> = Scalar::from_repr(fb).into();
        let s = s.ok_or_else(|| Error::key("the private key is not below the group order n"))?;
        let d: Option<NonZeroScalar> = NonZeroScalar::new(s).into();
        let d = d.ok_or_else(|| Error::key("the private key is zero"))?;
        let one_plus_d = Scalar::ONE + *d;
        let inv: Option<Scalar> = one_plus_d.invert().into();
        // d = n - 1 makes 1 + d zero: GB/T 32918 excludes it.
        let inv_one_plus_d = inv.ok_or_else(|| Error::key("the private key is n - 1, which SM2 excludes"))?;
        let point = sm2::PublicKey::from_secret_scalar(&d);
        let fast = fast::SecretScalars::new(bytes, &inv_one_plus_d.to_repr().into());
        Ok(PrivateKey { d, inv_one_plus_d, fast, public: PublicKey::from_point(point) })
    }

    /// From a big-endian scalar of up to 32 bytes (Java BigInteger may drop or add a
    /// leading zero byte).
    pub fn from_scalar_slice(bytes: &[u8]) -> Result<Self> {
        let trimmed = match bytes {
            [0, rest @ ..] if bytes.len() == 33 => rest,
            _ => bytes,
        };
        if trimmed.is_empty() || trimmed.len() > 32 {
            return Err(Error::key(format!(
                "an SM2 private key is 32 bytes (or 33 with a leading zero), not {}",
                bytes.len()
            )));
        }
        let mut b = Zeroizing::new([0u8; 32]);
        b[32 - trimmed.len()..].copy_from_slice(trimmed);
        Self::from_scalar_bytes(&b)
    }

    /// From DER: PKCS#8 PrivateKeyInfo or SEC1 ECPrivateKey.
    pub fn from_der(der_bytes: &[u8]) -> Result<Self> {
        let mut outer = Reader::new(der_bytes);
        let seq = outer.expect(der::SEQUENCE, "a private key SEQUENCE")?;
        if !outer.is_empty() {
            return Err(Error::key("trailing bytes after the private key"));
        }
        let mut r = Reader::new(seq);
        let version = r.unsigned()?;
        match version {
            // PKCS#8 v1 (0) or v2 (1, also SEC1's version): tell them apart by what follows.
            [0] | [1] if r.peek_tag() == Some(der::SEQUENCE) => {
                der::check_sm2_algorithm(r.expect(der::SEQUENCE, "an AlgorithmIdentifier")?)?;
                let inner = r.expect(der::OCTET_STRING, "the private key OCTET STRING")?;
                Self::from_sec1_der(inner)
            }
            [1] => Self::from_sec1_fields(r),
            _ => Err(Error::key("unsupported private key version")),
        }
    }

    fn from_sec1_der(der_bytes: &[u8]) -> Result<Self> {
        let mut outer = Reader::new(der_bytes);
        let seq = outer.expect(der::SEQUENCE, "an ECPrivateKey SEQUENCE")?;
        let mut r = Reader::new(seq);
        if r.unsigned()? != [1] {
            return Err(Error::key("unsupported ECPrivateKey version"));
        }
        Self::from_sec1_fields(r)
    }

    /// The fields of an ECPrivateKey after its version.
    fn from_sec1_fields(mut r: Reader<'_>) -> Result<Self> {
        let d = r.expect(der::OCTET_STRING, "the private key OCTET STRING")?;
        let key = Self::from_scalar_slice(d)?;
        while !r.is_empty() {
            match r.any()? {
                (0xA0, params) => {
                    let oid = Reader::new(params).expect(der::OID, "a named curve")?;
                    if oid != der::OID_SM2 {
                        return Err(Error::key("an elliptic-curve key on another curve, not SM2"));
                    }
                }
                (0xA1, pubkey) => {
                    let bits = Reader::new(pubkey).expect(der::BIT_STRING, "a BIT STRING")?;
                    let pk = match bits {
                        [0, p @ ..] => PublicKey::from_sec1(p)?,
                        _ => return Err(Error::key("malformed public key BIT STRING")),
                    };
                    if pk != key.public {
                        return Err(Error::key("the embedded public key does not match the private key"));
                    }
                }
                _ => return Err(Error::key("unexpected field in ECPrivateKey")),
            }
        }
        Ok(key)
    }

    /// From any text form of docs/protocol.md §5: 64 hex, 66 hex with a leading `00`, Base64 of
    /// 32 or 33 bytes, PEM or Base64 DER (PKCS#8 or SEC1).
    ///
    /// ```
    /// use medpay_core::sm2::PrivateKey;
    /// let k = PrivateKey::from_string(
    ///     "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8").unwrap();
    /// assert!(k.public_key().to_hex().starts_with("0409F9DF31"));
    /// ```
    pub fn from_string(text: &str) -> Result<Self> {
        let t = text.trim();
        if t.contains("-----BEGIN") {
            let (_, d) = der::pem_decode(t, &["PRIVATE KEY", "EC PRIVATE KEY", "SM2 PRIVATE KEY"])?;
            return Self::from_der(&d);
        }
        if t.is_empty() {
            return Err(Error::key("the private key is empty"));
        }
        if t.bytes().all(|b| b.is_ascii_hexdigit()) && (t.len() == 64 || t.len() == 66) {
            let bytes = Zeroizing::new(crate::hex::decode(t.as_bytes()).map_err(|_| Error::key("bad hex"))?);
            if bytes.len() == 33 && bytes[0] != 0 {
                return Err(Error::key("a 66-hex-character private key must start with 00"));
            }
            return Self::from_scalar_slice(&bytes);
        }
        let bytes = Zeroizing::new(
            decode_base64(t).ok_or_else(|| Error::key("the private key is neither hex, Base64 nor PEM"))?,
        );
        match bytes.len() {
            32 => Self::from_scalar_slice(&bytes),
            33 if bytes[0] == 0 => Self::from_scalar_slice(&bytes),
            _ if bytes.first() == Some(&der::SEQUENCE) => Self::from_der(&bytes),
            n => Err(Error::key(format!(
                "a Base64 private key is 32 bytes, 33 with a leading zero, or DER; this one is {n} bytes"
            ))),
        }
    }

    /// From bytes: the raw 32-byte scalar (33 with a leading zero) or DER.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.first() == Some(&der::SEQUENCE) && bytes.len() > 33 {
            Self::from_der(bytes)
        } else {
            Self::from_scalar_slice(bytes)
        }
    }

    /// The public key d*G.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The 32-byte big-endian scalar. Handle with care.
    pub fn to_scalar_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.d.to_repr());
        out
    }

    /// 64 uppercase hex characters of the scalar.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(crate::hex::encode_upper(&self.to_scalar_bytes()[..]))
    }

    /// SEC1 ECPrivateKey DER with the named curve and public key.
    pub fn to_sec1_der(&self) -> Zeroizing<Vec<u8>> {
        let mut inner = Zeroizing::new(Vec::new());
        der::push_unsigned(&mut inner, &[1]);
        der::push(&mut inner, der::OCTET_STRING, &self.to_scalar_bytes()[..]);
        let mut params = Vec::new();
        der::push(&mut params, der::OID, der::OID_SM2);
        der::push(&mut inner, 0xA0, &params);
        let mut bits = vec![0u8];
        bits.extend_from_slice(&self.public.uncompressed);
        let mut pubk = Vec::new();
        der::push(&mut pubk, der::BIT_STRING, &bits);
        der::push(&mut inner, 0xA1, &pubk);
        let mut out = Zeroizing::new(Vec::new());
        der::push(&mut out, der::SEQUENCE, &inner);
        out
    }

    /// PKCS#8 PrivateKeyInfo DER.
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        let mut inner = Zeroizing::new(Vec::new());
        der::push_unsigned(&mut inner, &[0]);
        der::push(&mut inner, der::SEQUENCE, &der::sm2_algorithm());
        der::push(&mut inner, der::OCTET_STRING, &self.to_sec1_der());
        let mut out = Zeroizing::new(Vec::new());
        der::push(&mut out, der::SEQUENCE, &inner);
        out
    }

    /// PEM `PRIVATE KEY` (PKCS#8).
    pub fn to_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(der::pem_encode("PRIVATE KEY", &self.to_pkcs8_der()))
    }
}

/// Standard Base64, padded or not; `None` if it is not Base64.
fn decode_base64(t: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(compact.as_bytes()).or_else(|_| STANDARD_NO_PAD.decode(compact.as_bytes())).ok()
}

/// The curve order as bytes, for range checks and tests.
pub fn order() -> [u8; 32] {
    curve::N
}

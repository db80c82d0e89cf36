//! SM3withSM2 signatures (GB/T 32918.2): e = SM3(Z || M), Z = SM3(ENTL || ID || a || b ||
//! xG || yG || xA || yA). Signatures travel as raw `r || s` (64 bytes); DER is accepted.

use super::curve;
use super::der::{self, Reader};
use super::fast::{self, Backend};
use super::keys::{PrivateKey, PublicKey};
use crate::error::{Error, Result};
use crate::sm3::Sm3;
use sm2::elliptic_curve::bigint::Reduce;
use sm2::elliptic_curve::ff::PrimeField;
use sm2::elliptic_curve::point::AffineCoordinates;
use sm2::elliptic_curve::Group;
use sm2::{FieldBytes, ProjectivePoint, Scalar};
use zeroize::{Zeroize, Zeroizing};

/// The uid everyone uses (GM/T 0009).
pub const DEFAULT_UID: &[u8] = b"1234567812345678";

/// Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA).
pub fn z_value(public: &PublicKey, uid: &[u8]) -> [u8; 32] {
    // ENTL is 16 bits of bit length; longer uids are cut off by the caller's check.
    let entl = ((uid.len() * 8) as u16).to_be_bytes();
    let p = public.to_uncompressed();
    let mut h = Sm3::new();
    h.update(&entl);
    h.update(uid);
    h.update(&curve::A);
    h.update(&curve::B);
    h.update(&curve::GX);
    h.update(&curve::GY);
    h.update(&p[1..33]);
    h.update(&p[33..65]);
    h.finalize()
}

fn check_uid(uid: &[u8]) -> Result<()> {
    if uid.len() > 8191 {
        return Err(Error::signature("the SM2 uid is longer than 8191 bytes"));
    }
    Ok(())
}

/// e = SM3(Z || M), with Z cached for the default uid.
pub fn message_digest(public: &PublicKey, message: &[u8], uid: &[u8]) -> Result<[u8; 32]> {
    check_uid(uid)?;
    let z = if uid == DEFAULT_UID { public.default_z } else { z_value(public, uid) };
    let mut h = Sm3::new();
    h.update(&z);
    h.update(message);
    Ok(h.finalize())
}

fn reduce(bytes: &[u8; 32]) -> Scalar {
    <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(*bytes))
}

/// A signature (r, s), both in [1, n-1].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Signature {
    r: [u8; 32],
    s: [u8; 32],
}

impl Signature {
    fn from_parts(r: &[u8], s: &[u8]) -> Result<Self> {
        let fix = |v: &[u8]| -> Result<[u8; 32]> {
            if v.len() > 32 {
                return Err(Error::signature("r or s is longer than 32 bytes"));
            }
            let mut out = [0u8; 32];
            out[32 - v.len()..].copy_from_slice(v);
            let sc: Option<Scalar> = Scalar::from_repr(FieldBytes::from(out)).into();
            match sc {
                Some(x) if !bool::from(x.is_zero()) => Ok(out),
                _ => Err(Error::signature("r or s is outside [1, n-1]")),
            }
        };
        Ok(Signature { r: fix(r)?, s: fix(s)? })
    }

    /// From raw `r || s` (64 bytes).
    pub fn from_raw(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 64 {
            return Err(Error::signature(format!("a raw SM2 signature is 64 bytes, not {}", bytes.len())));
        }
        Self::from_parts(&bytes[..32], &bytes[32..])
    }

    /// From DER `SEQUENCE { INTEGER r, INTEGER s }`.
    pub fn from_der(bytes: &[u8]) -> Result<Self> {
        let as_sig = |e: Error| Error::signature(format!("bad DER signature: {}", e.message()));
        let mut outer = Reader::new(bytes);
        let seq = outer.expect(der::SEQUENCE, "a SEQUENCE").map_err(as_sig)?;
        if !outer.is_empty() {
            return Err(Error::signature("bad DER signature: trailing bytes"));
        }
        let mut r = Reader::new(seq);
        let rv = r.unsigned().map_err(as_sig)?;
        let sv = r.unsigned().map_err(as_sig)?;
        if !r.is_empty() {
            return Err(Error::signature("bad DER signature: extra fields"));
        }
        Self::from_parts(rv, sv)
    }

    /// Raw (64 bytes) or DER, told apart by form.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() == 64 {
            Self::from_raw(bytes)
        } else if bytes.first() == Some(&der::SEQUENCE) {
            Self::from_der(bytes)
        } else {
            Err(Error::signature(format!("a signature is 64 raw bytes or DER; got {} bytes", bytes.len())))
        }
    }

    /// `r || s`, each 32 bytes big-endian, zero-padded.
    pub fn to_raw(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.r);
        out[32..].copy_from_slice(&self.s);
        out
    }

    /// DER `SEQUENCE { r, s }`.
    pub fn to_der(&self) -> Vec<u8> {
        let mut inner = Vec::new();
        der::push_unsigned(&mut inner, &self.r);
        der::push_unsigned(&mut inner, &self.s);
        let mut out = Vec::new();
        der::push(&mut out, der::SEQUENCE, &inner);
        out
    }
}

/// A fresh signing nonce k with x1 of k G already computed: the costly half of a
/// signature, which does not depend on the message, so it can be drawn on one thread
/// while another is still hashing (see `envelope`). It signs once: signing consumes it,
/// and it can be neither cloned nor printed.
pub struct Nonce {
    k: Zeroizing<[u8; 32]>,
    x1: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Nonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Nonce(..)")
    }
}

impl Nonce {
    /// A random nonce, with x1 computed by `backend`.
    pub fn generate(backend: Backend) -> Result<Self> {
        loop {
            let mut k = Zeroizing::new([0u8; 32]);
            getrandom::fill(&mut k[..])
                .map_err(|_| Error::signature("the operating system's random generator failed"))?;
            if let Some(n) = Self::from_k(backend, &k) {
                return Ok(n);
            }
        }
    }

    /// The nonce of a given k; `None` when k is not in [1, n-1]. For test vectors only.
    fn from_k(backend: Backend, k: &[u8; 32]) -> Option<Self> {
        let x1: [u8; 32] = match backend {
            Backend::Portable => {
                let k: Option<Scalar> = Scalar::from_repr(FieldBytes::from(*k)).into();
                let k = k.filter(|k| !bool::from(k.is_zero()))?;
                let x: [u8; 32] = (ProjectivePoint::GENERATOR * k).to_affine().x().into();
                reduce(&x).to_repr().into()
            }
            _ => {
                let mut x = fast::nonce_x1(backend, k)?;
                let be = fast::limbs_to_be(&x);
                x.zeroize();
                be
            }
        };
        Some(Nonce { k: Zeroizing::new(*k), x1: Zeroizing::new(x1) })
    }
}

impl PrivateKey {
    /// Sign `message` with a fresh random k. Returns raw `r || s`.
    ///
    /// ```
    /// use medpay_core::sm2::{PrivateKey, DEFAULT_UID};
    /// let sk = PrivateKey::generate().unwrap();
    /// let sig = sk.sign(b"hello", DEFAULT_UID).unwrap();
    /// assert!(sk.public_key().verify(b"hello", &sig, DEFAULT_UID));
    /// ```
    pub fn sign(&self, message: &[u8], uid: &[u8]) -> Result<[u8; 64]> {
        let e = message_digest(self.public_key(), message, uid)?;
        self.sign_digest(&e, Nonce::generate(Backend::default())?)
    }

    /// Sign the digest e with a nonce drawn earlier ([`Nonce::generate`]). Should the nonce
    /// not fit this digest (r = 0, r + k = n or s = 0: about one chance in 2^256), another
    /// is drawn.
    ///
    /// ```
    /// use medpay_core::sm2::{message_digest, Backend, Nonce, PrivateKey, DEFAULT_UID};
    /// let sk = PrivateKey::generate().unwrap();
    /// let nonce = Nonce::generate(Backend::default()).unwrap(); // before the message is known
    /// let e = message_digest(sk.public_key(), b"hello", DEFAULT_UID).unwrap();
    /// let sig = sk.sign_digest(&e, nonce).unwrap();
    /// assert!(sk.public_key().verify(b"hello", &sig, DEFAULT_UID));
    /// ```
    pub fn sign_digest(&self, e: &[u8; 32], nonce: Nonce) -> Result<[u8; 64]> {
        let mut nonce = nonce;
        loop {
            if let Some(sig) = self.sign_with_nonce(e, &nonce) {
                return Ok(sig);
            }
            nonce = Nonce::generate(Backend::default())?;
        }
    }

    /// Sign the digest e with the given k. `None` when k is out of range or gives r = 0,
    /// r + k = n or s = 0 (the caller draws another k).
    ///
    /// For test vectors only: a fixed or repeated k reveals the private key.
    pub fn sign_digest_with_k(&self, e: &[u8; 32], k: &[u8; 32]) -> Option<[u8; 64]> {
        self.sign_digest_with_k_using(Backend::default(), e, k)
    }

    /// `sign_digest_with_k` with a chosen backend; every backend gives the same signature.
    ///
    /// For tests and benchmarks: a fixed or repeated k reveals the private key.
    pub fn sign_digest_with_k_using(&self, backend: Backend, e: &[u8; 32], k: &[u8; 32]) -> Option<[u8; 64]> {
        let nonce = Nonce::from_k(backend, k)?;
        match backend {
            Backend::Portable => self.sign_with_nonce_portable(e, &nonce),
            _ => self.sign_with_nonce(e, &nonce),
        }
    }

    /// r = e + x1, s = (1 + d)^-1 (k - r d); constant time in k and d.
    fn sign_with_nonce(&self, e: &[u8; 32], nonce: &Nonce) -> Option<[u8; 64]> {
        let mut x1 = fast::limbs_from_be(&nonce.x1);
        let sig = fast::sign_with_x1(&self.fast, e, &nonce.k, &x1);
        x1.zeroize();
        sig
    }

    /// The same with RustCrypto's scalars: the reference the tests hold the fast path to.
    fn sign_with_nonce_portable(&self, e: &[u8; 32], nonce: &Nonce) -> Option<[u8; 64]> {
        let k: Scalar = Option::from(Scalar::from_repr(FieldBytes::from(*nonce.k)))?;
        let r = reduce(e) + reduce(&nonce.x1);
        if bool::from(r.is_zero()) || bool::from((r + k).is_zero()) {
            return None;
        }
        let s = self.inv_one_plus_d * (k - r * *self.d);
        if bool::from(s.is_zero()) {
            return None;
        }
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&r.to_repr());
        out[32..].copy_from_slice(&s.to_repr());
        Some(out)
    }
}

/// The message-independent half of verifying a signature: x1 of s G + (r + s) P, most of
/// the work, done before (or while) the message is hashed. [`PreparedVerification::accepts`]
/// then checks a digest cheaply, so trying a second sign text costs only its hash.
#[derive(Clone, Copy)]
pub struct PreparedVerification {
    r: [u8; 32],
    point: Option<PreparedPoint>,
}

#[derive(Clone, Copy)]
enum PreparedPoint {
    Fast(fast::VerifyPoint),
    Portable(Scalar),
}

impl PreparedVerification {
    /// Whether the signature is valid for the digest e.
    pub fn accepts(&self, e: &[u8; 32]) -> bool {
        match &self.point {
            None => false,
            Some(PreparedPoint::Fast(p)) => p.accepts(e, &self.r),
            Some(PreparedPoint::Portable(x1)) => reduce(e) + x1 == reduce(&self.r),
        }
    }
}

impl PublicKey {
    /// Verify a signature (raw `r || s` or DER) over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8], uid: &[u8]) -> bool {
        let Ok(sig) = Signature::parse(signature) else {
            return false;
        };
        let Ok(e) = message_digest(self, message, uid) else {
            return false;
        };
        self.verify_digest(&e, &sig)
    }

    /// Verify a parsed signature over the digest e.
    pub fn verify_digest(&self, e: &[u8; 32], sig: &Signature) -> bool {
        self.verify_digest_using(Backend::default(), e, sig)
    }

    /// `verify_digest` with a chosen backend.
    pub fn verify_digest_using(&self, backend: Backend, e: &[u8; 32], sig: &Signature) -> bool {
        self.prepare_verification_using(backend, sig).accepts(e)
    }

    /// Do the message-independent half of verifying `sig`.
    ///
    /// ```
    /// use medpay_core::sm2::{message_digest, PrivateKey, Signature, DEFAULT_UID};
    /// let sk = PrivateKey::generate().unwrap();
    /// let sig = Signature::parse(&sk.sign(b"hello", DEFAULT_UID).unwrap()).unwrap();
    /// let prepared = sk.public_key().prepare_verification(&sig); // before hashing
    /// let e = message_digest(sk.public_key(), b"hello", DEFAULT_UID).unwrap();
    /// assert!(prepared.accepts(&e));
    /// ```
    pub fn prepare_verification(&self, sig: &Signature) -> PreparedVerification {
        self.prepare_verification_using(Backend::default(), sig)
    }

    /// `prepare_verification` with a chosen backend.
    pub fn prepare_verification_using(&self, backend: Backend, sig: &Signature) -> PreparedVerification {
        let point = match backend {
            Backend::Portable => self.prepare_portable(sig).map(PreparedPoint::Portable),
            _ => fast::verify_point(backend, &self.fast, &sig.r, &sig.s).map(PreparedPoint::Fast),
        };
        PreparedVerification { r: sig.r, point }
    }

    fn prepare_portable(&self, sig: &Signature) -> Option<Scalar> {
        let t = reduce(&sig.r) + reduce(&sig.s);
        if bool::from(t.is_zero()) {
            return None;
        }
        let p = ProjectivePoint::GENERATOR * reduce(&sig.s) + self.point.to_projective() * t;
        if bool::from(p.is_identity()) {
            return None;
        }
        Some(reduce(&p.to_affine().x().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::{decode, encode_upper};

    fn h32(s: &str) -> [u8; 32] {
        decode(s.as_bytes()).unwrap().try_into().unwrap()
    }

    // GM/T 0003.5-2012 appendix A.2 (also GB/T 32918.5): the recommended curve.
    const D: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
    const PX: &str = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020";
    const PY: &str = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
    const K: &str = "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21";
    const ZA: &str = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3";
    const R: &str = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
    const S: &str = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";

    #[test]
    fn gmt_0003_5_public_key_and_z() {
        let sk = PrivateKey::from_scalar_bytes(&h32(D)).unwrap();
        assert_eq!(sk.public_key().to_hex(), format!("04{PX}{PY}"));
        assert_eq!(encode_upper(&z_value(sk.public_key(), DEFAULT_UID)), ZA);
    }

    #[test]
    fn gmt_0003_5_signature_reproduced_with_its_k_and_verified() {
        let sk = PrivateKey::from_scalar_bytes(&h32(D)).unwrap();
        let e = message_digest(sk.public_key(), b"message digest", DEFAULT_UID).unwrap();
        let sig = sk.sign_digest_with_k(&e, &h32(K)).unwrap();
        assert_eq!(encode_upper(&sig), format!("{R}{S}"));
        assert!(sk.public_key().verify(b"message digest", &sig, DEFAULT_UID));
    }

    #[test]
    fn sign_verify_round_trip_with_random_k_and_other_uid() {
        let sk = PrivateKey::generate().unwrap();
        let sig = sk.sign(b"m", b"other-uid").unwrap();
        assert!(sk.public_key().verify(b"m", &sig, b"other-uid"));
        assert!(!sk.public_key().verify(b"m", &sig, DEFAULT_UID));
        assert!(!sk.public_key().verify(b"m2", &sig, b"other-uid"));
    }

    #[test]
    fn a_nonce_drawn_before_the_message_signs_it_on_every_backend() {
        let sk = PrivateKey::generate().unwrap();
        let e = message_digest(sk.public_key(), b"m", DEFAULT_UID).unwrap();
        for b in crate::sm2::available_backends() {
            let sig = sk.sign_digest(&e, Nonce::generate(b).unwrap()).unwrap();
            assert!(sk.public_key().verify(b"m", &sig, DEFAULT_UID), "{}", b.name());
        }
    }

    #[test]
    fn a_prepared_verification_accepts_only_the_signed_digest_on_every_backend() {
        let sk = PrivateKey::generate().unwrap();
        let pk = sk.public_key();
        let sig = Signature::from_raw(&sk.sign(b"m", DEFAULT_UID).unwrap()).unwrap();
        let right = message_digest(pk, b"m", DEFAULT_UID).unwrap();
        let wrong = message_digest(pk, b"m2", DEFAULT_UID).unwrap();
        for b in crate::sm2::available_backends() {
            let prepared = pk.prepare_verification_using(b, &sig);
            assert!(!prepared.accepts(&wrong), "{}", b.name());
            assert!(prepared.accepts(&right), "{}", b.name());
        }
        // Another key's point never accepts.
        let other = PrivateKey::generate().unwrap();
        assert!(!other.public_key().prepare_verification(&sig).accepts(&right));
    }

    #[test]
    fn der_and_raw_both_verify() {
        let sk = PrivateKey::generate().unwrap();
        let raw = sk.sign(b"m", DEFAULT_UID).unwrap();
        let der = Signature::from_raw(&raw).unwrap().to_der();
        assert!(sk.public_key().verify(b"m", &der, DEFAULT_UID));
        assert_eq!(Signature::from_der(&der).unwrap().to_raw(), raw);
    }

    #[test]
    fn r_or_s_out_of_range_is_refused() {
        let sk = PrivateKey::from_scalar_bytes(&h32(D)).unwrap();
        let mut zero_r = [0u8; 64];
        zero_r[63] = 1;
        assert!(Signature::from_raw(&zero_r).is_err());
        let mut n_s = [1u8; 64];
        n_s[32..].copy_from_slice(&curve::N);
        assert!(Signature::from_raw(&n_s).is_err());
        assert!(!sk.public_key().verify(b"message digest", &n_s, DEFAULT_UID));
    }

    #[test]
    fn tampered_signature_fails() {
        let sk = PrivateKey::generate().unwrap();
        let mut sig = sk.sign(b"m", DEFAULT_UID).unwrap();
        sig[10] ^= 1;
        assert!(!sk.public_key().verify(b"m", &sig, DEFAULT_UID));
    }
}

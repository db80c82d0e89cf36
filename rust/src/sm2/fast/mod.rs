//! Our own SM2 arithmetic for signing and verifying, several times faster than the portable
//! backend (RustCrypto's `sm2` crate), which stays as the reference.
//!
//! - `field`: Fp in Montgomery form with a multiplication-free reduction (p = -1 mod 2^64).
//! - `scalar`: integers mod n, Montgomery products for s = (1 + d)^-1 (k - r d).
//! - `point`: Jacobian points, a = -3 doubling, mixed addition, fixed-base combs with Booth
//!   digits and constant-time table reads, wNAF for variable points.
//! - `adx` (x86_64): the same code built for BMI2/ADX/AVX2, with field products, squares,
//!   additions and subtractions in assembly (MULX/ADCX/ADOX).
//!
//! Signing is constant time in k and d. Verification handles only public data and may branch.
//!
//! The small field and point helpers are `inline(always)` in optimized builds only: in a
//! debug build, forcing them inline stacks every local into one frame and overflows the
//! 2 MiB stack of a test thread.

#[cfg(target_arch = "x86_64")]
mod adx;
mod field;
mod point;
mod scalar;

use super::curve;
use field::{from_mont, lt, to_mont, Fe, FieldMul, P, U128};
pub(crate) use field::{limbs_from_be, limbs_to_be};
use point::{add_vartime, affine_x, Aff, Comb, GTable};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use zeroize::Zeroize;

/// Which implementation of the SM2 group arithmetic signs and verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// RustCrypto's `sm2` crate: the reference.
    Portable,
    /// Our arithmetic in portable Rust (u128 products).
    Fast,
    /// Our arithmetic with MULX/ADCX/ADOX field products, on x86_64 CPUs with BMI2, ADX and
    /// AVX2. Falls back to `Fast` where those are missing.
    FastAdx,
}

impl Backend {
    /// The fastest backend this CPU runs.
    pub fn best() -> Backend {
        if adx_available() {
            Backend::FastAdx
        } else {
            Backend::Fast
        }
    }

    /// A short name, for benchmarks and logs.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Portable => "portable",
            Backend::Fast => "fast",
            Backend::FastAdx => "fast-adx",
        }
    }
}

impl Default for Backend {
    /// The fastest available backend.
    fn default() -> Self {
        Backend::best()
    }
}

/// The backends this CPU runs, slowest first.
pub fn available_backends() -> Vec<Backend> {
    let mut v = vec![Backend::Portable, Backend::Fast];
    if adx_available() {
        v.push(Backend::FastAdx);
    }
    v
}

fn adx_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        adx::available()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The generator's comb, built once on first use (about a millisecond).
fn g_table() -> &'static GTable {
    static G: OnceLock<GTable> = OnceLock::new();
    G.get_or_init(|| GTable::new(&affine_from_bytes(&curve::GX, &curve::GY)))
}

/// A point from big-endian coordinates known to be on the curve.
fn affine_from_bytes(x: &[u8; 32], y: &[u8; 32]) -> Aff {
    Aff { x: to_mont::<U128>(&limbs_from_be(x)), y: to_mont::<U128>(&limbs_from_be(y)) }
}

/// The private key's scalars in the form signing uses: d R and (1 + d)^-1 R mod n.
#[derive(Clone)]
pub(crate) struct SecretScalars {
    d_m: [u64; 4],
    inv_m: [u64; 4],
}

impl Drop for SecretScalars {
    fn drop(&mut self) {
        self.d_m.zeroize();
        self.inv_m.zeroize();
    }
}

impl SecretScalars {
    /// From d and (1 + d)^-1 mod n, big-endian, both below n.
    pub(crate) fn new(d: &[u8; 32], inv_one_plus_d: &[u8; 32]) -> Self {
        let mut dl = limbs_from_be(d);
        let mut il = limbs_from_be(inv_one_plus_d);
        let s = SecretScalars { d_m: scalar::to_mont(&dl), inv_m: scalar::to_mont(&il) };
        dl.zeroize();
        il.zeroize();
        s
    }
}

/// Comb for a public key: 6-bit windows, 43 rows of 32 points (88 KiB).
type PTable = Comb<6, 43, 32>;

/// Verifications with one key object before its comb is built: the build (about 0.5 ms)
/// costs about a dozen verifications and then makes each one about four times as fast, so
/// only keys that keep verifying (a platform's key) get one.
const PTABLE_AFTER: u32 = 8;

/// What verifying needs of a public key: its point and, once the key has been used a few
/// times, its own comb. Shared between clones of the key.
pub(crate) struct PublicCache {
    point: Aff,
    uses: AtomicU32,
    table: OnceLock<PTable>,
}

impl PublicCache {
    /// From `04 || X || Y` of a point already checked to be on the curve.
    pub(crate) fn new(uncompressed: &[u8; 65]) -> Self {
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        x.copy_from_slice(&uncompressed[1..33]);
        y.copy_from_slice(&uncompressed[33..65]);
        PublicCache { point: affine_from_bytes(&x, &y), uses: AtomicU32::new(0), table: OnceLock::new() }
    }

    fn table(&self) -> Option<&PTable> {
        if let Some(t) = self.table.get() {
            return Some(t);
        }
        if self.uses.fetch_add(1, Ordering::Relaxed) + 1 >= PTABLE_AFTER {
            Some(self.table.get_or_init(|| PTable::new(&self.point)))
        } else {
            None
        }
    }
}

/// x1 of k G reduced mod n: the costly half of a signature, which needs no message.
/// `None` when k is not in [1, n-1].
#[cfg_attr(not(debug_assertions), inline(always))]
fn nonce_x1_core<M: FieldMul>(g: &GTable, k: &[u8; 32]) -> Option<[u64; 4]> {
    let mut k = limbs_from_be(k);
    if !scalar::is_below_n(&k) || scalar::is_zero(&k) {
        k.zeroize();
        return None;
    }
    let x1 = scalar::reduce(&from_mont(&affine_x::<M>(&g.mul_ct::<M>(&k))));
    k.zeroize();
    Some(x1)
}

/// The rest of a signature once x1 (of k G, mod n) is known: r = e + x1, s = (1 + d)^-1
/// (k - r d). `None` when r = 0, r + k = n or s = 0. Constant time in k and d.
pub(crate) fn sign_with_x1(sec: &SecretScalars, e: &[u8; 32], k: &[u8; 32], x1: &[u64; 4]) -> Option<[u8; 64]> {
    let mut k = limbs_from_be(k);
    let r = scalar::add(&scalar::reduce(&limbs_from_be(e)), x1);
    if scalar::is_zero(&r) || scalar::is_zero(&scalar::add(&r, &k)) {
        k.zeroize();
        return None;
    }
    let rd = scalar::mont_mul(&r, &sec.d_m);
    let mut k_rd = scalar::sub(&k, &rd);
    let s = scalar::mont_mul(&sec.inv_m, &k_rd);
    k.zeroize();
    k_rd.zeroize();
    if scalar::is_zero(&s) {
        return None;
    }
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&limbs_to_be(&r));
    out[32..].copy_from_slice(&limbs_to_be(&s));
    Some(out)
}

/// s G + (r + s) P of a verification, kept as Jacobian X and Z^2 (x1 = X / Z^2): all of
/// the work that does not depend on the message. `None` when the signature cannot verify
/// whatever the message (r + s = n, or the sum is the point at infinity).
#[derive(Clone, Copy)]
pub(crate) struct VerifyPoint {
    x: Fe,
    z2: Fe,
}

#[cfg_attr(not(debug_assertions), inline(always))]
fn verify_point_core<M: FieldMul>(
    g: &GTable,
    pk: &Aff,
    ptable: Option<&PTable>,
    r: &[u8; 32],
    s: &[u8; 32],
) -> Option<VerifyPoint> {
    let r = scalar::reduce(&limbs_from_be(r));
    let s = scalar::reduce(&limbs_from_be(s));
    let t = scalar::add(&r, &s);
    if scalar::is_zero(&t) {
        return None;
    }
    let sum = match ptable {
        Some(tb) => add_vartime::<M>(&g.mul_vartime::<M>(&s), &tb.mul_vartime::<M>(&t)),
        None => point::double_mul_vartime::<M>(&g.rows[0], &s, pk, &t),
    };
    if sum.is_identity_vartime() {
        return None;
    }
    Some(VerifyPoint { x: sum.x, z2: M::sqr(&sum.z) })
}

impl VerifyPoint {
    /// Whether (e + x1) mod n = r.
    pub(crate) fn accepts(&self, e: &[u8; 32], r: &[u8; 32]) -> bool {
        // x1 mod n = r - e mod n =: c, and x1 < p < 2n, so x1 is c or c + n. Compare
        // X = x1 Z^2 for each instead of inverting Z.
        let c = scalar::sub(&scalar::reduce(&limbs_from_be(r)), &scalar::reduce(&limbs_from_be(e)));
        if U128::mul(&to_mont::<U128>(&c), &self.z2) == self.x {
            return true;
        }
        let (c0, carry) = field::adc(c[0], scalar::N[0], 0);
        let (c1, carry) = field::adc(c[1], scalar::N[1], carry);
        let (c2, carry) = field::adc(c[2], scalar::N[2], carry);
        let (c3, carry) = field::adc(c[3], scalar::N[3], carry);
        let cn = [c0, c1, c2, c3];
        carry == 0 && lt(&cn, &P) && U128::mul(&to_mont::<U128>(&cn), &self.z2) == self.x
    }
}

/// x1 of k G mod n with a fast backend (`Portable` is served by the caller; treated as
/// `Fast` here). `None` when k is not in [1, n-1].
pub(crate) fn nonce_x1(backend: Backend, k: &[u8; 32]) -> Option<[u64; 4]> {
    let g = g_table();
    #[cfg(target_arch = "x86_64")]
    if backend == Backend::FastAdx && adx::available() {
        return adx::nonce_x1(g, k);
    }
    let _ = backend;
    nonce_x1_core::<U128>(g, k)
}

/// The message-independent half of a verification with a fast backend (`Portable` is
/// served by the caller; treated as `Fast` here).
pub(crate) fn verify_point(backend: Backend, pk: &PublicCache, r: &[u8; 32], s: &[u8; 32]) -> Option<VerifyPoint> {
    verify_point_with(backend, pk, pk.table(), r, s)
}

fn verify_point_with(
    backend: Backend,
    pk: &PublicCache,
    table: Option<&PTable>,
    r: &[u8; 32],
    s: &[u8; 32],
) -> Option<VerifyPoint> {
    let g = g_table();
    #[cfg(target_arch = "x86_64")]
    if backend == Backend::FastAdx && adx::available() {
        return adx::verify_point(g, &pk.point, table, r, s);
    }
    let _ = backend;
    verify_point_core::<U128>(g, &pk.point, table, r, s)
}

/// The generic verification path without the per-key comb, for tests and benchmarks.
#[cfg(test)]
pub(crate) fn verify_without_table(
    backend: Backend,
    pk: &PublicCache,
    e: &[u8; 32],
    r: &[u8; 32],
    s: &[u8; 32],
) -> bool {
    verify_point_with(backend, pk, None, r, s).is_some_and(|p| p.accepts(e, r))
}

#[cfg(test)]
mod tests;

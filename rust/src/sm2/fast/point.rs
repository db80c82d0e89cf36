//! Curve points: Jacobian (X, Y, Z) with x = X/Z^2, y = Y/Z^3, Z = 0 the identity, and
//! affine table points (x, y) with (0, 0) standing for the identity. All coordinates in
//! Montgomery form. a = -3, so doubling uses 3(X - Z^2)(X + Z^2).
//!
//! `*_ct` functions are constant time (signing); `*_vartime` ones branch on their inputs
//! and are for public data only (verification, table building).

use super::field::{invert, Fe, FieldMul, U128};

/// A point in Jacobian coordinates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Jac {
    pub(crate) x: Fe,
    pub(crate) y: Fe,
    pub(crate) z: Fe,
}

/// An affine point; (0, 0) is the identity (not on the curve, since b != 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(64))]
pub(crate) struct Aff {
    pub(crate) x: Fe,
    pub(crate) y: Fe,
}

impl Jac {
    pub(crate) const IDENTITY: Jac = Jac { x: Fe::ONE, y: Fe::ONE, z: Fe::ZERO };

    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn from_affine(p: &Aff) -> Jac {
        Jac { x: p.x, y: p.y, z: Fe::ONE }
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn is_identity_vartime(&self) -> bool {
        self.z.is_zero_vartime()
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn select(mask: u64, a: &Jac, b: &Jac) -> Jac {
        Jac { x: Fe::select(mask, &a.x, &b.x), y: Fe::select(mask, &a.y, &b.y), z: Fe::select(mask, &a.z, &b.z) }
    }

    /// -P.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn neg(&self) -> Jac {
        Jac { x: self.x, y: self.y.neg(), z: self.z }
    }
}

/// 2P for a = -3: 4M + 4S and 12 additions (dbl-2001-b with Z3 = 2YZ and 8Y^4 as
/// (4Y^2)^2 / 2, which trade one squaring and four additions for one product). Correct for
/// every input, the identity included.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn dbl<M: FieldMul>(p: &Jac) -> Jac {
    let delta = M::sqr(&p.z);
    let gamma = M::sqr(&p.y);
    let z3 = M::dbl(&M::mul(&p.y, &p.z));
    let t = M::mul(&M::sub(&p.x, &delta), &M::add(&p.x, &delta));
    let alpha = M::add(&M::dbl(&t), &t);
    let gamma4 = M::dbl(&M::dbl(&gamma));
    let beta4 = M::mul(&p.x, &gamma4);
    let x3 = M::sub(&M::sqr(&alpha), &M::dbl(&beta4));
    let g8 = M::sqr(&gamma4).half();
    let y3 = M::sub(&M::mul(&alpha, &M::sub(&beta4, &x3)), &g8);
    Jac { x: x3, y: y3, z: z3 }
}

/// P + Q for affine Q (madd-2007-bl): 7M + 4S. Wrong when P = +-Q or either is the
/// identity; callers handle those cases.
#[cfg_attr(not(debug_assertions), inline(always))]
fn madd_raw<M: FieldMul>(p: &Jac, q: &Aff) -> (Jac, Fe, Fe) {
    let z1z1 = M::sqr(&p.z);
    let u2 = M::mul(&q.x, &z1z1);
    let s2 = M::mul(&q.y, &M::mul(&p.z, &z1z1));
    let h = M::sub(&u2, &p.x);
    let hh = M::sqr(&h);
    let i = M::dbl(&M::dbl(&hh));
    let j = M::mul(&h, &i);
    let r = M::dbl(&M::sub(&s2, &p.y));
    let v = M::mul(&p.x, &i);
    let x3 = M::sub(&M::sub(&M::sqr(&r), &j), &M::dbl(&v));
    let y3 = M::sub(&M::mul(&r, &M::sub(&v, &x3)), &M::dbl(&M::mul(&p.y, &j)));
    let z3 = M::sub(&M::sub(&M::sqr(&M::add(&p.z, &h)), &z1z1), &hh);
    (Jac { x: x3, y: y3, z: z3 }, h, r)
}

/// P + Q, constant time, for the fixed-base comb: handles P = identity and Q = identity
/// ((0, 0), `q_zero` all ones) with masks. P = +-Q cannot occur there (see `mul_g_ct`).
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn madd_ct<M: FieldMul>(p: &Jac, q: &Aff, q_zero: u64) -> Jac {
    let (sum, _, _) = madd_raw::<M>(p, q);
    let p_zero = p.z.is_zero_mask();
    let r = Jac::select(p_zero, &Jac::from_affine(q), &sum);
    Jac::select(q_zero, p, &r)
}

/// P + Q for affine Q, variable time, every case handled.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn madd_vartime<M: FieldMul>(p: &Jac, q: &Aff) -> Jac {
    if p.is_identity_vartime() {
        return Jac::from_affine(q);
    }
    let (sum, h, r) = madd_raw::<M>(p, q);
    if h.is_zero_vartime() {
        return if r.is_zero_vartime() { dbl::<M>(&Jac::from_affine(q)) } else { Jac::IDENTITY };
    }
    sum
}

/// P + Q, both Jacobian (add-2007-bl), variable time, every case handled.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn add_vartime<M: FieldMul>(p: &Jac, q: &Jac) -> Jac {
    if p.is_identity_vartime() {
        return *q;
    }
    if q.is_identity_vartime() {
        return *p;
    }
    let z1z1 = M::sqr(&p.z);
    let z2z2 = M::sqr(&q.z);
    let u1 = M::mul(&p.x, &z2z2);
    let u2 = M::mul(&q.x, &z1z1);
    let s1 = M::mul(&p.y, &M::mul(&q.z, &z2z2));
    let s2 = M::mul(&q.y, &M::mul(&p.z, &z1z1));
    let h = M::sub(&u2, &u1);
    let r = M::dbl(&M::sub(&s2, &s1));
    if h.is_zero_vartime() {
        return if r.is_zero_vartime() { dbl::<M>(p) } else { Jac::IDENTITY };
    }
    let i = M::sqr(&M::dbl(&h));
    let j = M::mul(&h, &i);
    let v = M::mul(&u1, &i);
    let x3 = M::sub(&M::sub(&M::sqr(&r), &j), &M::dbl(&v));
    let y3 = M::sub(&M::mul(&r, &M::sub(&v, &x3)), &M::dbl(&M::mul(&s1, &j)));
    let z3 = M::mul(&M::sub(&M::sub(&M::sqr(&M::add(&p.z, &q.z)), &z1z1), &z2z2), &h);
    Jac { x: x3, y: y3, z: z3 }
}

/// Affine x (Montgomery form) of P, constant time; the identity gives 0.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn affine_x<M: FieldMul>(p: &Jac) -> Fe {
    let zi = invert::<M>(&p.z);
    M::mul(&p.x, &M::sqr(&zi))
}

/// Affine form of many points with one inversion (Montgomery's trick); public data only.
/// The identity maps to (0, 0).
pub(crate) fn batch_to_affine(points: &[Jac]) -> Vec<Aff> {
    type M = U128;
    let mut prefix = Vec::with_capacity(points.len());
    let mut acc = Fe::ONE;
    for p in points {
        prefix.push(acc);
        if !p.is_identity_vartime() {
            acc = M::mul(&acc, &p.z);
        }
    }
    let mut inv = invert::<M>(&acc);
    let mut out = vec![Aff::default(); points.len()];
    for (i, p) in points.iter().enumerate().rev() {
        if p.is_identity_vartime() {
            continue;
        }
        let zi = M::mul(&inv, &prefix[i]);
        inv = M::mul(&inv, &p.z);
        let zi2 = M::sqr(&zi);
        out[i] = Aff { x: M::mul(&p.x, &zi2), y: M::mul(&p.y, &M::mul(&zi2, &zi)) };
    }
    out
}

/// Booth recoding of an 8-bit window (bit 0 is the top bit of the window below):
/// returns (|digit|, all ones if the digit is negative). |digit| <= 2^(w-1).
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn booth(w: u64, width: u32) -> (u64, u64) {
    let top = (w >> width) & 1;
    let neg_mask = top.wrapping_neg();
    let full = (1u64 << (width + 1)) - 1;
    // Negative digits come from the complement of the window.
    let d = ((full - w) & neg_mask) | (w & !neg_mask);
    ((d >> 1) + (d & 1), neg_mask)
}

/// Bits [start - 1, start + width] of k as a (width + 1)-bit number, bit -1 being 0.
/// Positions are public; the value is not.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn window(k: &[u64; 4], start: usize, width: u32) -> u64 {
    let mask = (1u64 << (width + 1)) - 1;
    if start == 0 {
        return (k[0] << 1) & mask;
    }
    let pos = start - 1;
    let (limb, off) = (pos / 64, pos % 64);
    if limb >= 4 {
        return 0;
    }
    let mut v = k[limb] >> off;
    if off + width as usize + 1 > 64 && limb + 1 < 4 {
        v |= k[limb + 1] << (64 - off);
    }
    v & mask
}

/// Constant-time read of entry `d` (1-based; 0 gives (0, 0)) of a row: every entry is
/// read and masked in, so the memory access pattern does not depend on d.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn select_ct(row: &[Aff], d: u64) -> Aff {
    let mut x = [0u64; 4];
    let mut y = [0u64; 4];
    for (j, e) in row.iter().enumerate() {
        let m = super::field::is_zero_mask((j as u64 + 1) ^ d);
        for l in 0..4 {
            x[l] |= e.x.0[l] & m;
            y[l] |= e.y.0[l] & m;
        }
    }
    Aff { x: Fe(x), y: Fe(y) }
}

/// A fixed-base comb: row i holds j * 2^(W i) * B for j = 1..=2^(W-1), so that
/// k B = sum over i of digit_i * row_i with Booth digits and no doublings.
pub(crate) struct Comb<const W: u32, const ROWS: usize, const COLS: usize> {
    /// ROWS rows; on the heap (tens of KiB), never built on the stack.
    pub(crate) rows: Box<[[Aff; COLS]]>,
}

impl<const W: u32, const ROWS: usize, const COLS: usize> Comb<W, ROWS, COLS> {
    /// Builds the table for base point b (variable time: b is public).
    pub(crate) fn new(b: &Aff) -> Self {
        type M = U128;
        let mut pts = Vec::with_capacity(ROWS * COLS);
        let mut base = Jac::from_affine(b);
        for _ in 0..ROWS {
            let mut acc = base;
            for _ in 0..COLS {
                pts.push(acc);
                acc = add_vartime::<M>(&acc, &base);
            }
            for _ in 0..W {
                base = dbl::<M>(&base);
            }
        }
        let aff = batch_to_affine(&pts);
        let mut rows = vec![[Aff::default(); COLS]; ROWS].into_boxed_slice();
        for (i, row) in rows.iter_mut().enumerate() {
            row.copy_from_slice(&aff[i * COLS..(i + 1) * COLS]);
        }
        Comb { rows }
    }

    /// k B in constant time, for k < n.
    ///
    /// The running sum before row i is c B with |c| <= 2^(W i - 1) and the addend is
    /// d 2^(W i) B with |d| >= 1, so they are never equal or opposite mod n for
    /// 0 < k < n (the top row only adds bits 252.. of k, see the tests); only the
    /// identity cases remain, and `madd_ct` masks those.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn mul_ct<M: FieldMul>(&self, k: &[u64; 4]) -> Jac {
        let mut acc = Jac::IDENTITY;
        for (i, row) in self.rows.iter().enumerate() {
            let (d, neg) = booth(window(k, W as usize * i, W), W);
            let mut q = select_ct(row, d);
            q.y = q.y.cond_neg(neg);
            let q_zero = super::field::is_zero_mask(d);
            acc = madd_ct::<M>(&acc, &q, q_zero);
        }
        acc
    }

    /// k B in variable time, for public k.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn mul_vartime<M: FieldMul>(&self, k: &[u64; 4]) -> Jac {
        let mut acc = Jac::IDENTITY;
        for (i, row) in self.rows.iter().enumerate() {
            let (d, neg) = booth(window(k, W as usize * i, W), W);
            if d == 0 {
                continue;
            }
            let mut q = row[d as usize - 1];
            if neg != 0 {
                q.y = q.y.neg();
            }
            acc = madd_vartime::<M>(&acc, &q);
        }
        acc
    }
}

/// Width of the generator comb windows.
pub(crate) const G_W: u32 = 7;
/// Rows: ceil(257 / 7), enough for Booth digits over 256 bits.
pub(crate) const G_ROWS: usize = 37;
/// Entries per row: 2^(W-1).
pub(crate) const G_COLS: usize = 64;
/// The generator's comb.
pub(crate) type GTable = Comb<G_W, G_ROWS, G_COLS>;

/// Width-w NAF digits of k (< 2^256), lowest first; odd digits in (-2^(w-1), 2^(w-1)).
pub(crate) fn wnaf(k: &[u64; 4], w: u32) -> [i8; 257] {
    let mut out = [0i8; 257];
    let mut k = [k[0], k[1], k[2], k[3], 0u64];
    let full = 1u64 << w;
    let mut i = 0;
    while k != [0; 5] && i < 257 {
        if k[0] & 1 == 1 {
            let m = k[0] & (full - 1);
            if m >= full / 2 {
                // digit m - 2^w < 0: k += 2^w - m
                out[i] = (m as i64 - full as i64) as i8;
                let mut c = full - m;
                for limb in k.iter_mut() {
                    let (s, carry) = limb.overflowing_add(c);
                    *limb = s;
                    c = carry as u64;
                    if c == 0 {
                        break;
                    }
                }
            } else {
                out[i] = m as i8;
                k[0] -= m;
            }
        }
        for j in 0..4 {
            k[j] = (k[j] >> 1) | (k[j + 1] << 63);
        }
        k[4] >>= 1;
        i += 1;
    }
    out
}

/// Odd multiples P, 3P, ..., (2^(w-1) - 1) P in Jacobian form, for wNAF.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn odd_multiples<M: FieldMul, const K: usize>(p: &Aff) -> [Jac; K] {
    let mut t = [Jac::from_affine(p); K];
    let p2 = dbl::<M>(&t[0]);
    for i in 1..K {
        t[i] = add_vartime::<M>(&t[i - 1], &p2);
    }
    t
}

/// s G + t P in one doubling chain (Straus), variable time: wNAF digits of t (w = 5) on
/// odd multiples of P, and of s (w = 7) on `g_mults` = [G, 2G, ..., 64G] (the first row of
/// the generator's comb), added in affine form.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn double_mul_vartime<M: FieldMul>(g_mults: &[Aff], s: &[u64; 4], p: &Aff, t: &[u64; 4]) -> Jac {
    let table = odd_multiples::<M, 8>(p);
    let ns = wnaf(s, 7);
    let nt = wnaf(t, 5);
    let mut top = ns.len();
    while top > 0 && ns[top - 1] == 0 && nt[top - 1] == 0 {
        top -= 1;
    }
    let mut acc = Jac::IDENTITY;
    for i in (0..top).rev() {
        acc = dbl::<M>(&acc);
        let d = nt[i];
        if d > 0 {
            acc = add_vartime::<M>(&acc, &table[(d / 2) as usize]);
        } else if d < 0 {
            acc = add_vartime::<M>(&acc, &table[(-d / 2) as usize].neg());
        }
        let d = ns[i];
        if d != 0 {
            let mut q = g_mults[d.unsigned_abs() as usize - 1];
            if d < 0 {
                q.y = q.y.neg();
            }
            acc = madd_vartime::<M>(&acc, &q);
        }
    }
    acc
}

/// k P by wNAF (w = 5), variable time.
#[cfg_attr(not(test), allow(dead_code))]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn mul_vartime<M: FieldMul>(p: &Aff, k: &[u64; 4]) -> Jac {
    let table = odd_multiples::<M, 8>(p);
    let naf = wnaf(k, 5);
    let mut acc = Jac::IDENTITY;
    let mut top = naf.len();
    while top > 0 && naf[top - 1] == 0 {
        top -= 1;
    }
    for i in (0..top).rev() {
        acc = dbl::<M>(&acc);
        let d = naf[i];
        if d > 0 {
            acc = add_vartime::<M>(&acc, &table[(d / 2) as usize]);
        } else if d < 0 {
            acc = add_vartime::<M>(&acc, &table[(-d / 2) as usize].neg());
        }
    }
    acc
}

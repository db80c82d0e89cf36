//! Integers mod the group order n on four little-endian u64 limbs. Values are plain
//! (canonical) integers; `mont_mul` is a Montgomery product (R = 2^256), so multiplying a
//! plain value by one kept in Montgomery form gives a plain result. Constant time.

use super::field::{adc, add_mod, is_zero_mask, lt, mac, r2_mod, sub_mod, sub_once};

/// The group order n.
pub(crate) const N: [u64; 4] =
    [0x53BB_F409_39D5_4123, 0x7203_DF6B_21C6_052B, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFE_FFFF_FFFF];

/// -n^-1 mod 2^64.
const N0_INV: u64 = {
    // Newton iteration doubles the correct low bits each step: 1 -> 64 bits in 6 steps.
    let mut inv: u64 = 1;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(N[0].wrapping_mul(inv)));
        i += 1;
    }
    inv.wrapping_neg()
};

/// R^2 mod n.
const R2N: [u64; 4] = r2_mod(&N);

/// a * b * 2^-256 mod n for a, b < n.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn mont_mul(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut t = [0u64; 6];
    for &ai in a.iter() {
        let mut c = 0;
        for j in 0..4 {
            let (lo, hi) = mac(t[j], ai, b[j], c);
            t[j] = lo;
            c = hi;
        }
        let (t4, c2) = adc(t[4], c, 0);
        t[4] = t4;
        t[5] = c2;
        let m = t[0].wrapping_mul(N0_INV);
        let (_, mut c) = mac(t[0], m, N[0], 0);
        for j in 1..4 {
            let (lo, hi) = mac(t[j], m, N[j], c);
            t[j - 1] = lo;
            c = hi;
        }
        let (t3, c2) = adc(t[4], c, 0);
        t[3] = t3;
        t[4] = t[5] + c2;
    }
    sub_once(&[t[0], t[1], t[2], t[3]], t[4], &N)
}

/// a * R mod n, for a < n.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn to_mont(a: &[u64; 4]) -> [u64; 4] {
    mont_mul(a, &R2N)
}

/// (a + b) mod n.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn add(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    add_mod(a, b, &N)
}

/// (a - b) mod n.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn sub(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    sub_mod(a, b, &N)
}

/// a mod n for any a < 2^256 (< 2n, so one subtraction).
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn reduce(a: &[u64; 4]) -> [u64; 4] {
    sub_once(a, 0, &N)
}

/// a is zero (constant time; the result is what a caller may branch on).
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn is_zero(a: &[u64; 4]) -> bool {
    is_zero_mask(a[0] | a[1] | a[2] | a[3]) != 0
}

/// a < n.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn is_below_n(a: &[u64; 4]) -> bool {
    lt(a, &N)
}

#[cfg(test)]
mod tests {
    use super::super::field::limbs_to_be;
    use super::super::field::tests::{ref_mul, Rng};
    use super::*;
    use sm2::elliptic_curve::ff::PrimeField;
    use sm2::{FieldBytes, Scalar};

    fn sc(a: &[u64; 4]) -> Scalar {
        Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(limbs_to_be(a)))).unwrap()
    }

    #[test]
    fn constants() {
        assert_eq!(N[0].wrapping_mul(N0_INV), u64::MAX);
        assert_eq!(ref_mul(&super::super::field::r_mod(&N), &super::super::field::r_mod(&N), &N), R2N);
    }

    #[test]
    fn ops_match_rustcrypto_scalar() {
        let mut rng = Rng(0xDEAD_BEEF);
        let n1 = [N[0] - 1, N[1], N[2], N[3]];
        let mut vals = vec![[0; 4], [1, 0, 0, 0], n1, [u64::MAX, 0, 0, 0]];
        for _ in 0..300 {
            vals.push(rng.below(&N));
        }
        let one = [1u64, 0, 0, 0];
        for (i, a) in vals.iter().enumerate() {
            let b = &vals[(i * 5 + 1) % vals.len()];
            assert_eq!(sc(&add(a, b)), sc(a) + sc(b));
            assert_eq!(sc(&sub(a, b)), sc(a) - sc(b));
            // mont_mul(a, b R) = a b.
            assert_eq!(sc(&mont_mul(a, &to_mont(b))), sc(a) * sc(b));
            assert_eq!(mont_mul(&to_mont(a), &one), *a);
        }
        assert!(is_zero(&add(&n1, &one)));
        assert_eq!(reduce(&N), [0; 4]);
        assert_eq!(reduce(&[u64::MAX; 4]), sub(&[u64::MAX - N[0], u64::MAX - N[1], 0, 1 << 32], &[0; 4]));
        assert!(is_below_n(&n1) && !is_below_n(&N));
    }
}

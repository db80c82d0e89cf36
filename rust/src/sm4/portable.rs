//! Portable constant-time SM4: a bitsliced cipher over `u64` bit-planes (64 blocks per
//! batch) with the S-box computed as a boolean circuit, so no memory access depends on
//! secret data.
//!
//! The S-box is `S(x) = A·inv(A·x ⊕ 0xD3) ⊕ 0xD3` with inversion in GF(2^8) modulo
//! x^8+x^7+x^6+x^5+x^4+x^2+1 (0x1F5). The circuit maps that field isomorphically onto
//! the tower field GF((2^4)^2) = GF(16)[y]/(y^2+y+8), GF(16) = GF(2)[x]/(x^4+x+1), where
//! inversion is a handful of GF(16) multiplications. The two affine maps below already
//! include the change of basis; `tests::tower_sbox_matches_table` checks them against the
//! S-box table of GB/T 32907.

use core::ops::{BitAnd, BitXor, Not};

/// One bit-plane: bit `j` belongs to lane (block or byte) `j`.
pub(crate) trait Plane: Copy + BitXor<Output = Self> + BitAnd<Output = Self> + Not<Output = Self> {
    const ZERO: Self;
    /// All ones when `bit` is 1, else zero; `bit` is 0 or 1.
    fn splat(bit: u32) -> Self;
}

impl Plane for u64 {
    const ZERO: Self = 0;
    #[inline(always)]
    fn splat(bit: u32) -> Self {
        0u64.wrapping_sub(bit as u64)
    }
}

impl Plane for u8 {
    const ZERO: Self = 0;
    #[inline(always)]
    fn splat(bit: u32) -> Self {
        0u8.wrapping_sub(bit as u8)
    }
}

/// Rows of the input affine map (output bit i = parity(row i & x)), then its constant:
/// isomorphism to the tower field composed with SM4's first affine map.
pub(crate) const TOWER_IN: ([u8; 8], u8) = ([0xd8, 0x65, 0xbe, 0xe3, 0x93, 0x40, 0xc4, 0x7f], 0xac);
/// Rows of the output affine map (SM4's affine map composed with the way back) and constant.
pub(crate) const TOWER_OUT: ([u8; 8], u8) = ([0x93, 0x45, 0xe4, 0x95, 0x1a, 0xba, 0x57, 0x19], 0xd3);

/// `rows·x ⊕ c` on bit-planes. The matrix is public, so selecting planes by its bits is
/// not a side channel; masks keep it branch-free anyway and fold away as constants.
#[inline(always)]
fn affine<T: Plane>(m: &([u8; 8], u8), x: &[T; 8]) -> [T; 8] {
    let mut y = [T::ZERO; 8];
    for (i, yi) in y.iter_mut().enumerate() {
        let mut acc = T::splat(((m.1 >> i) & 1) as u32);
        for (j, &xj) in x.iter().enumerate() {
            acc = acc ^ (xj & T::splat(((m.0[i] >> j) & 1) as u32));
        }
        *yi = acc;
    }
    y
}

/// GF(16) product modulo x^4+x+1.
#[inline(always)]
fn mul16<T: Plane>(a: [T; 4], b: [T; 4]) -> [T; 4] {
    let p0 = a[0] & b[0];
    let p1 = (a[0] & b[1]) ^ (a[1] & b[0]);
    let p2 = (a[0] & b[2]) ^ (a[1] & b[1]) ^ (a[2] & b[0]);
    let p3 = (a[0] & b[3]) ^ (a[1] & b[2]) ^ (a[2] & b[1]) ^ (a[3] & b[0]);
    let p4 = (a[1] & b[3]) ^ (a[2] & b[2]) ^ (a[3] & b[1]);
    let p5 = (a[2] & b[3]) ^ (a[3] & b[2]);
    let p6 = a[3] & b[3];
    // x^4 = x+1, x^5 = x^2+x, x^6 = x^3+x^2.
    [p0 ^ p4, p1 ^ p4 ^ p5, p2 ^ p5 ^ p6, p3 ^ p6]
}

/// GF(16) squaring (linear).
#[inline(always)]
fn sq16<T: Plane>(a: [T; 4]) -> [T; 4] {
    [a[0] ^ a[2], a[2], a[1] ^ a[3], a[3]]
}

/// The bitsliced SM4 S-box on eight planes (plane i = bit i of each byte).
#[inline(always)]
pub(crate) fn sbox<T: Plane>(x: &[T; 8]) -> [T; 8] {
    let y = affine(&TOWER_IN, x);
    let a0 = [y[0], y[1], y[2], y[3]];
    let a1 = [y[4], y[5], y[6], y[7]];
    // Norm d = 8·a1² + a1·a0 + a0². Multiplying by 8 = x^3 is linear; written out here.
    let s1 = sq16(a1);
    let l = [s1[1], s1[1] ^ s1[2], s1[2] ^ s1[3], s1[0] ^ s1[3]];
    let m = mul16(a1, a0);
    let s0 = sq16(a0);
    let d = [l[0] ^ m[0] ^ s0[0], l[1] ^ m[1] ^ s0[1], l[2] ^ m[2] ^ s0[2], l[3] ^ m[3] ^ s0[3]];
    // d^-1 = d^14 = d^2·d^4·d^8 (0 maps to 0, as the S-box needs).
    let d2 = sq16(d);
    let d4 = sq16(d2);
    let d8 = sq16(d4);
    let di = mul16(mul16(d2, d4), d8);
    let r1 = mul16(a1, di);
    let r0 = mul16([a0[0] ^ a1[0], a0[1] ^ a1[1], a0[2] ^ a1[2], a0[3] ^ a1[3]], di);
    affine(&TOWER_OUT, &[r0[0], r0[1], r0[2], r0[3], r1[0], r1[1], r1[2], r1[3]])
}

/// τ on one word (four S-boxes) without table lookups; used by the key schedule.
pub(crate) fn tau(w: u32) -> u32 {
    let bytes = w.to_le_bytes();
    let mut planes = [0u8; 8];
    for (i, p) in planes.iter_mut().enumerate() {
        for (lane, &b) in bytes.iter().enumerate() {
            *p |= ((b >> i) & 1) << lane;
        }
    }
    let s = sbox(&planes);
    let mut out = [0u8; 4];
    for (i, &p) in s.iter().enumerate() {
        for (lane, o) in out.iter_mut().enumerate() {
            *o |= ((p >> lane) & 1) << i;
        }
    }
    u32::from_le_bytes(out)
}

/// Blocks per bitsliced batch.
pub(crate) const BATCH: usize = 64;

/// A batch of up to 64 blocks as 4 words × 32 bit-planes (plane b = bit b of the
/// big-endian word, bit j of a plane = block j).
type State = [[u64; 32]; 4];

/// Transpose a 64×64 bit matrix in place: bit c of row r moves to bit r of row c.
fn transpose64(a: &mut [u64; 64]) {
    let mut j = 32usize;
    let mut m: u64 = 0x0000_0000_ffff_ffff;
    while j != 0 {
        let mut k = 0usize;
        while k < 64 {
            // Columns c+j of row k trade places with columns c of row k+j (bit j of c clear).
            let t = ((a[k] >> j) ^ a[k + j]) & m;
            a[k] ^= t << j;
            a[k + j] ^= t;
            k = (k + j + 1) & !j;
        }
        j >>= 1;
        m ^= m << j;
    }
}

fn load(blocks: &[u8]) -> State {
    let mut st = [[0u64; 32]; 4];
    // Two words per row: row j = word w (low 32 bits) | word w+1 (high 32 bits).
    for half in 0..2 {
        let mut rows = [0u64; 64];
        for (j, blk) in blocks.chunks_exact(16).enumerate() {
            let lo = u32::from_be_bytes([blk[8 * half], blk[8 * half + 1], blk[8 * half + 2], blk[8 * half + 3]]);
            let hi = u32::from_be_bytes([blk[8 * half + 4], blk[8 * half + 5], blk[8 * half + 6], blk[8 * half + 7]]);
            rows[j] = lo as u64 | (hi as u64) << 32;
        }
        transpose64(&mut rows);
        st[2 * half].copy_from_slice(&rows[..32]);
        st[2 * half + 1].copy_from_slice(&rows[32..]);
    }
    st
}

fn store(st: &State, order: [usize; 4], blocks: &mut [u8]) {
    for half in 0..2 {
        let mut rows = [0u64; 64];
        rows[..32].copy_from_slice(&st[order[2 * half]]);
        rows[32..].copy_from_slice(&st[order[2 * half + 1]]);
        transpose64(&mut rows);
        for (j, blk) in blocks.chunks_exact_mut(16).enumerate() {
            let r = rows[j];
            blk[8 * half..8 * half + 4].copy_from_slice(&(r as u32).to_be_bytes());
            blk[8 * half + 4..8 * half + 8].copy_from_slice(&((r >> 32) as u32).to_be_bytes());
        }
    }
}

/// One round: `x[i0] ^= L(τ(x[i1] ^ x[i2] ^ x[i3] ^ rk))`.
#[inline(always)]
fn round(st: &mut State, i0: usize, i1: usize, i2: usize, i3: usize, rk: u32) {
    let mut t = [0u64; 32];
    for (b, tb) in t.iter_mut().enumerate() {
        *tb = st[i1][b] ^ st[i2][b] ^ st[i3][b] ^ u64::splat((rk >> b) & 1);
    }
    let mut s = [0u64; 32];
    for byte in 0..4 {
        let mut x = [0u64; 8];
        x.copy_from_slice(&t[8 * byte..8 * byte + 8]);
        let y = sbox(&x);
        s[8 * byte..8 * byte + 8].copy_from_slice(&y);
    }
    // L(B) = B ⊕ B<<<2 ⊕ B<<<10 ⊕ B<<<18 ⊕ B<<<24; rotating a sliced word is re-indexing.
    let x0 = &mut st[i0];
    for b in 0..32 {
        x0[b] ^= s[b] ^ s[(b + 30) % 32] ^ s[(b + 22) % 32] ^ s[(b + 14) % 32] ^ s[(b + 8) % 32];
    }
}

/// Encrypt (or, with reversed round keys, decrypt) whole blocks in place.
pub(crate) fn crypt(rk: &[u32; 32], data: &mut [u8]) {
    for chunk in data.chunks_mut(BATCH * 16) {
        let mut st = load(chunk);
        for r in (0..32).step_by(4) {
            round(&mut st, 0, 1, 2, 3, rk[r]);
            round(&mut st, 1, 2, 3, 0, rk[r + 1]);
            round(&mut st, 2, 3, 0, 1, rk[r + 2]);
            round(&mut st, 3, 0, 1, 2, rk[r + 3]);
        }
        // The output is (X35, X34, X33, X32): words in reverse order.
        store(&st, [3, 2, 1, 0], chunk);
        for w in st.iter_mut() {
            zeroize::Zeroize::zeroize(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_moves_bit_c_of_row_r_to_bit_r_of_row_c() {
        let mut a = [0u64; 64];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for r in a.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *r = x;
        }
        let orig = a;
        transpose64(&mut a);
        for r in 0..64 {
            for c in 0..64 {
                assert_eq!((orig[r] >> c) & 1, (a[c] >> r) & 1, "r={r} c={c}");
            }
        }
    }
}

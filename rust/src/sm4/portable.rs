//! Portable constant-time SM4: a bitsliced cipher over `u64` bit-planes (64 blocks per
//! batch, or a byte-sliced form for the last 16 or fewer) with the S-box computed as a
//! boolean circuit, so no memory access depends on secret data.
//!
//! The S-box is `S(x) = A·inv(A·x ⊕ 0xD3) ⊕ 0xD3` with inversion in GF(2^8) modulo
//! x^8+x^7+x^6+x^5+x^4+x^2+1 (0x1F5). The circuit maps that field isomorphically onto
//! the tower field GF((2^4)^2) = `GF(16)[y]/(y^2+y+8)`, GF(16) = `GF(2)[x]/(x^4+x+1)`, where
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
    let mut rest = data;
    // Batches of up to 64 blocks while more than 16 are left; the last 16 or fewer go
    // through the byte-sliced form, which takes about two thirds of a 64-block batch's
    // time (measured: it is not vectorized the way the four S-boxes of a batch are).
    while rest.len() > SMALL_MAX * 16 {
        let n = rest.len().min(BATCH * 16);
        let (head, tail) = rest.split_at_mut(n);
        crypt64(rk, head);
        rest = tail;
    }
    if !rest.is_empty() {
        crypt16(rk, rest);
    }
}

/// Blocks left at the end that go through [`crypt16`] rather than a 64-block batch.
const SMALL_MAX: usize = 16;

fn crypt64(rk: &[u32; 32], chunk: &mut [u8]) {
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

// ---------------------------------------------------------------------------------------
// Byte-sliced form for up to 16 blocks: each word of the state is 8 planes whose lane
// 4j + b holds byte b (0 = most significant) of that word of block j, so one S-box
// circuit covers all four bytes of all 16 blocks and rotations become plane re-indexing
// plus moves of lanes inside each group of four.

type Small = [[u64; 8]; 4];

/// Transpose the 8×8 bit matrix in a u64 (byte k = row k): bit i of byte k goes to bit
/// k of byte i.
#[inline(always)]
fn transpose8(mut x: u64) -> u64 {
    let t = (x ^ (x >> 7)) & 0x00aa_00aa_00aa_00aa;
    x ^= t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_cccc_0000_cccc;
    x ^= t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_f0f0_f0f0;
    x ^= t ^ (t << 28);
    x
}

fn load16(blocks: &[u8]) -> Small {
    let mut st = [[0u64; 8]; 4];
    for (w, planes) in st.iter_mut().enumerate() {
        // Lane l = 4j + b takes byte b of word w of block j.
        let mut lanes = [0u8; 64];
        for (j, blk) in blocks.chunks_exact(16).enumerate() {
            lanes[4 * j..4 * j + 4].copy_from_slice(&blk[4 * w..4 * w + 4]);
        }
        for (c, group) in lanes.chunks_exact(8).enumerate() {
            let mut g = [0u8; 8];
            g.copy_from_slice(group);
            let t = transpose8(u64::from_le_bytes(g)).to_le_bytes();
            for (i, p) in planes.iter_mut().enumerate() {
                *p |= (t[i] as u64) << (8 * c);
            }
        }
        lanes.fill(0);
    }
    st
}

fn store16(st: &Small, order: [usize; 4], blocks: &mut [u8]) {
    for (w, &src) in order.iter().enumerate() {
        let planes = &st[src];
        let mut lanes = [0u8; 64];
        for (c, group) in lanes.chunks_exact_mut(8).enumerate() {
            let g: [u8; 8] = core::array::from_fn(|i| (planes[i] >> (8 * c)) as u8);
            group.copy_from_slice(&transpose8(u64::from_le_bytes(g)).to_le_bytes());
        }
        for (j, blk) in blocks.chunks_exact_mut(16).enumerate() {
            blk[4 * w..4 * w + 4].copy_from_slice(&lanes[4 * j..4 * j + 4]);
        }
        lanes.fill(0);
    }
}

/// Move every lane from byte position b to b - d (mod 4) inside its group of four.
#[inline(always)]
fn lane_rot(p: u64, d: u32) -> u64 {
    if d == 0 {
        return p;
    }
    let lo = 0x1111_1111_1111_1111u64 * ((1u64 << (4 - d)) - 1);
    ((p >> d) & lo) | ((p << (4 - d)) & !lo)
}

/// The word rotated left by `r` bits, on byte-sliced planes.
#[inline(always)]
fn rotl16(b: &[u64; 8], r: u32) -> [u64; 8] {
    let (q, s) = (r / 8, r % 8);
    core::array::from_fn(|i| {
        let i = i as u32;
        if i >= s {
            lane_rot(b[(i - s) as usize], q % 4)
        } else {
            lane_rot(b[(i + 8 - s) as usize], (q + 1) % 4)
        }
    })
}

#[inline(always)]
fn round16(st: &mut Small, i0: usize, i1: usize, i2: usize, i3: usize, rk: u32) {
    let rb = rk.to_be_bytes();
    let t: [u64; 8] = core::array::from_fn(|i| {
        // Round-key bit i of byte b goes to every lane 4j + b.
        let mut k = 0u64;
        for (b, &byte) in rb.iter().enumerate() {
            k |= (0x1111_1111_1111_1111u64 << b) & u64::splat(((byte >> i) & 1) as u32);
        }
        st[i1][i] ^ st[i2][i] ^ st[i3][i] ^ k
    });
    let s = sbox(&t);
    let (r2, r10, r18, r24) = (rotl16(&s, 2), rotl16(&s, 10), rotl16(&s, 18), rotl16(&s, 24));
    for i in 0..8 {
        st[i0][i] ^= s[i] ^ r2[i] ^ r10[i] ^ r18[i] ^ r24[i];
    }
}

/// Up to 16 blocks through the byte-sliced form.
fn crypt16(rk: &[u32; 32], chunk: &mut [u8]) {
    let mut st = load16(chunk);
    for r in (0..32).step_by(4) {
        round16(&mut st, 0, 1, 2, 3, rk[r]);
        round16(&mut st, 1, 2, 3, 0, rk[r + 1]);
        round16(&mut st, 2, 3, 0, 1, rk[r + 2]);
        round16(&mut st, 3, 0, 1, 2, rk[r + 3]);
    }
    store16(&st, [3, 2, 1, 0], chunk);
    for w in st.iter_mut() {
        zeroize::Zeroize::zeroize(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose8_moves_bit_i_of_byte_k_to_bit_k_of_byte_i() {
        let mut x = 0x0123_4567_89ab_cdefu64;
        for _ in 0..100 {
            x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17);
            let y = transpose8(x);
            for k in 0..8 {
                for i in 0..8 {
                    assert_eq!((x >> (8 * k + i)) & 1, (y >> (8 * i + k)) & 1);
                }
            }
        }
    }

    #[test]
    fn byte_sliced_rotations_match_scalar() {
        let mut x = 0x0123_4567_89ab_cdefu64;
        let words: Vec<u32> = (0..16)
            .map(|_| {
                x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17);
                x as u32
            })
            .collect();
        let mut blocks = vec![0u8; 256];
        for (j, w) in words.iter().enumerate() {
            blocks[16 * j..16 * j + 4].copy_from_slice(&w.to_be_bytes());
        }
        let st = load16(&blocks);
        for r in [0u32, 2, 8, 10, 18, 24, 31] {
            let rot = [rotl16(&st[0], r), st[1], st[2], st[3]];
            let mut out = vec![0u8; 256];
            store16(&rot, [0, 1, 2, 3], &mut out);
            for (j, w) in words.iter().enumerate() {
                let got = u32::from_be_bytes(out[16 * j..16 * j + 4].try_into().unwrap());
                assert_eq!(got, w.rotate_left(r), "r={r} j={j}");
            }
        }
        // Load and store are inverse.
        let mut out = vec![0u8; 256];
        store16(&st, [0, 1, 2, 3], &mut out);
        assert_eq!(out, blocks);
    }

    #[test]
    fn both_batch_forms_agree() {
        let rk: [u32; 32] = core::array::from_fn(|i| (i as u32).wrapping_mul(0x9e37_79b9) ^ 0x5bd1_e995);
        let data: Vec<u8> = (0..1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for blocks in 1..=16 {
            let mut a = data[..16 * blocks].to_vec();
            let mut b = a.clone();
            crypt64(&rk, &mut a);
            crypt16(&rk, &mut b);
            assert_eq!(a, b, "{blocks} blocks");
        }
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
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

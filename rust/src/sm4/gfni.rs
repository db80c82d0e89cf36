//! SM4 with the S-box on GFNI: `S(x) = A·inv(A·x ⊕ 0xD3) ⊕ 0xD3` in SM4's field (0x1F5)
//! becomes `gf2p8affineinvqb(gf2p8affineqb(x, PRE, 0x3E), POST, 0xD3)`, where PRE folds
//! the isomorphism from SM4's field into the AES field (in which GFNI inverts) after A,
//! and POST folds the way back before A. Blocks are word-sliced: one vector register
//! holds the same word of 8 (AVX2) or 16 (AVX-512) blocks, so each round is a few
//! whole-register operations for all of them.
//!
//! Every function here needs the CPU features named in its `target_feature`; the only
//! entry points, [`crypt_avx2`] and [`crypt_avx512`], are called solely for a
//! [`super::Backend`] that passed runtime detection.

use core::arch::x86_64::*;

/// gf2p8affineqb matrix: byte 7-i of the qword is the row giving output bit i.
pub(crate) const PRE: u64 = 0x4c28_7db9_1a22_505d;
/// Constant added after the `PRE` matrix.
pub(crate) const PRE_C: i32 = 0x3e;
/// gf2p8affineinvqb matrix applied after the AES-field inversion.
pub(crate) const POST: u64 = 0xf3ab_34a9_74a6_b589;
/// Constant added after the `POST` matrix (SM4's own 0xD3).
pub(crate) const POST_C: i32 = 0xd3;

/// pshufb pattern turning each big-endian 32-bit word into a native one (and back).
const BSWAP32: [u8; 16] = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];
/// pshufb patterns rotating each 32-bit lane left by 8, 16 and 24 bits.
const ROL8: [u8; 16] = [3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14];
const ROL16: [u8; 16] = [2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13];
const ROL24: [u8; 16] = [1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12];

// ---------------------------------------------------------------- AVX2: 8 blocks a set

/// Blocks in one AVX2 set (four registers of eight 32-bit lanes).
const SET256: usize = 8;
/// Sets processed together for instruction-level parallelism.
const N256: usize = 4;

#[inline]
#[target_feature(enable = "avx2")]
fn bcast128(p: &[u8; 16]) -> __m256i {
    // SAFETY: `p` is 16 readable bytes; loadu has no alignment requirement.
    let v = unsafe { _mm_loadu_si128(p.as_ptr() as *const __m128i) };
    _mm256_broadcastsi128_si256(v)
}

/// 4×4 transpose of 32-bit words inside each 128-bit lane (its own inverse).
#[inline]
#[target_feature(enable = "avx2")]
fn transpose256(x: &mut [__m256i; 4]) {
    let t0 = _mm256_unpacklo_epi32(x[0], x[1]);
    let t1 = _mm256_unpackhi_epi32(x[0], x[1]);
    let t2 = _mm256_unpacklo_epi32(x[2], x[3]);
    let t3 = _mm256_unpackhi_epi32(x[2], x[3]);
    x[0] = _mm256_unpacklo_epi64(t0, t2);
    x[1] = _mm256_unpackhi_epi64(t0, t2);
    x[2] = _mm256_unpacklo_epi64(t1, t3);
    x[3] = _mm256_unpackhi_epi64(t1, t3);
}

#[inline]
#[target_feature(enable = "avx2,gfni")]
fn sbox256(x: __m256i) -> __m256i {
    let pre = _mm256_set1_epi64x(PRE as i64);
    let post = _mm256_set1_epi64x(POST as i64);
    _mm256_gf2p8affineinv_epi64_epi8::<POST_C>(_mm256_gf2p8affine_epi64_epi8::<PRE_C>(x, pre), post)
}

/// Encrypt `N` sets of 8 blocks in place, set s at `ptrs[s]`.
///
/// # Safety
/// The CPU must support AVX2 and GFNI, and each pointer must be valid for reading and
/// writing 128 bytes.
#[target_feature(enable = "avx2,gfni")]
unsafe fn kernel256<const N: usize>(rk: &[u32; 32], ptrs: &[*mut u8; N]) {
    let bswap = bcast128(&BSWAP32);
    let rol8 = bcast128(&ROL8);
    let rol16 = bcast128(&ROL16);
    let rol24 = bcast128(&ROL24);
    let mut x = [[_mm256_setzero_si256(); 4]; N];
    for (s, xs) in x.iter_mut().enumerate() {
        for (k, v) in xs.iter_mut().enumerate() {
            // SAFETY: register k covers bytes 32k .. 32k+32 of the 128-byte set.
            let l = unsafe { _mm256_loadu_si256(ptrs[s].add(k * 32) as *const __m256i) };
            *v = _mm256_shuffle_epi8(l, bswap);
        }
        transpose256(xs);
    }
    macro_rules! round {
        ($a:expr, $b:expr, $c:expr, $d:expr, $rk:expr) => {{
            let k = _mm256_set1_epi32($rk as i32);
            for xs in x.iter_mut() {
                let t = _mm256_xor_si256(_mm256_xor_si256(xs[$b], xs[$c]), _mm256_xor_si256(xs[$d], k));
                let t = sbox256(t);
                // L(B) = B ^ B<<<24 ^ (B ^ B<<<8 ^ B<<<16)<<<2
                let m =
                    _mm256_xor_si256(_mm256_xor_si256(t, _mm256_shuffle_epi8(t, rol8)), _mm256_shuffle_epi8(t, rol16));
                let m2 = _mm256_or_si256(_mm256_slli_epi32::<2>(m), _mm256_srli_epi32::<30>(m));
                let l = _mm256_xor_si256(_mm256_xor_si256(t, _mm256_shuffle_epi8(t, rol24)), m2);
                xs[$a] = _mm256_xor_si256(xs[$a], l);
            }
        }};
    }
    for r in (0..32).step_by(4) {
        round!(0, 1, 2, 3, rk[r]);
        round!(1, 2, 3, 0, rk[r + 1]);
        round!(2, 3, 0, 1, rk[r + 2]);
        round!(3, 0, 1, 2, rk[r + 3]);
    }
    for (s, xs) in x.iter_mut().enumerate() {
        // Output words are X35, X34, X33, X32.
        let mut o = [xs[3], xs[2], xs[1], xs[0]];
        transpose256(&mut o);
        for (k, v) in o.iter().enumerate() {
            // SAFETY: same range as the load above.
            unsafe { _mm256_storeu_si256(ptrs[s].add(k * 32) as *mut __m256i, _mm256_shuffle_epi8(*v, bswap)) };
        }
    }
}

/// Encrypt whole blocks in place (decrypt with reversed round keys).
///
/// # Safety
/// The CPU must support AVX2 and GFNI.
#[target_feature(enable = "avx2,gfni")]
pub(crate) unsafe fn crypt_avx2(rk: &[u32; 32], data: &mut [u8]) {
    crypt_in_groups!(rk, data, kernel256, SET256, N256, [1, 2, 3, 4, 5]);
}

// ------------------------------------------------------------- AVX-512: 16 blocks a set

/// Blocks in one AVX-512 set.
const SET512: usize = 16;
/// Sets processed together.
const N512: usize = 8;

#[inline]
#[target_feature(enable = "avx512f")]
fn transpose512(x: &mut [__m512i; 4]) {
    let t0 = _mm512_unpacklo_epi32(x[0], x[1]);
    let t1 = _mm512_unpackhi_epi32(x[0], x[1]);
    let t2 = _mm512_unpacklo_epi32(x[2], x[3]);
    let t3 = _mm512_unpackhi_epi32(x[2], x[3]);
    x[0] = _mm512_unpacklo_epi64(t0, t2);
    x[1] = _mm512_unpackhi_epi64(t0, t2);
    x[2] = _mm512_unpacklo_epi64(t1, t3);
    x[3] = _mm512_unpackhi_epi64(t1, t3);
}

#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn bcast512(p: &[u8; 16]) -> __m512i {
    // SAFETY: `p` is 16 readable bytes; loadu has no alignment requirement.
    let v = unsafe { _mm_loadu_si128(p.as_ptr() as *const __m128i) };
    _mm512_broadcast_i32x4(v)
}

#[inline]
#[target_feature(enable = "avx512f,avx512bw,gfni")]
fn sbox512(x: __m512i) -> __m512i {
    let pre = _mm512_set1_epi64(PRE as i64);
    let post = _mm512_set1_epi64(POST as i64);
    _mm512_gf2p8affineinv_epi64_epi8::<POST_C>(_mm512_gf2p8affine_epi64_epi8::<PRE_C>(x, pre), post)
}

/// Encrypt `N` sets of 16 blocks in place, set s at `ptrs[s]`.
///
/// # Safety
/// The CPU must support AVX-512F/BW and GFNI, and each pointer must be valid for
/// reading and writing 256 bytes.
#[target_feature(enable = "avx512f,avx512bw,gfni")]
unsafe fn kernel512<const N: usize>(rk: &[u32; 32], ptrs: &[*mut u8; N]) {
    let bswap = bcast512(&BSWAP32);
    let mut x = [[_mm512_setzero_si512(); 4]; N];
    for (s, xs) in x.iter_mut().enumerate() {
        for (k, v) in xs.iter_mut().enumerate() {
            // SAFETY: register k covers bytes 64k .. 64k+64 of the 256-byte set.
            let l = unsafe { _mm512_loadu_si512(ptrs[s].add(k * 64) as *const _) };
            *v = _mm512_shuffle_epi8(l, bswap);
        }
        transpose512(xs);
    }
    macro_rules! round {
        ($a:expr, $b:expr, $c:expr, $d:expr, $rk:expr) => {{
            let k = _mm512_set1_epi32($rk as i32);
            for xs in x.iter_mut() {
                // 0x96 is the three-way XOR.
                let t = _mm512_ternarylogic_epi32::<0x96>(xs[$b], xs[$c], xs[$d]);
                let t = sbox512(_mm512_xor_si512(t, k));
                let u = _mm512_ternarylogic_epi32::<0x96>(xs[$a], t, _mm512_rol_epi32::<2>(t));
                let u = _mm512_ternarylogic_epi32::<0x96>(u, _mm512_rol_epi32::<10>(t), _mm512_rol_epi32::<18>(t));
                xs[$a] = _mm512_xor_si512(u, _mm512_rol_epi32::<24>(t));
            }
        }};
    }
    for r in (0..32).step_by(4) {
        round!(0, 1, 2, 3, rk[r]);
        round!(1, 2, 3, 0, rk[r + 1]);
        round!(2, 3, 0, 1, rk[r + 2]);
        round!(3, 0, 1, 2, rk[r + 3]);
    }
    for (s, xs) in x.iter_mut().enumerate() {
        let mut o = [xs[3], xs[2], xs[1], xs[0]];
        transpose512(&mut o);
        for (k, v) in o.iter().enumerate() {
            // SAFETY: same range as the load above.
            unsafe { _mm512_storeu_si512(ptrs[s].add(k * 64) as *mut _, _mm512_shuffle_epi8(*v, bswap)) };
        }
    }
}

/// Encrypt whole blocks in place (decrypt with reversed round keys).
///
/// # Safety
/// The CPU must support AVX-512F/BW and GFNI.
#[target_feature(enable = "avx512f,avx512bw,gfni")]
pub(crate) unsafe fn crypt_avx512(rk: &[u32; 32], data: &mut [u8]) {
    crypt_in_groups!(rk, data, kernel512, SET512, N512, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

/// τ (four S-boxes) on one word, for the key schedule.
///
/// # Safety
/// The CPU must support GFNI.
#[target_feature(enable = "gfni,sse2")]
pub(crate) unsafe fn tau(w: u32) -> u32 {
    let x = _mm_cvtsi32_si128(w as i32);
    let pre = _mm_set1_epi64x(PRE as i64);
    let post = _mm_set1_epi64x(POST as i64);
    let y = _mm_gf2p8affineinv_epi64_epi8::<POST_C>(_mm_gf2p8affine_epi64_epi8::<PRE_C>(x, pre), post);
    _mm_cvtsi128_si32(y) as u32
}

//! SM4 with the S-box on AES-NI. SM4's field and the AES field are isomorphic, so
//! `S(x) = A·inv(A·x ⊕ 0xD3) ⊕ 0xD3` equals `POST(SubBytes_AES(PRE(x)))` for two affine
//! maps PRE and POST (the isomorphism and its inverse folded with SM4's affine map and the
//! inverse of AES's). `aesenclast` with a zero round key gives SubBytes∘ShiftRows, so the
//! input is first shuffled by InvShiftRows; the affine maps are two pshufb lookups of
//! 16-entry nibble tables each. Tables live in registers, so nothing is indexed by secret
//! data in memory.
//!
//! Blocks are word-sliced, four per set of four registers. Every function here needs
//! the CPU features named in its `target_feature`; the entry point [`crypt`] is called
//! solely for a [`super::Backend`] that passed runtime detection.

use core::arch::x86_64::*;

/// PRE as nibble tables: `PRE(x) = PRE_LO[x & 15] ^ PRE_HI[x >> 4]` (constant in PRE_LO).
pub(crate) const PRE_LO: [u8; 16] =
    [0x3e, 0xb2, 0x0e, 0x82, 0xbb, 0x37, 0x8b, 0x07, 0xa1, 0x2d, 0x91, 0x1d, 0x24, 0xa8, 0x14, 0x98];
pub(crate) const PRE_HI: [u8; 16] =
    [0x00, 0xdc, 0x2e, 0xf2, 0xc5, 0x19, 0xeb, 0x37, 0x08, 0xd4, 0x26, 0xfa, 0xcd, 0x11, 0xe3, 0x3f];
/// POST as nibble tables, applied to the output of AES SubBytes.
pub(crate) const POST_LO: [u8; 16] =
    [0x6c, 0xd4, 0xa6, 0x1e, 0x52, 0xea, 0x98, 0x20, 0x0b, 0xb3, 0xc1, 0x79, 0x35, 0x8d, 0xff, 0x47];
pub(crate) const POST_HI: [u8; 16] =
    [0x00, 0xe0, 0x50, 0xb0, 0x9d, 0x7d, 0xcd, 0x2d, 0xc0, 0x20, 0x90, 0x70, 0x5d, 0xbd, 0x0d, 0xed];

/// pshufb pattern for InvShiftRows: out[r + 4c] = in[r + 4((c - r) mod 4)].
pub(crate) const INV_SHIFT_ROWS: [u8; 16] = {
    let mut p = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        let (r, c) = (i % 4, i / 4);
        p[i] = (r + 4 * ((c + 4 - r) % 4)) as u8;
        i += 1;
    }
    p
};

const BSWAP32: [u8; 16] = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];
const ROL8: [u8; 16] = [3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14];
const ROL16: [u8; 16] = [2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13];
const ROL24: [u8; 16] = [1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12];

/// Blocks per set (four registers of four 32-bit lanes).
const SET: usize = 4;
/// Sets processed together for instruction-level parallelism.
const N: usize = 8;

#[inline]
#[target_feature(enable = "sse2")]
fn ld(p: &[u8; 16]) -> __m128i {
    // SAFETY: `p` is 16 readable bytes; loadu has no alignment requirement.
    unsafe { _mm_loadu_si128(p.as_ptr() as *const __m128i) }
}

/// 4×4 transpose of 32-bit words (its own inverse).
#[inline]
#[target_feature(enable = "sse2")]
fn transpose(x: &mut [__m128i; 4]) {
    let t0 = _mm_unpacklo_epi32(x[0], x[1]);
    let t1 = _mm_unpackhi_epi32(x[0], x[1]);
    let t2 = _mm_unpacklo_epi32(x[2], x[3]);
    let t3 = _mm_unpackhi_epi32(x[2], x[3]);
    x[0] = _mm_unpacklo_epi64(t0, t2);
    x[1] = _mm_unpackhi_epi64(t0, t2);
    x[2] = _mm_unpacklo_epi64(t1, t3);
    x[3] = _mm_unpackhi_epi64(t1, t3);
}

/// Constants kept in registers across rounds.
struct Consts {
    m0f: __m128i,
    pre_lo: __m128i,
    pre_hi: __m128i,
    post_lo: __m128i,
    post_hi: __m128i,
    isr: __m128i,
    rol8: __m128i,
    rol16: __m128i,
    rol24: __m128i,
}

#[inline]
#[target_feature(enable = "sse2")]
fn consts() -> Consts {
    Consts {
        m0f: _mm_set1_epi8(0x0f),
        pre_lo: ld(&PRE_LO),
        pre_hi: ld(&PRE_HI),
        post_lo: ld(&POST_LO),
        post_hi: ld(&POST_HI),
        isr: ld(&INV_SHIFT_ROWS),
        rol8: ld(&ROL8),
        rol16: ld(&ROL16),
        rol24: ld(&ROL24),
    }
}

/// Byte-wise affine map through two nibble tables.
#[inline]
#[target_feature(enable = "ssse3")]
fn nibble_affine(x: __m128i, lo: __m128i, hi: __m128i, m0f: __m128i) -> __m128i {
    let l = _mm_and_si128(x, m0f);
    let h = _mm_and_si128(_mm_srli_epi16::<4>(x), m0f);
    _mm_xor_si128(_mm_shuffle_epi8(lo, l), _mm_shuffle_epi8(hi, h))
}

#[inline]
#[target_feature(enable = "ssse3,aes")]
fn sbox(x: __m128i, c: &Consts) -> __m128i {
    let y = nibble_affine(x, c.pre_lo, c.pre_hi, c.m0f);
    let y = _mm_aesenclast_si128(_mm_shuffle_epi8(y, c.isr), _mm_setzero_si128());
    nibble_affine(y, c.post_lo, c.post_hi, c.m0f)
}

/// Encrypt `S` sets of 4 blocks in place, set s at `ptrs[s]`.
///
/// # Safety
/// The CPU must support SSSE3 and AES-NI, and each pointer must be valid for reading
/// and writing 64 bytes.
#[target_feature(enable = "ssse3,aes")]
unsafe fn kernel<const S: usize>(rk: &[u32; 32], ptrs: &[*mut u8; S]) {
    let c = consts();
    let bswap = ld(&BSWAP32);
    let mut x = [[_mm_setzero_si128(); 4]; S];
    for (s, xs) in x.iter_mut().enumerate() {
        for (k, v) in xs.iter_mut().enumerate() {
            // SAFETY: block k of the 64-byte set.
            let l = unsafe { _mm_loadu_si128(ptrs[s].add(k * 16) as *const __m128i) };
            *v = _mm_shuffle_epi8(l, bswap);
        }
        transpose(xs);
    }
    macro_rules! round {
        ($a:expr, $b:expr, $c:expr, $d:expr, $rk:expr) => {{
            let k = _mm_set1_epi32($rk as i32);
            for xs in x.iter_mut() {
                let t = _mm_xor_si128(_mm_xor_si128(xs[$b], xs[$c]), _mm_xor_si128(xs[$d], k));
                let t = sbox(t, &c);
                // L(B) = B ^ B<<<24 ^ (B ^ B<<<8 ^ B<<<16)<<<2
                let m = _mm_xor_si128(_mm_xor_si128(t, _mm_shuffle_epi8(t, c.rol8)), _mm_shuffle_epi8(t, c.rol16));
                let m2 = _mm_or_si128(_mm_slli_epi32::<2>(m), _mm_srli_epi32::<30>(m));
                let l = _mm_xor_si128(_mm_xor_si128(t, _mm_shuffle_epi8(t, c.rol24)), m2);
                xs[$a] = _mm_xor_si128(xs[$a], l);
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
        transpose(&mut o);
        for (k, v) in o.iter().enumerate() {
            // SAFETY: same range as the load above.
            unsafe { _mm_storeu_si128(ptrs[s].add(k * 16) as *mut __m128i, _mm_shuffle_epi8(*v, bswap)) };
        }
    }
}

/// Encrypt whole blocks in place (decrypt with reversed round keys).
///
/// # Safety
/// The CPU must support SSSE3 and AES-NI.
#[target_feature(enable = "ssse3,aes")]
pub(crate) unsafe fn crypt(rk: &[u32; 32], data: &mut [u8]) {
    crypt_in_groups!(rk, data, kernel, SET, N, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

// ------------------------------- AVX2, with VAES or split AES-NI: 8 blocks a set, 256-bit

/// Blocks in one 256-bit set.
const SET256: usize = 8;
/// Sets processed together.
const N256: usize = 4;

#[inline]
#[target_feature(enable = "avx2")]
fn bcast(p: &[u8; 16]) -> __m256i {
    _mm256_broadcastsi128_si256(ld(p))
}

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

/// 256-bit versions of the constants.
struct Consts256 {
    m0f: __m256i,
    pre_lo: __m256i,
    pre_hi: __m256i,
    post_lo: __m256i,
    post_hi: __m256i,
    isr: __m256i,
    rol8: __m256i,
    rol16: __m256i,
    rol24: __m256i,
}

#[inline]
#[target_feature(enable = "avx2")]
fn consts256() -> Consts256 {
    Consts256 {
        m0f: _mm256_set1_epi8(0x0f),
        pre_lo: bcast(&PRE_LO),
        pre_hi: bcast(&PRE_HI),
        post_lo: bcast(&POST_LO),
        post_hi: bcast(&POST_HI),
        isr: bcast(&INV_SHIFT_ROWS),
        rol8: bcast(&ROL8),
        rol16: bcast(&ROL16),
        rol24: bcast(&ROL24),
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn nibble_affine256(x: __m256i, lo: __m256i, hi: __m256i, m0f: __m256i) -> __m256i {
    let l = _mm256_and_si256(x, m0f);
    let h = _mm256_and_si256(_mm256_srli_epi16::<4>(x), m0f);
    _mm256_xor_si256(_mm256_shuffle_epi8(lo, l), _mm256_shuffle_epi8(hi, h))
}

#[inline]
#[target_feature(enable = "avx2,vaes")]
fn sbox_vaes(x: __m256i, c: &Consts256) -> __m256i {
    let y = nibble_affine256(x, c.pre_lo, c.pre_hi, c.m0f);
    let y = _mm256_aesenclast_epi128(_mm256_shuffle_epi8(y, c.isr), _mm256_setzero_si256());
    nibble_affine256(y, c.post_lo, c.post_hi, c.m0f)
}

/// Without VAES, SubBytes runs on the two 128-bit halves separately.
#[inline]
#[target_feature(enable = "avx2,aes")]
fn sbox_split(x: __m256i, c: &Consts256) -> __m256i {
    let y = _mm256_shuffle_epi8(nibble_affine256(x, c.pre_lo, c.pre_hi, c.m0f), c.isr);
    let lo = _mm_aesenclast_si128(_mm256_castsi256_si128(y), _mm_setzero_si128());
    let hi = _mm_aesenclast_si128(_mm256_extracti128_si256::<1>(y), _mm_setzero_si128());
    let y = _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(lo), hi);
    nibble_affine256(y, c.post_lo, c.post_hi, c.m0f)
}

/// Defines `unsafe fn $name<const S: usize>(rk, ptrs: &[*mut u8; S])`, encrypting S sets of
/// 8 blocks in place (set s at `ptrs[s]`) with S-box `$sbox`.
/// Safety contract of the generated function: the CPU must support `$feat`, and each
/// pointer must be valid for reading and writing 128 bytes.
macro_rules! kernel256 {
    ($name:ident, $feat:literal, $sbox:ident) => {
        #[target_feature(enable = $feat)]
        unsafe fn $name<const S: usize>(rk: &[u32; 32], ptrs: &[*mut u8; S]) {
            let c = consts256();
            let bswap = bcast(&BSWAP32);
            let mut x = [[_mm256_setzero_si256(); 4]; S];
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
                        let t = $sbox(t, &c);
                        let m = _mm256_xor_si256(
                            _mm256_xor_si256(t, _mm256_shuffle_epi8(t, c.rol8)),
                            _mm256_shuffle_epi8(t, c.rol16),
                        );
                        let m2 = _mm256_or_si256(_mm256_slli_epi32::<2>(m), _mm256_srli_epi32::<30>(m));
                        let l = _mm256_xor_si256(_mm256_xor_si256(t, _mm256_shuffle_epi8(t, c.rol24)), m2);
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
                let mut o = [xs[3], xs[2], xs[1], xs[0]];
                transpose256(&mut o);
                for (k, v) in o.iter().enumerate() {
                    // SAFETY: same range as the load above.
                    unsafe { _mm256_storeu_si256(ptrs[s].add(k * 32) as *mut __m256i, _mm256_shuffle_epi8(*v, bswap)) };
                }
            }
        }
    };
}

kernel256!(kernel_vaes, "avx2,vaes", sbox_vaes);
kernel256!(kernel_split, "avx2,aes", sbox_split);

/// Encrypt whole blocks in place with VAES on 256-bit registers.
///
/// # Safety
/// The CPU must support AVX2 and VAES.
#[target_feature(enable = "avx2,vaes")]
pub(crate) unsafe fn crypt_vaes(rk: &[u32; 32], data: &mut [u8]) {
    crypt_in_groups!(rk, data, kernel_vaes, SET256, N256, [1, 2, 3, 4, 5]);
}

/// Encrypt whole blocks in place with AVX2, SubBytes by 128-bit AES-NI on each half.
///
/// # Safety
/// The CPU must support AVX2 and AES-NI.
#[target_feature(enable = "avx2,aes")]
pub(crate) unsafe fn crypt_avx2(rk: &[u32; 32], data: &mut [u8]) {
    crypt_in_groups!(rk, data, kernel_split, SET256, N256, [1, 2, 3, 4, 5]);
}

/// τ (four S-boxes) on one word, for the key schedule.
///
/// # Safety
/// The CPU must support SSSE3 and AES-NI.
#[target_feature(enable = "ssse3,aes")]
pub(crate) unsafe fn tau(w: u32) -> u32 {
    let c = consts();
    // InvShiftRows then ShiftRows leave the word in lane 0.
    _mm_cvtsi128_si32(sbox(_mm_cvtsi32_si128(w as i32), &c)) as u32
}

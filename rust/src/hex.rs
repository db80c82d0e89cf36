//! Hex text, as the protocol writes it: uppercase out, either case in.
//!
//! Hex here also carries key material (SM2 private keys, SM4 data keys), so neither
//! direction indexes memory by data bytes: encoding is arithmetic on 64-bit words (or
//! pshufb on register-resident tables with SSSE3/AVX2/AVX-512), decoding is branch-free
//! arithmetic (SWAR or AVX2 compares) until an error has already been found.

/// Uppercase hex of `bytes`.
pub fn encode_upper(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    encode_upper_into(bytes, &mut out);
    // Only ASCII digits and letters were written.
    String::from_utf8(out).unwrap_or_default()
}

/// Write uppercase hex of `bytes` into `out`, which must be exactly twice as long
/// (anything else writes only the whole pairs that fit).
pub fn encode_upper_into(bytes: &[u8], out: &mut [u8]) {
    let n = bytes.len().min(out.len() / 2);
    let (bytes, out) = (&bytes[..n], &mut out[..2 * n]);
    #[cfg(target_arch = "x86_64")]
    {
        if n >= 64 && is_x86_feature_detected!("avx512bw") {
            // SAFETY: AVX-512BW (which implies AVX-512F) was detected just above.
            let done = unsafe { encode_avx512(bytes, out) };
            encode_swar(&bytes[done..], &mut out[2 * done..]);
            return;
        }
        if n >= 32 && is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was detected just above.
            let done = unsafe { encode_avx2(bytes, out) };
            encode_swar(&bytes[done..], &mut out[2 * done..]);
            return;
        }
        if n >= 16 && is_x86_feature_detected!("ssse3") {
            // SAFETY: SSSE3 was detected just above.
            let done = unsafe { encode_ssse3(bytes, out) };
            encode_swar(&bytes[done..], &mut out[2 * done..]);
            return;
        }
    }
    encode_swar(bytes, out);
}

/// Hex digits for 4 bytes as 8 ASCII bytes (little-endian u64 = output order).
#[inline(always)]
fn hex4(x: u32) -> u64 {
    // Spread input byte k (little-endian in `x`) to bits 16k..16k+8, then put its high
    // nibble in output byte 2k and its low nibble in byte 2k+1.
    let mut v = x as u64;
    v = (v | v << 16) & 0x0000_ffff_0000_ffff;
    v = (v | v << 8) & 0x00ff_00ff_00ff_00ff;
    let n = (v >> 4 & 0x000f_000f_000f_000f) | (v & 0x000f_000f_000f_000f) << 8;
    // n + '0', plus 7 more where n >= 10 (n + 6 carries into bit 4 exactly then).
    let letters = ((n + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    n + 0x3030_3030_3030_3030 + letters * 7
}

fn encode_swar(bytes: &[u8], out: &mut [u8]) {
    let mut chunks = bytes.chunks_exact(4);
    let mut outs = out.chunks_exact_mut(8);
    for (c, o) in (&mut chunks).zip(&mut outs) {
        let x = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        o.copy_from_slice(&hex4(x).to_le_bytes());
    }
    let orem = outs.into_remainder();
    for (&b, o) in chunks.remainder().iter().zip(orem.chunks_exact_mut(2)) {
        let d = hex4(b as u32).to_le_bytes();
        o[0] = d[0];
        o[1] = d[1];
    }
}

/// Encode as many whole 16-byte chunks as there are; returns how many bytes were done.
///
/// # Safety
/// The CPU must support SSSE3. `out` is twice as long as `bytes`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
unsafe fn encode_ssse3(bytes: &[u8], out: &mut [u8]) -> usize {
    use core::arch::x86_64::*;
    // SAFETY: 16 readable bytes.
    let digits = unsafe { _mm_loadu_si128(b"0123456789ABCDEF".as_ptr() as *const __m128i) };
    let m0f = _mm_set1_epi8(0x0f);
    let mut done = 0;
    for (c, o) in bytes.chunks_exact(16).zip(out.chunks_exact_mut(32)) {
        // SAFETY: `c` is 16 bytes and `o` 32, as the chunk sizes guarantee.
        unsafe {
            let x = _mm_loadu_si128(c.as_ptr() as *const __m128i);
            let hi = _mm_shuffle_epi8(digits, _mm_and_si128(_mm_srli_epi16::<4>(x), m0f));
            let lo = _mm_shuffle_epi8(digits, _mm_and_si128(x, m0f));
            _mm_storeu_si128(o.as_mut_ptr() as *mut __m128i, _mm_unpacklo_epi8(hi, lo));
            _mm_storeu_si128(o.as_mut_ptr().add(16) as *mut __m128i, _mm_unpackhi_epi8(hi, lo));
        }
        done += 16;
    }
    done
}

/// Encode as many whole 32-byte chunks as there are; returns how many bytes were done.
///
/// # Safety
/// The CPU must support AVX2. `out` is twice as long as `bytes`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn encode_avx2(bytes: &[u8], out: &mut [u8]) -> usize {
    use core::arch::x86_64::*;
    // SAFETY: 16 readable bytes.
    let digits =
        _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(b"0123456789ABCDEF".as_ptr() as *const __m128i) });
    let m0f = _mm256_set1_epi8(0x0f);
    let mut done = 0;
    for (c, o) in bytes.chunks_exact(32).zip(out.chunks_exact_mut(64)) {
        // SAFETY: `c` is 32 bytes and `o` 64, as the chunk sizes guarantee.
        unsafe {
            let x = _mm256_loadu_si256(c.as_ptr() as *const __m256i);
            let hi = _mm256_shuffle_epi8(digits, _mm256_and_si256(_mm256_srli_epi16::<4>(x), m0f));
            let lo = _mm256_shuffle_epi8(digits, _mm256_and_si256(x, m0f));
            // Interleaving works per 128-bit lane: a = bytes 0-7 | 16-23, b = 8-15 | 24-31.
            let a = _mm256_unpacklo_epi8(hi, lo);
            let b = _mm256_unpackhi_epi8(hi, lo);
            _mm256_storeu_si256(o.as_mut_ptr() as *mut __m256i, _mm256_permute2x128_si256::<0x20>(a, b));
            _mm256_storeu_si256(o.as_mut_ptr().add(32) as *mut __m256i, _mm256_permute2x128_si256::<0x31>(a, b));
        }
        done += 32;
    }
    done
}

/// Encode as many whole 64-byte chunks as there are; returns how many bytes were done.
///
/// # Safety
/// The CPU must support AVX-512F and BW. `out` is twice as long as `bytes`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn encode_avx512(bytes: &[u8], out: &mut [u8]) -> usize {
    use core::arch::x86_64::*;
    // SAFETY: 16 readable bytes.
    let digits = _mm512_broadcast_i32x4(unsafe { _mm_loadu_si128(b"0123456789ABCDEF".as_ptr() as *const __m128i) });
    let m0f = _mm512_set1_epi8(0x0f);
    // unpacklo/hi interleave per 128-bit lane: lane i of `a` holds input bytes 16i..16i+8,
    // of `b` 16i+8..16i+16. Output qword pairs in order: a0 b0 a1 b1 | a2 b2 a3 b3.
    let first = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
    let second = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
    let mut done = 0;
    for (c, o) in bytes.chunks_exact(64).zip(out.chunks_exact_mut(128)) {
        // SAFETY: `c` is 64 bytes and `o` 128, as the chunk sizes guarantee.
        unsafe {
            let x = _mm512_loadu_si512(c.as_ptr() as *const _);
            let hi = _mm512_shuffle_epi8(digits, _mm512_and_si512(_mm512_srli_epi16::<4>(x), m0f));
            let lo = _mm512_shuffle_epi8(digits, _mm512_and_si512(x, m0f));
            let a = _mm512_unpacklo_epi8(hi, lo);
            let b = _mm512_unpackhi_epi8(hi, lo);
            _mm512_storeu_si512(o.as_mut_ptr() as *mut _, _mm512_permutex2var_epi64(a, first, b));
            _mm512_storeu_si512(o.as_mut_ptr().add(64) as *mut _, _mm512_permutex2var_epi64(a, second, b));
        }
        done += 64;
    }
    done
}

/// Value of a hex digit and whether `c` is one, without branches or table lookups.
#[inline(always)]
fn nibble(c: u8) -> (u8, bool) {
    let d = c.wrapping_sub(b'0');
    let l = (c | 0x20).wrapping_sub(b'a');
    let is_d = d < 10;
    let is_l = l < 6;
    let v = (d & 0u8.wrapping_sub(is_d as u8)) | (l.wrapping_add(10) & 0u8.wrapping_sub(is_l as u8));
    (v, is_d | is_l)
}

/// Why a hex string could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HexError {
    /// The text has an odd number of characters.
    OddLength,
    /// A character that is not a hex digit, at this byte offset.
    InvalidChar(usize),
}

/// Decode hex in upper or lower case.
pub fn decode(text: &[u8]) -> Result<Vec<u8>, HexError> {
    if !text.len().is_multiple_of(2) {
        return Err(HexError::OddLength);
    }
    let mut out = vec![0u8; text.len() / 2];
    if !decode_into(text, &mut out) {
        // Only now look for where: the input is already known to be bad.
        zeroize::Zeroize::zeroize(&mut out);
        let i = text.iter().position(|&c| !nibble(c).1).unwrap_or(0);
        return Err(HexError::InvalidChar(i));
    }
    Ok(out)
}

/// Decode `text` (even length) into `out` (half as long); false if any character was
/// not a hex digit, in which case `out` holds garbage.
fn decode_into(text: &[u8], out: &mut [u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if text.len() >= 32 && is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was detected just above.
        let (done, good) = unsafe { decode_avx2(text, out) };
        return decode_swar(&text[2 * done..], &mut out[done..]) & good;
    }
    decode_swar(text, out)
}

/// The portable part of [`decode_into`].
fn decode_swar(text: &[u8], out: &mut [u8]) -> bool {
    let mut ok = true;
    let mut chunks = text.chunks_exact(8);
    let mut outs = out.chunks_exact_mut(4);
    for (c, o) in (&mut chunks).zip(&mut outs) {
        let (v, good) = unhex8(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        o.copy_from_slice(&v.to_le_bytes());
        ok &= good;
    }
    for (pair, o) in chunks.remainder().chunks_exact(2).zip(outs.into_remainder()) {
        let (hi, a) = nibble(pair[0]);
        let (lo, b) = nibble(pair[1]);
        *o = hi << 4 | lo;
        ok &= a & b;
    }
    ok
}

/// Eight hex characters (little-endian in `x`) to four bytes, and whether all were
/// hex digits; SWAR, branch-free.
#[inline(always)]
fn unhex8(x: u64) -> (u32, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // For bytes below 0x80, (b + 0x80 - k) has its top bit set exactly when b >= k, and
    // no byte carries into the next.
    let ascii = x & HIGH == 0;
    let ge = |v: u64, k: u64| (v + (0x80 - k) * ONES) & HIGH;
    let x7 = x & !HIGH;
    let digit = ge(x7, 0x30) & !ge(x7, 0x3a);
    let l = x7 | (0x20 * ONES);
    let alpha = ge(l, 0x61) & !ge(l, 0x67);
    let valid = ascii & ((digit | alpha) == HIGH);
    // '0'-'9' -> low nibble; 'a'-'f' / 'A'-'F' -> low nibble (1-6) + 9.
    let v = (x7 & (0x0f * ONES)) + (alpha >> 7) * 9;
    // Byte 2k is the high nibble of output byte k, byte 2k+1 the low one.
    let t = ((v & 0x00ff_00ff_00ff_00ff) << 4) | ((v >> 8) & 0x00ff_00ff_00ff_00ff);
    let t = (t | t >> 8) & 0x0000_ffff_0000_ffff;
    let t = (t | t >> 16) & 0x0000_0000_ffff_ffff;
    (t as u32, valid)
}

/// Decode whole 32-character chunks; returns the output bytes done and whether every
/// character was a hex digit.
///
/// # Safety
/// The CPU must support AVX2. `out` is half as long as `text`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn decode_avx2(text: &[u8], out: &mut [u8]) -> (usize, bool) {
    use core::arch::x86_64::*;
    let mut bad = _mm256_setzero_si256();
    let m0f = _mm256_set1_epi8(0x0f);
    let nine = _mm256_set1_epi8(9);
    let x20 = _mm256_set1_epi8(0x20);
    // Signed compares: bytes >= 0x80 are negative and fail every range test.
    let (d_lo, d_hi) = (_mm256_set1_epi8(b'0' as i8 - 1), _mm256_set1_epi8(b'9' as i8 + 1));
    let (a_lo, a_hi) = (_mm256_set1_epi8(b'a' as i8 - 1), _mm256_set1_epi8(b'f' as i8 + 1));
    // maddubs weights: 16 for the first character of each pair, 1 for the second.
    let weights = _mm256_set1_epi16(0x0110);
    let mut done = 0;
    for (c, o) in text.chunks_exact(32).zip(out.chunks_exact_mut(16)) {
        // SAFETY: `c` is 32 bytes and `o` 16, as the chunk sizes guarantee.
        unsafe {
            let x = _mm256_loadu_si256(c.as_ptr() as *const __m256i);
            let digit = _mm256_and_si256(_mm256_cmpgt_epi8(x, d_lo), _mm256_cmpgt_epi8(d_hi, x));
            let l = _mm256_or_si256(x, x20);
            let alpha = _mm256_and_si256(_mm256_cmpgt_epi8(l, a_lo), _mm256_cmpgt_epi8(a_hi, l));
            bad = _mm256_or_si256(bad, _mm256_andnot_si256(_mm256_or_si256(digit, alpha), _mm256_set1_epi8(-1)));
            let v = _mm256_add_epi8(_mm256_and_si256(x, m0f), _mm256_and_si256(alpha, nine));
            let pairs = _mm256_maddubs_epi16(v, weights);
            // packus works per 128-bit lane: lane 0 gives bytes 0-7, lane 1 bytes 8-15.
            let packed = _mm256_permute4x64_epi64::<0b1000>(_mm256_packus_epi16(pairs, pairs));
            _mm_storeu_si128(o.as_mut_ptr() as *mut __m128i, _mm256_castsi256_si128(packed));
        }
        done += 16;
    }
    (done, _mm256_testz_si256(bad, bad) == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_uppercase_and_decodes_either_case() {
        assert_eq!(encode_upper(&[0xab, 0x01, 0xff]), "AB01FF");
        assert_eq!(decode(b"ab01FF").unwrap(), vec![0xab, 0x01, 0xff]);
    }

    #[test]
    fn rejects_odd_length_and_non_hex() {
        assert_eq!(decode(b"abc"), Err(HexError::OddLength));
        assert_eq!(decode(b"0g"), Err(HexError::InvalidChar(1)));
    }

    fn naive(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    }

    #[test]
    fn every_byte_and_length_round_trips() {
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(encode_upper(&all), naive(&all));
        let mut x = 0x1234_5678u32;
        let data: Vec<u8> = (0..600)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        for len in 0..=data.len() {
            let s = encode_upper(&data[..len]);
            assert_eq!(s, naive(&data[..len]), "len {len}");
            assert_eq!(decode(s.as_bytes()).unwrap(), &data[..len]);
            assert_eq!(decode(s.to_lowercase().as_bytes()).unwrap(), &data[..len]);
        }
    }

    #[test]
    fn every_non_digit_is_rejected_at_its_offset_on_every_path() {
        // 128 and 130 characters: AVX2 chunks, SWAR chunks and the scalar remainder.
        for len in [128usize, 130] {
            let good: Vec<u8> = (0..len).map(|i| b"0123456789abcdefABCDEF"[i % 22]).collect();
            assert!(decode(&good).is_ok());
            for pos in [0usize, 1, 7, 8, 31, 32, 33, 63, 64, 100, 127, len - 1] {
                for c in 0..=255u8 {
                    let mut t = good.clone();
                    t[pos] = c;
                    let r = decode(&t);
                    if c.is_ascii_hexdigit() {
                        assert!(r.is_ok(), "{c:#04x} at {pos}");
                    } else {
                        assert_eq!(r, Err(HexError::InvalidChar(pos)), "{c:#04x} at {pos}");
                    }
                }
            }
        }
    }

    /// Every encoder and decoder, each forced on explicitly.
    #[test]
    fn each_simd_and_portable_path_agrees() {
        let mut x = 0x9e37_79b9u32;
        let data: Vec<u8> = (0..1000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect();
        for len in (0..200).chain([511, 512, 513, 1000]) {
            let d = &data[..len];
            let want = naive(d);
            let mut out = vec![0u8; 2 * len];
            encode_swar(d, &mut out);
            assert_eq!(out, want.as_bytes(), "swar {len}");
            let mut back = vec![0u8; len];
            assert!(decode_swar(want.as_bytes(), &mut back));
            assert_eq!(back, d);
            assert!(decode_swar(want.to_lowercase().as_bytes(), &mut back));
            assert_eq!(back, d);
            #[cfg(target_arch = "x86_64")]
            {
                type Enc = unsafe fn(&[u8], &mut [u8]) -> usize;
                let encoders: [(&str, bool, Enc); 3] = [
                    ("ssse3", is_x86_feature_detected!("ssse3"), encode_ssse3),
                    ("avx2", is_x86_feature_detected!("avx2"), encode_avx2),
                    ("avx512", is_x86_feature_detected!("avx512bw"), encode_avx512),
                ];
                for (name, available, f) in encoders {
                    if !available {
                        continue;
                    }
                    let mut out = vec![0u8; 2 * len];
                    // SAFETY: the feature was detected above.
                    let done = unsafe { f(d, &mut out) };
                    encode_swar(&d[done..], &mut out[2 * done..]);
                    assert_eq!(out, want.as_bytes(), "{name} {len}");
                }
                if is_x86_feature_detected!("avx2") {
                    let mut back = vec![0u8; len];
                    // SAFETY: AVX2 was detected above.
                    let (done, ok) = unsafe { decode_avx2(want.as_bytes(), &mut back) };
                    assert!(ok && decode_swar(&want.as_bytes()[2 * done..], &mut back[done..]));
                    assert_eq!(back, d);
                }
            }
        }
        // The SWAR decoder rejects every non-digit in every position of a chunk.
        for pos in 0..10 {
            for c in 0..=255u8 {
                let mut t = *b"0123456789";
                t[pos] = c;
                let mut out = [0u8; 5];
                assert_eq!(decode_swar(&t, &mut out), c.is_ascii_hexdigit(), "{c:#04x} at {pos}");
            }
        }
    }

    #[test]
    fn every_character_is_classified() {
        for c in 0..=255u8 {
            let want = (c as char).to_digit(16).filter(|_| c.is_ascii_hexdigit());
            let (v, ok) = nibble(c);
            assert_eq!(ok, want.is_some(), "{c}");
            if let Some(w) = want {
                assert_eq!(v as u32, w);
            }
        }
        assert_eq!(decode(b"00112g"), Err(HexError::InvalidChar(5)));
        assert_eq!(decode(b"G0"), Err(HexError::InvalidChar(0)));
    }
}

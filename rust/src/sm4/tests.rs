//! SM4 tests: GB/T 32907 vectors, the S-box derivations against the standard's table,
//! and every backend against RustCrypto's `sm4` (the oracle).

use super::*;
use crate::hex::{decode, encode_upper};
use sm4::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};

fn h(s: &str) -> Vec<u8> {
    decode(s.as_bytes()).unwrap()
}

/// The S-box table of GB/T 32907-2016.
const SBOX: [u8; 256] = [
    0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05, 0x2b, 0x67, 0x9a,
    0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99, 0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef,
    0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62, 0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80,
    0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6, 0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19,
    0xe6, 0x85, 0x4f, 0xa8, 0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d,
    0x35, 0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87, 0xd4, 0x00,
    0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e, 0xea, 0xbf, 0x8a, 0xd2, 0x40,
    0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1, 0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55,
    0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3, 0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23,
    0xab, 0x0d, 0x53, 0x4e, 0x6f, 0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c,
    0x5b, 0x51, 0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8, 0x0a,
    0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0, 0x89, 0x69, 0x97, 0x4a,
    0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84, 0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d,
    0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
];

/// xorshift64*: a small deterministic generator for test inputs.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 56) as u8).collect()
    }
    fn key(&mut self) -> [u8; 16] {
        self.bytes(16).try_into().unwrap()
    }
}

/// RustCrypto's SM4-ECB-PKCS#7.
fn oracle_encrypt(key: &[u8; 16], plain: &[u8]) -> Vec<u8> {
    let c = sm4::Sm4::new(&Array::from(*key));
    let pad = 16 - plain.len() % 16;
    let mut out = plain.to_vec();
    out.resize(plain.len() + pad, pad as u8);
    for chunk in out.chunks_exact_mut(16) {
        let b: &mut Array<u8, _> = <&mut [u8; 16]>::try_from(chunk).unwrap().into();
        c.encrypt_block(b);
    }
    out
}

fn oracle_decrypt_raw(key: &[u8; 16], cipher: &[u8]) -> Vec<u8> {
    let c = sm4::Sm4::new(&Array::from(*key));
    let mut out = cipher.to_vec();
    for chunk in out.chunks_exact_mut(16) {
        let b: &mut Array<u8, _> = <&mut [u8; 16]>::try_from(chunk).unwrap().into();
        c.decrypt_block(b);
    }
    out
}

fn parity(x: u8) -> u8 {
    (x.count_ones() & 1) as u8
}

fn gmul(mut a: u8, mut b: u8, poly: u16) -> u8 {
    let mut r = 0u8;
    while b != 0 {
        if b & 1 == 1 {
            r ^= a;
        }
        let carry = a & 0x80 != 0;
        a <<= 1;
        if carry {
            a ^= (poly & 0xff) as u8;
        }
        b >>= 1;
    }
    r
}

fn ginv(a: u8, poly: u16) -> u8 {
    (1..=255u8).find(|&b| gmul(a, b, poly) == 1).unwrap_or(0)
}

/// Software model of gf2p8affineqb on one byte.
fn gf2p8affine(x: u8, m: u64, c: u8) -> u8 {
    (0..8).fold(0u8, |acc, i| acc | parity(((m >> (8 * (7 - i))) as u8) & x) << i) ^ c
}

#[test]
fn sbox_is_affine_inverse_affine_in_sm4_field() {
    // The structure the derivations start from: S(x) = A·inv(A·x ⊕ 0xD3) ⊕ 0xD3 modulo 0x1F5,
    // A's rows (row i gives output bit i) being rotations of 0xA7.
    let a = [0xa7u8, 0x4f, 0x9e, 0x3d, 0x7a, 0xf4, 0xe9, 0xd3];
    let ap = |x: u8| (0..8).fold(0u8, |acc, i| acc | parity(a[i] & x) << i);
    for x in 0..=255u8 {
        assert_eq!(ap(ginv(ap(x) ^ 0xd3, 0x1f5)) ^ 0xd3, SBOX[x as usize], "x={x:#04x}");
    }
}

#[test]
fn gfni_matrices_match_table() {
    for x in 0..=255u8 {
        let y = gf2p8affine(x, 0x4c28_7db9_1a22_505d, 0x3e);
        let s = gf2p8affine(ginv(y, 0x11b), 0xf3ab_34a9_74a6_b589, 0xd3);
        assert_eq!(s, SBOX[x as usize], "x={x:#04x}");
    }
    #[cfg(target_arch = "x86_64")]
    {
        assert_eq!(gfni::PRE, 0x4c28_7db9_1a22_505d);
        assert_eq!((gfni::PRE_C, gfni::POST, gfni::POST_C), (0x3e, 0xf3ab_34a9_74a6_b589, 0xd3));
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn aesni_tables_match_table() {
    // AES SubBytes from its definition: affine(inverse modulo 0x11B) ⊕ 0x63.
    let sub = |x: u8| {
        let i = ginv(x, 0x11b);
        i ^ i.rotate_left(1) ^ i.rotate_left(2) ^ i.rotate_left(3) ^ i.rotate_left(4) ^ 0x63
    };
    assert_eq!((sub(0), sub(1), sub(0x53)), (0x63, 0x7c, 0xed));
    let pre = |x: u8| aesni::PRE_LO[(x & 15) as usize] ^ aesni::PRE_HI[(x >> 4) as usize];
    let post = |x: u8| aesni::POST_LO[(x & 15) as usize] ^ aesni::POST_HI[(x >> 4) as usize];
    for x in 0..=255u8 {
        assert_eq!(post(sub(pre(x))), SBOX[x as usize], "x={x:#04x}");
    }
    // InvShiftRows undoes the ShiftRows inside aesenclast.
    for i in 0..16 {
        let (r, c) = (i % 4, i / 4);
        let shifted = r + 4 * ((c + r) % 4); // ShiftRows: out[i] = in[shifted]
        assert_eq!(aesni::INV_SHIFT_ROWS[shifted] as usize, i);
    }
}

#[test]
fn tower_sbox_matches_table() {
    for x in 0..=255u8 {
        let planes: [u8; 8] = core::array::from_fn(|i| (x >> i) & 1);
        let s = portable::sbox(&planes);
        let y = (0..8).fold(0u8, |acc, i| acc | (s[i] & 1) << i);
        assert_eq!(y, SBOX[x as usize], "x={x:#04x}");
    }
    // The same on 64 lanes at once.
    for base in (0..256).step_by(64) {
        let planes: [u64; 8] =
            core::array::from_fn(|i| (0..64).fold(0u64, |acc, j| acc | ((((base + j) >> i) & 1) as u64) << j));
        let s = portable::sbox(&planes);
        for j in 0..64 {
            let y = (0..8).fold(0u8, |acc, i| acc | (((s[i] >> j) & 1) as u8) << i);
            assert_eq!(y, SBOX[base + j]);
        }
    }
}

#[test]
fn tau_agrees_on_every_backend() {
    let mut rng = Rng(7);
    for _ in 0..2000 {
        let w = rng.next() as u32;
        let want = u32::from_be_bytes(w.to_be_bytes().map(|b| SBOX[b as usize]));
        for b in available_backends() {
            assert_eq!(tau(b, w), want, "{}", b.name());
        }
    }
}

#[test]
fn default_backend_is_first_available_and_portable_always_is() {
    let all = available_backends();
    assert_eq!(all.first().copied(), Some(Backend::best()));
    assert_eq!(all.last().copied(), Some(Backend::Portable));
    assert_eq!(Sm4Key::new(&[0; 16]).backend(), Backend::best());
    for b in Backend::ALL {
        assert_eq!(Sm4Key::with_backend(&[0; 16], b).is_ok(), b.is_available(), "{}", b.name());
    }
}

// GB/T 32907-2016, appendix A, example 1.
#[test]
fn gbt_32907_example_1_one_block() {
    for backend in available_backends() {
        let key: [u8; 16] = h("0123456789ABCDEFFEDCBA9876543210").try_into().unwrap();
        let key = Sm4Key::with_backend(&key, backend).unwrap();
        let mut b: [u8; 16] = h("0123456789ABCDEFFEDCBA9876543210").try_into().unwrap();
        key.encrypt_block(&mut b);
        assert_eq!(encode_upper(&b), "681EDF34D206965E86B3E94F536E4246", "{}", backend.name());
        key.decrypt_block(&mut b);
        assert_eq!(encode_upper(&b), "0123456789ABCDEFFEDCBA9876543210");
    }
    let key = Sm4Key::from_slice(&h("0123456789ABCDEFFEDCBA9876543210")).unwrap();
    let mut b: [u8; 16] = h("0123456789ABCDEFFEDCBA9876543210").try_into().unwrap();
    key.encrypt_block(&mut b);
    assert_eq!(encode_upper(&b), "681EDF34D206965E86B3E94F536E4246");
}

// GB/T 32907-2016, appendix A, example 2: one million encryptions.
#[test]
fn gbt_32907_example_2_million_rounds() {
    let key = Sm4Key::from_slice(&h("0123456789ABCDEFFEDCBA9876543210")).unwrap();
    let mut b: [u8; 16] = h("0123456789ABCDEFFEDCBA9876543210").try_into().unwrap();
    for _ in 0..1_000_000 {
        key.encrypt_block(&mut b);
    }
    assert_eq!(encode_upper(&b), "595298C7C6FD271F0402F804C33D3F66");
}

#[test]
fn every_backend_matches_rustcrypto_for_lengths_0_to_300() {
    let mut rng = Rng(0x5eed);
    for len in 0..=300 {
        let key = rng.key();
        let plain = rng.bytes(len);
        let want = oracle_encrypt(&key, &plain);
        for backend in available_backends() {
            let k = Sm4Key::with_backend(&key, backend).unwrap();
            let c = k.encrypt_ecb_pkcs7(&plain);
            assert_eq!(c, want, "{} len {len}", backend.name());
            assert_eq!(k.decrypt_ecb_pkcs7(&c).unwrap(), plain, "{} len {len}", backend.name());
            assert_eq!(k.encrypt_ecb_pkcs7_hex_upper(&plain), encode_upper(&want));
        }
    }
}

#[test]
fn every_backend_matches_rustcrypto_for_large_and_odd_batches() {
    let mut rng = Rng(42);
    // Around every batch boundary (4, 8, 16, 64 blocks and their multiples) and beyond.
    // 1 MiB only in optimized builds: unoptimized intrinsics and the bitsliced path are slow.
    let mut lens: Vec<usize> = vec![4096, 65536];
    if !cfg!(debug_assertions) {
        lens.push(1 << 20);
    }
    for blocks in [3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200, 255, 256, 257, 1000] {
        lens.extend([16 * blocks - 1, 16 * blocks, 16 * blocks + 5]);
    }
    for len in lens {
        let key = rng.key();
        let plain = rng.bytes(len);
        let want = oracle_encrypt(&key, &plain);
        for backend in available_backends() {
            let k = Sm4Key::with_backend(&key, backend).unwrap();
            let c = k.encrypt_ecb_pkcs7(&plain);
            assert!(c == want, "{} len {len}", backend.name());
            assert!(k.decrypt_ecb_pkcs7(&c).unwrap() == plain, "{} len {len}", backend.name());
            assert_eq!(k.encrypt_ecb_pkcs7_hex_upper(&plain), encode_upper(&want), "{} len {len}", backend.name());
            // Raw blocks, and the reusable-buffer variants.
            let mut raw = want.clone();
            k.decrypt_blocks(&mut raw).unwrap();
            assert!(raw == oracle_decrypt_raw(&key, &want));
            k.encrypt_blocks(&mut raw).unwrap();
            assert!(raw == want);
            let mut buf = vec![1, 2, 3];
            k.encrypt_ecb_pkcs7_into(&plain, &mut buf);
            assert!(buf == want);
            k.decrypt_ecb_pkcs7_into(&want, &mut buf).unwrap();
            assert!(buf == plain);
        }
    }
}

#[test]
fn many_keys_single_blocks_match_rustcrypto() {
    let mut rng = Rng(99);
    for _ in 0..500 {
        let key = rng.key();
        let block: [u8; 16] = rng.key();
        let oracle = sm4::Sm4::new(&Array::from(key));
        let mut want = Array::from(block);
        oracle.encrypt_block(&mut want);
        for backend in available_backends() {
            let k = Sm4Key::with_backend(&key, backend).unwrap();
            let mut b = block;
            k.encrypt_block(&mut b);
            assert_eq!(&b[..], &want[..], "{}", backend.name());
            k.decrypt_block(&mut b);
            assert_eq!(b, block);
        }
    }
}

#[test]
fn pkcs7_pads_a_whole_block_when_aligned() {
    for backend in available_backends() {
        let key = Sm4Key::with_backend(&[7u8; 16], backend).unwrap();
        assert_eq!(key.encrypt_ecb_pkcs7(&[0u8; 16]).len(), 32);
        assert_eq!(key.encrypt_ecb_pkcs7(&[]).len(), 16);
        for n in 0..40 {
            let p: Vec<u8> = (0..n as u8).collect();
            assert_eq!(key.decrypt_ecb_pkcs7(&key.encrypt_ecb_pkcs7(&p)).unwrap(), p);
        }
    }
}

#[test]
fn rejects_bad_padding_and_partial_blocks() {
    for backend in available_backends() {
        let key = Sm4Key::with_backend(&[7u8; 16], backend).unwrap();
        let mut c = key.encrypt_ecb_pkcs7(b"0123456789abcdefghij");
        assert!(key.decrypt_ecb_pkcs7(&c[..15]).is_err());
        assert!(key.decrypt_ecb_pkcs7(&[]).is_err());
        // A block whose plaintext ends in 0x00 or in inconsistent padding bytes.
        let mut bad = [0u8; 16];
        key.encrypt_block(&mut bad);
        assert!(matches!(key.decrypt_ecb_pkcs7(&bad), Err(Error::Decrypt(_))));
        let mut bad2 = [0u8; 16];
        bad2[15] = 3;
        bad2[14] = 3;
        bad2[13] = 2;
        key.encrypt_block(&mut bad2);
        assert!(key.decrypt_ecb_pkcs7(&bad2).is_err());
        // Padding longer than a block.
        let mut bad3 = [17u8; 16];
        key.encrypt_block(&mut bad3);
        assert!(key.decrypt_ecb_pkcs7(&bad3).is_err());
        // Every valid padding length is accepted, and one wrong byte inside it is not.
        for n in 1..=16usize {
            let mut blk = [0xaau8; 16];
            blk[16 - n..].fill(n as u8);
            let mut enc = blk;
            key.encrypt_block(&mut enc);
            assert_eq!(key.decrypt_ecb_pkcs7(&enc).unwrap(), &blk[..16 - n]);
            if n > 1 {
                blk[16 - n] ^= 0x40;
                key.encrypt_block(&mut blk);
                let mut out = vec![9u8; 4];
                assert!(key.decrypt_ecb_pkcs7_into(&blk, &mut out).is_err());
                assert!(out.is_empty());
            }
        }
        c[0] ^= 1;
        // Flipping the first block leaves the padding block intact: decrypts, to other bytes.
        assert_ne!(key.decrypt_ecb_pkcs7(&c).unwrap(), b"0123456789abcdefghij");
        assert!(key.encrypt_blocks(&mut [0u8; 17]).is_err());
        assert!(key.decrypt_blocks(&mut [0u8; 15]).is_err());
    }
}

#[test]
fn wrong_key_length_is_a_key_error() {
    assert!(matches!(ecb_encrypt(&[0u8; 15], b"x"), Err(Error::KeyFormat(_))));
    assert!(matches!(ecb_decrypt(&[0u8; 17], &[0u8; 16]), Err(Error::KeyFormat(_))));
}

/// `MEDPAY_EXPECT_SM4_BACKEND` names a backend the run must detect (`make test-aarch64`
/// sets `arm-sm4` under QEMU_CPU=max), so a fast path cannot drop out of the backend
/// comparisons above unnoticed.
#[test]
fn expected_backend_is_detected() {
    let want = std::env::var("MEDPAY_EXPECT_SM4_BACKEND").unwrap_or_default();
    if want.is_empty() {
        return;
    }
    let found = available_backends().into_iter().map(Backend::name).collect::<Vec<_>>();
    assert!(found.contains(&want.as_str()), "expected the {want} SM4 backend, this CPU has {found:?}");
}

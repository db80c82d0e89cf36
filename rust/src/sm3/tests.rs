//! SM3 tests: GB/T 32905 vectors and every backend against RustCrypto's `sm3`.

use super::*;
use crate::hex::encode_upper;
use sm3::Digest;

fn oracle(data: &[u8]) -> [u8; 32] {
    sm3::Sm3::digest(data).into()
}

fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

fn digest_on(backend: Backend, data: &[u8]) -> [u8; 32] {
    let mut h = Sm3::with_backend(backend).unwrap();
    h.update(data);
    h.finalize()
}

// GB/T 32905-2016, appendix A.
#[test]
fn gbt_32905_example_1_abc() {
    assert_eq!(encode_upper(&sm3(b"abc")), "66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0");
    for b in available_backends() {
        assert_eq!(
            encode_upper(&digest_on(b, b"abc")),
            "66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0"
        );
    }
}

#[test]
fn gbt_32905_example_2_512_bits() {
    let msg = b"abcd".repeat(16);
    assert_eq!(encode_upper(&sm3(&msg)), "DEBE9FF92275B8A138604889C18E5A4D6FDB70E5387E5765293DCBA39C0C5732");
    for b in available_backends() {
        assert_eq!(
            encode_upper(&digest_on(b, &msg)),
            "DEBE9FF92275B8A138604889C18E5A4D6FDB70E5387E5765293DCBA39C0C5732"
        );
    }
}

#[test]
fn incremental_equals_one_shot() {
    let mut h = Sm3::new();
    h.update(b"ab");
    h.update(b"c");
    assert_eq!(h.finalize(), sm3(b"abc"));
}

#[test]
fn default_is_first_available() {
    assert_eq!(available_backends().first().copied(), Some(Backend::best()));
    assert_eq!(Sm3::new().backend(), Backend::best());
    assert!(available_backends().contains(&Backend::Portable));
    for b in Backend::ALL {
        assert_eq!(Sm3::with_backend(b).is_some(), b.is_available());
    }
}

#[test]
fn every_backend_matches_rustcrypto_for_lengths_0_to_300() {
    let data = bytes(3, 300);
    for len in 0..=300 {
        let want = oracle(&data[..len]);
        for b in available_backends() {
            assert_eq!(digest_on(b, &data[..len]), want, "{} len {len}", b.name());
        }
    }
}

#[test]
fn every_backend_matches_rustcrypto_for_large_inputs() {
    for (seed, len) in [(1u64, 4096usize), (2, 4095), (3, 65536 + 55), (4, 1 << 20), (5, 1000 * 64 + 56)] {
        let data = bytes(seed, len);
        let want = oracle(&data);
        for b in available_backends() {
            assert_eq!(digest_on(b, &data), want, "{} len {len}", b.name());
        }
    }
}

#[test]
fn any_split_of_updates_gives_the_same_digest() {
    let data = bytes(9, 700);
    let want = oracle(&data);
    for b in available_backends() {
        for split in [0usize, 1, 7, 55, 56, 63, 64, 65, 127, 128, 129, 300, 699, 700] {
            let mut h = Sm3::with_backend(b).unwrap();
            h.update(&data[..split]);
            h.update(&data[split..]);
            assert_eq!(h.finalize(), want, "{} split {split}", b.name());
        }
        // Byte-at-a-time, and chunks of assorted sizes.
        let mut h = Sm3::with_backend(b).unwrap();
        for byte in &data {
            h.update(std::slice::from_ref(byte));
        }
        assert_eq!(h.finalize(), want);
        let mut h = Sm3::with_backend(b).unwrap();
        let mut rest = &data[..];
        let mut step = 1;
        while !rest.is_empty() {
            let n = step.min(rest.len());
            h.update(&rest[..n]);
            rest = &rest[n..];
            step = step * 3 % 97 + 1;
        }
        assert_eq!(h.finalize(), want);
    }
}

//! SM2 sign/s and verify/s for each backend: `cargo bench -p medpay-core --bench sm2`.
//! A plain timing loop (no harness); compare with `openssl speed ecdsap256`.

use medpay_core::sm2::{available_backends, PrivateKey, PublicKey, Signature, DEFAULT_UID};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Runs `f` in batches for about `secs` seconds and returns operations per second.
fn rate(secs: f64, mut f: impl FnMut(usize)) -> f64 {
    let budget = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut n = 0usize;
    while start.elapsed() < budget {
        for _ in 0..64 {
            f(n);
            n += 1;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let secs: f64 = std::env::var("SM2_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let sk =
        PrivateKey::from_string("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8").expect("test key");
    let pk = sk.public_key().clone();
    // Pseudo-random nonces and digests (xorshift), prepared outside the timed loops.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next32 = || {
        let mut b = [0u8; 32];
        for chunk in b.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_be_bytes());
        }
        b[0] &= 0x7F; // keep k below n
        b
    };
    let ks: Vec<[u8; 32]> = (0..1024).map(|_| next32()).collect();
    let es: Vec<[u8; 32]> = (0..1024).map(|_| next32()).collect();
    let sigs: Vec<Signature> = (0..1024)
        .map(|i| {
            let raw = sk.sign_digest_with_k(&es[i], &ks[i]).expect("valid k");
            Signature::from_raw(&raw).expect("valid signature")
        })
        .collect();

    println!("{:<10} {:>12} {:>12} {:>16}", "backend", "sign/s", "verify/s", "verify/s (new key)");
    for b in available_backends() {
        let sign = rate(secs, |i| {
            black_box(sk.sign_digest_with_k_using(b, &es[i % 1024], &ks[i % 1024]));
        });
        let verify = rate(secs, |i| {
            assert!(pk.verify_digest_using(b, &es[i % 1024], &sigs[i % 1024]));
        });
        // A key parsed for each message never reaches the per-key comb.
        let raw = pk.to_uncompressed();
        let fresh = rate(secs / 3.0, |i| {
            let k = PublicKey::from_sec1(&raw).expect("valid key");
            assert!(k.verify_digest_using(b, &es[i % 1024], &sigs[i % 1024]));
        });
        println!("{:<10} {:>12.0} {:>12.0} {:>16.0}", b.name(), sign, verify, fresh);
    }
    let parse = rate(secs / 3.0, |_| {
        black_box(PublicKey::from_sec1(&pk.to_uncompressed()).expect("valid key"));
    });
    let full_sign = rate(secs / 3.0, |_| {
        black_box(sk.sign(b"a short message", DEFAULT_UID).expect("sign"));
    });
    let sig = sk.sign(b"a short message", DEFAULT_UID).expect("sign");
    let full_verify = rate(secs / 3.0, |_| {
        assert!(pk.verify(b"a short message", &sig, DEFAULT_UID));
    });
    println!("default backend, whole message (SM3, OS randomness): sign/s {full_sign:.0}, verify/s {full_verify:.0}");
    println!("public key parse (from_sec1, included in 'new key'): {parse:.0}/s");
}

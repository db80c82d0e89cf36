//! The fast backends against the portable one (RustCrypto `sm2`).

use super::field::tests::Rng;
use super::field::{from_mont, limbs_to_be, FieldMul, U128};
use super::point::{self, batch_to_affine, wnaf, Jac};
use super::*;
use crate::sm2::{PrivateKey, PublicKey, Signature, DEFAULT_UID};
use sm2::elliptic_curve::ff::PrimeField;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::{FieldBytes, ProjectivePoint, Scalar};

const N1: [u64; 4] = [scalar::N[0] - 1, scalar::N[1], scalar::N[2], scalar::N[3]];

fn sc(a: &[u64; 4]) -> Scalar {
    Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(limbs_to_be(a)))).unwrap()
}

/// SEC1 uncompressed bytes of a Jacobian point (`[0]` for the identity), as RustCrypto
/// encodes them.
fn enc(p: &Jac) -> Vec<u8> {
    if p.is_identity_vartime() {
        return vec![0];
    }
    let a = batch_to_affine(&[*p])[0];
    let mut v = vec![4u8];
    v.extend_from_slice(&limbs_to_be(&from_mont(&a.x)));
    v.extend_from_slice(&limbs_to_be(&from_mont(&a.y)));
    v
}

fn enc_ref(p: &ProjectivePoint) -> Vec<u8> {
    p.to_sec1_point(false).as_bytes().to_vec()
}

/// Scalars that stress the recodings: edges, runs of zero and one bits, random ones.
fn scalars(count: usize) -> Vec<[u64; 4]> {
    let mut v = vec![
        [1, 0, 0, 0],
        [2, 0, 0, 0],
        [3, 0, 0, 0],
        [64, 0, 0, 0],
        [0x7F, 0, 0, 0],
        [0x80, 0, 0, 0],
        N1,
        [scalar::N[0] - 2, scalar::N[1], scalar::N[2], scalar::N[3]],
        [0, 0, 0, 1 << 63],
        [u64::MAX, u64::MAX, u64::MAX, 0x7FFF_FFFF_FFFF_FFFF],
        [u64::MAX, u64::MAX, u64::MAX, 0],
        [0, 0, 0, 0xFFFF_FFFE_0000_0000],
        [0, 0, u64::MAX, 0xFFFF_FFFE_FFFF_FFFF],
        [0x5555_5555_5555_5555; 4],
        [0xAAAA_AAAA_AAAA_AAAA, 0xAAAA_AAAA_AAAA_AAAA, 0xAAAA_AAAA_AAAA_AAAA, 0x2AAA_AAAA_AAAA_AAAA],
        [0x8000_0000_0000_0000, 1, 0x8000_0000_0000_0000, 1],
        [0, 1 << 60, 0, 1 << 60],
    ];
    // Powers of two and their neighbours.
    for bit in (0..256).step_by(7) {
        let mut x = [0u64; 4];
        x[bit / 64] = 1 << (bit % 64);
        v.push(x);
        v.push(scalar::sub(&x, &[1, 0, 0, 0]));
    }
    let mut rng = Rng(0x5EED);
    while v.len() < count {
        v.push(rng.below(&scalar::N));
    }
    v.retain(|x| !scalar::is_zero(x) && scalar::is_below_n(x));
    v
}

fn g_ref(k: &[u64; 4]) -> ProjectivePoint {
    ProjectivePoint::GENERATOR * sc(k)
}

fn check_mul_g<M: FieldMul>() {
    let g = g_table();
    for k in scalars(200) {
        let want = enc_ref(&g_ref(&k));
        assert_eq!(enc(&g.mul_ct::<M>(&k)), want, "ct {k:x?}");
        assert_eq!(enc(&g.mul_vartime::<M>(&k)), want, "vartime {k:x?}");
    }
    // Public-only inputs may also be 0.
    assert!(g.mul_vartime::<M>(&[0; 4]).is_identity_vartime());
    assert!(g.mul_ct::<M>(&[0; 4]).is_identity_vartime());
}

#[test]
fn k_times_g_matches_portable() {
    check_mul_g::<U128>();
}

#[cfg(target_arch = "x86_64")]
#[test]
fn k_times_g_matches_portable_adx() {
    if adx::available() {
        check_mul_g::<adx::Adx>();
    }
}

#[test]
fn wnaf_recodes_the_scalar() {
    for k in scalars(100) {
        let naf = wnaf(&k, 5);
        let mut acc = Scalar::ZERO;
        for d in naf.iter().rev() {
            acc = acc + acc;
            let dv = Scalar::from(d.unsigned_abs() as u64);
            acc = if *d < 0 { acc - dv } else { acc + dv };
            assert!(*d == 0 || d % 2 != 0);
        }
        assert_eq!(acc, sc(&k));
    }
}

fn check_double_mul<M: FieldMul>() {
    let g = g_table();
    let mut rng = Rng(42);
    let ks = scalars(60);
    for (i, d) in ks.iter().enumerate() {
        // P = d G, including P = G.
        let p_ref = g_ref(d);
        let pe = enc_ref(&p_ref);
        let mut pub65 = [0u8; 65];
        pub65.copy_from_slice(&pe);
        let cache = PublicCache::new(&pub65);
        let ptable = PTable::new(&cache.point);
        let s = ks[(i * 7 + 1) % ks.len()];
        let t = if i % 3 == 0 { rng.below(&scalar::N) } else { ks[(i * 13 + 5) % ks.len()] };
        let want_tp = enc_ref(&(p_ref * sc(&t)));
        assert_eq!(enc(&point::mul_vartime::<M>(&cache.point, &t)), want_tp, "wnaf {t:x?}");
        assert_eq!(enc(&ptable.mul_vartime::<M>(&t)), want_tp, "p comb {t:x?}");
        let sum = add_vartime::<M>(&g.mul_vartime::<M>(&s), &ptable.mul_vartime::<M>(&t));
        let want = enc_ref(&(g_ref(&s) + p_ref * sc(&t)));
        assert_eq!(enc(&sum), want);
        assert_eq!(enc(&point::double_mul_vartime::<M>(&g.rows[0], &s, &cache.point, &t)), want);
        // t P = -s G: the sum is the identity. t = -s / d.
        let dinv: Scalar = Option::from(sc(d).invert()).unwrap();
        let t0 = -(sc(&s) * dinv);
        let t0l = super::field::limbs_from_be(&t0.to_repr().into());
        let sum = add_vartime::<M>(&g.mul_vartime::<M>(&s), &point::mul_vartime::<M>(&cache.point, &t0l));
        assert!(sum.is_identity_vartime());
        assert!(point::double_mul_vartime::<M>(&g.rows[0], &s, &cache.point, &t0l).is_identity_vartime());
        // s G + s G: the doubling case of the final addition (P = G, t = s).
        let sum = add_vartime::<M>(&g.mul_vartime::<M>(&s), &g.mul_vartime::<M>(&s));
        assert_eq!(enc(&sum), enc_ref(&(g_ref(&s) + g_ref(&s))));
        let sum = point::double_mul_vartime::<M>(&g.rows[0], &s, &g.rows[0][0], &s);
        assert_eq!(enc(&sum), enc_ref(&(g_ref(&s) + g_ref(&s))));
        assert!(point::double_mul_vartime::<M>(&g.rows[0], &[0; 4], &cache.point, &[0; 4]).is_identity_vartime());
    }
}

#[test]
fn s_g_plus_t_p_matches_portable() {
    check_double_mul::<U128>();
}

#[cfg(target_arch = "x86_64")]
#[test]
fn s_g_plus_t_p_matches_portable_adx() {
    if adx::available() {
        check_double_mul::<adx::Adx>();
    }
}

fn h32(s: &str) -> [u8; 32] {
    crate::hex::decode(s.as_bytes()).unwrap().try_into().unwrap()
}

#[test]
fn gmt_0003_5_vector_with_every_backend() {
    let sk = PrivateKey::from_string("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8").unwrap();
    let e = crate::sm2::signature::message_digest(sk.public_key(), b"message digest", DEFAULT_UID).unwrap();
    let k = h32("59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21");
    let want = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3\
                B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";
    for b in [Backend::Portable, Backend::Fast, Backend::FastAdx] {
        let sig = sk.sign_digest_with_k_using(b, &e, &k).unwrap();
        assert_eq!(crate::hex::encode_upper(&sig), want, "{b:?}");
        for v in [Backend::Portable, Backend::Fast, Backend::FastAdx] {
            assert!(sk.public_key().verify_digest_using(v, &e, &Signature::from_raw(&sig).unwrap()));
        }
    }
}

#[test]
fn every_backend_signs_alike_and_verifies_the_others() {
    let mut rng = Rng(0xC0FFEE);
    let backends = available_backends();
    assert!(backends.contains(&Backend::Portable) && backends.contains(&Backend::Fast));
    let ks = scalars(40);
    for (i, k) in ks.iter().enumerate() {
        let mut db = [0u8; 32];
        for x in db.iter_mut() {
            *x = rng.next() as u8;
        }
        let sk = match i {
            0 => PrivateKey::from_scalar_bytes(&limbs_to_be(&[1, 0, 0, 0])).unwrap(),
            1 => PrivateKey::from_scalar_bytes(&limbs_to_be(&[
                scalar::N[0] - 2,
                scalar::N[1],
                scalar::N[2],
                scalar::N[3],
            ]))
            .unwrap(),
            _ => match PrivateKey::from_scalar_bytes(&db) {
                Ok(k) => k,
                Err(_) => continue,
            },
        };
        let mut e = [0u8; 32];
        for x in e.iter_mut() {
            *x = rng.next() as u8;
        }
        if i % 5 == 0 {
            e = [0xFF; 32];
        }
        let kb = limbs_to_be(k);
        let want = sk.sign_digest_with_k_using(Backend::Portable, &e, &kb);
        for &b in &backends {
            let sig = sk.sign_digest_with_k_using(b, &e, &kb);
            assert_eq!(sig, want, "{b:?} k={k:x?}");
            let Some(sig) = sig else { continue };
            let parsed = Signature::from_raw(&sig).unwrap();
            for &v in &backends {
                assert!(sk.public_key().verify_digest_using(v, &e, &parsed), "{b:?} -> {v:?}");
                let mut e2 = e;
                e2[31] ^= 1;
                assert!(!sk.public_key().verify_digest_using(v, &e2, &parsed));
                let mut bad = sig;
                bad[40] ^= 0x10;
                if let Ok(bad) = Signature::from_raw(&bad) {
                    assert!(!sk.public_key().verify_digest_using(v, &e, &bad));
                }
            }
            // The generic path (before the key's comb exists) too.
            let (r, s) = (sig[..32].try_into().unwrap(), sig[32..].try_into().unwrap());
            assert!(verify_without_table(b, &sk.public_key().fast, &e, &r, &s));
        }
    }
}

#[test]
fn out_of_range_k_is_refused() {
    let sk = PrivateKey::generate().unwrap();
    let e = [7u8; 32];
    for b in available_backends() {
        assert!(sk.sign_digest_with_k_using(b, &e, &[0; 32]).is_none());
        assert!(sk.sign_digest_with_k_using(b, &e, &crate::sm2::curve::N).is_none());
        assert!(sk.sign_digest_with_k_using(b, &e, &[0xFF; 32]).is_none());
    }
}

#[test]
fn verify_agrees_with_portable_on_forged_and_degenerate_signatures() {
    // Signatures whose s G + t P is the identity, or with r + s = n, are refused by all.
    let sk = PrivateKey::from_string("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8").unwrap();
    let pk: &PublicKey = sk.public_key();
    let d = Scalar::from_repr(FieldBytes::from(*sk.to_scalar_bytes())).unwrap();
    let s = Scalar::from(12345u64);
    // s + t d = 0 with t = r + s.
    let t = -(s * Option::<Scalar>::from(d.invert()).unwrap());
    let r = t - s;
    let mut raw = [0u8; 64];
    raw[..32].copy_from_slice(&r.to_repr());
    raw[32..].copy_from_slice(&s.to_repr());
    let sig = Signature::from_raw(&raw).unwrap();
    let mut raw2 = raw;
    raw2[..32].copy_from_slice(&(-s).to_repr());
    let sig2 = Signature::from_raw(&raw2).unwrap();
    for _ in 0..6 {
        // Repeated so that the key's comb gets built and used.
        for b in [Backend::Portable, Backend::Fast, Backend::FastAdx] {
            for e in [[0u8; 32], [0xAB; 32]] {
                assert!(!pk.verify_digest_using(b, &e, &sig));
                assert!(!pk.verify_digest_using(b, &e, &sig2));
            }
        }
    }
}

#[test]
fn x1_at_or_above_n_is_handled() {
    // A digest that makes r - e wrap, so the c + n candidate is tried; compare with portable.
    let sk = PrivateKey::generate().unwrap();
    let mut rng = Rng(3);
    for _ in 0..50 {
        let mut e = [0u8; 32];
        for x in e.iter_mut() {
            *x = rng.next() as u8;
        }
        let sig = sk.sign_digest_with_k_using(Backend::Fast, &e, &limbs_to_be(&rng.below(&scalar::N)));
        let Some(sig) = sig else { continue };
        let parsed = Signature::from_raw(&sig).unwrap();
        for b in available_backends() {
            assert!(sk.public_key().verify_digest_using(b, &e, &parsed));
        }
    }
}

/// Per-operation timings: `cargo test --release microbench -- --ignored --nocapture`.
#[test]
#[ignore]
fn microbench() {
    micro::<U128>("u128");
    #[cfg(target_arch = "x86_64")]
    if adx::available() {
        micro::<adx::Adx>("adx");
    }
}

fn micro<M: FieldMul>(label: &str) {
    use super::field::invert;
    use std::hint::black_box;
    use std::time::Instant;
    // The best of 20 short trials: the machine is shared, so take the least disturbed one.
    let time = |name: &str, iters: u32, f: &mut dyn FnMut()| {
        let mut best = f64::MAX;
        for _ in 0..20 {
            let t = Instant::now();
            for _ in 0..iters / 20 {
                f();
            }
            best = best.min(t.elapsed().as_nanos() as f64 / (iters / 20) as f64);
        }
        println!("{label:<5} {name:<14} {best:>9.1} ns");
    };
    let mut a = super::field::to_mont::<M>(&[1, 2, 3, 4]);
    let b = super::field::to_mont::<M>(&[5, 6, 7, 8]);
    time("mul", 1_000_000, &mut || a = M::mul(black_box(&a), &b));
    time("sqr", 1_000_000, &mut || a = M::sqr(black_box(&a)));
    time("add", 1_000_000, &mut || a = M::add(black_box(&a), &b));
    time("sub", 1_000_000, &mut || a = M::sub(black_box(&a), &b));
    time("invert", 10_000, &mut || a = invert::<M>(black_box(&a)));
    let g = g_table();
    let mut d = 5u64;
    time("select_ct", 100_000, &mut || {
        let q = point::select_ct(&g.rows[3], black_box(d));
        d = (d + q.x.0[0]) & 63;
    });
    let mut p = g.mul_ct::<M>(&[3, 4, 5, 6]);
    let q2 = g.rows[5][7];
    time("madd_ct", 100_000, &mut || p = point::madd_ct::<M>(black_box(&p), &q2, 0));
    time("dbl", 100_000, &mut || p = point::dbl::<M>(black_box(&p)));
    let p2 = p;
    time("add_vartime", 100_000, &mut || p = add_vartime::<M>(black_box(&p), &p2));
    let k = [0x1234_5678_9ABC_DEF0u64, 0xF00D_BEEF_1234_5678, 0x0FED_CBA9_8765_4321, 0x7654_3210_0123_4567];
    time("mul_g_ct", 10_000, &mut || p = g.mul_ct::<M>(black_box(&k)));
    time("mul_g_vartime", 10_000, &mut || p = g.mul_vartime::<M>(black_box(&k)));
    let pa = g.rows[1][3];
    time("wnaf mul", 5_000, &mut || p = point::mul_vartime::<M>(black_box(&pa), &k));
    time("sG+tP", 5_000, &mut || p = point::double_mul_vartime::<M>(&g.rows[0], black_box(&k), &pa, &k));
    let t = Instant::now();
    black_box(PTable::new(&pa));
    println!(
        "{label:<5} {:<14} {:>9.1} us (portable arithmetic)",
        "key comb build",
        t.elapsed().as_nanos() as f64 / 1000.0
    );
    let t = Instant::now();
    black_box(point::GTable::new(&pa));
    println!(
        "{label:<5} {:<14} {:>9.1} us (portable arithmetic)",
        "G comb build",
        t.elapsed().as_nanos() as f64 / 1000.0
    );
    black_box((a, p));
}

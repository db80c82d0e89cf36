//! Throughput of SM4-ECB (every backend this CPU runs) and SM3 on 4 KiB messages.
//! A plain timing loop: `cargo bench --bench sm4_sm3` prints MB/s (10^6 bytes/s).
//! If an `openssl` binary is on PATH it is measured in the same run (`openssl speed
//! -seconds 3 -bytes 4096 -evp sm4-ecb` / `sm3`) and ratios are printed; set
//! BENCH_NO_OPENSSL=1 to skip that, BENCH_SECS to change the time per measurement.

use medpay_core::sm3::{self as msm3, Sm3};
use medpay_core::sm4::{available_backends, Sm4Key};
use std::hint::black_box;
use std::time::{Duration, Instant};

const MSG: usize = 4096;
const SHORT: usize = 200;

/// Nanoseconds this thread has spent on a CPU (Linux), like `openssl speed`, which
/// divides by CPU time too; `None` elsewhere, and wall time is used instead.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Run `f` on 4 KiB repeatedly for about `secs` seconds; return the best MB/s of twenty
/// equal windows (the machine may be shared; the best window is the least disturbed).
fn rate(secs: f64, f: impl FnMut()) -> f64 {
    rate_n(secs, MSG, f)
}

/// [`rate`] for messages of `bytes` bytes.
fn rate_n(secs: f64, bytes: usize, mut f: impl FnMut()) -> f64 {
    // Warm up (and let the clock settle) before timing.
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(100) {
        f();
    }
    let mut best = 0f64;
    for _ in 0..20 {
        let start = Instant::now();
        let cpu0 = cpu_ns();
        let mut n = 0u64;
        while start.elapsed().as_secs_f64() < secs / 20.0 {
            for _ in 0..16 {
                f();
            }
            n += 16;
        }
        let wall = start.elapsed().as_secs_f64();
        let t = match (cpu0, cpu_ns()) {
            (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
            _ => wall,
        };
        best = best.max((n as f64 * bytes as f64) / t / 1e6);
    }
    best
}

fn main() {
    let secs: f64 = std::env::var("BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    // Optional filter words after `--`: run only sections whose name contains one.
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let want = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let key = [0x42u8; 16];
    let mut buf = vec![0x5au8; MSG];
    let mut sm4_rates = Vec::new();
    for backend in available_backends().into_iter().filter(|b| want(&format!("sm4 {}", b.name()))) {
        let k = Sm4Key::with_backend(&key, backend).unwrap();
        let raw = rate(secs, || {
            k.encrypt_blocks(black_box(&mut buf)).unwrap();
        });
        let plain = vec![0x33u8; MSG];
        let mut out = Vec::with_capacity(MSG + 16);
        let padded = rate(secs, || {
            k.encrypt_ecb_pkcs7_into(black_box(&plain), &mut out);
            black_box(&out);
        });
        let hex = rate(secs, || {
            black_box(k.encrypt_ecb_pkcs7_hex_upper(black_box(&plain)));
        });
        let cipher = k.encrypt_ecb_pkcs7(&plain);
        let mut back = Vec::with_capacity(MSG + 16);
        let dec = rate(secs, || {
            k.decrypt_ecb_pkcs7_into(black_box(&cipher), &mut back).unwrap();
            black_box(&back);
        });
        println!(
            "sm4-ecb 4KiB {:<12} {:>8.1} MB/s raw  {:>8.1} MB/s pkcs7_into  {:>8.1} MB/s pkcs7+hex  \
             {:>8.1} MB/s decrypt_pkcs7_into",
            backend.name(),
            raw,
            padded,
            hex,
            dec
        );
        sm4_rates.push((backend.name(), raw));
        // A short message, as most protocol bodies are: 300 bytes -> 19 blocks.
        let short = vec![0x33u8; SHORT];
        let r = rate_n(secs, SHORT, || {
            k.encrypt_ecb_pkcs7_into(black_box(&short), &mut out);
            black_box(&out);
        });
        println!("sm4-ecb {SHORT}B {:<12} {:>8.1} MB/s pkcs7_into", backend.name(), r);
    }
    if want("sm4 rustcrypto") {
        use sm4::cipher::{Array, BlockCipherEncrypt, KeyInit};
        let c = sm4::Sm4::new(&Array::from(key));
        let r = rate(secs, || {
            for chunk in black_box(&mut buf).chunks_exact_mut(16) {
                let b: &mut [u8; 16] = chunk.try_into().unwrap();
                c.encrypt_block(b.into());
            }
        });
        println!("sm4-ecb 4KiB {:<12} {:>8.1} MB/s raw", "rustcrypto", r);
    }
    let data = vec![0x61u8; MSG];
    let mut sm3_rates = Vec::new();
    for backend in msm3::available_backends().into_iter().filter(|b| want(&format!("sm3 {}", b.name()))) {
        let r = rate(secs, || {
            let mut h = Sm3::with_backend(backend).unwrap();
            h.update(black_box(&data));
            black_box(h.finalize());
        });
        println!("sm3     4KiB {:<12} {:>8.1} MB/s", backend.name(), r);
        sm3_rates.push((backend.name(), r));
    }
    if want("sm3 rustcrypto") {
        use sm3::Digest;
        let r = rate(secs, || {
            black_box(sm3::Sm3::digest(black_box(&data)));
        });
        println!("sm3     4KiB {:<12} {:>8.1} MB/s", "rustcrypto", r);
    }
    if want("hex") {
        let bytes = vec![0xa5u8; MSG];
        let r = rate(secs, || {
            black_box(medpay_core::hex::encode_upper(black_box(&bytes)));
        });
        println!("hex     4KiB {:<12} {:>8.1} MB/s (input bytes)", "encode_upper", r);
        let text = medpay_core::hex::encode_upper(&bytes);
        let r = rate(secs, || {
            black_box(medpay_core::hex::decode(black_box(text.as_bytes())).unwrap());
        });
        println!("hex     4KiB {:<12} {:>8.1} MB/s (output bytes)", "decode", r);
    }

    if std::env::var_os("BENCH_NO_OPENSSL").is_none() && want("openssl") {
        for (alg, ours) in [("sm4-ecb", &sm4_rates), ("sm3", &sm3_rates)] {
            match openssl_speed(alg) {
                Some(o) => {
                    println!("openssl {alg:<8} 4KiB {o:>8.1} MB/s");
                    for (name, r) in ours.iter() {
                        println!("  {alg} {name:<12} {:>6.2}x openssl", r / o);
                    }
                }
                None => println!("openssl {alg}: not measured (no openssl binary or no {alg})"),
            }
        }
    }
}

/// `openssl speed -evp ALG` at 4096 bytes, in MB/s.
fn openssl_speed(alg: &str) -> Option<f64> {
    let out = std::process::Command::new("openssl")
        .args(["speed", "-seconds", "3", "-bytes", "4096", "-evp", alg])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // The last line is "<NAME> <n>k", n in 1000s of bytes per second.
    let line = text.lines().rev().find(|l| l.to_ascii_lowercase().starts_with(alg))?;
    let k: f64 = line.split_whitespace().last()?.trim_end_matches('k').parse().ok()?;
    Some(k / 1000.0)
}

//! x86_64 with BMI2, ADX and AVX2: the generic code compiled for those features (AVX2 makes
//! the constant-time table scans wide), with the field operations in assembly: Montgomery
//! products and squares with MULX and two carry chains (ADCX/ADOX), and the same
//! shift/add reduction as the portable code (see `field::mont_reduce`); add/sub with
//! CMOV-selected corrections. Generated from a short script; each block is straight-line
//! code with no data-dependent branches or memory indices.

use super::field::{Fe, FieldMul, P, U128};
use super::point::GTable;
use super::{Aff, PTable, VerifyPoint};
use std::sync::OnceLock;

/// BMI2, ADX and AVX2 are all present (checked once).
pub(crate) fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("adx")
            && std::arch::is_x86_feature_detected!("avx2")
    })
}

/// Field operations for CPUs with BMI2 and ADX. Used only after `available()`: by the
/// `target_feature` functions below and by tests.
#[derive(Clone, Copy)]
pub(crate) struct Adx;

impl FieldMul for Adx {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn mul(a: &Fe, b: &Fe) -> Fe {
        mul_adx(a, b)
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn sqr(a: &Fe) -> Fe {
        sqr_adx(a)
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn add(a: &Fe, b: &Fe) -> Fe {
        add_asm(a, b)
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn sub(a: &Fe, b: &Fe) -> Fe {
        sub_asm(a, b)
    }
}

/// a * b * 2^-256 mod p with MULX/ADCX/ADOX: four rows of t += a_i b (low halves on the
/// CF chain, high halves on the OF chain), each followed by t = (t + m p) / 2^64 with
/// m = t_0, done as shifts and adds; the registers rotate instead of moving. Then one
/// conditional subtraction of p (t < 2p).
#[cfg_attr(not(debug_assertions), inline(always))]
fn mul_adx(a: &Fe, b: &Fe) -> Fe {
    let (r0, r1, r2, r3): (u64, u64, u64, u64);
    // SAFETY: reads the 32 bytes of `a` and `b` only; the caller runs this only on CPUs
    // with BMI2 and ADX.
    unsafe {
        core::arch::asm!(
            "xor {z:e}, {z:e}",
            "xor {t0:e}, {t0:e}",
            "mov {t1}, {z}",
            "mov {t2}, {z}",
            "mov {t3}, {z}",
            "mov {t4}, {z}",
            "mov rdx, qword ptr [{a} + 0]",
            "xor {t5:e}, {t5:e}",
            "mulx {hi}, {lo}, qword ptr [{b} + 0]",
            "adcx {t0}, {lo}",
            "adox {t1}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{b} + 8]",
            "adcx {t1}, {lo}",
            "adox {t2}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{b} + 16]",
            "adcx {t2}, {lo}",
            "adox {t3}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{b} + 24]",
            "adcx {t3}, {lo}",
            "adox {t4}, {hi}",
            "adcx {t4}, {z}",
            "adox {t5}, {z}",
            "adcx {t5}, {z}",
            "mov {lo}, {t0}",
            "shl {lo}, 32",
            "mov {hi}, {t0}",
            "shr {hi}, 32",
            "add {t1}, {t0}",
            "adc {t2}, {z}",
            "adc {t3}, {z}",
            "adc {t4}, {t0}",
            "adc {t5}, {z}",
            "sub {t1}, {lo}",
            "sbb {t2}, {hi}",
            "sbb {t3}, {lo}",
            "sbb {t4}, {hi}",
            "sbb {t5}, {z}",
            "mov rdx, qword ptr [{a} + 8]",
            "xor {t0:e}, {t0:e}",
            "mulx {hi}, {lo}, qword ptr [{b} + 0]",
            "adcx {t1}, {lo}",
            "adox {t2}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{b} + 8]",
            "adcx {t2}, {lo}",
            "adox {t3}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{b} + 16]",
            "adcx {t3}, {lo}",
            "adox {t4}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{b} + 24]",
            "adcx {t4}, {lo}",
            "adox {t5}, {hi}",
            "adcx {t5}, {z}",
            "adox {t0}, {z}",
            "adcx {t0}, {z}",
            "mov {lo}, {t1}",
            "shl {lo}, 32",
            "mov {hi}, {t1}",
            "shr {hi}, 32",
            "add {t2}, {t1}",
            "adc {t3}, {z}",
            "adc {t4}, {z}",
            "adc {t5}, {t1}",
            "adc {t0}, {z}",
            "sub {t2}, {lo}",
            "sbb {t3}, {hi}",
            "sbb {t4}, {lo}",
            "sbb {t5}, {hi}",
            "sbb {t0}, {z}",
            "mov rdx, qword ptr [{a} + 16]",
            "xor {t1:e}, {t1:e}",
            "mulx {hi}, {lo}, qword ptr [{b} + 0]",
            "adcx {t2}, {lo}",
            "adox {t3}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{b} + 8]",
            "adcx {t3}, {lo}",
            "adox {t4}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{b} + 16]",
            "adcx {t4}, {lo}",
            "adox {t5}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{b} + 24]",
            "adcx {t5}, {lo}",
            "adox {t0}, {hi}",
            "adcx {t0}, {z}",
            "adox {t1}, {z}",
            "adcx {t1}, {z}",
            "mov {lo}, {t2}",
            "shl {lo}, 32",
            "mov {hi}, {t2}",
            "shr {hi}, 32",
            "add {t3}, {t2}",
            "adc {t4}, {z}",
            "adc {t5}, {z}",
            "adc {t0}, {t2}",
            "adc {t1}, {z}",
            "sub {t3}, {lo}",
            "sbb {t4}, {hi}",
            "sbb {t5}, {lo}",
            "sbb {t0}, {hi}",
            "sbb {t1}, {z}",
            "mov rdx, qword ptr [{a} + 24]",
            "xor {t2:e}, {t2:e}",
            "mulx {hi}, {lo}, qword ptr [{b} + 0]",
            "adcx {t3}, {lo}",
            "adox {t4}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{b} + 8]",
            "adcx {t4}, {lo}",
            "adox {t5}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{b} + 16]",
            "adcx {t5}, {lo}",
            "adox {t0}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{b} + 24]",
            "adcx {t0}, {lo}",
            "adox {t1}, {hi}",
            "adcx {t1}, {z}",
            "adox {t2}, {z}",
            "adcx {t2}, {z}",
            "mov {lo}, {t3}",
            "shl {lo}, 32",
            "mov {hi}, {t3}",
            "shr {hi}, 32",
            "add {t4}, {t3}",
            "adc {t5}, {z}",
            "adc {t0}, {z}",
            "adc {t1}, {t3}",
            "adc {t2}, {z}",
            "sub {t4}, {lo}",
            "sbb {t5}, {hi}",
            "sbb {t0}, {lo}",
            "sbb {t1}, {hi}",
            "sbb {t2}, {z}",
            "mov {lo}, {t4}",
            "sub {lo}, -1",
            "mov {t3}, 0xFFFFFFFF00000000",
            "mov {hi}, {t5}",
            "sbb {hi}, {t3}",
            "mov {z}, {t0}",
            "sbb {z}, -1",
            "mov {t3}, 0xFFFFFFFEFFFFFFFF",
            "mov {a}, {t1}",
            "sbb {a}, {t3}",
            "sbb {t2}, 0",
            "cmovc {lo}, {t4}",
            "cmovc {hi}, {t5}",
            "cmovc {z}, {t0}",
            "cmovc {a}, {t1}",

            a = inout(reg) a.0.as_ptr() => r3,
            b = in(reg) b.0.as_ptr(),
            t0 = out(reg) _, t1 = out(reg) _, t2 = out(reg) _,
            t3 = out(reg) _, t4 = out(reg) _, t5 = out(reg) _,
            lo = out(reg) r0, hi = out(reg) r1, z = out(reg) r2,
            out("rdx") _,
            options(pure, readonly, nostack),
        );
    }
    Fe([r0, r1, r2, r3])
}

/// a^2 * 2^-256 mod p: the six cross products, doubled, plus the four squares, then four
/// reduction steps as in `mul_adx` (carries run up to a ninth limb in rdx) and one
/// conditional subtraction of p.
#[cfg_attr(not(debug_assertions), inline(always))]
fn sqr_adx(a: &Fe) -> Fe {
    let (r0, r1, r2, r3): (u64, u64, u64, u64);
    // SAFETY: reads the 32 bytes of `a` only; the caller runs this only on CPUs with BMI2
    // and ADX.
    unsafe {
        core::arch::asm!(
            "xor {z:e}, {z:e}",
            "mov rdx, qword ptr [{a}]",
            "mulx {t2}, {t1}, qword ptr [{a} + 8]",
            "mulx {t3}, {lo}, qword ptr [{a} + 16]",
            "add {t2}, {lo}",
            "mulx {t4}, {lo}, qword ptr [{a} + 24]",
            "adc {t3}, {lo}",
            "adc {t4}, {z}",
            "mov rdx, qword ptr [{a} + 8]",
            "xor {t5:e}, {t5:e}",
            "mulx {hi}, {lo}, qword ptr [{a} + 16]",
            "adcx {t3}, {lo}",
            "adox {t4}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{a} + 24]",
            "adcx {t4}, {lo}",
            "adox {t5}, {hi}",
            "adcx {t5}, {z}",
            "mov rdx, qword ptr [{a} + 16]",
            "mulx {t6}, {lo}, qword ptr [{a} + 24]",
            "add {t5}, {lo}",
            "adc {t6}, {z}",
            "xor {t7:e}, {t7:e}",
            "add {t1}, {t1}",
            "adc {t2}, {t2}",
            "adc {t3}, {t3}",
            "adc {t4}, {t4}",
            "adc {t5}, {t5}",
            "adc {t6}, {t6}",
            "adc {t7}, {z}",
            "mov rdx, qword ptr [{a}]",
            "mulx {hi}, {t0}, rdx",
            "add {t1}, {hi}",
            "mov rdx, qword ptr [{a} + 8]",
            "mulx {hi}, {lo}, rdx",
            "adc {t2}, {lo}",
            "adc {t3}, {hi}",
            "mov rdx, qword ptr [{a} + 16]",
            "mulx {hi}, {lo}, rdx",
            "adc {t4}, {lo}",
            "adc {t5}, {hi}",
            "mov rdx, qword ptr [{a} + 24]",
            "mulx {hi}, {lo}, rdx",
            "adc {t6}, {lo}",
            "adc {t7}, {hi}",
            "xor edx, edx",
            "mov {lo}, {t0}",
            "shl {lo}, 32",
            "mov {hi}, {t0}",
            "shr {hi}, 32",
            "add {t1}, {t0}",
            "adc {t2}, {z}",
            "adc {t3}, {z}",
            "adc {t4}, {t0}",
            "adc {t5}, {z}",
            "adc {t6}, {z}",
            "adc {t7}, {z}",
            "adc rdx, {z}",
            "sub {t1}, {lo}",
            "sbb {t2}, {hi}",
            "sbb {t3}, {lo}",
            "sbb {t4}, {hi}",
            "sbb {t5}, {z}",
            "sbb {t6}, {z}",
            "sbb {t7}, {z}",
            "sbb rdx, {z}",
            "mov {lo}, {t1}",
            "shl {lo}, 32",
            "mov {hi}, {t1}",
            "shr {hi}, 32",
            "add {t2}, {t1}",
            "adc {t3}, {z}",
            "adc {t4}, {z}",
            "adc {t5}, {t1}",
            "adc {t6}, {z}",
            "adc {t7}, {z}",
            "adc rdx, {z}",
            "sub {t2}, {lo}",
            "sbb {t3}, {hi}",
            "sbb {t4}, {lo}",
            "sbb {t5}, {hi}",
            "sbb {t6}, {z}",
            "sbb {t7}, {z}",
            "sbb rdx, {z}",
            "mov {lo}, {t2}",
            "shl {lo}, 32",
            "mov {hi}, {t2}",
            "shr {hi}, 32",
            "add {t3}, {t2}",
            "adc {t4}, {z}",
            "adc {t5}, {z}",
            "adc {t6}, {t2}",
            "adc {t7}, {z}",
            "adc rdx, {z}",
            "sub {t3}, {lo}",
            "sbb {t4}, {hi}",
            "sbb {t5}, {lo}",
            "sbb {t6}, {hi}",
            "sbb {t7}, {z}",
            "sbb rdx, {z}",
            "mov {lo}, {t3}",
            "shl {lo}, 32",
            "mov {hi}, {t3}",
            "shr {hi}, 32",
            "add {t4}, {t3}",
            "adc {t5}, {z}",
            "adc {t6}, {z}",
            "adc {t7}, {t3}",
            "adc rdx, {z}",
            "sub {t4}, {lo}",
            "sbb {t5}, {hi}",
            "sbb {t6}, {lo}",
            "sbb {t7}, {hi}",
            "sbb rdx, {z}",
            "mov {lo}, {t4}",
            "sub {lo}, -1",
            "mov {t0}, 0xFFFFFFFF00000000",
            "mov {hi}, {t5}",
            "sbb {hi}, {t0}",
            "mov {z}, {t6}",
            "sbb {z}, -1",
            "mov {t0}, 0xFFFFFFFEFFFFFFFF",
            "mov {a}, {t7}",
            "sbb {a}, {t0}",
            "sbb rdx, 0",
            "cmovc {lo}, {t4}",
            "cmovc {hi}, {t5}",
            "cmovc {z}, {t6}",
            "cmovc {a}, {t7}",

            a = inout(reg) a.0.as_ptr() => r3,
            t0 = out(reg) _, t1 = out(reg) _, t2 = out(reg) _, t3 = out(reg) _,
            t4 = out(reg) _, t5 = out(reg) _, t6 = out(reg) _, t7 = out(reg) _,
            lo = out(reg) r0, hi = out(reg) r1, z = out(reg) r2,
            out("rdx") _,
            options(pure, readonly, nostack),
        );
    }
    Fe([r0, r1, r2, r3])
}

/// (a + b) mod p for a, b < p.
#[cfg_attr(not(debug_assertions), inline(always))]
fn add_asm(a: &Fe, b: &Fe) -> Fe {
    let [mut r0, mut r1, mut r2, mut r3] = a.0;
    // SAFETY: reads the 32 bytes of `b` only; baseline x86_64 instructions.
    unsafe {
        core::arch::asm!(
            "add {a0}, qword ptr [{b}]",
            "adc {a1}, qword ptr [{b} + 8]",
            "adc {a2}, qword ptr [{b} + 16]",
            "adc {a3}, qword ptr [{b} + 24]",
            "sbb {c}, {c}",
            "mov {s0}, {a0}",
            "sub {s0}, -1",
            "mov {s1}, {a1}",
            "sbb {s1}, {p1}",
            "mov {s2}, {a2}",
            "sbb {s2}, -1",
            "mov {s3}, {a3}",
            "sbb {s3}, {p3}",
            "sbb {c}, 0",
            "cmovnc {a0}, {s0}",
            "cmovnc {a1}, {s1}",
            "cmovnc {a2}, {s2}",
            "cmovnc {a3}, {s3}",
            a0 = inout(reg) r0, a1 = inout(reg) r1, a2 = inout(reg) r2, a3 = inout(reg) r3,
            b = in(reg) b.0.as_ptr(),
            p1 = in(reg) P[1], p3 = in(reg) P[3],
            c = out(reg) _, s0 = out(reg) _, s1 = out(reg) _, s2 = out(reg) _, s3 = out(reg) _,
            options(pure, readonly, nostack),
        );
    }
    Fe([r0, r1, r2, r3])
}

/// (a - b) mod p for a, b < p.
#[cfg_attr(not(debug_assertions), inline(always))]
fn sub_asm(a: &Fe, b: &Fe) -> Fe {
    let [mut r0, mut r1, mut r2, mut r3] = a.0;
    // SAFETY: reads the 32 bytes of `b` only; baseline x86_64 instructions.
    unsafe {
        core::arch::asm!(
            "sub {a0}, qword ptr [{b}]",
            "sbb {a1}, qword ptr [{b} + 8]",
            "sbb {a2}, qword ptr [{b} + 16]",
            "sbb {a3}, qword ptr [{b} + 24]",
            "sbb {c}, {c}",
            "mov {s1}, {p1}",
            "and {s1}, {c}",
            "mov {s3}, {p3}",
            "and {s3}, {c}",
            "add {a0}, {c}",
            "adc {a1}, {s1}",
            "adc {a2}, {c}",
            "adc {a3}, {s3}",
            a0 = inout(reg) r0, a1 = inout(reg) r1, a2 = inout(reg) r2, a3 = inout(reg) r3,
            b = in(reg) b.0.as_ptr(),
            p1 = in(reg) P[1], p3 = in(reg) P[3],
            c = out(reg) _, s1 = out(reg) _, s3 = out(reg) _,
            options(pure, readonly, nostack),
        );
    }
    Fe([r0, r1, r2, r3])
}

#[target_feature(enable = "bmi2,adx,avx2")]
fn nonce_x1_impl(g: &GTable, k: &[u8; 32]) -> Option<[u64; 4]> {
    super::nonce_x1_core::<Adx>(g, k)
}

#[target_feature(enable = "bmi2,adx,avx2")]
fn verify_point_impl(g: &GTable, pk: &Aff, t: Option<&PTable>, r: &[u8; 32], s: &[u8; 32]) -> Option<VerifyPoint> {
    super::verify_point_core::<Adx>(g, pk, t, r, s)
}

/// x1 of k G mod n (the costly half of signing).
pub(crate) fn nonce_x1(g: &GTable, k: &[u8; 32]) -> Option<[u64; 4]> {
    if !available() {
        return super::nonce_x1_core::<U128>(g, k);
    }
    // SAFETY: the CPU has BMI2, ADX and AVX2 (checked just above).
    unsafe { nonce_x1_impl(g, k) }
}

/// The message-independent half of verifying.
pub(crate) fn verify_point(
    g: &GTable,
    pk: &Aff,
    t: Option<&PTable>,
    r: &[u8; 32],
    s: &[u8; 32],
) -> Option<VerifyPoint> {
    if !available() {
        return super::verify_point_core::<U128>(g, pk, t, r, s);
    }
    // SAFETY: the CPU has BMI2, ADX and AVX2 (checked just above).
    unsafe { verify_point_impl(g, pk, t, r, s) }
}

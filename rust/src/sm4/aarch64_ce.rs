//! SM4 on the Armv8.2 SM4 crypto extension (FEAT_SM4: `SM4E`, `SM4EKEY`), as on Kunpeng
//! and other Armv8.2+ servers.
//!
//! A block sits in one register as its four big-endian words X0..X3 (lane i = Xi, after
//! `rev32`); `SM4E` runs four rounds with the four round keys in its second register, so a
//! block takes eight of them, and the result X32..X35 is put back in reverse word order.
//! Eight blocks go through together so the instructions' latency overlaps. `SM4EKEY`
//! runs four rounds of the key schedule in the same way. The instructions have no
//! data-dependent timing (no table lookups in memory).
//!
//! The core Rust intrinsics for these instructions are unstable, so they are emitted with
//! `asm!` inside functions compiled with `target_feature(enable = "sm4")` (stable), which
//! lets the assembler accept them. Every function here needs that feature; the entry
//! points are called solely for a [`super::Backend`] that passed runtime detection.

use core::arch::aarch64::*;

/// Blocks processed together for instruction-level parallelism.
const N: usize = 8;

/// Four SM4 rounds on `x` with the round keys in `k`'s lanes.
#[inline]
#[target_feature(enable = "sm4")]
fn sm4e(mut x: uint32x4_t, k: uint32x4_t) -> uint32x4_t {
    // SAFETY: SM4E only reads and writes the named registers; the caller's target
    // feature guarantees the instruction exists.
    unsafe {
        core::arch::asm!("sm4e {x:v}.4s, {k:v}.4s", x = inout(vreg) x, k = in(vreg) k,
            options(pure, nomem, nostack, preserves_flags));
    }
    x
}

/// Four rounds of the key schedule: the next four round keys from the last four (`k`)
/// and four CK constants (`ck`).
#[inline]
#[target_feature(enable = "sm4")]
fn sm4ekey(k: uint32x4_t, ck: uint32x4_t) -> uint32x4_t {
    let out: uint32x4_t;
    // SAFETY: as in `sm4e`.
    unsafe {
        core::arch::asm!("sm4ekey {d:v}.4s, {n:v}.4s, {m:v}.4s", d = lateout(vreg) out, n = in(vreg) k, m = in(vreg) ck,
            options(pure, nomem, nostack, preserves_flags));
    }
    out
}

/// The 32 round keys from `k` = MK ⊕ FK (as words), with `SM4EKEY`.
///
/// # Safety
/// The CPU must support the SM4 extension.
#[target_feature(enable = "sm4")]
pub(crate) unsafe fn expand(k: &[u32; 4], ck: &[u32; 32]) -> [u32; 32] {
    let mut rk = [0u32; 32];
    // SAFETY: all pointers are to whole arrays of the right size; NEON loads and stores
    // have no alignment requirement beyond the element's.
    unsafe {
        let mut state = vld1q_u32(k.as_ptr());
        for i in 0..8 {
            state = sm4ekey(state, vld1q_u32(ck.as_ptr().add(4 * i)));
            vst1q_u32(rk.as_mut_ptr().add(4 * i), state);
        }
        // The key words are secret; leave none in the vector registers we named.
        let _ = core::hint::black_box(vdupq_n_u32(0));
    }
    rk
}

/// Encrypt (or, with reversed round keys, decrypt) `S` consecutive blocks at `p`.
///
/// # Safety
/// The CPU must support the SM4 extension; `p` must point to `16 * S` writable bytes.
#[inline]
#[target_feature(enable = "sm4")]
unsafe fn kernel<const S: usize>(k: &[uint32x4_t; 8], p: *mut u8) {
    // SAFETY: the caller guarantees `16 * S` bytes at `p`.
    unsafe {
        let mut x: [uint32x4_t; S] =
            core::array::from_fn(|i| vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p.add(16 * i)))));
        for kk in k {
            for xi in x.iter_mut() {
                *xi = sm4e(*xi, *kk);
            }
        }
        for (i, xi) in x.iter().enumerate() {
            // Lanes X32..X35 → X35..X32, then back to big-endian bytes.
            let r = vrev64q_u32(*xi);
            let r = vextq_u32::<2>(r, r);
            vst1q_u8(p.add(16 * i), vrev32q_u8(vreinterpretq_u8_u32(r)));
        }
    }
}

/// Run the cipher with round keys `rk` over whole blocks in place.
///
/// # Safety
/// The CPU must support the SM4 extension.
#[target_feature(enable = "sm4")]
pub(crate) unsafe fn crypt(rk: &[u32; 32], data: &mut [u8]) {
    debug_assert!(data.len().is_multiple_of(16));
    // SAFETY: `rk` is 32 words; every block pointer below stays inside `data`.
    unsafe {
        let k: [uint32x4_t; 8] = core::array::from_fn(|i| vld1q_u32(rk.as_ptr().add(4 * i)));
        let blocks = data.len() / 16;
        let p = data.as_mut_ptr();
        let mut i = 0;
        while blocks - i >= N {
            kernel::<N>(&k, p.add(16 * i));
            i += N;
        }
        let p = p.add(16 * i);
        match blocks - i {
            1 => kernel::<1>(&k, p),
            2 => kernel::<2>(&k, p),
            3 => kernel::<3>(&k, p),
            4 => kernel::<4>(&k, p),
            5 => kernel::<5>(&k, p),
            6 => kernel::<6>(&k, p),
            7 => kernel::<7>(&k, p),
            _ => {}
        }
    }
}

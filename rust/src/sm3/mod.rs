//! SM3 (GB/T 32905-2016), our own implementation: a fully unrolled compression function
//! with the message expansion interleaved into the rounds, the round constants
//! pre-rotated, and the register shuffle done by renaming instead of moves. RustCrypto's
//! `sm3` is the oracle in the tests.
//!
//! On x86-64 the same code is also compiled with BMI2 (`rorx`: rotations that do not
//! overwrite their input) and chosen at run time when the CPU has it.

#[cfg(test)]
mod tests;

/// Initial hash value.
const IV: [u32; 8] =
    [0x7380_166f, 0x4914_b2b9, 0x1724_42d7, 0xda8a_0600, 0xa96f_30bc, 0x1631_38aa, 0xe38d_ee4d, 0xb0fb_0e4e];

/// T_j rotated left by j mod 32, as each round adds it.
const T: [u32; 64] = {
    let mut t = [0u32; 64];
    let mut j = 0;
    while j < 64 {
        let base: u32 = if j < 16 { 0x79cc_4519 } else { 0x7a87_9d8a };
        t[j] = base.rotate_left((j % 32) as u32);
        j += 1;
    }
    t
};

#[inline(always)]
fn p0(x: u32) -> u32 {
    x ^ x.rotate_left(9) ^ x.rotate_left(17)
}

#[inline(always)]
fn p1(x: u32) -> u32 {
    x ^ x.rotate_left(15) ^ x.rotate_left(23)
}

/// Compress whole 64-byte blocks into `state`.
#[inline(always)]
fn compress_body(state: &mut [u32; 8], blocks: &[u8]) {
    for block in blocks.chunks_exact(64) {
        let mut w = [0u32; 68];
        for (i, wi) in w.iter_mut().take(16).enumerate() {
            *wi = u32::from_be_bytes([block[4 * i], block[4 * i + 1], block[4 * i + 2], block[4 * i + 3]]);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;

        // One round. Instead of shifting all eight registers, the caller renames them:
        // the new A is written into D's variable and the new E into H's, and B, F are
        // rotated in place to become the new C, G.
        macro_rules! round {
            ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $j:expr, $ff:expr, $gg:expr) => {{
                // Expand the word round j+4 will need, four rounds ahead of its use.
                if $j + 4 >= 16 && $j + 4 < 68 {
                    let k = $j + 4;
                    w[k] = p1(w[k - 16] ^ w[k - 9] ^ w[k - 3].rotate_left(15)) ^ w[k - 13].rotate_left(7) ^ w[k - 6];
                }
                let a12 = $a.rotate_left(12);
                let ss1 = a12.wrapping_add(T[$j]).wrapping_add($e).rotate_left(7);
                let ss2 = ss1 ^ a12;
                let ff: u32 = $ff;
                let gg: u32 = $gg;
                let tt1 = ff.wrapping_add($d).wrapping_add(w[$j] ^ w[$j + 4]).wrapping_add(ss2);
                let tt2 = gg.wrapping_add($h.wrapping_add(w[$j])).wrapping_add(ss1);
                $b = $b.rotate_left(9);
                $f = $f.rotate_left(19);
                $d = tt1;
                $h = p0(tt2);
            }};
        }
        // Rounds 0-15: FF = GG = x ^ y ^ z.
        macro_rules! four_early {
            ($j:expr) => {
                round!(a, b, c, d, e, f, g, h, $j, a ^ b ^ c, e ^ f ^ g);
                round!(d, a, b, c, h, e, f, g, $j + 1, d ^ a ^ b, h ^ e ^ f);
                round!(c, d, a, b, g, h, e, f, $j + 2, c ^ d ^ a, g ^ h ^ e);
                round!(b, c, d, a, f, g, h, e, $j + 3, b ^ c ^ d, f ^ g ^ h);
            };
        }
        // Rounds 16-63: FF = majority, GG = choose; written as ^/& forms the compiler
        // turns into few instructions.
        macro_rules! four_late {
            ($j:expr) => {
                round!(a, b, c, d, e, f, g, h, $j, (a & b) | (c & (a | b)), ((f ^ g) & e) ^ g);
                round!(d, a, b, c, h, e, f, g, $j + 1, (d & a) | (b & (d | a)), ((e ^ f) & h) ^ f);
                round!(c, d, a, b, g, h, e, f, $j + 2, (c & d) | (a & (c | d)), ((h ^ e) & g) ^ e);
                round!(b, c, d, a, f, g, h, e, $j + 3, (b & c) | (d & (b | c)), ((g ^ h) & f) ^ h);
            };
        }
        four_early!(0);
        four_early!(4);
        four_early!(8);
        four_early!(12);
        four_late!(16);
        four_late!(20);
        four_late!(24);
        four_late!(28);
        four_late!(32);
        four_late!(36);
        four_late!(40);
        four_late!(44);
        four_late!(48);
        four_late!(52);
        four_late!(56);
        four_late!(60);

        for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *s ^= v;
        }
    }
}

fn compress_portable(state: &mut [u32; 8], blocks: &[u8]) {
    compress_body(state, blocks);
}

/// # Safety
/// The CPU must support BMI2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2")]
unsafe fn compress_bmi2(state: &mut [u32; 8], blocks: &[u8]) {
    compress_body(state, blocks);
}

/// An implementation of the SM3 compression function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// Plain Rust, any CPU.
    Portable,
    /// The same code compiled for BMI2 (x86-64).
    Bmi2,
}

impl Backend {
    /// Every backend, fastest first.
    pub const ALL: [Backend; 2] = [Backend::Bmi2, Backend::Portable];

    /// A short name, for logs and benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Portable => "portable",
            Backend::Bmi2 => "bmi2",
        }
    }

    /// Whether this CPU can run the backend.
    pub fn is_available(self) -> bool {
        match self {
            Backend::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Backend::Bmi2 => is_x86_feature_detected!("bmi2"),
            #[cfg(not(target_arch = "x86_64"))]
            Backend::Bmi2 => false,
        }
    }

    /// The fastest backend this CPU can run.
    pub fn best() -> Backend {
        Backend::ALL.into_iter().find(|b| b.is_available()).unwrap_or(Backend::Portable)
    }
}

/// The SM3 backends this CPU can run, fastest first; the first is the default.
pub fn available_backends() -> Vec<Backend> {
    Backend::ALL.into_iter().filter(|b| b.is_available()).collect()
}

/// An incremental SM3 hasher.
#[derive(Clone)]
pub struct Sm3 {
    state: [u32; 8],
    buf: [u8; 64],
    buf_len: usize,
    /// Bytes absorbed so far.
    total: u64,
    backend: Backend,
}

impl Default for Sm3 {
    fn default() -> Self {
        Self::with_backend_unchecked(Backend::best())
    }
}

impl Sm3 {
    /// A fresh hasher on the fastest backend of this CPU.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh hasher on a given backend, or `None` if this CPU cannot run it.
    pub fn with_backend(backend: Backend) -> Option<Self> {
        backend.is_available().then(|| Self::with_backend_unchecked(backend))
    }

    fn with_backend_unchecked(backend: Backend) -> Self {
        Self { state: IV, buf: [0; 64], buf_len: 0, total: 0, backend }
    }

    /// The backend this hasher runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn compress(&mut self, blocks: &[u8]) {
        compress_with(self.backend, &mut self.state, blocks);
    }

    /// Absorb `data`.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.buf_len > 0 {
            let take = (64 - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            data = &data[take..];
            if self.buf_len < 64 {
                return;
            }
            let block = self.buf;
            self.compress(&block);
            self.buf_len = 0;
        }
        let whole = data.len() - data.len() % 64;
        if whole > 0 {
            self.compress(&data[..whole]);
        }
        let rest = &data[whole..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    /// The 32-byte digest.
    pub fn finalize(mut self) -> [u8; 32] {
        let bits = self.total.wrapping_mul(8);
        let mut tail = [0u8; 128];
        tail[..self.buf_len].copy_from_slice(&self.buf[..self.buf_len]);
        tail[self.buf_len] = 0x80;
        // One block if the length still fits after the 0x80 byte, else two.
        let n = if self.buf_len < 56 { 64 } else { 128 };
        tail[n - 8..n].copy_from_slice(&bits.to_be_bytes());
        self.compress(&tail[..n]);
        let mut out = [0u8; 32];
        for (o, s) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&s.to_be_bytes());
        }
        out
    }
}

fn compress_with(backend: Backend, state: &mut [u32; 8], blocks: &[u8]) {
    match backend {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a hasher only holds `Bmi2` after `is_available` detected BMI2.
        Backend::Bmi2 => unsafe { compress_bmi2(state, blocks) },
        _ => compress_portable(state, blocks),
    }
}

/// SM3 digest of `data`.
///
/// ```
/// let d = medpay_core::sm3::sm3(b"abc");
/// assert_eq!(d[0], 0x66);
/// ```
pub fn sm3(data: &[u8]) -> [u8; 32] {
    let mut h = Sm3::new();
    h.update(data);
    h.finalize()
}

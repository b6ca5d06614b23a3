//! Distance kernels with runtime CPU detection.
//!
//! x86-64: AVX2+FMA (and F16C for half-precision rows) kernels with four independent accumulators,
//! AVX-512 VPOPCNTDQ (else an AVX2 nibble-lookup popcount, else scalar POPCNT) for the
//! binary-code kernel, AVX2 `maddubs` for the 4-bit
//! extended codes, and AVX2 builds of the query preparation (Hadamard transform, 4-bit bit planes,
//! i8 rounding), selected at run time with `is_x86_feature_detected!`.
//! Everything else (including aarch64/NEON, where LLVM vectorises the chunked scalar loops) uses
//! the portable fallback. Apart from the popcount, AVX-512 is not specialised: the AVX2 paths run
//! on AVX-512 machines.
//! This module and `store.rs` (mmap) are the only places with `unsafe`.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

#[cfg(target_arch = "x86_64")]
#[inline]
fn has_avx2_fma() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn has_f16c() -> bool {
    has_avx2_fma() && is_x86_feature_detected!("f16c")
}

/// Inner product of two f32 slices (the shorter length is used).
#[inline]
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above); the kernel reads only within
        // the two slices, which have equal length.
        return unsafe { dot_f32_avx2(a, b) };
    }
    dot_f32_scalar(a, b)
}

/// Squared Euclidean distance of two f32 slices (the shorter length is used).
#[inline]
pub fn l2sq_f32(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: AVX2+FMA checked; equal-length slices, reads stay in bounds.
        return unsafe { l2sq_f32_avx2(a, b) };
    }
    l2sq_f32_scalar(a, b)
}

/// Inner product of an f32 query with an f16 row given as raw IEEE half bits.
#[inline]
pub fn dot_f16(a: &[f32], b: &[u16]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    #[cfg(target_arch = "x86_64")]
    if has_f16c() {
        // SAFETY: AVX2, FMA and F16C checked; equal-length slices, reads stay in bounds.
        return unsafe { dot_f16_avx2(a, b) };
    }
    a.iter()
        .zip(b)
        .map(|(x, &h)| x * half::f16::from_bits(h).to_f32())
        .sum()
}

/// Squared L2 distance of an f32 query and an f16 row (raw half bits).
#[inline]
pub fn l2sq_f16(a: &[f32], b: &[u16]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    #[cfg(target_arch = "x86_64")]
    if has_f16c() {
        // SAFETY: AVX2, FMA and F16C checked; equal-length slices, reads stay in bounds.
        return unsafe { l2sq_f16_avx2(a, b) };
    }
    a.iter()
        .zip(b)
        .map(|(x, &h)| {
            let d = x - half::f16::from_bits(h).to_f32();
            d * d
        })
        .sum()
}

/// Weighted popcount of a binary code against a 4-bit query split into bit planes (plane-major:
/// plane `j` is `planes[j * w .. (j + 1) * w]` for `w = code.len()`): returns
/// `sum_i sum_j 2^j * popcount(code[i] & planes[j * w + i])`, i.e. the sum of the quantised query
/// components at the code's set bits. `planes.len()` must be `4 * code.len()`.
#[inline]
pub fn weighted_popcount4(code: &[u64], planes: &[u64]) -> u32 {
    let w = code.len();
    if planes.len() < 4 * w {
        return 0;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if w.is_multiple_of(8)
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512vpopcntdq")
        {
            // SAFETY: AVX-512F and VPOPCNTDQ checked; the kernel loads 8-word blocks of `code`
            // (w a multiple of 8) and of the four planes (planes.len() >= 4 w, checked above).
            return unsafe { wpop4_avx512(code, planes) };
        }
        if w.is_multiple_of(4) && is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 checked; the kernel loads 4-word blocks of `code` (w a multiple of
            // 4) and of the four planes (planes.len() >= 4 w, checked above).
            return unsafe { wpop4_avx2(code, planes) };
        }
        if is_x86_feature_detected!("popcnt") {
            // SAFETY: POPCNT is supported (checked above); the kernel only uses safe indexing.
            return unsafe { wpop4_popcnt(code, planes) };
        }
    }
    wpop4_scalar(code, planes)
}

/// [`weighted_popcount4`] of several records: `out[i]` for the code words at
/// `codes[ids[i] * stride..][..planes.len() / 4]`, or `u32::MAX` where that record lies outside
/// `codes`. One call per expanded node of a search (its ~16-32 neighbours): the kernel choice is
/// made once and the per-record loop runs inside it.
pub fn weighted_popcount4_gather(
    codes: &[u64],
    stride: usize,
    ids: &[u32],
    planes: &[u64],
    out: &mut [u32],
) {
    let w = planes.len() / 4;
    #[cfg(target_arch = "x86_64")]
    if w.is_multiple_of(4)
        && !is_x86_feature_detected!("avx512vpopcntdq")
        && is_x86_feature_detected!("avx2")
    {
        // SAFETY: AVX2 checked; w is a multiple of 4 and `planes` holds 4 w words.
        unsafe { wpop4_gather_avx2(codes, stride, w, ids, planes, out) };
        return;
    }
    for (o, &id) in out.iter_mut().zip(ids) {
        let a = id as usize * stride;
        *o = codes
            .get(a..a + w)
            .map_or(u32::MAX, |code| weighted_popcount4(code, planes));
    }
}

/// The loop of [`weighted_popcount4_gather`] compiled with AVX2, so `wpop4_avx2` inlines into it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn wpop4_gather_avx2(
    codes: &[u64],
    stride: usize,
    w: usize,
    ids: &[u32],
    planes: &[u64],
    out: &mut [u32],
) {
    for (o, &id) in out.iter_mut().zip(ids) {
        let a = id as usize * stride;
        *o = match codes.get(a..a + w) {
            // `code` has w words (a multiple of 4) and `planes` 4 w, as `wpop4_avx2` requires.
            Some(code) => wpop4_avx2(code, planes),
            None => u32::MAX,
        };
    }
}

/// Quantise the unit rotated query `x` to 4-bit unsigned integers
/// `u_i = trunc(clamp((x_i - lo) / delta + dither_i, 0, 15))` and write their bit planes into
/// `planes` (plane-major, as [`weighted_popcount4`] reads them; bit `i % 64` of word `i / 64`).
/// Returns `sum_i u_i`. `x.len()` must be a multiple of 64, `dither` as long as `x`, and `planes`
/// `4 * x.len() / 64` words; `delta > 0`.
pub fn quantize4_planes(x: &[f32], dither: &[f32], lo: f32, delta: f32, planes: &mut [u64]) -> u64 {
    let w = x.len() / 64;
    if dither.len() < x.len() || planes.len() < 4 * w {
        return 0;
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: AVX2 checked; the kernel reads 64-component blocks of `x` and `dither` (both at
        // least 64 w long) and writes `planes[..4 w]` through safe indexing.
        return unsafe { quantize4_planes_avx2(x, dither, lo, delta, planes) };
    }
    quantize4_planes_scalar(x, dither, lo, delta, planes)
}

fn quantize4_planes_scalar(
    x: &[f32],
    dither: &[f32],
    lo: f32,
    delta: f32,
    planes: &mut [u64],
) -> u64 {
    let w = x.len() / 64;
    let mut sum_u = 0u64;
    for (b, (xs, ds)) in x.chunks_exact(64).zip(dither.chunks_exact(64)).enumerate() {
        let mut word = [0u64; 4];
        for (i, (&x, &d)) in xs.iter().zip(ds).enumerate() {
            // The argument is >= 0 after the clamp, so truncation is the floor (no libm call).
            let u = (((x - lo) / delta) + d).clamp(0.0, 15.0) as u32;
            sum_u += u as u64;
            for (j, wj) in word.iter_mut().enumerate() {
                *wj |= (((u >> j) & 1) as u64) << i;
            }
        }
        for (j, &wj) in word.iter().enumerate() {
            planes[j * w + b] = wj;
        }
    }
    sum_u
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn quantize4_planes_avx2(
    x: &[f32],
    dither: &[f32],
    lo: f32,
    delta: f32,
    planes: &mut [u64],
) -> u64 {
    let w = x.len() / 64;
    let (vlo, vdelta) = (_mm256_set1_ps(lo), _mm256_set1_ps(delta));
    let (zero, fifteen) = (_mm256_setzero_ps(), _mm256_set1_ps(15.0));
    let mut acc = _mm256_setzero_si256();
    for b in 0..w {
        let mut word = [0u64; 4];
        for k in 0..8 {
            let i = 64 * b + 8 * k;
            let xv = _mm256_loadu_ps(x.as_ptr().add(i));
            let dv = _mm256_loadu_ps(dither.as_ptr().add(i));
            // Same operations as the scalar path (a division, not a reciprocal), so the same
            // integers; max(v, 0) also maps NaN to 0, as `as u32` does.
            let v = _mm256_add_ps(_mm256_div_ps(_mm256_sub_ps(xv, vlo), vdelta), dv);
            let v = _mm256_min_ps(_mm256_max_ps(v, zero), fifteen);
            let u = _mm256_cvttps_epi32(v);
            acc = _mm256_add_epi32(acc, u);
            // Bit j of the eight integers, via the sign bit.
            let m0 = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<31>(u))) as u64;
            let m1 = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<30>(u))) as u64;
            let m2 = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<29>(u))) as u64;
            let m3 = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<28>(u))) as u64;
            word[0] |= m0 << (8 * k);
            word[1] |= m1 << (8 * k);
            word[2] |= m2 << (8 * k);
            word[3] |= m3 << (8 * k);
        }
        for (j, &wj) in word.iter().enumerate() {
            planes[j * w + b] = wj;
        }
    }
    let s = _mm_add_epi32(
        _mm256_castsi256_si128(acc),
        _mm256_extracti128_si256::<1>(acc),
    );
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b00_00_00_01>(s));
    _mm_cvtsi128_si32(s) as u32 as u64
}

/// `x <- H (s o x)`: multiply by the signs `s` (each +1 or -1, as long as `x`), then the
/// unnormalised FWHT; one round of the rotation ([`crate::rabitq::Rotation`]). Bit-identical to
/// the multiply followed by the portable transform (a sign flip is exact).
#[inline]
pub fn fwht_signed(x: &mut [f32], s: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if x.len() >= 8 && x.len().is_power_of_two() && s.len() == x.len() && has_avx2_fma() {
        // SAFETY: AVX2 and FMA checked; the kernel loads and stores whole 8-float chunks of `x`
        // and `s` (equal lengths, a power of two >= 8).
        unsafe { fwht_avx2(x, Some(s)) };
        return;
    }
    for (a, &g) in x.iter_mut().zip(s) {
        *a *= g;
    }
    fwht_body(x)
}

/// The first three butterfly stages (h = 1, 2, 4) inside each 8-float register (the portable
/// loop runs them with 1-, 2- and 4-long inner loops: scalar, and ~half of a query's transform
/// time); with 64 or more values, also the next three (h = 8, 16, 32) across the eight registers
/// of a 64-value block before it is stored, then the wider stages two at a time (radix 4), so a
/// 1024-long transform passes over memory 4 times instead of 8. Every butterfly is the portable
/// loop's `a + b`, `a - b` (or `a*(+-1) + b` in one FMA, which rounds once, the same): the
/// results are bit-identical.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fwht_avx2(x: &mut [f32], signs: Option<&[f32]>) {
    let s1 = _mm256_setr_ps(1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0);
    let s2 = _mm256_setr_ps(1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0);
    let s4 = _mm256_setr_ps(1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0);
    // out[i] = x[i] (+ or -) x[i ^ h]: the partner by a permute, the sign by the FMA.
    let in_register = |mut v: __m256| {
        v = _mm256_fmadd_ps(v, s1, _mm256_permute_ps::<0b10_11_00_01>(v));
        v = _mm256_fmadd_ps(v, s2, _mm256_permute_ps::<0b01_00_11_10>(v));
        _mm256_fmadd_ps(v, s4, _mm256_permute2f128_ps::<1>(v, v))
    };
    let p = x.as_mut_ptr();
    let load = |i: usize| {
        let v = _mm256_loadu_ps(p.add(i));
        match signs {
            Some(s) => _mm256_mul_ps(v, _mm256_loadu_ps(s.as_ptr().add(i))),
            None => v,
        }
    };
    let n = x.len();
    if n < 64 {
        for i in (0..n).step_by(8) {
            let v = in_register(load(i));
            _mm256_storeu_ps(p.add(i), v);
        }
        fwht_stages(x, 8);
        return;
    }
    for b in (0..n).step_by(64) {
        let mut v = [_mm256_setzero_ps(); 8];
        for (j, r) in v.iter_mut().enumerate() {
            *r = in_register(load(b + 8 * j));
        }
        // h = 8, 16, 32: register j pairs with register j ^ (h / 8).
        for h in [1usize, 2, 4] {
            for j in 0..8 {
                if j & h == 0 {
                    let (u, w) = (v[j], v[j + h]);
                    v[j] = _mm256_add_ps(u, w);
                    v[j + h] = _mm256_sub_ps(u, w);
                }
            }
        }
        for (j, r) in v.iter().enumerate() {
            _mm256_storeu_ps(p.add(b + 8 * j), *r);
        }
    }
    // Stages h and 2h together: for each i in the first quarter of a 4h block, the four values
    // i, i + h, i + 2h, i + 3h.
    let mut h = 64;
    while 4 * h <= n {
        for blk in (0..n).step_by(4 * h) {
            for i in (blk..blk + h).step_by(8) {
                let a = _mm256_loadu_ps(p.add(i));
                let b = _mm256_loadu_ps(p.add(i + h));
                let c = _mm256_loadu_ps(p.add(i + 2 * h));
                let d = _mm256_loadu_ps(p.add(i + 3 * h));
                let (a, b) = (_mm256_add_ps(a, b), _mm256_sub_ps(a, b));
                let (c, d) = (_mm256_add_ps(c, d), _mm256_sub_ps(c, d));
                _mm256_storeu_ps(p.add(i), _mm256_add_ps(a, c));
                _mm256_storeu_ps(p.add(i + 2 * h), _mm256_sub_ps(a, c));
                _mm256_storeu_ps(p.add(i + h), _mm256_add_ps(b, d));
                _mm256_storeu_ps(p.add(i + 3 * h), _mm256_sub_ps(b, d));
            }
        }
        h *= 4;
    }
    fwht_stages(x, h);
}

#[inline(always)]
fn fwht_body(x: &mut [f32]) {
    fwht_stages(x, 1)
}

/// The butterfly stages of half-width `h0`, `2 h0`, ... up to the length of `x`.
#[inline(always)]
fn fwht_stages(x: &mut [f32], h0: usize) {
    let n = x.len();
    let mut h = h0;
    while h < n {
        for block in x.chunks_exact_mut(2 * h) {
            let (l, r) = block.split_at_mut(h);
            for (a, b) in l.iter_mut().zip(r.iter_mut()) {
                let (u, v) = (*a, *b);
                *a = u + v;
                *b = u - v;
            }
        }
        h *= 2;
    }
}

/// `out[i] = clamp(round(x[i] * (1 / scale)), -127, 127)` (round half to even) for finite `x`.
#[inline]
pub fn round_to_i8(x: &[f32], scale: f32, out: &mut [i8]) {
    let n = x.len().min(out.len());
    let (x, out) = (&x[..n], &mut out[..n]);
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: AVX2 checked; the kernel loads and stores whole 8-element chunks of `x` and
        // `out` (equal lengths) and leaves the remainder to safe code.
        unsafe { round_to_i8_avx2(x, scale, out) };
        return;
    }
    round_to_i8_body(x, scale, out);
}

#[inline(always)]
fn round_to_i8_body(x: &[f32], scale: f32, out: &mut [i8]) {
    let inv = 1.0 / scale;
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v * inv).round_ties_even().clamp(-127.0, 127.0) as i8;
    }
}

/// Eight at a time: LLVM vectorised the multiply and rounding of the portable loop but not the
/// clamp and the narrowing to i8 (~1% of a 1M search).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn round_to_i8_avx2(x: &[f32], scale: f32, out: &mut [i8]) {
    let inv = _mm256_set1_ps(1.0 / scale);
    let (lo, hi) = (_mm256_set1_ps(-127.0), _mm256_set1_ps(127.0));
    let whole = x.len() / 8 * 8;
    for (c, o) in x[..whole]
        .chunks_exact(8)
        .zip(out[..whole].chunks_exact_mut(8))
    {
        let v = _mm256_mul_ps(_mm256_loadu_ps(c.as_ptr()), inv);
        let r = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(v);
        let i = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(r, lo), hi));
        let w = _mm_packs_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256::<1>(i));
        _mm_storel_epi64(o.as_mut_ptr() as *mut __m128i, _mm_packs_epi16(w, w));
    }
    round_to_i8_body(&x[whole..], scale, &mut out[whole..]);
}

/// Smallest and largest values (`(INFINITY, NEG_INFINITY)` if empty) of finite values.
#[inline]
pub fn min_max(x: &[f32]) -> (f32, f32) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: AVX2 checked; the kernel loads whole 8-float chunks of `x` and leaves the
        // remainder to safe code.
        return unsafe { min_max_avx2(x) };
    }
    min_max_body(x)
}

/// In eight independent lanes, so that it vectorises (a single running minimum is a chain of
/// dependent operations).
#[inline(always)]
fn min_max_body(x: &[f32]) -> (f32, f32) {
    let mut lo = [f32::INFINITY; 8];
    let mut hi = [f32::NEG_INFINITY; 8];
    let mut it = x.chunks_exact(8);
    for c in &mut it {
        for j in 0..8 {
            lo[j] = lo[j].min(c[j]);
            hi[j] = hi[j].max(c[j]);
        }
    }
    for (j, &v) in it.remainder().iter().enumerate() {
        lo[j] = lo[j].min(v);
        hi[j] = hi[j].max(v);
    }
    (
        lo.iter().fold(f32::INFINITY, |a, &b| a.min(b)),
        hi.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)),
    )
}

/// LLVM turned the portable loop into a shuffle-heavy SSE2 sequence (~5% of a search on a 4k
/// set, once per query); two vminps/vmaxps per eight values here.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn min_max_avx2(x: &[f32]) -> (f32, f32) {
    let mut lo = _mm256_set1_ps(f32::INFINITY);
    let mut hi = _mm256_set1_ps(f32::NEG_INFINITY);
    let whole = x.len() / 8 * 8;
    for c in x[..whole].chunks_exact(8) {
        let v = _mm256_loadu_ps(c.as_ptr());
        lo = _mm256_min_ps(lo, v);
        hi = _mm256_max_ps(hi, v);
    }
    let (mut l, mut h) = ([0.0f32; 8], [0.0f32; 8]);
    _mm256_storeu_ps(l.as_mut_ptr(), lo);
    _mm256_storeu_ps(h.as_mut_ptr(), hi);
    let (rl, rh) = min_max_body(&x[whole..]);
    (
        l.iter().fold(rl, |a, &b| a.min(b)),
        h.iter().fold(rh, |a, &b| a.max(b)),
    )
}

/// Sum of `x` in eight independent lanes (vectorises; a sequential sum is a chain of dependent
/// additions).
pub fn sum(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut it = x.chunks_exact(8);
    for c in &mut it {
        for j in 0..8 {
            acc[j] += c[j];
        }
    }
    acc.iter().sum::<f32>() + it.remainder().iter().sum::<f32>()
}

/// Inner product of 4-bit unsigned codes with an i8 query: `sum_i u_i * q_i`.
/// `code` is packed per 64 components in 32 bytes: byte `j` of block `b` holds component
/// `64 b + j` in its low nibble and `64 b + 32 + j` in its high nibble. `q.len()` must be
/// `2 * code.len()` and a multiple of 64 (extra components are ignored).
#[inline]
pub fn dot_u4_i8(code: &[u8], q: &[i8]) -> i32 {
    let blocks = (code.len() / 32).min(q.len() / 64);
    let (code, q) = (&code[..32 * blocks], &q[..64 * blocks]);
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 checked; the kernel reads `blocks` full 32-byte code blocks and 64-byte
        // query blocks, which the two slices hold (trimmed above).
        return unsafe { dot_u4_i8_avx2(code, q) };
    }
    dot_u4_i8_scalar(code, q)
}

fn dot_u4_i8_scalar(code: &[u8], q: &[i8]) -> i32 {
    let mut s = 0i32;
    for (c, qb) in code.chunks_exact(32).zip(q.chunks_exact(64)) {
        for j in 0..32 {
            s += (c[j] & 0x0F) as i32 * qb[j] as i32 + (c[j] >> 4) as i32 * qb[32 + j] as i32;
        }
    }
    s
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_u4_i8_avx2(code: &[u8], q: &[i8]) -> i32 {
    let blocks = code.len() / 32;
    let mask = _mm256_set1_epi8(0x0F);
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_si256();
    for b in 0..blocks {
        let c = _mm256_loadu_si256(code.as_ptr().add(32 * b) as *const __m256i);
        let q0 = _mm256_loadu_si256(q.as_ptr().add(64 * b) as *const __m256i);
        let q1 = _mm256_loadu_si256(q.as_ptr().add(64 * b + 32) as *const __m256i);
        let lo = _mm256_and_si256(c, mask);
        let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(c), mask);
        // u8 x i8 pair sums fit in i16: |15 * 127 * 2| * 2 = 7620.
        let p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, q0), _mm256_maddubs_epi16(hi, q1));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, ones));
    }
    let s = _mm_add_epi32(
        _mm256_castsi256_si128(acc),
        _mm256_extracti128_si256::<1>(acc),
    );
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b00_00_00_01>(s));
    _mm_cvtsi128_si32(s)
}

/// Number of set bits of a code.
#[inline]
pub fn popcount(code: &[u64]) -> u32 {
    code.iter().map(|w| w.count_ones()).sum()
}

/// Hint the CPU to fetch the 64-byte cache lines that `data` touches (at most the first `lines`
/// of them; `usize::MAX` for all). A slice that does not start on a line boundary touches one line
/// more than its length suggests, and the last one is fetched too.
#[inline(always)]
pub fn prefetch<T>(data: &[T], lines: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        let bytes = std::mem::size_of_val(data);
        let p = data.as_ptr() as *const i8;
        let mut off = 0usize;
        let mut l = 0;
        while off < bytes && l < lines {
            // SAFETY: prefetch is a hint that never faults; the address is inside `data`
            // (off < byte length), and SSE is part of the x86-64 baseline.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(off)) };
            // The start of the next cache line.
            off += 64 - (p as usize + off) % 64;
            l += 1;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (data, lines);
    }
}

fn dot_f32_scalar(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

fn l2sq_f32_scalar(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            let d = x[i] - y[i];
            acc[i] += d * d;
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        let d = x - y;
        s += d * d;
    }
    s
}

fn wpop4_scalar(code: &[u64], planes: &[u64]) -> u32 {
    wpop4_body(code, planes)
}

/// The portable weighted popcount, inlined into each caller so that `count_ones` compiles to
/// POPCNT inside [`wpop4_popcnt`] (a plain call would run the scalar build's bit-twiddling
/// popcount there: measured as 31% of a search on an AVX2-only machine).
#[inline(always)]
fn wpop4_body(code: &[u64], planes: &[u64]) -> u32 {
    let w = code.len();
    let (p0, rest) = planes.split_at(w);
    let (p1, rest) = rest.split_at(w);
    let (p2, p3) = rest.split_at(w);
    let mut s = [0u32; 4];
    for (i, &c) in code.iter().enumerate() {
        s[0] += (c & p0[i]).count_ones();
        s[1] += (c & p1[i]).count_ones();
        s[2] += (c & p2[i]).count_ones();
        s[3] += (c & p3[i]).count_ones();
    }
    s[0] + 2 * s[1] + 4 * s[2] + 8 * s[3]
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
unsafe fn wpop4_avx512(code: &[u64], planes: &[u64]) -> u32 {
    let w = code.len();
    let (c, p) = (code.as_ptr(), planes.as_ptr());
    let mut acc = [_mm512_setzero_si512(); 4];
    let mut i = 0;
    while i + 8 <= w {
        let cv = _mm512_loadu_si512(c.add(i) as *const _);
        for (j, a) in acc.iter_mut().enumerate() {
            let pv = _mm512_loadu_si512(p.add(j * w + i) as *const _);
            *a = _mm512_add_epi64(*a, _mm512_popcnt_epi64(_mm512_and_si512(cv, pv)));
        }
        i += 8;
    }
    let s = _mm512_add_epi64(
        _mm512_add_epi64(acc[0], _mm512_slli_epi64::<1>(acc[1])),
        _mm512_add_epi64(
            _mm512_slli_epi64::<2>(acc[2]),
            _mm512_slli_epi64::<3>(acc[3]),
        ),
    );
    _mm512_reduce_add_epi64(s) as u32
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn wpop4_popcnt(code: &[u64], planes: &[u64]) -> u32 {
    wpop4_body(code, planes)
}

/// AVX2 weighted popcount (per-byte counts by nibble lookup, `vpshufb`): for each 4-word block,
/// the four planes' byte counts are combined as `8 c3 + 4 c2 + 2 c1 + c0` (at most 120, so bytes
/// do not overflow) and summed with `vpsadbw`. `code.len()` must be a multiple of 4.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn wpop4_avx2(code: &[u64], planes: &[u64]) -> u32 {
    let w = code.len();
    let (c, p) = (code.as_ptr(), planes.as_ptr());
    let lut = _mm256_setr_epi8(
        0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3,
        3, 4,
    );
    let low = _mm256_set1_epi8(0x0f);
    let mut acc = _mm256_setzero_si256();
    let mut i = 0;
    while i + 4 <= w {
        let cv = _mm256_loadu_si256(c.add(i) as *const __m256i);
        let mut ws = _mm256_setzero_si256();
        // Horner over the planes, most significant first.
        for j in (0..4).rev() {
            let x = _mm256_and_si256(cv, _mm256_loadu_si256(p.add(j * w + i) as *const __m256i));
            let lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(x, low));
            let hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16::<4>(x), low));
            ws = _mm256_add_epi8(_mm256_add_epi8(ws, ws), _mm256_add_epi8(lo, hi));
        }
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(ws, _mm256_setzero_si256()));
        i += 4;
    }
    let s = _mm_add_epi64(
        _mm256_castsi256_si128(acc),
        _mm256_extracti128_si256::<1>(acc),
    );
    (_mm_cvtsi128_si64(s) as u64).wrapping_add(_mm_extract_epi64::<1>(s) as u64) as u32
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn hsum256(v: __m256) -> f32 {
    let hi = _mm256_extractf128_ps::<1>(v);
    let lo = _mm256_castps256_ps128(v);
    let s = _mm_add_ps(hi, lo);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
    _mm_cvtss_f32(s)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_f32_avx2(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len();
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + 32 <= n {
        for (k, slot) in acc.iter_mut().enumerate() {
            let x = _mm256_loadu_ps(pa.add(i + 8 * k));
            let y = _mm256_loadu_ps(pb.add(i + 8 * k));
            *slot = _mm256_fmadd_ps(x, y, *slot);
        }
        i += 32;
    }
    while i + 8 <= n {
        acc[0] = _mm256_fmadd_ps(
            _mm256_loadu_ps(pa.add(i)),
            _mm256_loadu_ps(pb.add(i)),
            acc[0],
        );
        i += 8;
    }
    let v = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let mut s = hsum256(v);
    while i < n {
        s += a[i] * b[i];
        i += 1;
    }
    s
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn l2sq_f32_avx2(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len();
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + 32 <= n {
        for (k, slot) in acc.iter_mut().enumerate() {
            let d = _mm256_sub_ps(
                _mm256_loadu_ps(pa.add(i + 8 * k)),
                _mm256_loadu_ps(pb.add(i + 8 * k)),
            );
            *slot = _mm256_fmadd_ps(d, d, *slot);
        }
        i += 32;
    }
    while i + 8 <= n {
        let d = _mm256_sub_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)));
        acc[0] = _mm256_fmadd_ps(d, d, acc[0]);
        i += 8;
    }
    let v = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let mut s = hsum256(v);
    while i < n {
        let d = a[i] - b[i];
        s += d * d;
        i += 1;
    }
    s
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_f16_avx2(a: &[f32], b: &[u16]) -> f32 {
    let n = a.len();
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + 32 <= n {
        for (k, slot) in acc.iter_mut().enumerate() {
            let x = _mm256_loadu_ps(pa.add(i + 8 * k));
            let h = _mm_loadu_si128(pb.add(i + 8 * k) as *const __m128i);
            *slot = _mm256_fmadd_ps(x, _mm256_cvtph_ps(h), *slot);
        }
        i += 32;
    }
    while i + 8 <= n {
        let h = _mm_loadu_si128(pb.add(i) as *const __m128i);
        acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_cvtph_ps(h), acc[0]);
        i += 8;
    }
    let v = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let mut s = hsum256(v);
    while i < n {
        s += a[i] * half::f16::from_bits(b[i]).to_f32();
        i += 1;
    }
    s
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn l2sq_f16_avx2(a: &[f32], b: &[u16]) -> f32 {
    let n = a.len();
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + 32 <= n {
        for (k, slot) in acc.iter_mut().enumerate() {
            let h = _mm_loadu_si128(pb.add(i + 8 * k) as *const __m128i);
            let d = _mm256_sub_ps(_mm256_loadu_ps(pa.add(i + 8 * k)), _mm256_cvtph_ps(h));
            *slot = _mm256_fmadd_ps(d, d, *slot);
        }
        i += 32;
    }
    while i + 8 <= n {
        let h = _mm_loadu_si128(pb.add(i) as *const __m128i);
        let d = _mm256_sub_ps(_mm256_loadu_ps(pa.add(i)), _mm256_cvtph_ps(h));
        acc[0] = _mm256_fmadd_ps(d, d, acc[0]);
        i += 8;
    }
    let v = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let mut s = hsum256(v);
    while i < n {
        let d = a[i] - half::f16::from_bits(b[i]).to_f32();
        s += d * d;
        i += 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                (((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 8) % 1000) as f32
                    / 500.0
                    - 1.0
            })
            .collect()
    }

    #[test]
    fn kernels_match_scalar() {
        for n in [0usize, 1, 7, 8, 31, 32, 33, 100, 1024, 1031] {
            let a = data(n, 1);
            let b = data(n, 7);
            let d = dot_f32(&a, &b);
            let ds = dot_f32_scalar(&a, &b);
            assert!((d - ds).abs() <= 1e-3 * (1.0 + ds.abs()), "dot n={n}");
            let l = l2sq_f32(&a, &b);
            let ls = l2sq_f32_scalar(&a, &b);
            assert!((l - ls).abs() <= 1e-3 * (1.0 + ls.abs()), "l2 n={n}");
            let h: Vec<u16> = b
                .iter()
                .map(|&x| half::f16::from_f32(x).to_bits())
                .collect();
            let bh: Vec<f32> = h
                .iter()
                .map(|&x| half::f16::from_bits(x).to_f32())
                .collect();
            let dh = dot_f16(&a, &h);
            let dhs = dot_f32_scalar(&a, &bh);
            assert!((dh - dhs).abs() <= 1e-3 * (1.0 + dhs.abs()), "dot16 n={n}");
            let lh = l2sq_f16(&a, &h);
            let lhs = l2sq_f32_scalar(&a, &bh);
            assert!((lh - lhs).abs() <= 1e-3 * (1.0 + lhs.abs()), "l2_16 n={n}");
        }
    }

    #[test]
    fn u4_i8_kernel_matches_definition() {
        for blocks in [0usize, 1, 2, 16, 17] {
            let u: Vec<u8> = (0..64 * blocks).map(|i| ((i * 7 + 3) % 16) as u8).collect();
            let q: Vec<i8> = (0..64 * blocks)
                .map(|i| ((i as i32 * 37 + 11) % 255 - 127) as i8)
                .collect();
            let mut code = vec![0u8; 32 * blocks];
            for b in 0..blocks {
                for j in 0..32 {
                    code[32 * b + j] = u[64 * b + j] | (u[64 * b + 32 + j] << 4);
                }
            }
            let want: i32 = u.iter().zip(&q).map(|(&a, &b)| a as i32 * b as i32).sum();
            assert_eq!(dot_u4_i8(&code, &q), want, "blocks={blocks}");
            assert_eq!(dot_u4_i8_scalar(&code, &q), want, "scalar blocks={blocks}");
        }
    }

    #[test]
    fn weighted_popcount_matches_definition() {
        // 16 words take the AVX-512 kernel where the CPU has it, 4 and 16 the AVX2 one, 2 and 5
        // the POPCNT one.
        for words in [2usize, 4, 5, 16] {
            let bits = 64 * words;
            let code: Vec<u64> = (0..words as u64)
                .map(|i| (i + 1).wrapping_mul(0x9E3779B97F4A7C15))
                .collect();
            let u: Vec<u32> = (0..bits as u32).map(|i| (i * 7 + 3) % 16).collect();
            let mut planes = vec![0u64; 4 * words];
            for (i, &v) in u.iter().enumerate() {
                for j in 0..4 {
                    if (v >> j) & 1 == 1 {
                        planes[j * words + i / 64] |= 1 << (i % 64);
                    }
                }
            }
            let want: u32 = (0..bits)
                .filter(|&i| (code[i / 64] >> (i % 64)) & 1 == 1)
                .map(|i| u[i])
                .sum();
            assert_eq!(weighted_popcount4(&code, &planes), want, "words={words}");
            assert_eq!(wpop4_scalar(&code, &planes), want, "scalar words={words}");
            #[cfg(target_arch = "x86_64")]
            if is_x86_feature_detected!("popcnt") {
                // SAFETY: POPCNT checked.
                assert_eq!(
                    unsafe { wpop4_popcnt(&code, &planes) },
                    want,
                    "popcnt words={words}"
                );
            }
            #[cfg(target_arch = "x86_64")]
            if words % 4 == 0 && is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 checked, words a multiple of 4.
                assert_eq!(
                    unsafe { wpop4_avx2(&code, &planes) },
                    want,
                    "avx2 words={words}"
                );
            }
        }
    }

    #[test]
    fn quantiser_matches_scalar_definition() {
        let x: Vec<f32> = data(1024, 3).iter().map(|v| v * 0.05).collect();
        let dither: Vec<f32> = data(1024, 11).iter().map(|v| 0.5 * (v + 1.0)).collect();
        let (lo, hi) = x
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let delta = (hi - lo) / 15.0;
        let mut want = vec![0u64; 64];
        let mut got = vec![0u64; 64];
        let s0 = quantize4_planes_scalar(&x, &dither, lo, delta, &mut want);
        let s1 = quantize4_planes(&x, &dither, lo, delta, &mut got);
        assert_eq!(s0, s1);
        assert_eq!(want, got);
        // Plane-major bits reproduce the integers.
        let u: Vec<u32> = x
            .iter()
            .zip(&dither)
            .map(|(&v, &d)| (((v - lo) / delta) + d).clamp(0.0, 15.0) as u32)
            .collect();
        for (i, &ui) in u.iter().enumerate() {
            let back: u32 = (0..4)
                .map(|j| (((got[j * 16 + i / 64] >> (i % 64)) & 1) as u32) << j)
                .sum();
            assert_eq!(back, ui, "component {i}");
        }
    }

    #[test]
    fn min_max_matches_definition() {
        let x = data(300, 11);
        for n in [0usize, 1, 7, 8, 9, 64, 300] {
            let want = x[..n]
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
                    (l.min(v), h.max(v))
                });
            assert_eq!(min_max(&x[..n]), want, "n={n}");
            assert_eq!(min_max_body(&x[..n]), want, "n={n}");
        }
    }

    #[test]
    fn fwht_and_rounding_match_their_definitions() {
        let x = data(256, 5);
        let big = data(2048, 6);
        let signs: Vec<f32> = data(2048, 7)
            .iter()
            .map(|&v| if v < 0.0 { -1.0 } else { 1.0 })
            .collect();
        // Every path of the kernel: in-register only (< 64), register blocks, radix-4 passes with
        // and without a last radix-2 stage.
        for n in [1usize, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048] {
            let mut a = big[..n].to_vec();
            fwht_signed(&mut a, &signs[..n]);
            let mut b: Vec<f32> = big[..n].iter().zip(&signs).map(|(v, s)| v * s).collect();
            fwht_body(&mut b);
            assert_eq!(a, b, "signed, n={n}");
        }
        // The definition: H_n x with H_n[i][j] = (-1)^popcount(i & j).
        let mut a = x[..16].to_vec();
        fwht_signed(&mut a, &[1.0; 16]);
        for (i, &ai) in a.iter().enumerate() {
            let want: f32 = (0..16)
                .map(|j| {
                    if (i & j).count_ones() % 2 == 0 {
                        x[j]
                    } else {
                        -x[j]
                    }
                })
                .sum();
            assert!((ai - want).abs() < 1e-4, "i={i}: {ai} vs {want}");
        }
        // Whole chunks and a remainder; a scale that clamps some; exact ties (0.5, 1.5, -2.5).
        let mut y = x.clone();
        y.extend([0.5, 1.5, -2.5, 126.5, -127.5]);
        for (xs, scale) in [(&x[..], 0.01f32), (&y[..251], 0.001), (&y[..], 1.0)] {
            let mut r = vec![0i8; xs.len()];
            round_to_i8(xs, scale, &mut r);
            let inv = 1.0f32 / scale;
            for (&v, &o) in xs.iter().zip(&r) {
                assert_eq!(
                    o,
                    (v * inv).round_ties_even().clamp(-127.0, 127.0) as i8,
                    "{v}"
                );
            }
        }
    }
}

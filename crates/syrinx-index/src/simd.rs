//! Distance kernels with runtime CPU detection.
//!
//! x86-64: AVX2+FMA (and F16C for half-precision rows) kernels with four independent accumulators,
//! POPCNT for the binary-code kernel, AVX2 `maddubs` for the 4-bit extended codes, selected at run
//! time with `is_x86_feature_detected!`.
//! Everything else (including aarch64/NEON, where LLVM vectorises the chunked scalar loops) uses
//! the portable fallback. AVX-512 is not specialised: the AVX2 path runs on AVX-512 machines.
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

/// Weighted popcount of a binary code against a 4-bit query split into bit planes:
/// returns `sum_i sum_j 2^j * popcount(code[i] & planes[4*i + j])`, i.e. the sum of the quantised
/// query components at the code's set bits. `planes.len()` must be `4 * code.len()`.
#[inline]
pub fn weighted_popcount4(code: &[u64], planes: &[u64]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("popcnt") {
        // SAFETY: POPCNT is supported (checked above); the kernel only uses safe slice indexing.
        return unsafe { wpop4_popcnt(code, planes) };
    }
    wpop4_scalar(code, planes)
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

/// Hint the CPU to fetch the cache lines of `data` (at most the first `lines` 64-byte lines).
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
            off += 64;
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
    let mut s = [0u32; 4];
    for (i, &c) in code.iter().enumerate() {
        let p = &planes[4 * i..4 * i + 4];
        s[0] += (c & p[0]).count_ones();
        s[1] += (c & p[1]).count_ones();
        s[2] += (c & p[2]).count_ones();
        s[3] += (c & p[3]).count_ones();
    }
    s[0] + 2 * s[1] + 4 * s[2] + 8 * s[3]
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn wpop4_popcnt(code: &[u64], planes: &[u64]) -> u32 {
    wpop4_scalar(code, planes)
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
        let code: Vec<u64> = (0..16u64)
            .map(|i| i.wrapping_mul(0x9E3779B97F4A7C15))
            .collect();
        let u: Vec<u32> = (0..1024u32).map(|i| (i * 7 + 3) % 16).collect();
        let mut planes = vec![0u64; 64];
        for (i, &v) in u.iter().enumerate() {
            for j in 0..4 {
                if (v >> j) & 1 == 1 {
                    planes[4 * (i / 64) + j] |= 1 << (i % 64);
                }
            }
        }
        let want: u32 = (0..1024)
            .filter(|&i| (code[i / 64] >> (i % 64)) & 1 == 1)
            .map(|i| u[i])
            .sum();
        assert_eq!(weighted_popcount4(&code, &planes), want);
    }
}

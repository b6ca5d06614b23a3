//! RaBitQ-style 1-bit codes: random rotation, sign bits, per-vector correction factors and the
//! unbiased inner-product estimator with its error bound (Gao & Long, SIGMOD 2024).
//!
//! Data side, for a stored vector `o` (already normalised under cosine) and centroid `c`:
//! `o_r = R (o - c)` with `R` a random orthogonal transform (three rounds of random sign flips +
//! fast Walsh-Hadamard transform over the dimension padded to a power of two `Dp`);
//! code bit `i` = `o_r[i] > 0`; factors: `r2 = |o_r|^2`, `k = r2 / sum|o_r[i]|`,
//! `e = |o_r| * sqrt(1/f^2 - 1) / sqrt(Dp - 1)` where `f = sum|o_r[i]| / (|o_r| sqrt(Dp))`,
//! and the popcount of the code. A record is `Dp/64` code words followed by two words of factors
//! (144 bytes at Dp = 1024).
//!
//! Query side: `q_r = R (q - c)` (or `R q` for inner product), `qn = |q_r|`, unit `q^ = q_r / qn`
//! quantised to 4-bit unsigned integers with deterministic dithering and split into 4 bit planes.
//! For a record, `S = 2 (delta * P + lo * popcount) - sum(q^)` where `P` is the weighted popcount;
//! then `|o_r| <o^, q^>` is estimated by `k * S` (unbiased), with error at most `eps0 * e`
//! with high probability (`eps0 = 1.9`).

use crate::metric::Metric;
use crate::rng::SplitMix64;
use crate::simd;

/// Rounds of (random signs, Hadamard) in the rotation.
const ROUNDS: usize = 3;

/// Seed of the query quantiser's dither (see [`Rotation`]).
const QUERY_DITHER_SEED: u64 = 0x51_7C_C1_B7_27_22_0A_95;

/// Default confidence multiplier of the RaBitQ error bound.
pub const DEFAULT_EPS0: f32 = 1.9;

/// Random orthogonal transform: `ROUNDS` x (diagonal of random signs, then normalised FWHT).
#[derive(Clone, Debug)]
pub struct Rotation {
    padded: usize,
    signs: Vec<f32>,
    scale: f32,
    /// The query quantiser's dither, one value in [0, 1) per component: the same for every
    /// query (a fixed seed), so drawn once here instead of per query.
    dither: Vec<f32>,
}

impl Rotation {
    /// Rotation for `dim`-dimensional vectors (padded to the next power of two, at least 64).
    pub fn new(dim: usize, seed: u64) -> Self {
        let padded = dim.next_power_of_two().max(64);
        let mut rng = SplitMix64::new(seed ^ 0x0007_0A71_0000_0001);
        let signs = (0..ROUNDS * padded)
            .map(|_| if rng.next_u64() & 1 == 1 { 1.0 } else { -1.0 })
            .collect();
        let scale = (padded as f32).powf(-0.5 * ROUNDS as f32);
        let mut rng = SplitMix64::new(QUERY_DITHER_SEED);
        let dither = (0..padded).map(|_| rng.next_f32()).collect();
        Rotation {
            padded,
            signs,
            scale,
            dither,
        }
    }

    /// Padded dimension (number of code bits).
    pub fn padded(&self) -> usize {
        self.padded
    }

    /// Rotate `buf` in place: on entry the first `dim` entries hold the vector and the rest zeros.
    pub fn apply_inplace(&self, buf: &mut [f32]) {
        debug_assert_eq!(buf.len(), self.padded);
        for r in 0..ROUNDS {
            simd::fwht_signed(buf, &self.signs[r * self.padded..(r + 1) * self.padded]);
        }
        for x in buf.iter_mut() {
            *x *= self.scale;
        }
    }
}

/// Shape of a code record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeLayout {
    /// Number of code bits (padded dimension).
    pub padded: usize,
    /// 64-bit words of code.
    pub words: usize,
    /// Words per record (code + 2 words of factors).
    pub stride: usize,
}

impl CodeLayout {
    /// Layout for a padded dimension.
    pub fn new(padded: usize) -> Self {
        let words = padded / 64;
        CodeLayout {
            padded,
            words,
            stride: words + 2,
        }
    }
}

#[inline]
fn pack2(a: f32, b: u32) -> u64 {
    a.to_bits() as u64 | ((b as u64) << 32)
}

/// Encode `v` (already normalised if the metric requires) into `out` (`layout.stride` words).
/// `scratch` must have `rot.padded()` entries.
pub fn encode(rot: &Rotation, centroid: &[f32], v: &[f32], scratch: &mut [f32], out: &mut [u64]) {
    let layout = CodeLayout::new(rot.padded());
    for (i, s) in scratch.iter_mut().enumerate() {
        *s = if i < v.len() {
            v[i] - centroid.get(i).copied().unwrap_or(0.0)
        } else {
            0.0
        };
    }
    rot.apply_inplace(scratch);
    let mut r2 = 0.0f64;
    let mut sabs = 0.0f64;
    for w in out[..layout.words].iter_mut() {
        *w = 0;
    }
    for (i, &x) in scratch.iter().enumerate() {
        r2 += (x as f64) * (x as f64);
        sabs += (x as f64).abs();
        if x > 0.0 {
            out[i / 64] |= 1u64 << (i % 64);
        }
    }
    let pc = simd::popcount(&out[..layout.words]);
    let r = r2.sqrt();
    let dp = layout.padded as f64;
    let (k, e) = if r > 0.0 && sabs > 0.0 {
        let f = sabs / (r * dp.sqrt());
        let k = r2 / sabs;
        let e = r * ((1.0 / (f * f) - 1.0).max(0.0)).sqrt() / (dp - 1.0).sqrt();
        (k, e)
    } else {
        (0.0, 0.0)
    };
    out[layout.words] = pack2(r2 as f32, (k as f32).to_bits());
    out[layout.words + 1] = pack2(e as f32, pc);
}

/// A query prepared for estimating distances against code records.
#[derive(Clone, Debug)]
pub struct QueryCode {
    planes: Vec<u64>,
    words: usize,
    delta: f32,
    lo: f32,
    sum_q: f32,
    qn: f32,
    qn2: f32,
    ip_offset: f32,
    metric: Metric,
    eps0: f32,
    ex: crate::excode::ExQuery,
}

impl QueryCode {
    /// Prepare `q` (already normalised if the metric requires).
    pub fn new(rot: &Rotation, centroid: &[f32], metric: Metric, q: &[f32], eps0: f32) -> Self {
        let padded = rot.padded();
        let layout = CodeLayout::new(padded);
        let centred = !matches!(metric, Metric::InnerProduct);
        // The loops below run on every query; they are written to vectorise (no per-element
        // bounds checks, divisions or NaN-aware min/max: `q` is finite, checked by the caller).
        // As scalar code they took ~7 us of a ~90 us search at 1M.
        // Filled by loops rather than a copy then a subtraction: glibc's memcpy of the 4 KB row
        // (`rep movsb` on this AMD machine) alone was ~5% of a search on a 4k set.
        let mut buf = vec![0.0f32; padded];
        let n = q.len().min(padded);
        let c = if centred { centroid.len().min(n) } else { 0 };
        for ((b, &x), &m) in buf[..c].iter_mut().zip(&q[..c]).zip(&centroid[..c]) {
            *b = x - m;
        }
        for (b, &x) in buf[c..n].iter_mut().zip(&q[c..n]) {
            *b = x;
        }
        let ip_offset = if centred {
            0.0
        } else {
            simd::dot_f32(q, centroid)
        };
        rot.apply_inplace(&mut buf);
        let qn2: f32 = simd::dot_f32(&buf, &buf);
        let qn = qn2.sqrt();
        if qn > 0.0 {
            let inv = 1.0 / qn;
            for x in buf.iter_mut() {
                *x *= inv;
            }
        }
        let range = simd::min_max(&buf);
        let (lo, hi) = range;
        let delta = if hi > lo { (hi - lo) / 15.0 } else { 0.0 };
        let mut planes = vec![0u64; 4 * layout.words];
        // u = floor((x - lo) / delta + dither) clamped to 0..=15, as 4 bit planes.
        let sum_u = if delta > 0.0 {
            simd::quantize4_planes(&buf, &rot.dither, lo, delta, &mut planes)
        } else {
            0
        };
        let lo = if delta > 0.0 { lo } else { 0.0 };
        let sum_q = delta * sum_u as f32 + lo * padded as f32;
        let ex = crate::excode::ExQuery::with_range(&buf, range.0, range.1);
        QueryCode {
            ex,
            planes,
            words: layout.words,
            delta,
            lo,
            sum_q,
            qn,
            qn2,
            ip_offset,
            metric,
            eps0,
        }
    }

    #[inline]
    fn scaled_ip(&self, rec: &[u64]) -> (f32, u64, u64) {
        let code = &rec[..self.words];
        let f0 = rec[self.words];
        let f1 = rec[self.words + 1];
        let p = simd::weighted_popcount4(code, &self.planes);
        (self.ip_from(p, f0, f1), f0, f1)
    }

    /// `|q_r| <o_r, q^>` estimated from the weighted popcount `p` and the factor words.
    #[inline]
    fn ip_from(&self, p: u32, f0: u64, f1: u64) -> f32 {
        let pc = (f1 >> 32) as u32 as f32;
        let s = 2.0 * (self.delta * p as f32 + self.lo * pc) - self.sum_q;
        let k = f32::from_bits((f0 >> 32) as u32);
        k * s * self.qn
    }

    /// [`QueryCode::estimate_with_bound`] of the records of `ids` in `codes` (records of `stride`
    /// words): `out[i]` for `ids[i]`, `(INFINITY, 0)` where the record lies outside `codes`.
    /// The same values as one call per record, computed in one pass per kernel (a search asks
    /// for all the neighbours of a node at once).
    pub fn estimate_with_bound_gather(
        &self,
        codes: &[u64],
        stride: usize,
        ids: &[u32],
        out: &mut Vec<(f32, f32)>,
    ) {
        self.gather(
            codes,
            stride,
            ids,
            out,
            (f32::INFINITY, 0.0),
            |ip, f0, f1| {
                let r2 = f32::from_bits(f0 as u32);
                let e = f32::from_bits(f1 as u32);
                self.to_distance(ip, r2, self.eps0 * e * self.qn)
            },
        );
    }

    /// [`QueryCode::estimate`] of the records of `ids` (`INFINITY` outside `codes`), as
    /// [`QueryCode::estimate_with_bound_gather`].
    pub fn estimate_gather(&self, codes: &[u64], stride: usize, ids: &[u32], out: &mut Vec<f32>) {
        self.gather(codes, stride, ids, out, f32::INFINITY, |ip, f0, _| {
            self.to_distance(ip, f32::from_bits(f0 as u32), 0.0).0
        });
    }

    /// Weighted popcounts of the records of `ids` (64 at a time, on the stack), then
    /// `finish(ip, factor word 0, factor word 1)` for each, or `missing` outside `codes`.
    #[inline]
    fn gather<T>(
        &self,
        codes: &[u64],
        stride: usize,
        ids: &[u32],
        out: &mut Vec<T>,
        missing: T,
        finish: impl Fn(f32, u64, u64) -> T,
    ) where
        T: Copy,
    {
        out.clear();
        let mut pops = [0u32; 64];
        for chunk in ids.chunks(64) {
            let pops = &mut pops[..chunk.len()];
            simd::weighted_popcount4_gather(codes, stride, chunk, &self.planes, pops);
            out.extend(chunk.iter().zip(pops.iter()).map(|(&id, &p)| {
                let a = id as usize * stride;
                match codes.get(a + self.words..a + self.words + 2) {
                    Some(f) if p != u32::MAX => finish(self.ip_from(p, f[0], f[1]), f[0], f[1]),
                    _ => missing,
                }
            }));
        }
    }

    /// Estimated distance (metric convention of [`Metric`]) to a code record.
    #[inline]
    pub fn estimate(&self, rec: &[u64]) -> f32 {
        let (ip, f0, _) = self.scaled_ip(rec);
        let r2 = f32::from_bits(f0 as u32);
        match self.metric {
            Metric::L2 => r2 + self.qn2 - 2.0 * ip,
            Metric::Cosine => 0.5 * (r2 + self.qn2 - 2.0 * ip),
            Metric::InnerProduct => -ip - self.ip_offset,
        }
    }

    /// Estimated distance and the half-width of its confidence interval.
    #[inline]
    pub fn estimate_with_bound(&self, rec: &[u64]) -> (f32, f32) {
        let (ip, f0, f1) = self.scaled_ip(rec);
        let r2 = f32::from_bits(f0 as u32);
        let e = f32::from_bits(f1 as u32);
        self.to_distance(ip, r2, self.eps0 * e * self.qn)
    }

    /// Estimated distance and bound from the extended (4-bit) record `ex` of the vector whose
    /// 1-bit record is `rec` (which holds `|o_r|^2`). `None` if `ex` is malformed.
    #[inline]
    pub fn estimate_ex(&self, rec: &[u64], ex: &[u8]) -> Option<(f32, f32)> {
        let (ip_unit, err) = self.ex.ip(ex)?;
        let r2 = f32::from_bits(*rec.get(self.words)? as u32);
        Some(self.to_distance(ip_unit * self.qn, r2, self.eps0 * err * self.qn))
    }

    #[inline]
    fn to_distance(&self, ip: f32, r2: f32, b: f32) -> (f32, f32) {
        match self.metric {
            Metric::L2 => (r2 + self.qn2 - 2.0 * ip, 2.0 * b),
            Metric::Cosine => (0.5 * (r2 + self.qn2 - 2.0 * ip), b),
            Metric::InnerProduct => (-ip - self.ip_offset, b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_is_orthogonal() {
        let rot = Rotation::new(100, 3);
        assert_eq!(rot.padded(), 128);
        let mut a = vec![0.0f32; 128];
        let mut b = vec![0.0f32; 128];
        for i in 0..100 {
            a[i] = (i as f32 * 0.37).sin();
            b[i] = (i as f32 * 0.11).cos();
        }
        let (na, dab) = (simd::dot_f32(&a, &a), simd::dot_f32(&a, &b));
        rot.apply_inplace(&mut a);
        rot.apply_inplace(&mut b);
        assert!((simd::dot_f32(&a, &a) - na).abs() < 1e-3 * na);
        assert!((simd::dot_f32(&a, &b) - dab).abs() < 1e-3 * na);
    }

    /// A rotation for `dim`, its record layout and a seeded generator.
    fn setup(dim: usize, rot_seed: u64, seed: u64) -> (Rotation, CodeLayout, SplitMix64) {
        let rot = Rotation::new(dim, rot_seed);
        let layout = CodeLayout::new(rot.padded());
        (rot, layout, SplitMix64::new(seed))
    }

    #[test]
    fn gathered_estimates_equal_single_ones() {
        let dim = 200;
        let (rot, layout, mut rng) = setup(dim, 4, 17);
        let c: Vec<f32> = (0..dim).map(|_| 0.1 * rng.normal() as f32).collect();
        let mut scratch = vec![0.0f32; rot.padded()];
        let n = 40;
        let mut codes = vec![0u64; n * layout.stride];
        for rec in codes.chunks_exact_mut(layout.stride) {
            let v: Vec<f32> = (0..dim).map(|_| rng.normal() as f32).collect();
            encode(&rot, &c, &v, &mut scratch, rec);
        }
        for metric in [Metric::Cosine, Metric::L2, Metric::InnerProduct] {
            let q: Vec<f32> = (0..dim).map(|_| rng.normal() as f32).collect();
            let qc = QueryCode::new(&rot, &c, metric, &q, DEFAULT_EPS0);
            // Out-of-range ids among them, and repeats.
            let ids: Vec<u32> = vec![3, 0, 39, 40, 7, 7, 1000, 25];
            // More than one 64-id chunk of the kernel.
            let ids: Vec<u32> = ids.iter().cycle().take(150).copied().collect();
            let (mut out, mut dists) = (Vec::new(), Vec::new());
            qc.estimate_with_bound_gather(&codes, layout.stride, &ids, &mut out);
            qc.estimate_gather(&codes, layout.stride, &ids, &mut dists);
            assert_eq!(out.len(), ids.len());
            assert_eq!(dists.len(), ids.len());
            for (&(e, _), &d) in out.iter().zip(&dists) {
                assert_eq!(e, d);
            }
            for (&id, &got) in ids.iter().zip(&out) {
                let a = id as usize * layout.stride;
                let want = match codes.get(a..a + layout.stride) {
                    Some(r) => qc.estimate_with_bound(r),
                    None => (f32::INFINITY, 0.0),
                };
                assert_eq!(got, want, "{metric:?} id {id}");
                if let Some(r) = codes.get(a..a + layout.stride) {
                    assert_eq!(got.0, qc.estimate(r));
                }
            }
        }
    }

    #[test]
    fn estimator_is_close_on_average() {
        let dim = 256;
        let (rot, layout, mut rng) = setup(dim, 1, 9);
        let c = vec![0.0f32; dim];
        let q: Vec<f32> = (0..dim).map(|_| rng.normal() as f32).collect();
        let qc = QueryCode::new(&rot, &c, Metric::L2, &q, DEFAULT_EPS0);
        let mut scratch = vec![0.0f32; rot.padded()];
        let mut rec = vec![0u64; layout.stride];
        let (mut err, mut inside) = (0.0f64, 0);
        let trials = 300;
        for _ in 0..trials {
            let v: Vec<f32> = (0..dim).map(|_| rng.normal() as f32).collect();
            encode(&rot, &c, &v, &mut scratch, &mut rec);
            let exact = simd::l2sq_f32(&q, &v);
            let (est, bound) = qc.estimate_with_bound(&rec);
            err += (est - exact) as f64;
            if (est - exact).abs() <= bound {
                inside += 1;
            }
        }
        // Unbiased: mean error small relative to the distance scale (~2*dim).
        assert!((err / trials as f64).abs() < 0.05 * 2.0 * dim as f64);
        assert!(
            inside as f64 >= 0.9 * trials as f64,
            "bound held {inside}/{trials}"
        );
    }
}

//! Extended RaBitQ codes: 4 bits per rotated component (Gao et al., SIGMOD 2025), kept in a
//! memory-mapped file and read for the candidates the 1-bit estimate cannot rule out.
//!
//! For the rotated residual `o_r` (the same one the 1-bit code is taken from) with unit direction
//! `o' = o_r / |o_r|`, the code is `u_i = clamp(floor(t o'_i) + 8, 0, 15)`, i.e. `o'` scaled by
//! `t` and rounded to the half-integer grid `y_i = u_i - 7.5` in `[-7.5, 7.5]`; the sign of `y_i`
//! is the 1-bit code's bit, so this tier refines the in-RAM one. The scale `t` is chosen per
//! vector to maximise `cos(y, o')` (a coarse scan, then a finer one around the best).
//! Estimator (unbiased, as for one bit): `<o_r, q_r> ~ |o_r| <y, q_r> / <y, o'>`, with error at
//! most `eps0 |q_r| |o_r| sqrt(1/c^2 - 1) / sqrt(Dp - 1)` w.h.p., `c = cos(y, o')`
//! (~0.995 at 4 bits against ~0.8 for the sign code, so the bound is ~8x tighter).
//!
//! A record is `Dp / 2` bytes of nibbles (see [`crate::simd::dot_u4_i8`] for the packing)
//! followed by two little-endian f32: `fx = |o_r| / <y, o'>` and `err = |o_r| sqrt(1/c^2-1) /
//! sqrt(Dp - 1)`. The query side is `q_r / |q_r|` rounded to i8 (scale `max|q| / 127`; its
//! rounding error is ~10x below the code's).

/// Bits per component of the extended code (the only width implemented).
pub const EX_BITS: u8 = 4;

const LEVELS: f32 = 16.0;
const HALF: f32 = 7.5;

/// Bytes of an extended-code record for a padded dimension.
pub fn record_bytes(padded: usize) -> usize {
    padded / 2 + 8
}

#[inline]
fn quality(abs: &[f32], t: f32) -> f32 {
    // cos(y, o') with |y_i| = min(floor(t |o'_i|), 7) + 0.5 (the grid is symmetric).
    let (mut yo, mut yy) = (0.0f32, 0.0f32);
    for &a in abs {
        // t a >= 0, so truncation is floor (and vectorises on baseline x86-64, `floor` does not).
        let m = ((t * a) as i32).min(LEVELS as i32 / 2 - 1) as f32 + 0.5;
        yo += m * a;
        yy += m * m;
    }
    if yy > 0.0 {
        yo / yy.sqrt()
    } else {
        0.0
    }
}

/// Encode the rotated residual `rot` (length `Dp`, a multiple of 64) into `out`
/// (`record_bytes(Dp)` bytes). `abs` is scratch of length `Dp`.
pub fn encode(rot: &[f32], abs: &mut Vec<f32>, out: &mut [u8]) {
    let dp = rot.len();
    out.iter_mut().for_each(|b| *b = 0);
    let r2: f64 = rot.iter().map(|&x| x as f64 * x as f64).sum();
    let r = r2.sqrt() as f32;
    if r.is_nan() || r <= 0.0 || !r.is_finite() || dp < 64 {
        return;
    }
    abs.clear();
    abs.extend(rot.iter().map(|&x| (x / r).abs()));
    // Coarse scan of t in units of 1/sqrt(Dp) (the typical component size), then refine.
    let unit = (dp as f32).sqrt();
    let (mut best_t, mut best_q) = (unit, -1.0f32);
    let coarse = 0.25f32;
    let mut c = 0.5f32;
    while c <= 6.0 {
        let q = quality(abs, c * unit);
        if q > best_q {
            best_q = q;
            best_t = c * unit;
        }
        c += coarse;
    }
    let fine = coarse * unit / 8.0;
    let centre = best_t;
    for s in -8i32..=8 {
        let t = centre + s as f32 * fine;
        if t > 0.0 {
            let q = quality(abs, t);
            if q > best_q {
                best_q = q;
                best_t = t;
            }
        }
    }
    let t = best_t;
    let (mut yo, mut yy) = (0.0f64, 0.0f64);
    let code = &mut out[..dp / 2];
    for (i, &x) in rot.iter().enumerate() {
        let xo = x / r;
        // floor(t xo) + 8 clamped to 0..=15 (truncation of a value clamped to [0, 16)).
        let u = ((t * xo + 8.0).clamp(0.0, LEVELS - 0.001) as u8) as f32;
        let y = (u - HALF) as f64;
        yo += y * xo as f64;
        yy += y * y;
        let (b, j) = (i / 64, i % 64);
        let u = u as u8;
        if j < 32 {
            code[32 * b + j] |= u;
        } else {
            code[32 * b + j - 32] |= u << 4;
        }
    }
    if yo <= 0.0 || yy <= 0.0 {
        out.iter_mut().for_each(|b| *b = 0);
        return;
    }
    let cos = yo / yy.sqrt();
    let fx = r as f64 / yo;
    let err = r as f64 * (1.0 / (cos * cos) - 1.0).max(0.0).sqrt() / (dp as f64 - 1.0).sqrt();
    let n = dp / 2;
    out[n..n + 4].copy_from_slice(&(fx as f32).to_le_bytes());
    out[n + 4..n + 8].copy_from_slice(&(err as f32).to_le_bytes());
}

/// Query side of the extended estimator.
#[derive(Clone, Debug, Default)]
pub struct ExQuery {
    /// Unit rotated query rounded to i8.
    pub q: Vec<i8>,
    /// `q_unit ~ scale * q`.
    pub scale: f32,
    /// Sum of the (unrounded) unit rotated query's components.
    pub sum: f32,
}

impl ExQuery {
    /// From the unit rotated query.
    #[cfg(test)]
    pub fn new(unit: &[f32]) -> Self {
        let (lo, hi) = crate::simd::min_max(unit);
        Self::with_range(unit, lo, hi)
    }

    /// From the unit rotated query whose smallest and largest components are `lo` and `hi`
    /// (the 1-bit query quantiser has just computed them).
    pub fn with_range(unit: &[f32], lo: f32, hi: f32) -> Self {
        let m = if unit.is_empty() { 0.0 } else { hi.max(-lo) };
        let scale = if m > 0.0 { m / 127.0 } else { 1.0 };
        let mut q = vec![0i8; unit.len()];
        crate::simd::round_to_i8(unit, scale, &mut q);
        ExQuery {
            q,
            scale,
            sum: crate::simd::sum(unit),
        }
    }

    /// `(<o_r, q^>, err)` for a record: the estimated inner product of the stored rotated
    /// residual with the unit query, and the error scale of the estimate (multiply by `eps0`).
    #[inline]
    pub fn ip(&self, rec: &[u8]) -> Option<(f32, f32)> {
        let n = self.q.len() / 2;
        let f = rec.get(n..n + 8)?;
        let fx = f32::from_le_bytes([f[0], f[1], f[2], f[3]]);
        let err = f32::from_le_bytes([f[4], f[5], f[6], f[7]]);
        let dot = crate::simd::dot_u4_i8(&rec[..n], &self.q) as f32;
        let yq = self.scale * dot - HALF * self.sum;
        Some((fx * yq, err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    fn unit(rng: &mut SplitMix64, d: usize) -> Vec<f32> {
        let v: Vec<f32> = (0..d).map(|_| rng.normal() as f32).collect();
        let n = crate::simd::dot_f32(&v, &v).sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn estimate_is_accurate_and_bounded() {
        let d = 1024;
        let mut rng = SplitMix64::new(5);
        let mut abs = Vec::new();
        let mut rec = vec![0u8; record_bytes(d)];
        let (mut worst, mut inside, mut bias) = (0.0f32, 0, 0.0f64);
        let trials = 200;
        for _ in 0..trials {
            let o: Vec<f32> = unit(&mut rng, d).iter().map(|x| 3.0 * x).collect();
            let q = unit(&mut rng, d);
            // A query correlated with o, as near neighbours are.
            let q: Vec<f32> = q.iter().zip(&o).map(|(a, b)| a + 0.2 * b).collect();
            let qn = crate::simd::dot_f32(&q, &q).sqrt();
            let qu: Vec<f32> = q.iter().map(|x| x / qn).collect();
            encode(&o, &mut abs, &mut rec);
            let xq = ExQuery::new(&qu);
            let (est, err) = xq.ip(&rec).unwrap();
            let exact = crate::simd::dot_f32(&o, &qu);
            let e = (est - exact).abs();
            worst = worst.max(e);
            bias += (est - exact) as f64;
            if e <= 1.9 * err {
                inside += 1;
            }
        }
        // |o| = 3: the 1-bit code's typical error here is ~0.06; four bits are ~8x tighter.
        assert!(worst < 0.03, "worst error {worst}");
        assert!((bias / trials as f64).abs() < 0.002, "bias {bias}");
        assert!(inside >= trials * 9 / 10, "bound held {inside}/{trials}");
    }

    #[test]
    fn zero_vector_gives_zero_record() {
        let mut rec = vec![1u8; record_bytes(64)];
        encode(&[0.0; 64], &mut Vec::new(), &mut rec);
        assert!(rec.iter().all(|&b| b == 0));
        let xq = ExQuery::new(&[0.125; 64]);
        assert_eq!(xq.ip(&rec), Some((0.0, 0.0)));
    }
}

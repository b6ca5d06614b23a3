//! Seeded generators of BirdNET-like embeddings for benchmarks and tests.
//!
//! Two models. Both are fixed by a `model_seed` and generate deterministically for a given
//! (model_seed, seed, n) regardless of thread count.
//!
//! ## [`RecordingsModel`]: windows of recordings of species (the index benchmark's default)
//!
//! A library, not independent draws: species (call types), recordings of a species, windows of
//! a recording.
//!
//! ```text
//! x = max(0, g_rec g_win * (mu + A z + noise * e))
//! z = m_s + a_recording (s * n_r) + B_s (a_recording_local n_rl + a_window n_w) + a_window_subspace (s * n_ws)
//! ```
//! - `A`: `rank` random orthonormal directions in R^dim; `s_j = s0 (j + 1)^-alpha` their scales;
//! - `m_s ~ a_species (s * N(0, I))`: the species mean; species are drawn with Zipf popularity;
//! - `B_s`: the species' own `local`-dimensional manifold (`rank x local`, columns `s * N(0, I)`),
//!   along which its recordings (`n_rl`, fixed per recording) and windows (`n_w`) vary;
//! - `n_r`, `g_rec`: fixed per recording; `n_w`, `n_ws`, `e`, `g_win`: per window;
//! - recordings have one window with probability `p_single`, else `1 + floor(exp(len_mu +
//!   len_sd N(0,1)))` (the corpus: 55% single windows, 383 recordings for 1,893 windows).
//!
//! Calibrated (Nelder-Mead over the spreads, gains and offsets) against real BirdNET v2.4
//! embeddings of the shared corpus at a 3 s hop (1,893 windows), at equal sample size and with
//! the corpus' 34 species: zero fraction, mean, norm, random-pair cosine, the PCA spectrum, and
//! the *neighbourhoods*: nearest and 10th-nearest distance relative to the median distance,
//! the 10th-to-11th gap, the local intrinsic dimension (~10) and how many of a window's
//! neighbours come from its own recording. The neighbourhoods are what makes a k-NN search
//! easy or hard; the mixture model below matches the global statistics but not them (local
//! intrinsic dimension 49 against the real 10, nearest neighbour at 0.67 of the median distance
//! against 0.30). Side by side in `docs/benchmarks-index.md`; `benches/peers_index.py stats`
//! computes them. The default has 256 species, not the corpus' 34: a larger archive holds more
//! species, which spreads the spectrum and makes neighbourhoods sparser (harder), so the
//! benchmark does not lean on the corpus' small species count. Queries
//! ([`RecordingsModel::sample_queries`]) are new windows of recordings in the base set, as a
//! click on a window of the library is.
//!
//! ## [`SynthModel`]: a Gaussian mixture of independent draws (the first generator)
//!
//! ```text
//! x = max(0, g * (mu + A (m_c + s * z) + noise * e))
//! ```
//! - `A`: `rank` random orthonormal directions in R^dim (the "PCA" subspace);
//! - `s_j = s0 * (j + 1)^-alpha`: per-direction standard deviations (power-law spectrum);
//! - `m_c`: one of `clusters` mixture means in the subspace (`m_c ~ N(0, (mean_spread * s)^2)`),
//!   chosen uniformly per sample;
//! - `z, e`: standard normal; `noise`: isotropic residual;
//! - `mu_d = base + tau * N(0,1)`: per-dimension offset (sets the zero fraction after clamping);
//! - `g = exp(gain * N(0,1))`: per-sample gain (spreads the norms).
//!
//! Calibrated to the global statistics only (all >= 0, ~22% exact zeros, mean ~0.37, L2 norm
//! ~18.5 +- 2.5, random-pair cosine ~0.47 raw and ~0 after centring, PCA top 16/64/256
//! components ~30%/57%/86% of the variance). Locally it is close to isotropic noise, so k-NN
//! search on it is far harder than on real embeddings; it stays as a stress set and for the
//! library benchmarks and tests that were measured on it. `sample(n, seed)` draws independent
//! vectors, so queries come from the same distribution with a different seed.

use rayon::prelude::*;

use crate::rng::{hash2, SplitMix64};

/// Parameters of the generator.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthParams {
    /// Dimension.
    pub dim: usize,
    /// Dimension of the structured subspace.
    pub rank: usize,
    /// Mixture components.
    pub clusters: usize,
    /// Power-law exponent of the subspace spectrum (standard deviations).
    pub alpha: f32,
    /// Standard deviation of the first subspace direction.
    pub s0: f32,
    /// Cluster-mean spread relative to the in-cluster spread.
    pub mean_spread: f32,
    /// Mean of the per-dimension offsets.
    pub base: f32,
    /// Spread of the per-dimension offsets.
    pub tau: f32,
    /// Isotropic residual standard deviation.
    pub noise: f32,
    /// Log-normal gain spread.
    pub gain: f32,
}

impl SynthParams {
    /// Calibrated BirdNET v2.4-like parameters for dimension `dim` (1024 for BirdNET).
    pub fn birdnet_like(dim: usize) -> Self {
        SynthParams {
            dim,
            rank: 192,
            clusters: 64,
            alpha: 0.44,
            s0: 6.0,
            mean_spread: 0.26,
            base: 0.211,
            tau: 0.191,
            noise: 0.239,
            gain: 0.123,
        }
    }
}

/// A fixed generative model (see the module documentation).
#[derive(Clone, Debug)]
pub struct SynthModel {
    p: SynthParams,
    basis: Vec<f32>,
    scales: Vec<f32>,
    means: Vec<f32>,
    mu: Vec<f32>,
}

impl SynthModel {
    /// Build the model from its parameters and a seed.
    pub fn new(p: SynthParams, model_seed: u64) -> Self {
        let (dim, rank) = (p.dim, p.rank.min(p.dim));
        let mut rng = SplitMix64::new(model_seed);
        let (basis, scales) = subspace(dim, rank, (p.s0, p.alpha), &mut rng);
        let means: Vec<f32> = (0..p.clusters * rank)
            .map(|i| rng.normal() as f32 * scales[i % rank] * p.mean_spread)
            .collect();
        let mu: Vec<f32> = (0..dim)
            .map(|_| p.base + p.tau * rng.normal() as f32)
            .collect();
        SynthModel {
            p,
            basis,
            scales,
            means,
            mu,
        }
    }

    /// The calibrated BirdNET-like model.
    pub fn birdnet_like(dim: usize, model_seed: u64) -> Self {
        Self::new(SynthParams::birdnet_like(dim), model_seed)
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.p.dim
    }

    /// Draw `n` vectors (row-major, `n * dim` values) with sample seed `seed`.
    pub fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        let dim = self.p.dim;
        let mut out = vec![0.0f32; n * dim];
        out.par_chunks_mut(dim)
            .enumerate()
            .for_each(|(i, row)| self.sample_into(hash2(seed, i as u64), row));
        out
    }

    fn sample_into(&self, seed: u64, row: &mut [f32]) {
        let dim = self.p.dim;
        let rank = self.scales.len();
        let mut rng = SplitMix64::new(seed);
        let c = if self.p.clusters > 0 {
            rng.below(self.p.clusters as u64) as usize
        } else {
            0
        };
        row.copy_from_slice(&self.mu);
        for j in 0..rank {
            let m = self.means.get(c * rank + j).copied().unwrap_or(0.0);
            let w = m + self.scales[j] * rng.normal() as f32;
            for (x, &b) in row.iter_mut().zip(&self.basis[j * dim..(j + 1) * dim]) {
                *x += w * b;
            }
        }
        let g = (self.p.gain * rng.normal() as f32).exp();
        for x in row.iter_mut() {
            *x = (g * (*x + self.p.noise * rng.normal() as f32)).max(0.0);
        }
    }
}

/// Parameters of the recordings generator ([`RecordingsModel`]).
#[derive(Clone, Debug, PartialEq)]
pub struct RecordingsParams {
    /// Dimension.
    pub dim: usize,
    /// Dimension of the structured subspace.
    pub rank: usize,
    /// Species (call types): the top level of the hierarchy.
    pub species: usize,
    /// Zipf exponent of the species' popularity.
    pub zipf: f32,
    /// Dimensions of each species' own manifold, along which its recordings and windows vary.
    pub local: usize,
    /// Standard deviation of the first subspace direction.
    pub s0: f32,
    /// Power-law exponent of the subspace spectrum (standard deviations).
    pub alpha: f32,
    /// Spread of the species means (relative to the spectrum).
    pub a_species: f32,
    /// Spread of a recording's offset from its species mean, in the whole subspace.
    pub a_recording: f32,
    /// Spread of a recording's offset along its species' manifold.
    pub a_recording_local: f32,
    /// Spread of a window along its species' manifold.
    pub a_window: f32,
    /// Spread of a window in the whole subspace.
    pub a_window_subspace: f32,
    /// Isotropic residual standard deviation.
    pub noise: f32,
    /// Mean of the per-dimension offsets.
    pub base: f32,
    /// Spread of the per-dimension offsets.
    pub tau: f32,
    /// Log-normal gain spread per window.
    pub gain: f32,
    /// Log-normal gain spread per recording.
    pub gain_recording: f32,
    /// Share of recordings with a single window (clips under 6 s).
    pub p_single: f32,
    /// Other recordings have `1 + floor(exp(len_mu + len_sd N(0,1)))` windows.
    pub len_mu: f32,
    /// See `len_mu`.
    pub len_sd: f32,
}

impl RecordingsParams {
    /// Calibrated against real BirdNET v2.4 embeddings of the shared corpus (3 s windows at a 3 s
    /// hop, 1,893 windows of 383 recordings): see the module documentation for what is matched.
    /// `species` is 256 (a regional avifauna), not the corpus' 34: the calibration sample used 34.
    pub fn birdnet_like(dim: usize) -> Self {
        RecordingsParams {
            dim,
            rank: 256,
            species: 256,
            zipf: 0.5,
            local: 10,
            s0: 0.9477,
            alpha: 0.334,
            a_species: 0.605,
            a_recording: 0.1111,
            a_recording_local: 1.0016,
            a_window: 0.4275,
            a_window_subspace: 0.2369,
            noise: 0.2205,
            base: 0.348,
            tau: 0.0474,
            gain: 0.0996,
            gain_recording: 0.0553,
            p_single: 0.55,
            len_mu: 1.73,
            len_sd: 0.92,
        }
    }
}

/// Generator of BirdNET-like windows grouped in recordings of species (see the module
/// documentation): a library rather than independent draws. Windows of one recording are close
/// to each other, recordings of one species share a low-dimensional manifold.
#[derive(Clone, Debug)]
pub struct RecordingsModel {
    p: RecordingsParams,
    basis: Vec<f32>,
    scales: Vec<f32>,
    /// Species means in the subspace, `species x rank`.
    species_means: Vec<f32>,
    /// Species manifolds: `species x local x rank` (scaled subspace coordinates).
    manifolds: Vec<f32>,
    mu: Vec<f32>,
    /// Cumulative species popularity.
    pop_cdf: Vec<f64>,
}

const REC_SALT: u64 = 0x7265_635F_7361_6C74;

impl RecordingsModel {
    /// Build the model from its parameters and a seed.
    pub fn new(p: RecordingsParams, model_seed: u64) -> Self {
        let (dim, rank) = (p.dim, p.rank.min(p.dim));
        let mut rng = SplitMix64::new(model_seed);
        let (basis, scales) = subspace(dim, rank, (p.s0, p.alpha), &mut rng);
        let species = p.species.max(1);
        let species_means: Vec<f32> = (0..species * rank)
            .map(|i| rng.normal() as f32 * scales[i % rank] * p.a_species)
            .collect();
        let manifolds: Vec<f32> = (0..species * p.local * rank)
            .map(|i| rng.normal() as f32 * scales[i % rank])
            .collect();
        let mu: Vec<f32> = (0..dim)
            .map(|_| p.base + p.tau * rng.normal() as f32)
            .collect();
        let w: Vec<f64> = (0..species)
            .map(|s| ((s + 1) as f64).powf(-(p.zipf as f64)))
            .collect();
        let total: f64 = w.iter().sum();
        let mut acc = 0.0;
        let pop_cdf = w
            .iter()
            .map(|x| {
                acc += x / total;
                acc
            })
            .collect();
        RecordingsModel {
            p,
            basis,
            scales,
            species_means,
            manifolds,
            mu,
            pop_cdf,
        }
    }

    /// The calibrated BirdNET-like model.
    pub fn birdnet_like(dim: usize, model_seed: u64) -> Self {
        Self::new(RecordingsParams::birdnet_like(dim), model_seed)
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.p.dim
    }

    /// The recording of each of `n` windows laid out by `seed`: recordings one after another,
    /// each with its number of windows drawn from the length distribution.
    pub fn layout(&self, n: usize, seed: u64) -> Vec<u32> {
        let mut out = Vec::with_capacity(n);
        let mut rec = 0u32;
        while out.len() < n {
            let mut r = SplitMix64::new(hash2(seed ^ REC_SALT, rec as u64));
            let len = if (r.next_f64() as f32) < self.p.p_single {
                1
            } else {
                1 + (self.p.len_mu as f64 + self.p.len_sd as f64 * r.normal())
                    .exp()
                    .floor()
                    .min(1e6) as usize
            };
            out.extend(std::iter::repeat_n(rec, len.min(n - out.len())));
            rec += 1;
        }
        out
    }

    /// `n` windows (row-major, `n * dim` values) of the recordings laid out by `seed`, with the
    /// recording of each.
    pub fn sample(&self, n: usize, seed: u64) -> (Vec<f32>, Vec<u32>) {
        let recs = self.layout(n, seed);
        let out = self.windows_of(&recs, seed, seed);
        (out, recs)
    }

    /// `nq` new windows (drawn with `query_seed`) of recordings of the base set `sample(base_n,
    /// base_seed)`, chosen as a uniformly random base window's recording: held-out windows of
    /// recordings in the library, as a click on a recording is.
    pub fn sample_queries(
        &self,
        nq: usize,
        base_n: usize,
        base_seed: u64,
        query_seed: u64,
    ) -> Vec<f32> {
        let layout = self.layout(base_n.max(1), base_seed);
        let recs: Vec<u32> = (0..nq)
            .map(|i| {
                let j = SplitMix64::new(hash2(query_seed ^ REC_SALT, i as u64))
                    .below(layout.len() as u64);
                layout[j as usize]
            })
            .collect();
        self.windows_of(&recs, base_seed, query_seed)
    }

    fn windows_of(&self, recs: &[u32], rec_seed: u64, window_seed: u64) -> Vec<f32> {
        let dim = self.p.dim;
        let mut out = vec![0.0f32; recs.len() * dim];
        out.par_chunks_mut(dim)
            .zip(recs.par_iter())
            .enumerate()
            .for_each(|(i, (row, &rec))| {
                self.window_into(rec_seed, rec, hash2(window_seed, i as u64), row)
            });
        out
    }

    fn window_into(&self, rec_seed: u64, rec: u32, seed: u64, row: &mut [f32]) {
        let (dim, rank, l) = (self.p.dim, self.scales.len(), self.p.local);
        // The recording: species, offset, gain (the same for every window of it).
        let mut rr = SplitMix64::new(hash2(rec_seed ^ REC_SALT ^ 0xA5A5, rec as u64));
        let u = rr.next_f64();
        let sp = self
            .pop_cdf
            .partition_point(|&c| c < u)
            .min(self.pop_cdf.len() - 1);
        let mut z: Vec<f32> = self.species_means[sp * rank..(sp + 1) * rank].to_vec();
        for (zj, s) in z.iter_mut().zip(&self.scales) {
            *zj += rr.normal() as f32 * s * self.p.a_recording;
        }
        let man = &self.manifolds[sp * l * rank..(sp + 1) * l * rank];
        let g_rec = (self.p.gain_recording * rr.normal() as f32).exp();
        // The window: along the species' manifold (the recording's own offset on it plus its
        // own), and a little in the whole subspace.
        let mut rw = SplitMix64::new(seed);
        let mut rr2 = rr;
        for t in 0..l {
            let w = rr2.normal() as f32 * self.p.a_recording_local
                + rw.normal() as f32 * self.p.a_window;
            for (zj, &b) in z.iter_mut().zip(&man[t * rank..(t + 1) * rank]) {
                *zj += w * b;
            }
        }
        for (zj, s) in z.iter_mut().zip(&self.scales) {
            *zj += rw.normal() as f32 * s * self.p.a_window_subspace;
        }
        row.copy_from_slice(&self.mu);
        for (j, &w) in z.iter().enumerate() {
            for (x, &b) in row.iter_mut().zip(&self.basis[j * dim..(j + 1) * dim]) {
                *x += w * b;
            }
        }
        let g = g_rec * (self.p.gain * rw.normal() as f32).exp();
        for x in row.iter_mut() {
            *x = (g * (*x + self.p.noise * rw.normal() as f32)).max(0.0);
        }
    }
}

/// The structured subspace: `rank` random orthonormal directions in R^dim (rank-major) and their
/// power-law scales `s0 (j + 1)^-alpha`.
fn subspace(
    dim: usize,
    rank: usize,
    (s0, alpha): (f32, f32),
    rng: &mut SplitMix64,
) -> (Vec<f32>, Vec<f32>) {
    let basis = orthonormal_basis(rank, dim, rng);
    let scales = (0..rank)
        .map(|j| s0 * ((j + 1) as f32).powf(-alpha))
        .collect();
    (basis, scales)
}

/// `rank` random orthonormal directions in R^dim (Gram-Schmidt on Gaussian vectors), rank-major.
fn orthonormal_basis(rank: usize, dim: usize, rng: &mut SplitMix64) -> Vec<f32> {
    let mut basis = vec![0.0f32; rank * dim];
    for j in 0..rank {
        let mut v: Vec<f64> = (0..dim).map(|_| rng.normal()).collect();
        for _pass in 0..2 {
            for i in 0..j {
                let b = &basis[i * dim..(i + 1) * dim];
                let d: f64 = v.iter().zip(b).map(|(x, &y)| x * y as f64).sum();
                for (x, &y) in v.iter_mut().zip(b) {
                    *x -= d * y as f64;
                }
            }
        }
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
        for (o, x) in basis[j * dim..(j + 1) * dim].iter_mut().zip(&v) {
            *o = (x / n) as f32;
        }
    }
    basis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_nonnegative() {
        let m = SynthModel::birdnet_like(64, 1);
        let a = m.sample(50, 7);
        let b = m.sample(50, 7);
        assert_eq!(a, b);
        assert!(a.iter().all(|&x| x >= 0.0));
        assert_ne!(a, m.sample(50, 8));
    }

    #[test]
    fn recordings_deterministic_nonnegative_and_grouped() {
        let dim = 256;
        let m = RecordingsModel::birdnet_like(dim, 3);
        let (a, ra) = m.sample(400, 7);
        let (b, rb) = m.sample(400, 7);
        assert_eq!((&a, &ra), (&b, &rb));
        assert!(a.iter().all(|&x| x >= 0.0));
        assert_eq!(ra.len(), 400);
        // Recordings are laid out one after another, numbered from 0.
        assert_eq!(ra[0], 0);
        assert!(ra.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1));
        let recordings = ra[399] as usize + 1;
        assert!(
            (40..=200).contains(&recordings),
            "{recordings} recordings for 400 windows"
        );
        // The layout of a prefix is the prefix of the layout (chunked generation agrees).
        assert_eq!(m.layout(100, 7), ra[..100].to_vec());
        // Windows of one recording are closer to each other than windows of different ones.
        let row = |i: usize| &a[i * dim..(i + 1) * dim];
        let cos = |x: &[f32], y: &[f32]| 1.0 - crate::exact_distance(crate::Metric::Cosine, x, y);
        let (mut same, mut ns, mut other, mut no) = (0.0, 0, 0.0, 0);
        for i in 0..400 {
            for j in i + 1..400 {
                if ra[i] == ra[j] {
                    same += cos(row(i), row(j));
                    ns += 1;
                } else if j % 7 == 0 {
                    other += cos(row(i), row(j));
                    no += 1;
                }
            }
        }
        let (same, other) = (same / ns as f32, other / no as f32);
        assert!(same > other + 0.05, "same recording {same}, others {other}");
        // Queries: new windows of base recordings, not copies of base rows, and deterministic.
        let q = m.sample_queries(20, 400, 7, 9);
        assert_eq!(q, m.sample_queries(20, 400, 7, 9));
        assert!(q
            .chunks_exact(dim)
            .all(|x| !a.chunks_exact(dim).any(|y| x == y)));
    }
}

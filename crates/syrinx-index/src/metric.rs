//! Similarity metrics and exact distances.

use serde::{Deserialize, Serialize};

use crate::simd;

/// Metric of an index. Ground truth must be computed with the same metric.
///
/// Every search returns a *distance* (lower is closer):
/// - `Cosine`: `1 - cos(q, x)` (vectors are L2-normalised on insert and on query);
/// - `InnerProduct`: `-<q, x>`;
/// - `L2`: squared Euclidean distance `|q - x|^2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Cosine similarity (default); distance `1 - cos`.
    #[default]
    Cosine,
    /// Maximum inner product; distance `-<q, x>`.
    InnerProduct,
    /// Euclidean; distance is the squared L2 distance.
    L2,
}

impl Metric {
    /// Exact distance between a prepared query and a stored f32 row (rows are normalised for cosine).
    #[inline]
    pub(crate) fn distance_f32(self, q: &[f32], x: &[f32]) -> f32 {
        match self {
            Metric::Cosine => 1.0 - simd::dot_f32(q, x),
            Metric::InnerProduct => -simd::dot_f32(q, x),
            Metric::L2 => simd::l2sq_f32(q, x),
        }
    }

    /// Exact distance between a prepared query and a stored f16 row (raw IEEE half bits).
    #[inline]
    pub(crate) fn distance_f16(self, q: &[f32], x: &[u16]) -> f32 {
        match self {
            Metric::Cosine => 1.0 - simd::dot_f16(q, x),
            Metric::InnerProduct => -simd::dot_f16(q, x),
            Metric::L2 => simd::l2sq_f16(q, x),
        }
    }

    /// An estimated distance clamped to the range exact distances can take (cosine: [0, 2],
    /// squared L2: >= 0), so a code estimate never reports e.g. a similarity above 1.
    #[inline]
    pub(crate) fn clamp(self, d: f32) -> f32 {
        match self {
            Metric::Cosine => d.clamp(0.0, 2.0),
            Metric::L2 => d.max(0.0),
            Metric::InnerProduct => d,
        }
    }

    /// Convert a distance into the natural similarity of the metric
    /// (cosine similarity, inner product, or negative squared L2).
    #[inline]
    pub fn similarity(self, distance: f32) -> f32 {
        match self {
            Metric::Cosine => 1.0 - distance,
            Metric::InnerProduct | Metric::L2 => -distance,
        }
    }
}

/// Exact distance under `metric` between two raw (un-normalised) vectors, as the index defines it.
/// Used by ground-truth computations so that they agree with the index.
pub fn exact_distance(metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    match metric {
        Metric::Cosine => {
            let na = simd::dot_f32(a, a).sqrt();
            let nb = simd::dot_f32(b, b).sqrt();
            if na == 0.0 || nb == 0.0 {
                return 1.0;
            }
            1.0 - simd::dot_f32(a, b) / (na * nb)
        }
        Metric::InnerProduct => -simd::dot_f32(a, b),
        Metric::L2 => simd::l2sq_f32(a, b),
    }
}

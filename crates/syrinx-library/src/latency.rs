//! Query latency, per query kind, in HDR histograms (microseconds).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::lock;

/// What a query was by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    /// A stored window (vector id).
    Window,
    /// A time point in a recording (the click).
    Click,
    /// A time range in a recording.
    Range,
    /// An outside clip or file (needs the model).
    Clip,
    /// A raw vector.
    Vector,
}

/// One histogram bucket: `count` queries took at most `upper_us` (and more than the previous).
#[derive(Clone, Debug, Serialize)]
pub struct LatencyBucket {
    pub upper_us: u64,
    pub count: u64,
}

/// Percentiles and buckets of one query kind (microseconds).
#[derive(Clone, Debug, Serialize)]
pub struct LatencySummary {
    pub kind: QueryKind,
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// Log-spaced buckets (x2 from 1 µs) for a UI histogram.
    pub buckets: Vec<LatencyBucket>,
}

#[derive(Default)]
pub(crate) struct Latency {
    hists: Mutex<BTreeMap<QueryKind, Histogram<u64>>>,
}

impl Latency {
    pub fn record(&self, kind: QueryKind, d: Duration) {
        let us = (d.as_micros() as u64).max(1);
        let mut h = lock(&self.hists);
        let hist = h.entry(kind).or_insert_with(|| {
            Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
        });
        let _ = hist.record(us.min(3_600_000_000));
    }

    pub fn summaries(&self) -> Vec<LatencySummary> {
        lock(&self.hists)
            .iter()
            .map(|(&kind, h)| LatencySummary {
                kind,
                count: h.len(),
                mean_us: h.mean(),
                p50_us: h.value_at_quantile(0.5),
                p90_us: h.value_at_quantile(0.9),
                p99_us: h.value_at_quantile(0.99),
                max_us: h.max(),
                buckets: h
                    .iter_log(1, 2.0)
                    .map(|v| LatencyBucket {
                        upper_us: v.value_iterated_to(),
                        count: v.count_since_last_iteration(),
                    })
                    .collect(),
            })
            .collect()
    }

    pub fn reset(&self) {
        lock(&self.hists).clear();
    }
}

impl crate::Library {
    /// Latency percentiles and histogram buckets per query kind since open (or the last reset).
    pub fn latency(&self) -> Vec<LatencySummary> {
        self.latency.summaries()
    }
    /// Forget recorded latencies.
    pub fn reset_latency(&self) {
        self.latency.reset()
    }
}

//! Graph traversal (shared by build and search), rerank and filtered scans.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::error::Result;
use crate::graph::Graph;
use crate::metric::Metric;
use crate::rabitq::QueryCode;
use crate::simd;
use crate::store::VectorStore;
use crate::visited::VisitedList;
use crate::Hit;

/// A candidate: distance and id, ordered by distance (then id).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cand {
    pub d: f32,
    pub id: u32,
}

impl PartialEq for Cand {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Cand {}
impl PartialOrd for Cand {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Cand {
    fn cmp(&self, o: &Self) -> Ordering {
        self.d.total_cmp(&o.d).then(self.id.cmp(&o.id))
    }
}

/// An open candidate of the refined walk: ordered by its estimate (`c`), carrying its lower bound.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Open {
    c: Cand,
    lb: f32,
}

impl PartialEq for Open {
    fn eq(&self, o: &Self) -> bool {
        self.c == o.c
    }
}
impl Eq for Open {}
impl PartialOrd for Open {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Open {
    fn cmp(&self, o: &Self) -> Ordering {
        self.c.cmp(&o.c)
    }
}

/// Distance from the current query to a node.
pub(crate) trait Oracle {
    fn dist(&self, id: u32) -> f32;
    /// The distances to all of `ids`, into `out` (cleared first).
    #[inline]
    fn dists(&self, ids: &[u32], out: &mut Vec<f32>) {
        out.clear();
        out.extend(ids.iter().map(|&id| self.dist(id)));
    }
    #[inline]
    fn prefetch(&self, _id: u32) {}
}

/// Exact distances from the vector store (graph construction).
pub(crate) struct ExactOracle<'a> {
    pub store: &'a VectorStore,
    pub metric: Metric,
    pub q: &'a [f32],
}

impl Oracle for ExactOracle<'_> {
    #[inline]
    fn dist(&self, id: u32) -> f32 {
        self.store.distance(self.metric, self.q, id)
    }
}

/// Estimated distances from the in-RAM RaBitQ codes (search traversal).
pub(crate) struct CodeOracle<'a> {
    pub qc: &'a QueryCode,
    pub codes: &'a [u64],
    pub stride: usize,
}

impl CodeOracle<'_> {
    #[inline]
    pub fn record(&self, id: u32) -> Option<&[u64]> {
        let a = id as usize * self.stride;
        self.codes.get(a..a + self.stride)
    }
}

impl Oracle for CodeOracle<'_> {
    #[inline]
    fn dist(&self, id: u32) -> f32 {
        match self.record(id) {
            Some(r) => self.qc.estimate(r),
            None => f32::INFINITY,
        }
    }
    /// In one gathered kernel call ([`QueryCode::estimate_gather`]).
    #[inline]
    fn dists(&self, ids: &[u32], out: &mut Vec<f32>) {
        self.qc.estimate_gather(self.codes, self.stride, ids, out);
    }
    #[inline]
    fn prefetch(&self, id: u32) {
        if let Some(r) = self.record(id) {
            simd::prefetch(r, 3);
        }
    }
}

/// Greedy descent on one level (ef = 1).
pub(crate) fn greedy<O: Oracle>(
    g: &Graph,
    o: &O,
    mut cur: Cand,
    level: u8,
    nbuf: &mut Vec<u32>,
) -> Cand {
    let mut ds = Vec::with_capacity(nbuf.capacity());
    loop {
        let mut changed = false;
        g.neighbors_into(cur.id, level, nbuf);
        for &nb in nbuf.iter() {
            o.prefetch(nb);
        }
        o.dists(nbuf, &mut ds);
        for (&nb, &d) in nbuf.iter().zip(&ds) {
            if d < cur.d {
                cur = Cand { d, id: nb };
                changed = true;
            }
        }
        if !changed {
            return cur;
        }
    }
}

/// Beam search on one level. Returns up to `ef` accepted nodes, sorted by ascending distance.
/// Nodes that fail `accept` (deleted, filtered out, the node being inserted) are traversed but
/// not returned. Stops when the best unexpanded candidate is worse than the worst result.
#[allow(clippy::too_many_arguments)]
pub(crate) fn search_layer<O: Oracle, A: Fn(u32) -> bool>(
    g: &Graph,
    o: &O,
    eps: &[Cand],
    ef: usize,
    level: u8,
    vis: &mut VisitedList,
    nbuf: &mut Vec<u32>,
    accept: A,
) -> Vec<Cand> {
    let ef = ef.max(1);
    let mut cands: BinaryHeap<Reverse<Cand>> = BinaryHeap::with_capacity(ef * 4);
    let mut res: BinaryHeap<Cand> = BinaryHeap::with_capacity(ef + 1);
    for &e in eps {
        if vis.insert(e.id) {
            cands.push(Reverse(e));
            if accept(e.id) {
                res.push(e);
                if res.len() > ef {
                    res.pop();
                }
            }
        }
    }
    while let Some(Reverse(c)) = cands.pop() {
        if res.len() >= ef {
            if let Some(w) = res.peek() {
                if c.d > w.d {
                    break;
                }
            }
        }
        g.neighbors_into(c.id, level, nbuf);
        // Keep the neighbours not yet visited and mark them visited (one probe each).
        nbuf.retain(|&nb| vis.insert(nb));
        // All at once (measured faster than a rolling window of four, see `search_refined`).
        for &nb in nbuf.iter() {
            o.prefetch(nb);
        }
        for &nb in nbuf.iter() {
            let d = o.dist(nb);
            let worst = res.peek().map_or(f32::INFINITY, |w| w.d);
            if res.len() < ef || d < worst {
                cands.push(Reverse(Cand { d, id: nb }));
                if accept(nb) {
                    res.push(Cand { d, id: nb });
                    if res.len() > ef {
                        res.pop();
                    }
                }
            }
        }
    }
    res.into_sorted_vec()
}

/// Which candidates of the shortlist the final rerank re-scores from the float vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Rerank {
    /// Read float rows only where the codes cannot decide (default). A candidate whose upper
    /// bound (estimate plus error bound) is below the lower bounds of all but fewer than k other
    /// candidates is in the top k whatever the exact distances are; unless it could also be the
    /// nearest hit, it is kept with its estimate ([`crate::Hit::exact`] false). The remaining
    /// places are filled from the other candidates, re-scored exactly in lower-bound order until
    /// the next lower bound exceeds the worst exact distance still needed. The same hits as
    /// [`Rerank::Exact`] while the bounds hold, with the same first hit; later hits closer to
    /// each other than their error bounds may come in another order. At 1M (extended codes,
    /// k = 10) a search reads ~6.2 float rows instead of ~11.6, and the kept estimates are off
    /// by ~0.001 (cosine distance, max seen 0.005).
    #[default]
    Bounded,
    /// Like [`Rerank::Bounded`], but every hit gets its exact distance: candidates are re-scored
    /// in lower-bound order until the next lower bound exceeds the current k-th exact distance.
    Exact,
    /// Re-score every candidate of the shortlist.
    All,
}

/// Where the final rerank reads its float rows from (see `store`'s module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RowRead {
    /// Through the mapping: no system call, but the pages stay in the process's resident set.
    Mapped,
    /// With a positional read: a system call per row, nothing mapped.
    Positional,
}

/// Top-k among `cands` (ids with estimate and error half-width), ascending by `(distance, id)`,
/// with exact distances from the float rows as `mode` requires (see [`Rerank`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn rerank(
    store: &VectorStore,
    metric: Metric,
    q: &[f32],
    mut cands: Vec<(f32, f32, u32)>,
    k: usize,
    mode: Rerank,
    read: RowRead,
    reads: &mut usize,
) -> Result<Vec<Hit>> {
    // Sort by lower bound = estimate - bound.
    cands.sort_unstable_by(|a, b| (a.0 - a.1).total_cmp(&(b.0 - b.1)));
    let placed = if mode == Rerank::Bounded {
        placed_by_bounds(&cands, k)
    } else {
        Vec::new()
    };
    // Placed hits, `(estimate, bound, id)`: in the top k whatever their exact distances are.
    let placed_hits: Vec<(f32, f32, u32)> = cands
        .iter()
        .enumerate()
        .filter(|(i, _)| placed.get(*i).copied().unwrap_or(false))
        .map(|(_, &c)| c)
        .collect();
    let mut scratch = Vec::new();
    let mut exact_d = |id: u32| -> Result<f32> {
        *reads += 1;
        Ok(match read {
            RowRead::Mapped => store.distance(metric, q, id),
            RowRead::Positional => store.distance_read(metric, q, id, &mut scratch)?,
        })
    };
    // Places left for exactly re-scored candidates.
    let need = k - placed_hits.len();
    let mut top: BinaryHeap<Cand> = BinaryHeap::with_capacity(need + 1);
    for (i, (est, bound, id)) in cands.into_iter().enumerate() {
        if need == 0 {
            break;
        }
        if placed.get(i).copied().unwrap_or(false) {
            continue;
        }
        if mode != Rerank::All && top.len() >= need {
            if let Some(w) = top.peek() {
                if est - bound > w.d {
                    break;
                }
            }
        }
        let d = exact_d(id)?;
        if top.len() < need {
            top.push(Cand { d, id });
        } else if let Some(w) = top.peek() {
            if d < w.d {
                top.pop();
                top.push(Cand { d, id });
            }
        }
    }
    let mut out: Vec<Hit> = top
        .into_iter()
        .map(|c| Hit {
            id: c.id,
            distance: c.d,
            exact: true,
        })
        .collect();
    // The first hit must be the exact nearest (the query's own vector, when it is stored, comes
    // first): placed hits that could be first are re-scored. The rest keep their estimate and
    // are ordered by it, which can swap hits closer than their error bounds (at 1M, resolving
    // the whole order that way read 10.6 float rows per query instead of 4.3, -16% QPS).
    let contenders = contenders_for_first(&placed_hits, &out);
    for (&(est, _, id), contender) in placed_hits.iter().zip(contenders) {
        out.push(if contender {
            Hit {
                id,
                distance: exact_d(id)?,
                exact: true,
            }
        } else {
            Hit {
                id,
                distance: metric.clamp(est),
                exact: false,
            }
        });
    }
    out.sort_unstable_by(|a, b| a.distance.total_cmp(&b.distance).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// For each of `placed` (`(estimate, bound, id)`), whether it could be the nearest of all hits
/// (`placed` and the `exact` ones): its lower bound is at most the smallest upper bound among
/// them (an exact hit's bounds are its distance). Once those are re-scored, the nearest is
/// known: every other lower bound is above an exact distance.
pub(crate) fn contenders_for_first(placed: &[(f32, f32, u32)], exact: &[Hit]) -> Vec<bool> {
    let min_hi = placed
        .iter()
        .map(|&(e, b, _)| e + b)
        .chain(exact.iter().map(|h| h.distance))
        .fold(f32::INFINITY, f32::min);
    placed
        .iter()
        // A NaN bound cannot rule anything out.
        .map(|&(e, b, _)| (e - b).partial_cmp(&min_hi) != Some(std::cmp::Ordering::Greater))
        .collect()
}

/// Which of `cands` (sorted by lower bound, `(estimate, bound, id)`) are in the top `k` whatever
/// their exact distances are within their bounds: those with fewer than `k` other candidates
/// whose lower bound is below their upper bound. At most `k` (of any `k + 1` such candidates,
/// the one with the largest upper bound would have the other `k` below it), and only among the
/// first `k` by lower bound (the `r`-th has `r - 1` others at or below its lower bound). A
/// candidate with a non-finite estimate is never placed.
pub(crate) fn placed_by_bounds(cands: &[(f32, f32, u32)], k: usize) -> Vec<bool> {
    let m = cands.len().min(k);
    let mut placed = vec![false; m];
    let mut n_placed = 0;
    for (i, &(est, bound, _)) in cands.iter().take(m).enumerate() {
        let ub = est + bound;
        if !ub.is_finite() {
            continue;
        }
        // Candidates with a lower bound below `ub`, itself included when its bound is positive
        // (lower bounds are sorted, so this is a prefix).
        let below = cands.partition_point(|c| c.0 - c.1 < ub);
        let others = below.saturating_sub(usize::from(est - bound < ub));
        if others < k && n_placed < k {
            placed[i] = true;
            n_placed += 1;
        }
    }
    placed
}

/// Extended-code estimates for a shortlist of 1-bit candidates `(estimate, bound, id)`: scored in
/// order of the 1-bit lower bound, stopping when it exceeds the k-th smallest extended upper
/// bound (no later candidate can be in the top k). Returns `(estimate, bound, id)` from the
/// extended codes, ready for [`rerank`].
pub(crate) fn refine_shortlist(
    ex: impl Fn(u32) -> Option<(f32, f32)>,
    mut cands: Vec<(f32, f32, u32)>,
    k: usize,
) -> Vec<(f32, f32, u32)> {
    cands.sort_unstable_by(|a, b| (a.0 - a.1).total_cmp(&(b.0 - b.1)));
    let mut ubs: BinaryHeap<Cand> = BinaryHeap::with_capacity(k + 1);
    let mut out = Vec::with_capacity(cands.len().min(4 * k + 16));
    for (e, b, id) in cands {
        if ubs.len() >= k {
            if let Some(w) = ubs.peek() {
                if e - b > w.d {
                    break;
                }
            }
        }
        let Some((xe, xb)) = ex(id) else { continue };
        out.push((xe, xb, id));
        ubs.push(Cand { d: xe + xb, id });
        if ubs.len() > k {
            ubs.pop();
        }
    }
    out
}

/// Size of the in-RAM codes from which the refined walk prefetches one expansion ahead. Measured
/// (interleaved pairs): at 1M (144 MB of codes, DRAM-bound) +10% QPS at ef 5 and +5% at ef 10;
/// at 100k (14 MB) and on the 4k real set (0.6 MB), where the codes stay in cache, -1 to -3%.
const LOOK_AHEAD_MIN_CODE_BYTES: usize = 64 << 20;

/// Level-0 search that navigates on RaBitQ estimates and re-scores as it goes: a visited node is
/// re-scored with `score` (the extended codes, or the exact vector; it returns an estimate and
/// its error half-width, 0 when exact) only when its 1-bit lower bound (estimate minus
/// `bound_scale` x error bound) could enter the current top-`ef` of re-scored nodes; the walk
/// stops when the next candidate's lower bound is worse than the worst of that top-`ef` and at
/// least `k` accepted nodes were re-scored.
///
/// Returns every accepted node it re-scored as `(estimate, bound, id)`, unordered: the final
/// rerank's candidates. Those are the walk's top `ef` *and* the near misses it scored on the way,
/// which cost nothing more to keep. At 1M, ef = 10, keeping them (instead of the top `ef` only)
/// raised recall@10 from 0.964 to 0.997 for 1.8 more float rows per query, and the beam `ef`
/// no longer has to be at least `k`. Also returns the number of re-scorings and of 1-bit
/// estimates.
#[allow(clippy::too_many_arguments)]
pub(crate) fn search_refined<A: Fn(u32) -> bool, S: Fn(u32) -> (f32, f32), P: Fn(u32)>(
    g: &Graph,
    o: &CodeOracle<'_>,
    score: S,
    prefetch_score: P,
    entry: Cand,
    ef: usize,
    k: usize,
    bound_scale: f32,
    vis: &mut VisitedList,
    nbuf: &mut Vec<u32>,
    accept: A,
) -> (Vec<(f32, f32, u32)>, usize, usize) {
    let ef = ef.max(1);
    let mut pool: Vec<(f32, f32, u32)> = Vec::with_capacity(4 * ef + 64);
    let (mut rescored_n, mut est_n) = (0usize, 0usize);
    // Candidates are keyed by their estimate and the walk stops on their *lower bound*, even when
    // the exact distance is known: keying on exact distances made the walk terminate like plain
    // HNSW (measured at 100k: recall 0.66 instead of 0.96 at ef = 32, i.e. worse at equal QPS).
    // Each open candidate keeps the lower bound computed when it was found.
    let mut cands: BinaryHeap<Reverse<Open>> = BinaryHeap::with_capacity(ef * 4);
    let mut res: BinaryHeap<Cand> = BinaryHeap::with_capacity(ef + 1);
    let mut pending: Vec<(f32, f32, u32)> = Vec::with_capacity(nbuf.capacity().max(32));
    // A node's neighbours' estimates and bounds.
    let mut ests: Vec<(f32, f32)> = Vec::with_capacity(nbuf.capacity().max(32));
    // The next expansion's neighbours (only filled when looking ahead).
    let mut ahead: Vec<u32> = Vec::new();
    let look_ahead = std::mem::size_of_val(o.codes) >= LOOK_AHEAD_MIN_CODE_BYTES;
    let lb_of = |id: u32| -> (f32, f32) {
        match o.record(id) {
            Some(r) => {
                let (e, b) = o.qc.estimate_with_bound(r);
                (e, e - bound_scale * b)
            }
            None => (f32::INFINITY, f32::INFINITY),
        }
    };
    vis.insert(entry.id);
    let (e0, lb0) = lb_of(entry.id);
    est_n += 1;
    cands.push(Reverse(Open {
        c: Cand {
            d: e0,
            id: entry.id,
        },
        lb: lb0,
    }));
    if accept(entry.id) {
        rescored_n += 1;
        let (d, b) = score(entry.id);
        pool.push((d, b, entry.id));
        res.push(Cand { d, id: entry.id });
    }
    // The bar a node's lower bound must beat to be re-scored and kept open: the worst of the top
    // `ef`, once there are `ef` of them and at least `k` accepted nodes were re-scored (with
    // `ef < k`, the walk goes on like one with `ef = k` until the rerank has `k` to choose from).
    let bar = |res: &BinaryHeap<Cand>, pooled: usize| -> f32 {
        if res.len() >= ef && pooled >= k {
            res.peek().map_or(f32::INFINITY, |w| w.d)
        } else {
            f32::INFINITY
        }
    };
    while let Some(Reverse(Open { c, lb })) = cands.pop() {
        if lb > bar(&res, pool.len()) {
            break;
        }
        g.neighbors_into(c.id, 0, nbuf);
        // Keep the neighbours not yet visited and mark them visited (one probe each).
        nbuf.retain(|&nb| vis.insert(nb));
        // All of them at once: ~20 independent code records in flight hide DRAM latency better
        // than a rolling window of four.
        for &nb in nbuf.iter() {
            o.prefetch(nb);
        }
        // Look ahead, when the codes are far larger than a cache: start fetching the codes of
        // the neighbours of the candidate likely to be expanded next (its neighbour list was
        // prefetched when it was pushed), so they arrive while this node's are scored.
        if look_ahead {
            if let Some(Reverse(next)) = cands.peek() {
                g.neighbors_into(next.c.id, 0, &mut ahead);
                for &nb in ahead.iter() {
                    o.prefetch(nb);
                }
            }
        }
        // Two passes: first every neighbour's 1-bit estimate (their codes are in flight), keeping
        // those whose lower bound beats the current worst result and starting the fetch of their
        // re-scoring rows (the extended codes are a random read in a large mapping: waiting for
        // each in turn was ~20% of a 1M search); then, in the same order and against the worst
        // result as it improves, the pushes and re-scorings. The outcome is the same as one pass,
        // because the worst result only improves.
        let worst0 = bar(&res, pool.len());
        pending.clear();
        o.qc.estimate_with_bound_gather(o.codes, o.stride, nbuf, &mut ests);
        for (&nb, &(est, b)) in nbuf.iter().zip(ests.iter()) {
            let lb = est - bound_scale * b;
            est_n += 1;
            if lb < worst0 {
                if accept(nb) {
                    prefetch_score(nb);
                }
                pending.push((est, lb, nb));
            }
        }
        for &(est, lb, nb) in pending.iter() {
            let worst = bar(&res, pool.len());
            if lb < worst {
                // Its neighbour list is read if it is expanded; start fetching it now.
                g.prefetch_level0(nb);
                cands.push(Reverse(Open {
                    c: Cand { d: est, id: nb },
                    lb,
                }));
                if accept(nb) {
                    rescored_n += 1;
                    let (d, b) = score(nb);
                    pool.push((d, b, nb));
                    if d < worst {
                        res.push(Cand { d, id: nb });
                        if res.len() > ef {
                            res.pop();
                        }
                    }
                }
            }
        }
    }
    pool.retain(|p| p.0.is_finite());
    (pool, rescored_n, est_n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut c: Vec<(f32, f32, u32)>) -> Vec<(f32, f32, u32)> {
        c.sort_unstable_by(|a, b| (a.0 - a.1).total_cmp(&(b.0 - b.1)));
        c
    }

    #[test]
    fn bounds_place_only_what_no_overlap_can_displace() {
        // (estimate, bound, id): 0 and 1 are far ahead; 2 and 3 overlap each other at the k-th
        // place; 4 is far behind.
        let c = sorted(vec![
            (0.10, 0.01, 0),
            (0.20, 0.01, 1),
            (0.50, 0.05, 2),
            (0.52, 0.05, 3),
            (0.90, 0.01, 4),
        ]);
        assert_eq!(placed_by_bounds(&c, 3), vec![true, true, false]);
        // With k = 4 both overlapping ones are in whatever their order.
        assert_eq!(placed_by_bounds(&c, 4), vec![true, true, true, true]);
        // Fewer candidates than k: all are hits.
        assert_eq!(placed_by_bounds(&c[..2], 10), vec![true, true]);
        // A non-finite estimate is never placed.
        let c = sorted(vec![(0.1, 0.0, 0), (f32::INFINITY, 0.0, 1)]);
        assert_eq!(placed_by_bounds(&c, 2), vec![true, false]);
    }

    #[test]
    fn bounds_never_place_more_than_k() {
        // Pseudo-random estimates and bounds: never more than k placed, only among the first k by
        // lower bound, and every placed one has fewer than k others below its upper bound.
        let mut rng = crate::rng::SplitMix64::new(0x2545_f491_4f6c_dd1d);
        let mut next = move || rng.next_f32();
        for _ in 0..500 {
            let n = 1 + (next() * 40.0) as usize;
            let k = 1 + (next() * 12.0) as usize;
            let c = sorted(
                (0..n as u32)
                    .map(|i| (next(), 0.2 * next() * next(), i))
                    .collect(),
            );
            let p = placed_by_bounds(&c, k);
            assert!(p.len() <= k && p.iter().filter(|&&x| x).count() <= k);
            for (i, _) in p.iter().enumerate().filter(|(_, &x)| x) {
                let ub = c[i].0 + c[i].1;
                let others = c
                    .iter()
                    .enumerate()
                    .filter(|&(j, o)| j != i && o.0 - o.1 < ub)
                    .count();
                assert!(others < k);
            }
        }
    }

    #[test]
    fn contenders_for_first_are_what_could_beat_the_smallest_upper_bound() {
        let hit = |distance: f32| Hit {
            id: 9,
            distance,
            exact: true,
        };
        // Smallest upper bound 0.15 (the first): the second (lower bound 0.14) could still be
        // first, the third (0.30) cannot.
        let placed = [(0.10, 0.05, 0), (0.15, 0.01, 1), (0.31, 0.01, 2)];
        assert_eq!(
            contenders_for_first(&placed, &[hit(0.5)]),
            vec![true, true, false]
        );
        // An exact hit at 0.12 lowers the bar to 0.12: the second no longer contends.
        assert_eq!(
            contenders_for_first(&placed, &[hit(0.12)]),
            vec![true, false, false]
        );
        // A NaN bound is always re-scored.
        assert_eq!(
            contenders_for_first(&[(0.1, f32::NAN, 0), (0.5, 0.0, 1)], &[hit(0.3)]),
            vec![true, false]
        );
        // Whatever the exact distances within the bounds, the nearest is a contender or exact.
        let mut rng = crate::rng::SplitMix64::new(7);
        for _ in 0..300 {
            let n = 1 + (rng.next_f32() * 12.0) as usize;
            let m = (rng.next_f32() * 4.0) as usize;
            let placed: Vec<(f32, f32, u32)> = (0..n as u32)
                .map(|i| (rng.next_f32(), 0.1 * rng.next_f32(), i))
                .collect();
            let exact: Vec<Hit> = (0..m).map(|_| hit(rng.next_f32())).collect();
            let c = contenders_for_first(&placed, &exact);
            // Exact distances anywhere within the bounds.
            let d: Vec<f32> = placed
                .iter()
                .map(|&(e, b, _)| e + b * (2.0 * rng.next_f32() - 1.0))
                .collect();
            let best_exact = exact
                .iter()
                .map(|h| h.distance)
                .fold(f32::INFINITY, f32::min);
            let min_hi = placed.iter().map(|p| p.0 + p.1).fold(best_exact, f32::min);
            let nearest = (0..n).min_by(|&a, &b| d[a].total_cmp(&d[b]));
            if let Some(i) = nearest {
                assert!(best_exact <= d[i] || c[i]);
            }
            // Every non-contender's lower bound is above some hit's upper bound.
            for (j, &(e, b, _)) in placed.iter().enumerate().filter(|(j, _)| !c[*j]) {
                assert!(e - b > min_hi, "{j}");
            }
        }
    }
}

//! Graph construction: HNSW insertion, the diversity heuristic (M neighbours for a new node, no
//! backfill of rejected candidates), and a parallel batch build with per-node (striped) locks.
//!
//! Distances during construction come either from the float vectors (mapped) or, by default when
//! the index keeps extended codes under cosine or L2, from the 4-bit extended codes alone
//! ([`ExGeometry`]): new-node-to-node distances with the asymmetric extended estimator (float
//! query against 4-bit code), node-to-node distances (heuristic, pruning) from both nodes' codes.
//! Construction then never reads the float file: at 1M x 1024 the inserts of an ingest used to
//! fault the whole 4 GB float file into the process (fault-around maps 64 KB or a whole large
//! folio per fault), while the extended codes are 520 MB.

use std::sync::Mutex;

use rayon::prelude::*;

use crate::filter::Bitset;
use crate::graph::Graph;
use crate::metric::Metric;
use crate::rabitq::{QueryCode, Rotation, DEFAULT_EPS0};
use crate::rng::hash2;
use crate::search::{greedy, search_layer, Cand, CodeOracle, ExactOracle, Oracle};
use crate::simd;
use crate::store::{RowFile, VectorStore};
use crate::visited::VisitedList;

/// Highest level a node may get.
const MAX_LEVEL: u8 = 15;
const LOCK_STRIPES: usize = 4096;

/// Level of node `id` (geometric with ratio 1/m, deterministic in (seed, id)).
pub(crate) fn node_level(seed: u64, id: u32, m: usize) -> u8 {
    let u = (hash2(seed, id as u64) >> 11) as f64 / (1u64 << 53) as f64;
    let u = u.max(1e-300);
    let ml = 1.0 / (m.max(2) as f64).ln();
    ((-u.ln() * ml).floor() as u64).min(MAX_LEVEL as u64) as u8
}

/// Everything an insertion needs (shared by worker threads).
pub(crate) struct Builder<'a> {
    pub graph: &'a Graph,
    pub store: &'a VectorStore,
    pub metric: Metric,
    pub m: usize,
    pub ef_construction: usize,
    /// When set, the construction beam search runs on RaBitQ estimates (codes, rotation,
    /// centroid) and only its result list is re-scored exactly before the heuristic.
    pub codes: Option<(&'a [u64], usize, &'a Rotation, &'a [f32])>,
    /// When set (requires `codes`), every distance of the construction comes from the codes and
    /// the extended codes; the float file is only read for the new node's own vector.
    pub ex: Option<ExGeometry<'a>>,
    /// Inner product: build with exact distances in the augmented space
    /// `x -> [x, sqrt(phi2 - |x|^2)]` (a metric), `phi2` bounding every squared norm.
    pub aug_phi2: Option<f32>,
    locks: Vec<Mutex<()>>,
    entry_lock: Mutex<()>,
}

/// Node-to-node distances from the extended codes (cosine and L2).
///
/// For rotated residuals `a_r`, `b_r` with exact squared norms `r2` (kept in the 1-bit records)
/// and extended codes `y = u - 7.5` with factors `fx` (so that `fx y` reconstructs the residual
/// with its exact projection on the residual's direction), `<a_r, b_r> ~ fx_a fx_b <y_a, y_b>` and
/// the squared distance is `r2_a + r2_b - 2 <a_r, b_r>` (halved for cosine, whose vectors are unit).
/// One side is decoded once into `z = 2 y` (odd integers in `[-15, 15]`) so that the other is a
/// SIMD `u4 x i8` dot product: `<y_a, y_b> = (2 <u_b, z_a> - 15 sum(z_a)) / 4`.
pub(crate) struct ExGeometry<'a> {
    /// Extended-code rows (all nodes being linked included).
    pub ex: &'a RowFile,
    /// 1-bit code records (for `r2`).
    pub codes: &'a [u64],
    /// Words per 1-bit record.
    pub stride: usize,
    /// Code words per 1-bit record (`r2` is the low half of the word after them).
    pub words: usize,
    /// Cosine (distance = half the squared distance of unit vectors) rather than L2.
    pub half: bool,
}

impl ExGeometry<'_> {
    #[inline]
    fn r2(&self, id: u32) -> Option<f32> {
        let w = *self.codes.get(id as usize * self.stride + self.words)?;
        Some(f32::from_bits(w as u32))
    }

    /// Decode node `id` into `b`; false if it has no code.
    fn decode(&self, id: u32, b: &mut Base) -> bool {
        let n = self.words * 32;
        let rec = self.ex.row(id);
        let (Some(f), Some(r2)) = (rec.get(n..n + 4), self.r2(id)) else {
            return false;
        };
        b.fx = f32::from_le_bytes([f[0], f[1], f[2], f[3]]);
        b.r2 = r2;
        b.z.clear();
        b.z.resize(2 * n, 0);
        for (zb, cb) in b.z.chunks_exact_mut(64).zip(rec[..n].chunks_exact(32)) {
            let (lo, hi) = zb.split_at_mut(32);
            for ((l, h), &c) in lo.iter_mut().zip(hi.iter_mut()).zip(cb) {
                *l = 2 * (c & 0x0F) as i8 - 15;
                *h = 2 * (c >> 4) as i8 - 15;
            }
        }
        b.zsum = b.z.iter().map(|&x| x as i32).sum();
        true
    }

    #[inline]
    fn dist(&self, b: &Base, id: u32) -> f32 {
        let n = self.words * 32;
        let rec = self.ex.row(id);
        let (Some(f), Some(r2)) = (rec.get(n..n + 4), self.r2(id)) else {
            return f32::INFINITY;
        };
        let fx = f32::from_le_bytes([f[0], f[1], f[2], f[3]]);
        let dot = simd::dot_u4_i8(&rec[..n], &b.z) as f32;
        let yy = (2.0 * dot - 15.0 * b.zsum as f32) * 0.25;
        let d = b.r2 + r2 - 2.0 * b.fx * fx * yy;
        if self.half {
            0.5 * d
        } else {
            d
        }
    }
}

/// Distances from the new node to others with the extended estimator.
struct ExOracle<'a> {
    qc: &'a QueryCode,
    codes: &'a [u64],
    stride: usize,
    ex: &'a RowFile,
}

impl Oracle for ExOracle<'_> {
    #[inline]
    fn dist(&self, id: u32) -> f32 {
        let a = id as usize * self.stride;
        match self.codes.get(a..a + self.stride) {
            Some(r) => self
                .qc
                .estimate_ex(r, self.ex.row(id))
                .map_or(f32::INFINITY, |(e, _)| e),
            None => f32::INFINITY,
        }
    }
}

/// Squared L2 distance between two augmented vectors `[x, a_x]`, `[y, a_y]` from their inner
/// product: `|x|^2 + a_x^2 = phi2` for every node, so `d = 2 phi2 - 2 <x, y> - 2 a_x a_y`.
#[inline]
fn aug_dist(phi2: f32, xy: f32, ax: f32, ay: f32) -> f32 {
    (2.0 * phi2 - 2.0 * xy - 2.0 * ax * ay).max(0.0)
}

#[inline]
fn aug_coord(phi2: f32, x: &[f32]) -> f32 {
    (phi2 - simd::dot_f32(x, x)).max(0.0).sqrt()
}

/// Distances from the new node in the augmented space (inner-product construction).
struct AugOracle<'a> {
    store: &'a VectorStore,
    q: &'a [f32],
    qa: f32,
    phi2: f32,
}

impl Oracle for AugOracle<'_> {
    #[inline]
    fn dist(&self, id: u32) -> f32 {
        match self.store.ip_and_norm2(self.q, id) {
            Some((xy, xx)) => aug_dist(self.phi2, xy, self.qa, (self.phi2 - xx).max(0.0).sqrt()),
            None => f32::INFINITY,
        }
    }
}

/// One side of node-to-node distances: the float row, or the decoded extended code.
#[derive(Default)]
struct Base {
    /// Augmented coordinate (inner-product construction).
    a: f32,
    f: Vec<f32>,
    z: Vec<i8>,
    zsum: i32,
    fx: f32,
    r2: f32,
}

struct Scratch {
    vis: VisitedList,
    nbuf: Vec<u32>,
    q: Vec<f32>,
    row: Base,
    base: Base,
    links: Vec<u32>,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            vis: VisitedList::default(),
            nbuf: Vec::new(),
            q: Vec::new(),
            row: Base::default(),
            base: Base::default(),
            links: Vec::new(),
        }
    }
}

impl<'a> Builder<'a> {
    pub fn new(
        graph: &'a Graph,
        store: &'a VectorStore,
        metric: Metric,
        m: usize,
        efc: usize,
    ) -> Self {
        Builder {
            graph,
            store,
            metric,
            m,
            ef_construction: efc,
            codes: None,
            ex: None,
            aug_phi2: None,
            locks: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            entry_lock: Mutex::new(()),
        }
    }

    fn lock(&self, id: u32) -> std::sync::MutexGuard<'_, ()> {
        self.locks[id as usize % LOCK_STRIPES]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Insert nodes `ids` (already added to the graph with their levels, vectors in the store).
    pub fn insert_all(&self, ids: std::ops::Range<u32>) {
        let mut ids = ids;
        if self.graph.entry().is_none() {
            let Some(first) = ids.next() else { return };
            let l = self.graph.levels.get(first as usize).copied().unwrap_or(0);
            self.graph.set_entry(first, l);
        }
        if ids.len() < 64 {
            let mut s = Scratch::new();
            for id in ids {
                self.insert_one(id, &mut s);
            }
        } else {
            ids.into_par_iter()
                .for_each_init(Scratch::new, |s, id| self.insert_one(id, s));
        }
    }

    /// Load node `id` as the fixed side of node-to-node distances.
    fn load(&self, id: u32, b: &mut Base) -> bool {
        match (&self.ex, self.aug_phi2) {
            (Some(g), _) => g.decode(id, b),
            (None, Some(phi2)) => {
                let ok = self.store.read_into(id, &mut b.f);
                b.a = aug_coord(phi2, &b.f);
                ok
            }
            (None, None) => self.store.read_into(id, &mut b.f),
        }
    }

    /// Distance between a loaded node and node `id`.
    #[inline]
    fn pair(&self, b: &Base, id: u32) -> f32 {
        match (&self.ex, self.aug_phi2) {
            (Some(g), _) => g.dist(b, id),
            (None, Some(phi2)) => AugOracle {
                store: self.store,
                q: &b.f,
                qa: b.a,
                phi2,
            }
            .dist(id),
            (None, None) => self.store.distance(self.metric, &b.f, id),
        }
    }

    /// Diversity heuristic: keep a candidate only if it is closer to the base than to every
    /// neighbour kept so far; at most `m`; rejected candidates are not used to fill up.
    fn select(&self, cands: &[Cand], m: usize, row: &mut Base) -> Vec<u32> {
        let mut sel: Vec<u32> = Vec::with_capacity(m);
        for c in cands {
            if sel.len() >= m {
                break;
            }
            if !self.load(c.id, row) {
                continue;
            }
            let diverse = sel.iter().all(|&s| self.pair(row, s) > c.d);
            if diverse {
                sel.push(c.id);
            }
        }
        sel
    }

    fn insert_one(&self, id: u32, s: &mut Scratch) {
        let g = self.graph;
        let Some(&level) = g.levels.get(id as usize) else {
            return;
        };
        let Some((ep, top)) = g.entry() else { return };
        // A positional read: the new rows were just written, and touching them through the
        // mapping maps whole large folios of the float file into the process.
        if ep == id || !matches!(self.store.read_copy(id, &mut s.q), Ok(true)) {
            return;
        }
        let q = std::mem::take(&mut s.q);
        let exact = ExactOracle {
            store: self.store,
            metric: self.metric,
            q: &q,
        };
        match self.codes {
            Some((codes, stride, rot, centroid)) => {
                let qc = QueryCode::new(rot, centroid, self.metric, &q, DEFAULT_EPS0);
                let est = CodeOracle {
                    qc: &qc,
                    codes,
                    stride,
                };
                match &self.ex {
                    Some(g) => {
                        let xo = ExOracle {
                            qc: &qc,
                            codes,
                            stride,
                            ex: g.ex,
                        };
                        self.link_levels(id, level, ep, top, &est, &xo, true, s);
                    }
                    None => self.link_levels(id, level, ep, top, &est, &exact, true, s),
                }
            }
            None => match self.aug_phi2 {
                Some(phi2) => {
                    let aug = AugOracle {
                        store: self.store,
                        q: &q,
                        qa: aug_coord(phi2, &q),
                        phi2,
                    };
                    self.link_levels(id, level, ep, top, &aug, &aug, false, s);
                }
                None => self.link_levels(id, level, ep, top, &exact, &exact, false, s),
            },
        }
        if level > top {
            let _g = self.entry_lock.lock().unwrap_or_else(|e| e.into_inner());
            if g.entry().is_none_or(|(_, t)| level > t) {
                g.set_entry(id, level);
            }
        }
        s.q = q;
    }

    /// Descend from the entry point with `nav` and link `id` on levels `min(level, top)..=0`;
    /// with `rescore`, each beam's results are re-scored with `rescore_with` before the heuristic.
    #[allow(clippy::too_many_arguments)]
    fn link_levels<N: Oracle, X: Oracle>(
        &self,
        id: u32,
        level: u8,
        ep: u32,
        top: u8,
        nav: &N,
        rescore_with: &X,
        rescore: bool,
        s: &mut Scratch,
    ) {
        let g = self.graph;
        let mut cur = Cand {
            d: nav.dist(ep),
            id: ep,
        };
        let mut l = top;
        while l > level {
            cur = greedy(g, nav, cur, l, &mut s.nbuf);
            l -= 1;
        }
        let mut eps = vec![cur];
        let n = g.len();
        for l in (0..=level.min(top)).rev() {
            s.vis.reset(n);
            let res = search_layer(
                g,
                nav,
                &eps,
                self.ef_construction,
                l,
                &mut s.vis,
                &mut s.nbuf,
                |x| x != id,
            );
            let mut scored = res.clone();
            if rescore {
                for c in scored.iter_mut() {
                    c.d = rescore_with.dist(c.id);
                }
                scored.sort_unstable();
            }
            let sel = self.select(&scored, self.m, &mut s.row);
            {
                let _g = self.lock(id);
                g.set_neighbors(id, l, &sel);
            }
            for &nb in &sel {
                let d = scored
                    .iter()
                    .find(|c| c.id == nb)
                    .map_or_else(|| rescore_with.dist(nb), |c| c.d);
                self.connect(nb, id, l, d, s);
            }
            if !res.is_empty() {
                eps = res;
            }
        }
    }

    /// Make every live node reachable by a level-0 walk from the entry point; returns how many
    /// links were added. The diversity heuristic can prune a node out of every list that held
    /// it, and in a parallel batch the nodes of one cluster, inserted side by side, can end up
    /// linked only to each other once the older nodes' links to them are pruned: an island that
    /// no query reaches, whatever its ef (the property tests found self-queries missed at ef
    /// 200 on 135 nodes). For each node a breadth-first pass from the entry did not reach, the
    /// walk finds its nearest reached nodes (exact distances) and the first of them with a free
    /// slot links to it; without one, the nearest takes it in place of its last link. Every
    /// node of an island gets its own link (one link into an island left its far members out
    /// of reach of a walk at ef 64 in 1 of 300 builds). A replaced link can cut off its target, so
    /// the check repeats (at most a few rounds; each round only adds links into unreached
    /// nodes). Nodes that `skip` (deleted) are traversed but not repaired or linked from.
    pub fn repair_reachability(&self, skip: impl Fn(u32) -> bool) -> usize {
        let g = self.graph;
        let n = g.len();
        let Some((ep, top)) = g.entry() else {
            return 0;
        };
        let mut s = Scratch::new();
        let mut queue = Vec::new();
        let mut repaired = 0;
        for _round in 0..4 {
            let mut reached = Bitset::new(n);
            g.mark_reachable(ep, &mut reached, &mut queue);
            let mut replaced = false;
            let mut x = 0u32;
            while (x as usize) < n {
                if reached.contains(x) || skip(x) {
                    x += 1;
                    continue;
                }
                if !matches!(self.store.read_copy(x, &mut s.q), Ok(true)) {
                    x += 1;
                    continue;
                }
                let o = ExactOracle {
                    store: self.store,
                    metric: self.metric,
                    q: &s.q,
                };
                let mut cur = Cand {
                    d: o.dist(ep),
                    id: ep,
                };
                for l in (1..=top).rev() {
                    cur = greedy(g, &o, cur, l, &mut s.nbuf);
                }
                let accept = |id: u32| id != x && reached.contains(id) && !skip(id);
                let mut near = Vec::new();
                for start in [
                    cur,
                    Cand {
                        d: o.dist(ep),
                        id: ep,
                    },
                ] {
                    s.vis.reset(n);
                    near = search_layer(
                        g,
                        &o,
                        &[start],
                        self.ef_construction,
                        0,
                        &mut s.vis,
                        &mut s.nbuf,
                        accept,
                    );
                    if !near.is_empty() {
                        break;
                    }
                }
                let cap = g.cap(0);
                let mut linked = false;
                for c in &near {
                    let _guard = self.lock(c.id);
                    g.neighbors_into(c.id, 0, &mut s.links);
                    if s.links.len() < cap {
                        s.links.push(x);
                        g.set_neighbors(c.id, 0, &s.links);
                        linked = true;
                        break;
                    }
                }
                if !linked {
                    if let Some(c) = near.first() {
                        let _guard = self.lock(c.id);
                        g.neighbors_into(c.id, 0, &mut s.links);
                        if let Some(last) = s.links.last_mut() {
                            *last = x;
                            g.set_neighbors(c.id, 0, &s.links);
                            linked = true;
                            replaced = true;
                        }
                    }
                }
                if linked {
                    repaired += 1;
                    reached.insert(x);
                }
                x += 1;
            }
            if !replaced {
                break;
            }
        }
        repaired
    }

    /// Add `new` to the list of `nb` at `level`, pruning with the heuristic when full.
    fn connect(&self, nb: u32, new: u32, level: u8, d_new: f32, s: &mut Scratch) {
        let g = self.graph;
        let cap = g.cap(level);
        let _guard = self.lock(nb);
        g.neighbors_into(nb, level, &mut s.links);
        if s.links.contains(&new) {
            return;
        }
        if s.links.len() < cap {
            s.links.push(new);
            g.set_neighbors(nb, level, &s.links);
            return;
        }
        let mut base = std::mem::take(&mut s.base);
        if !self.load(nb, &mut base) {
            s.base = base;
            return;
        }
        let mut cands: Vec<Cand> = s
            .links
            .iter()
            .map(|&x| Cand {
                d: self.pair(&base, x),
                id: x,
            })
            .collect();
        s.base = base;
        cands.push(Cand { d: d_new, id: new });
        cands.sort_unstable();
        let sel = self.select(&cands, cap, &mut s.row);
        g.set_neighbors(nb, level, &sel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use crate::{Construction, Index, IndexParams, Metric, SearchOptions};

    /// Non-negative, clustered unit-scale rows (as BirdNET embeddings are).
    fn rows(n: usize, d: usize, seed: u64) -> Vec<f32> {
        let mut rng = SplitMix64::new(seed);
        let centres: Vec<Vec<f32>> = (0..8)
            .map(|_| (0..d).map(|_| rng.normal().abs() as f32).collect())
            .collect();
        let mut out = Vec::with_capacity(n * d);
        for i in 0..n {
            let c = &centres[i % centres.len()];
            out.extend(c.iter().map(|&x| (x + 0.8 * rng.normal() as f32).max(0.0)));
        }
        out
    }

    fn geometry(idx: &Index, metric: Metric) -> ExGeometry<'_> {
        ExGeometry {
            ex: idx.ex.as_ref().expect("extended codes"),
            codes: &idx.codes,
            stride: idx.layout.stride,
            words: idx.layout.words,
            half: metric == Metric::Cosine,
        }
    }

    /// Every live node is reachable by a level-0 walk from the entry point after each batch,
    /// also for the case the property tests found (a small clustered set linked in two parallel
    /// batches, where a cluster ended up as an island no query reached at any ef). The parallel
    /// build is not deterministic, hence many builds.
    #[test]
    fn every_node_is_reachable_after_parallel_batches() {
        let (n, d) = (135, 63);
        let data = rows(n, d, 10316725900385903885);
        for _ in 0..40 {
            let dir = tempfile::tempdir().unwrap();
            let mut p = IndexParams::new(d);
            p.m = 8;
            p.ef_construction = 40;
            let mut idx = Index::create(dir.path(), p).unwrap();
            for b in [&data[..45 * d], &data[45 * d..]] {
                idx.insert_batch(b).unwrap();
                let g = &idx.graph;
                let (ep, _) = g.entry().unwrap();
                let mut reached = Bitset::new(g.len());
                g.mark_reachable(ep, &mut reached, &mut Vec::new());
                let missing: Vec<u32> = (0..g.len() as u32)
                    .filter(|&x| !reached.contains(x))
                    .collect();
                assert!(
                    missing.is_empty(),
                    "unreachable from the entry point: {missing:?}"
                );
            }
        }
    }

    #[test]
    fn code_distances_track_exact_distances() {
        for metric in [Metric::Cosine, Metric::L2] {
            let (n, d) = (300, 512);
            let dir = tempfile::tempdir().unwrap();
            let mut p = IndexParams::new(d);
            p.metric = metric;
            let mut idx = Index::create(dir.path(), p).unwrap();
            idx.insert_batch(&rows(n, d, 7)).unwrap();
            let g = geometry(&idx, metric);
            let (mut b, mut f) = (Base::default(), Vec::new());
            let (mut sum_err, mut sum_d, mut nn_agree) = (0.0f64, 0.0f64, 0);
            for i in 0..n as u32 {
                assert!(g.decode(i, &mut b));
                assert!(idx.store.read_into(i, &mut f));
                let (mut best_est, mut best_exact) = ((f32::INFINITY, 0), (f32::INFINITY, 0));
                for j in (0..n as u32).filter(|&j| j != i) {
                    let est = g.dist(&b, j);
                    let exact = idx.store.distance(metric, &f, j);
                    sum_err += (est - exact).abs() as f64;
                    sum_d += exact.abs() as f64;
                    if est < best_est.0 {
                        best_est = (est, j);
                    }
                    if exact < best_exact.0 {
                        best_exact = (exact, j);
                    }
                }
                // The code-nearest neighbour is the exact nearest, or within 2% of its distance.
                let d_of_est_nn = idx.store.distance(metric, &f, best_est.1);
                if d_of_est_nn <= best_exact.0 * 1.02 + 1e-6 {
                    nn_agree += 1;
                }
            }
            let rel = sum_err / sum_d;
            eprintln!("{metric:?}: mean relative error {rel:.4}, nearest agreed {nn_agree}/{n}");
            assert!(rel < 0.02, "{metric:?}: mean relative error {rel}");
            assert!(
                nn_agree >= n * 95 / 100,
                "{metric:?}: nearest agreed {nn_agree}/{n}"
            );
            // The new node's own record decodes; an id past the end does not.
            assert!(!g.decode(n as u32 + 5, &mut b));
            assert_eq!(g.dist(&b, n as u32 + 5), f32::INFINITY);
        }
    }

    #[test]
    fn graphs_built_from_codes_and_from_vectors_search_alike() {
        let (n, d) = (3000, 512);
        let data = rows(n, d, 11);
        let queries = rows(100, d, 12);
        let mut recall = Vec::new();
        for c in [Construction::Vectors, Construction::Codes] {
            let dir = tempfile::tempdir().unwrap();
            let mut idx = Index::create(dir.path(), IndexParams::new(d)).unwrap();
            idx.set_construction(c);
            // Bulk, then incremental batches (the ingest path).
            idx.insert_batch(&data[..2000 * d]).unwrap();
            for b in data[2000 * d..].chunks(100 * d) {
                idx.insert_batch(b).unwrap();
            }
            let mut hit = 0;
            for q in queries.chunks_exact(d) {
                let mut exact: Vec<(f32, u32)> = data
                    .chunks_exact(d)
                    .enumerate()
                    .map(|(i, x)| (crate::exact_distance(Metric::Cosine, q, x), i as u32))
                    .collect();
                exact.sort_by(|a, b| a.0.total_cmp(&b.0));
                let truth: Vec<u32> = exact[..10].iter().map(|x| x.1).collect();
                let opts = SearchOptions {
                    ef: Some(32),
                    exact_scan_below: Some(0),
                    ..Default::default()
                };
                let got = idx.search(q, 10, &opts).unwrap();
                hit += got.iter().filter(|h| truth.contains(&h.id)).count();
            }
            recall.push(hit as f64 / 1000.0);
        }
        eprintln!(
            "recall@10 at ef 32: vectors-built {}, codes-built {}",
            recall[0], recall[1]
        );
        assert!(recall[0] > 0.9, "vectors-built recall {}", recall[0]);
        assert!(
            recall[1] >= recall[0] - 0.02,
            "codes-built recall {} against vectors-built {}",
            recall[1],
            recall[0]
        );
    }
}

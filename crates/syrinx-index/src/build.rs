//! Graph construction: HNSW insertion with exact distances from the vector store, the diversity
//! heuristic (M neighbours for a new node, no backfill of rejected candidates), and a parallel
//! batch build with per-node (striped) locks.

use std::sync::Mutex;

use rayon::prelude::*;

use crate::graph::Graph;
use crate::metric::Metric;
use crate::rabitq::{QueryCode, Rotation, DEFAULT_EPS0};
use crate::rng::hash2;
use crate::search::{greedy, search_layer, Cand, CodeOracle, ExactOracle, Oracle};
use crate::store::VectorStore;
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
    locks: Vec<Mutex<()>>,
    entry_lock: Mutex<()>,
}

struct Scratch {
    vis: VisitedList,
    nbuf: Vec<u32>,
    q: Vec<f32>,
    row: Vec<f32>,
    links: Vec<u32>,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            vis: VisitedList::default(),
            nbuf: Vec::new(),
            q: Vec::new(),
            row: Vec::new(),
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

    /// Diversity heuristic: keep a candidate only if it is closer to the base than to every
    /// neighbour kept so far; at most `m`; rejected candidates are not used to fill up.
    fn select(&self, cands: &[Cand], m: usize, row: &mut Vec<f32>) -> Vec<u32> {
        let mut sel: Vec<u32> = Vec::with_capacity(m);
        for c in cands {
            if sel.len() >= m {
                break;
            }
            if !self.store.read_into(c.id, row) {
                continue;
            }
            let diverse = sel
                .iter()
                .all(|&s| self.store.distance(self.metric, row, s) > c.d);
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
        if ep == id || !self.store.read_into(id, &mut s.q) {
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
                self.link_levels(id, level, ep, top, &est, &exact, true, s);
            }
            None => self.link_levels(id, level, ep, top, &exact, &exact, false, s),
        }
        if level > top {
            let _g = self.entry_lock.lock().unwrap_or_else(|e| e.into_inner());
            if g.entry().is_none_or(|(_, t)| level > t) {
                g.set_entry(id, level);
            }
        }
        s.q = q;
    }

    /// Descend from the entry point with `nav` and link `id` on levels `min(level, top)..=0`.
    #[allow(clippy::too_many_arguments)]
    fn link_levels<N: Oracle>(
        &self,
        id: u32,
        level: u8,
        ep: u32,
        top: u8,
        nav: &N,
        exact: &ExactOracle<'_>,
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
                    c.d = exact.dist(c.id);
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
                    .map_or_else(|| exact.dist(nb), |c| c.d);
                self.connect(nb, id, l, d, s);
            }
            if !res.is_empty() {
                eps = res;
            }
        }
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
        let mut base = Vec::new();
        if !self.store.read_into(nb, &mut base) {
            return;
        }
        let mut cands: Vec<Cand> = s
            .links
            .iter()
            .map(|&x| Cand {
                d: self.store.distance(self.metric, &base, x),
                id: x,
            })
            .collect();
        cands.push(Cand { d: d_new, id: new });
        cands.sort_unstable();
        let sel = self.select(&cands, cap, &mut s.row);
        g.set_neighbors(nb, level, &sel);
    }
}

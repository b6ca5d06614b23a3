//! HNSW graph in flat arrays with integer ids.
//!
//! Level 0: `n * (1 + m0)` slots, `[count, links...]` per node. Upper levels: a node of level
//! `L >= 1` owns `L` consecutive blocks of `1 + m` slots starting at `upper_off[node]`.
//! Slots are `AtomicU32` so that the parallel build can update neighbour lists under per-node
//! locks while other threads read them (relaxed loads compile to plain loads on x86-64/aarch64).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

use crate::filter::Bitset;

/// Marker for "no upper blocks".
pub const NO_UPPER: u32 = u32::MAX;
const NO_ENTRY: u64 = u64::MAX;

/// The graph.
#[derive(Debug)]
pub struct Graph {
    pub(crate) m: usize,
    pub(crate) m0: usize,
    pub(crate) levels: Vec<u8>,
    pub(crate) level0: Vec<AtomicU32>,
    pub(crate) upper_off: Vec<u32>,
    pub(crate) upper: Vec<AtomicU32>,
    entry: AtomicU64,
}

impl Graph {
    /// Empty graph with `m` links per upper-level node and `m0` at level 0.
    pub fn new(m: usize, m0: usize) -> Self {
        Graph {
            m,
            m0,
            levels: Vec::new(),
            level0: Vec::new(),
            upper_off: Vec::new(),
            upper: Vec::new(),
            entry: AtomicU64::new(NO_ENTRY),
        }
    }

    /// Rebuild from raw arrays (validated by the caller).
    pub(crate) fn from_parts(
        m: usize,
        m0: usize,
        levels: Vec<u8>,
        level0: Vec<u32>,
        upper_off: Vec<u32>,
        upper: Vec<u32>,
        entry: Option<(u32, u8)>,
    ) -> Self {
        let g = Graph {
            m,
            m0,
            levels,
            level0: level0.into_iter().map(AtomicU32::new).collect(),
            upper_off,
            upper: upper.into_iter().map(AtomicU32::new).collect(),
            entry: AtomicU64::new(NO_ENTRY),
        };
        if let Some((id, l)) = entry {
            g.set_entry(id, l);
        }
        g
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.levels.len()
    }

    /// Append nodes with the given levels (no links yet).
    pub fn add_nodes(&mut self, levels: &[u8]) {
        let n = levels.len();
        let up: usize = levels.iter().map(|&l| l as usize).sum::<usize>() * (1 + self.m);
        reserve_headroom(&mut self.levels, n);
        reserve_headroom(&mut self.level0, n * (1 + self.m0));
        reserve_headroom(&mut self.upper_off, n);
        reserve_headroom(&mut self.upper, up);
        for &l in levels {
            self.levels.push(l);
            self.level0
                .extend((0..1 + self.m0).map(|_| AtomicU32::new(0)));
            if l == 0 {
                self.upper_off.push(NO_UPPER);
            } else {
                let off = self.upper.len() / (1 + self.m);
                self.upper_off.push(off as u32);
                self.upper
                    .extend((0..l as usize * (1 + self.m)).map(|_| AtomicU32::new(0)));
            }
        }
    }

    /// Capacity of a node's list at `level`.
    #[inline]
    pub fn cap(&self, level: u8) -> usize {
        if level == 0 {
            self.m0
        } else {
            self.m
        }
    }

    /// Slots `[count, links...]` of `id` at `level` (empty if the node has no such level).
    #[inline]
    pub fn slots(&self, id: u32, level: u8) -> &[AtomicU32] {
        let i = id as usize;
        if level == 0 {
            let s = 1 + self.m0;
            return self.level0.get(i * s..(i + 1) * s).unwrap_or(&[]);
        }
        let (Some(&l), Some(&off)) = (self.levels.get(i), self.upper_off.get(i)) else {
            return &[];
        };
        if level > l || off == NO_UPPER {
            return &[];
        }
        let s = 1 + self.m;
        let b = (off as usize + level as usize - 1) * s;
        self.upper.get(b..b + s).unwrap_or(&[])
    }

    /// Copy the neighbours of `id` at `level` into `out` (cleared first).
    #[inline]
    pub fn neighbors_into(&self, id: u32, level: u8, out: &mut Vec<u32>) {
        out.clear();
        let s = self.slots(id, level);
        if let Some((c, links)) = s.split_first() {
            let n = (c.load(Relaxed) as usize).min(links.len());
            out.extend(links[..n].iter().map(|a| a.load(Relaxed)));
        }
    }

    /// Start fetching the level-0 neighbour list of `id` (a hint).
    #[inline]
    pub fn prefetch_level0(&self, id: u32) {
        crate::simd::prefetch(self.slots(id, 0), 3);
    }

    /// Replace the neighbours of `id` at `level` (truncated to the capacity).
    pub fn set_neighbors(&self, id: u32, level: u8, nbrs: &[u32]) {
        let s = self.slots(id, level);
        if let Some((c, links)) = s.split_first() {
            let n = nbrs.len().min(links.len());
            for (slot, &v) in links.iter().zip(&nbrs[..n]) {
                slot.store(v, Relaxed);
            }
            c.store(n as u32, Relaxed);
        }
    }

    /// Current entry point and top level.
    #[inline]
    pub fn entry(&self) -> Option<(u32, u8)> {
        let e = self.entry.load(Relaxed);
        if e == NO_ENTRY {
            None
        } else {
            Some((e as u32, (e >> 32) as u8))
        }
    }

    /// Set the entry point.
    pub fn set_entry(&self, id: u32, level: u8) {
        self.entry
            .store(id as u64 | ((level as u64) << 32), Relaxed);
    }

    /// Add to `reached` every node that a level-0 walk from `start` can reach (breadth-first,
    /// not entering nodes already in `reached`). Returns how many were added.
    pub fn mark_reachable(&self, start: u32, reached: &mut Bitset, queue: &mut Vec<u32>) -> usize {
        queue.clear();
        if !reached.insert(start) {
            return 0;
        }
        queue.push(start);
        let mut head = 0;
        while let Some(&x) = queue.get(head) {
            head += 1;
            let s = self.slots(x, 0);
            if let Some((c, links)) = s.split_first() {
                let k = (c.load(Relaxed) as usize).min(links.len());
                for a in &links[..k] {
                    let t = a.load(Relaxed);
                    if reached.insert(t) {
                        queue.push(t);
                    }
                }
            }
        }
        queue.len()
    }

    /// A node order for memory locality: breadth-first over level 0 from the entry point, each
    /// node's unvisited neighbours taking the next ids in the order of its list (nearest first),
    /// so a node's neighbours tend to sit next to each other and to it (reverse Cuthill-McKee
    /// without the degree sort). Nodes not reached from the entry follow, each starting its own
    /// breadth-first pass, in id order. Returns `order[new] = old`.
    pub fn locality_order(&self) -> Vec<u32> {
        let n = self.len();
        let mut seen = vec![false; n];
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut buf = Vec::new();
        let starts = self.entry().map(|(e, _)| e).into_iter().chain(0..n as u32);
        for s in starts {
            if seen.get(s as usize).copied().unwrap_or(true) {
                continue;
            }
            seen[s as usize] = true;
            let mut head = order.len();
            order.push(s);
            while head < order.len() {
                let x = order[head];
                head += 1;
                self.neighbors_into(x, 0, &mut buf);
                for &y in &buf {
                    if let Some(f) = seen.get_mut(y as usize) {
                        if !*f {
                            *f = true;
                            order.push(y);
                        }
                    }
                }
            }
        }
        order
    }

    /// The same graph with node `order[new]` renamed `new` (`order` must be a permutation of
    /// `0..len`, as [`Graph::locality_order`] returns): levels, every list at every level and
    /// the entry point follow.
    pub fn permuted(&self, order: &[u32]) -> Graph {
        let n = self.len();
        let mut new_of = vec![0u32; n];
        for (new, &old) in order.iter().enumerate() {
            new_of[old as usize] = new as u32;
        }
        let levels: Vec<u8> = order.iter().map(|&o| self.levels[o as usize]).collect();
        let mut g = Graph::new(self.m, self.m0);
        g.add_nodes(&levels);
        let mut buf = Vec::new();
        for (new, &old) in order.iter().enumerate() {
            for l in 0..=levels[new] {
                self.neighbors_into(old, l, &mut buf);
                for t in buf.iter_mut() {
                    *t = new_of.get(*t as usize).copied().unwrap_or(*t);
                }
                g.set_neighbors(new as u32, l, &buf);
            }
        }
        if let Some((e, l)) = self.entry() {
            g.set_entry(new_of[e as usize], l);
        }
        g
    }

    /// Heap bytes of the graph arrays.
    pub fn bytes(&self) -> usize {
        self.levels.capacity()
            + 4 * (self.level0.capacity() + self.upper_off.capacity() + self.upper.capacity())
    }

    /// Level-0 slots as plain integers (for persistence).
    pub(crate) fn level0_raw(&self) -> impl Iterator<Item = u32> + '_ {
        self.level0.iter().map(|a| a.load(Relaxed))
    }

    /// Upper slots as plain integers (for persistence).
    pub(crate) fn upper_raw(&self) -> impl Iterator<Item = u32> + '_ {
        self.upper.iter().map(|a| a.load(Relaxed))
    }
}

/// Reserve room for `additional` more elements with at most 1/8 headroom (instead of doubling),
/// so that resident memory stays close to what is used while appends remain amortised.
pub(crate) fn reserve_headroom<T>(v: &mut Vec<T>, additional: usize) {
    let need = v.len() + additional;
    if need > v.capacity() {
        let extra = (need / 8).max(additional);
        v.reserve_exact(need - v.len() + extra - additional);
        crate::store::advise_huge_pages(v);
    }
}

//! Pooled visited sets: a small open-addressing hash set per search, cleared by the slots it
//! filled.
//!
//! A search visits a few hundred to a few thousand ids out of up to millions. An array of marks
//! indexed by id (2 bytes x 1M = 2 MB, the previous design, as in hnswlib) puts every check of a
//! neighbour on a random line of a table larger than L2; a hash set sized to the visits (16 KB
//! for up to 2,048 ids) stays in L1/L2. usearch does the same. Ids at or beyond the bound given
//! to [`VisitedList::reset`] count as visited, so a search never follows them.

use std::sync::Mutex;

const EMPTY: u32 = u32::MAX;
const MIN_SLOTS: usize = 4096;

/// Visited ids of one search.
#[derive(Debug, Default)]
pub struct VisitedList {
    /// Open-addressing table (linear probing), `EMPTY` where free; a power of two long.
    slots: Vec<u32>,
    /// Indices of the filled slots (to clear them, and to rehash on growth).
    filled: Vec<u32>,
    /// `32 - log2(slots.len())`: the hash keeps the top bits of a multiplicative hash.
    shift: u32,
    /// Ids `>= bound` count as visited.
    bound: usize,
}

impl VisitedList {
    /// Prepare for a new search over ids `0..n`.
    pub fn reset(&mut self, n: usize) {
        if self.slots.is_empty() {
            self.alloc(MIN_SLOTS);
        }
        for &i in &self.filled {
            self.slots[i as usize] = EMPTY;
        }
        self.filled.clear();
        self.bound = n;
    }

    fn alloc(&mut self, len: usize) {
        self.slots = vec![EMPTY; len];
        self.shift = 32 - len.trailing_zeros();
    }

    #[inline]
    fn home(&self, id: u32) -> usize {
        // Fibonacci hashing: consecutive ids land far apart.
        (id.wrapping_mul(0x9E37_79B9) >> self.shift) as usize
    }

    /// The slot holding `id` (`Ok`) or the free slot where it would go (`Err`); linear probing
    /// from its home slot (the table is never full: its load stays at most 1/2).
    #[inline]
    fn probe(&self, id: u32) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(id);
        loop {
            match self.slots[i] {
                s if s == id => return Ok(i),
                EMPTY => return Err(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Mark `id`; returns true if it was not yet visited in this search.
    #[inline]
    pub fn insert(&mut self, id: u32) -> bool {
        if id as usize >= self.bound || id == EMPTY {
            return false;
        }
        let Err(i) = self.probe(id) else {
            return false;
        };
        self.slots[i] = id;
        self.filled.push(i as u32);
        // Keep the load at most 1/2 (short probes).
        if 2 * self.filled.len() > self.slots.len() {
            self.grow();
        }
        true
    }

    /// Whether `id` was visited in this search (searches only need [`VisitedList::insert`]).
    #[cfg(test)]
    pub fn contains(&self, id: u32) -> bool {
        id as usize >= self.bound || id == EMPTY || self.probe(id).is_ok()
    }

    fn grow(&mut self) {
        let ids: Vec<u32> = self
            .filled
            .iter()
            .map(|&i| self.slots[i as usize])
            .collect();
        self.alloc(2 * self.slots.len());
        self.filled.clear();
        for id in ids {
            // Members are distinct, so each finds a free slot.
            if let Err(i) = self.probe(id) {
                self.slots[i] = id;
                self.filled.push(i as u32);
            }
        }
    }

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        4 * (self.slots.capacity() + self.filled.capacity())
    }
}

/// A pool of visited lists shared by concurrent searches.
#[derive(Debug, Default)]
pub struct VisitedPool {
    pool: Mutex<Vec<VisitedList>>,
}

impl VisitedPool {
    /// Take a list (new if the pool is empty), reset for `n` ids.
    pub fn take(&self, n: usize) -> VisitedList {
        let mut v = self
            .pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default();
        v.reset(n);
        v
    }

    /// Return a list to the pool.
    pub fn give(&self, v: VisitedList) {
        self.pool.lock().unwrap_or_else(|e| e.into_inner()).push(v);
    }

    /// Bytes held by pooled lists.
    pub fn bytes(&self) -> usize {
        self.pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|v| v.bytes())
            .sum()
    }

    /// Drop all pooled lists.
    pub fn clear(&self) {
        self.pool.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    proptest! {
        #[test]
        fn behaves_like_a_hash_set(
            searches in prop::collection::vec(
                (1usize..50_000, prop::collection::vec(0u32..60_000, 0..6_000)),
                1..4,
            )
        ) {
            // Reused across searches, as the pool does: nothing leaks from one to the next,
            // growth keeps every member, ids beyond the bound count as visited.
            let mut v = VisitedList::default();
            for (n, ids) in searches {
                v.reset(n);
                let mut want = HashSet::new();
                for id in ids {
                    let fresh = (id as usize) < n && want.insert(id);
                    prop_assert_eq!(v.insert(id), fresh);
                    prop_assert!(v.contains(id));
                }
                for id in (0..60_000u32).step_by(7) {
                    prop_assert_eq!(v.contains(id), id as usize >= n || want.contains(&id));
                }
            }
        }
    }

    #[test]
    fn reset_forgets_and_keeps_capacity() {
        let mut v = VisitedList::default();
        v.reset(100_000);
        for id in 0..10_000 {
            assert!(v.insert(id * 7));
        }
        let bytes = v.bytes();
        v.reset(100_000);
        assert!((0..10_000).all(|id| !v.contains(id * 7)));
        assert_eq!(v.bytes(), bytes);
        assert!(v.contains(u32::MAX) && !v.insert(u32::MAX));
    }
}

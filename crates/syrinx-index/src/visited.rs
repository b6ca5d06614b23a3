//! Pooled visited lists with a generation counter (no clearing between searches).

use std::sync::Mutex;

/// Visited marks for one search: `marks[id] == epoch` means visited.
#[derive(Debug, Default)]
pub struct VisitedList {
    marks: Vec<u16>,
    epoch: u16,
}

impl VisitedList {
    /// Prepare for a new search over `n` ids.
    pub fn reset(&mut self, n: usize) {
        if self.marks.len() < n {
            self.marks.resize(n, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.marks.iter_mut().for_each(|m| *m = 0);
            self.epoch = 1;
        }
    }

    /// Mark `id`; returns true if it was not yet visited in this search.
    #[inline]
    pub fn insert(&mut self, id: u32) -> bool {
        match self.marks.get_mut(id as usize) {
            Some(m) if *m != self.epoch => {
                *m = self.epoch;
                true
            }
            _ => false,
        }
    }

    /// Whether `id` was visited in this search.
    #[inline]
    pub fn contains(&self, id: u32) -> bool {
        self.marks.get(id as usize).is_none_or(|&m| m == self.epoch)
    }

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        self.marks.capacity() * 2
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

//! Search filters: a bitset over ids or an arbitrary predicate.

/// A fixed-size set of ids, one bit each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bitset {
    words: Vec<u64>,
    len: usize,
}

impl Bitset {
    /// Empty set able to hold ids `0..len`.
    pub fn new(len: usize) -> Self {
        Bitset {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// Set holding exactly `ids` (ids `>= len` are ignored).
    pub fn from_ids(len: usize, ids: impl IntoIterator<Item = u32>) -> Self {
        let mut b = Bitset::new(len);
        for id in ids {
            b.insert(id);
        }
        b
    }

    /// Add `id` (ignored if out of range). Returns whether it was newly added.
    pub fn insert(&mut self, id: u32) -> bool {
        let i = id as usize;
        if i >= self.len {
            return false;
        }
        let (w, m) = (i / 64, 1u64 << (i % 64));
        let was = self.words[w] & m != 0;
        self.words[w] |= m;
        !was
    }

    /// Remove `id`.
    pub fn remove(&mut self, id: u32) {
        let i = id as usize;
        if i < self.len {
            self.words[i / 64] &= !(1u64 << (i % 64));
        }
    }

    /// Whether `id` is in the set (false when out of range).
    #[inline]
    pub fn contains(&self, id: u32) -> bool {
        let i = id as usize;
        i < self.len && (self.words[i / 64] >> (i % 64)) & 1 == 1
    }

    /// Number of ids in the set.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Capacity (ids `0..len`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the capacity is zero.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Grow the capacity to `len` (new ids absent).
    pub fn grow(&mut self, len: usize) {
        if len > self.len {
            self.words.resize(len.div_ceil(64), 0);
            self.len = len;
        }
    }

    /// Iterate over the ids in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let b = w.trailing_zeros();
                w &= w - 1;
                Some((wi * 64) as u32 + b)
            })
        })
    }

    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }

    pub(crate) fn from_words(words: Vec<u64>, len: usize) -> Option<Self> {
        if words.len() != len.div_ceil(64) {
            return None;
        }
        let mut b = Bitset { words, len };
        // Clear bits beyond len so that counts are exact.
        if !len.is_multiple_of(64) {
            if let Some(last) = b.words.last_mut() {
                *last &= (1u64 << (len % 64)) - 1;
            }
        }
        Some(b)
    }
}

/// Restricts a search to a subset of ids ("only these recordings").
///
/// When the allowed set is small (see [`crate::SearchOptions::exact_scan_below`]), the search
/// switches from the graph to a scan of the allowed ids (code estimates + exact rerank), as
/// Qdrant does for very selective filters.
#[derive(Clone, Copy)]
pub enum Filter<'a> {
    /// Allowed ids as a bitset.
    Bitset(&'a Bitset),
    /// Allowed ids as a predicate (must be cheap and thread-safe).
    Predicate(&'a (dyn Fn(u32) -> bool + Sync)),
}

impl Filter<'_> {
    /// Whether `id` passes the filter.
    #[inline]
    pub fn allows(&self, id: u32) -> bool {
        match self {
            Filter::Bitset(b) => b.contains(id),
            Filter::Predicate(f) => f(id),
        }
    }

    /// Estimated number of allowed ids among `0..n` (exact for bitsets, sampled for predicates).
    pub(crate) fn estimate_count(&self, n: usize) -> usize {
        match self {
            Filter::Bitset(b) => {
                if b.len() <= n {
                    b.count()
                } else {
                    (0..n as u32).filter(|&i| b.contains(i)).count()
                }
            }
            Filter::Predicate(f) => {
                const SAMPLES: usize = 1024;
                if n <= SAMPLES * 4 {
                    return (0..n as u32).filter(|&i| f(i)).count();
                }
                let step = n as f64 / SAMPLES as f64;
                let hits = (0..SAMPLES)
                    .filter(|&s| f(((s as f64 + 0.5) * step) as u32))
                    .count();
                ((hits as f64 / SAMPLES as f64) * n as f64).ceil() as usize
            }
        }
    }
}

impl std::fmt::Debug for Filter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filter::Bitset(b) => write!(f, "Filter::Bitset({} ids)", b.count()),
            Filter::Predicate(_) => write!(f, "Filter::Predicate(..)"),
        }
    }
}

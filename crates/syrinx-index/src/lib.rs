//! # syrinx-index
//!
//! Approximate nearest-neighbour search over BirdNET embeddings (1024-d, non-negative) for the
//! Syrinx desktop app, in three tiers:
//! 1. an HNSW graph traversed with **RaBitQ 1-bit codes** held in RAM (random orthogonal rotation
//!    of the centred vector, sign bits, per-vector correction factors, unbiased inner-product
//!    estimator with error bound);
//! 2. **extended RaBitQ codes** (4 bits per rotated component, 520 B per 1024-d vector) in a
//!    memory-mapped file, read for a visited node only when its 1-bit lower bound could still
//!    enter the result set ([`Traversal::Refined`], default); error ~8x below the 1-bit code's;
//! 3. **full-precision vectors in a memory-mapped file**, read only for the final candidates,
//!    in order of the extended codes' lower bound, so the returned distances are exact.
//!
//! Resident memory is ~290 bytes per 1024-d vector at M = 16 (144 B code record + 132 B level-0
//! links + levels/upper links/tombstones); both mapped files are paged in by the OS on demand.
//! With `IndexParams::ex_bits = 0` (and for indexes written before tier 2 existed) the walk
//! re-scores from the float vectors instead.
//!
//! Why re-score inside the walk: on the mixture generator's data (`synth::SynthModel`, locally
//! much harder than real embeddings) the 1-bit estimate's error (~0.023 in centred cosine) is larger
//! than the gaps between the 10 nearest neighbours, so a walk ranked on
//! estimates alone needs ef ~ 256 for recall 0.95 at 100k (measured), while a re-scored result set
//! reaches 0.96 at ef 32. The extended codes give the same recall per ef as float re-scoring at
//! 100k and ~1.4x the QPS (measured, `bench-index search`), reading 520 B instead of 4 KB per
//! re-scored node. Construction walks on 1-bit estimates and re-scores each beam's result list
//! before the diversity heuristic; by default ([`Construction::Codes`]) that re-scoring, the
//! heuristic and the pruning take their distances from the extended codes, so building and
//! inserting read no float row but the new ones. Measured (`bench-index build|insert
//! --construction`): at 100k, recall 0.001-0.003 lower at ef 32-64 and equal at ef 128, bulk build
//! 1.29x faster; at 1M, 5,000 inserts in a fresh process leave 530 MB of file pages resident (the
//! extended codes) instead of 1,648 MB of the float file and more.
//!
//! ```no_run
//! use syrinx_index::{Index, IndexParams, SearchOptions};
//! # fn main() -> Result<(), syrinx_index::IndexError> {
//! let mut idx = Index::create("/tmp/my-index", IndexParams::new(1024))?;
//! let ids = idx.insert_batch(&vec![0.5f32; 1024 * 3])?; // three vectors, ids 0..3
//! idx.commit()?;                                         // atomic, durable
//! let hits = idx.search(&vec![0.5f32; 1024], 10, &SearchOptions::default())?;
//! # let _ = (ids, hits); Ok(()) }
//! ```
//!
//! Ids are dense `u32` assigned by the index in insertion order; deleted ids stay reserved until
//! [`Index::compact`], which renumbers and returns the mapping. One writer at a time (`&mut self`);
//! any number of concurrent searches (`&self`, the index is `Send + Sync`). The directory must not
//! be modified by other processes while open (the vector file is memory-mapped).

#![warn(missing_docs)]

mod build;
mod error;
mod excode;
mod filter;
mod graph;
mod metric;
mod persist;
mod rabitq;
mod rng;
mod search;
mod simd;
mod store;
pub mod synth;
mod visited;

use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use error::{IndexError, Result};
pub use filter::{Bitset, Filter};
pub use metric::{exact_distance, Metric};
pub use persist::{FileRef, Manifest};
pub use search::Rerank;
pub use simd::{dot_f32, l2sq_f32};
pub use store::warm_page_cache_file;
pub use store::StoreKind;

use graph::Graph;
use persist::{FORMAT, MANIFEST, VERSION};
use rabitq::{CodeLayout, QueryCode, Rotation, DEFAULT_EPS0};
use search::{Cand, CodeOracle};
use store::{RowFile, VectorStore};
use visited::VisitedPool;

/// Default memory budget: 2 GiB of resident memory (everything but the mapped vector file).
pub const DEFAULT_MEMORY_BUDGET: u64 = 2 << 30;
/// Below this many vectors the centroid is recomputed (and codes re-encoded) whenever the index
/// doubles in size, so that an index grown from a few recordings stays well centred.
const RECENTER_LIMIT: u64 = 1 << 16;
/// Smallest padded dimension at which construction takes its distances from the codes.
const MIN_CODE_CONSTRUCTION_BITS: usize = 512;

/// Creation parameters (stored in the manifest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexParams {
    /// Vector dimension (1024 for BirdNET v2.4).
    pub dim: usize,
    /// Metric (default cosine).
    pub metric: Metric,
    /// Links per node on upper levels and for a newly inserted node; level 0 holds up to `2m`.
    pub m: usize,
    /// Beam width during construction.
    pub ef_construction: usize,
    /// Default beam width of searches (`SearchOptions::ef` overrides).
    pub ef_search: usize,
    /// Seed of the rotation and of node levels.
    pub seed: u64,
    /// Precision of the memory-mapped vector file.
    pub store: StoreKind,
    /// Budget for resident bytes (codes, graph, tombstones, visited lists).
    pub memory_budget: u64,
    /// Bits per component of the memory-mapped extended RaBitQ codes read to refine candidates
    /// before the float vectors (4, the default; 0 = none, the float vectors are read instead;
    /// indexes written before this field existed have none).
    #[serde(default, skip_serializing_if = "is_zero_u8")]
    pub ex_bits: u8,
}

fn is_zero_u8(x: &u8) -> bool {
    *x == 0
}

impl IndexParams {
    /// Defaults for `dim`: cosine, m = 16, ef_construction = 200, ef_search = 48, f32 store,
    /// 4-bit extended codes, 2 GiB.
    pub fn new(dim: usize) -> Self {
        IndexParams {
            dim,
            metric: Metric::Cosine,
            m: 16,
            ef_construction: 200,
            ef_search: 48,
            seed: 0x5172_1A5E,
            store: StoreKind::F32,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            ex_bits: excode::EX_BITS,
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = |s: &str| Err(IndexError::InvalidParam(s.to_string()));
        if self.dim == 0 || self.dim > 65536 {
            return bad("dim must be in 1..=65536");
        }
        if !(2..=64).contains(&self.m) {
            return bad("m must be in 2..=64");
        }
        if self.ef_construction == 0 || self.ef_construction > 10_000 {
            return bad("ef_construction must be in 1..=10000");
        }
        if self.ef_search == 0 || self.ef_search > 100_000 {
            return bad("ef_search must be in 1..=100000");
        }
        if self.ex_bits != 0 && self.ex_bits != excode::EX_BITS {
            return bad("ex_bits must be 0 or 4");
        }
        Ok(())
    }
}

/// Per-search options.
#[derive(Clone, Copy, Debug, Default)]
pub struct SearchOptions<'a> {
    /// Beam width (effort); `None` uses `IndexParams::ef_search`. `Traversal::Estimated` raises it
    /// to `k` if smaller; `Traversal::Refined` allows it below `k` (its rerank draws on every node
    /// it re-scored, not only the beam).
    pub ef: Option<usize>,
    /// Only return ids the filter allows.
    pub filter: Option<Filter<'a>>,
    /// Which candidates are re-scored from the float vectors (default: only those whose place in
    /// the top k the codes' error bounds leave open; see [`Rerank`]).
    pub rerank: Rerank,
    /// How the graph is walked (see [`Traversal`]).
    pub traversal: Traversal,
    /// What re-scores candidates before the final rerank (see [`Rescore`]).
    pub rescore: Rescore,
    /// Scan the allowed ids instead of walking the graph when at most this many are allowed
    /// (estimated). `None`: `max(2048, len / 50)`.
    pub exact_scan_below: Option<usize>,
    /// `Traversal::Refined`: multiplier of the 1-bit error bound in a node's lower bound
    /// (estimate minus this x bound), which decides whether it is re-scored and kept open.
    /// Smaller: fewer re-scorings and expansions per `ef`, lower recall per `ef`. `None`: 1.0.
    pub bound_scale: Option<f32>,
}

/// How level 0 of the graph is searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Traversal {
    /// Walk and rank on RaBitQ estimates only (codes in RAM); re-score the `ef` best exactly from
    /// the mapped vectors, in lower-bound order, stopping when no candidate can enter the top k.
    /// Fewest reads of the vector file; needs a large `ef` (~256 for recall 0.95 at 100k).
    Estimated,
    /// Walk on estimates but keep an exact result set: a visited node is re-scored from the mapped
    /// vectors as soon as its lower bound could enter the top `ef`. Higher recall per `ef`, more
    /// reads of the vector file. Default: measured faster than `Estimated` at recall >= 0.96.
    #[default]
    Refined,
}

/// Work done by one search (for benchmarks and diagnosis).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SearchCounts {
    /// 1-bit estimates computed on level 0 of the refined walk (codes in RAM).
    pub estimated: usize,
    /// Candidates re-scored inside the walk (extended codes or float vectors).
    pub rescored: usize,
    /// Float rows read by the final rerank.
    pub exact: usize,
}

/// What re-scores the candidates the 1-bit codes cannot rule out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Rescore {
    /// The extended codes when the index has them (`IndexParams::ex_bits > 0`), else the float
    /// vectors (default).
    #[default]
    Auto,
    /// Always the float vectors (for comparisons; slower when extended codes exist).
    Vectors,
}

/// A search result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// Id assigned by the index.
    pub id: u32,
    /// Distance (see [`Metric`]; lower is closer): exact if `exact`, else the extended-code
    /// estimate of a hit whose place in the top k its error bound already decided and which
    /// cannot be the first hit (see [`Rerank::Bounded`]; within ~0.005 of the exact cosine
    /// distance at 1M). Hits are sorted by this distance.
    pub distance: f32,
    /// Whether `distance` was computed from the float vector.
    pub exact: bool,
}

/// Resident memory accounted by the index (the mapped vector file is reported separately).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MemoryReport {
    /// RaBitQ codes and factors.
    pub codes_bytes: u64,
    /// Graph links and levels.
    pub graph_bytes: u64,
    /// Tombstone bitset.
    pub tombstone_bytes: u64,
    /// Pooled visited lists.
    pub visited_bytes: u64,
    /// Rotation, centroid, small buffers.
    pub other_bytes: u64,
    /// Sum of the above.
    pub resident_bytes: u64,
    /// Size of the memory-mapped vector file (paged in on demand by the OS, not counted above).
    pub mapped_vector_bytes: u64,
    /// Size of the memory-mapped extended-code file (paged in on demand, not counted above).
    pub mapped_excode_bytes: u64,
    /// Configured budget.
    pub budget_bytes: u64,
}

/// The index. See the crate documentation.
pub struct Index {
    dir: PathBuf,
    params: IndexParams,
    rot: Rotation,
    layout: CodeLayout,
    centroid: Vec<f32>,
    centroid_n: u64,
    store: VectorStore,
    codes: Vec<u64>,
    ex: Option<RowFile>,
    graph: Graph,
    deleted: Bitset,
    n_deleted: usize,
    visited: VisitedPool,
    generation: u64,
    file_seq: u64,
    codes_name: String,
    codes_persisted: usize,
    codes_crc: u32,
    codes_rewrite: bool,
    graph_ref: Option<FileRef>,
    dirty: bool,
    construction: Construction,
    /// Inner product only: the largest squared norm stored (`None` until known).
    max_norm2: Option<f32>,
}

/// Where graph construction (batch build and inserts) takes its distances from. A setting of
/// the open index, not persisted: the graph format is the same either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Construction {
    /// From the 1-bit and extended codes only, when the index has extended codes, the metric
    /// is cosine or L2 and the padded dimension is at least 512 (otherwise as `Vectors`). Construction then reads no float row but the new
    /// ones, so a process that ingests into a large index keeps the float file out of its
    /// resident set. Default.
    #[default]
    Codes,
    /// Walk on 1-bit codes, then exact distances from the (mapped) float vectors for the beam's
    /// results, the diversity heuristic and pruning.
    Vectors,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("dir", &self.dir)
            .field("params", &self.params)
            .field("ids", &self.graph.len())
            .field("deleted", &self.n_deleted)
            .field("generation", &self.generation)
            .finish()
    }
}

fn vectors_name(seq: u64, kind: StoreKind) -> String {
    match kind {
        StoreKind::F32 => format!("vectors-{seq}.f32"),
        StoreKind::F16 => format!("vectors-{seq}.f16"),
    }
}

fn excodes_name(seq: u64) -> String {
    format!("excodes-{seq}.bin")
}

fn is_index_file(name: &str) -> bool {
    (name.starts_with("vectors-")
        || name.starts_with("codes-")
        || name.starts_with("excodes-")
        || name.starts_with("graph-"))
        || (name.starts_with('.') && name.ends_with(".tmp"))
}

impl Index {
    /// Create an empty index in `dir` (created if needed) and commit it (generation 1).
    /// Fails with [`IndexError::AlreadyExists`] if `dir` already holds an index.
    pub fn create(dir: impl AsRef<Path>, params: IndexParams) -> Result<Index> {
        params.validate()?;
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(persist::io_err(&dir))?;
        if dir.join(MANIFEST).exists() {
            return Err(IndexError::AlreadyExists(dir));
        }
        // Leftovers of an earlier create that never committed.
        if let Ok(rd) = fs::read_dir(&dir) {
            for e in rd.flatten() {
                if e.file_name().to_str().is_some_and(is_index_file) {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let rot = Rotation::new(params.dim, params.seed);
        let layout = CodeLayout::new(rot.padded());
        let file_seq = 1;
        let store = VectorStore::create(
            &dir.join(vectors_name(file_seq, params.store)),
            params.store,
            params.dim,
        )?;
        let ex = if params.ex_bits > 0 {
            Some(RowFile::create(
                &dir.join(excodes_name(file_seq)),
                excode::record_bytes(rot.padded()),
            )?)
        } else {
            None
        };
        let mut idx = Index {
            ex,
            centroid: vec![0.0; params.dim],
            centroid_n: 0,
            graph: Graph::new(params.m, 2 * params.m),
            rot,
            layout,
            store,
            codes: Vec::new(),
            deleted: Bitset::new(0),
            n_deleted: 0,
            visited: VisitedPool::default(),
            generation: 0,
            file_seq,
            codes_name: String::new(),
            codes_persisted: 0,
            codes_crc: 0,
            codes_rewrite: true,
            graph_ref: None,
            dirty: true,
            construction: Construction::default(),
            max_norm2: None,
            dir,
            params,
        };
        idx.commit()?;
        Ok(idx)
    }

    /// Open the index in `dir`. Validates the manifest, the graph and the codes (sizes, CRCs,
    /// every link and offset) and the length of the vector file, which is mapped, not read.
    /// Use [`Index::verify`] to also check the vector file's CRC (reads the whole file).
    pub fn open(dir: impl AsRef<Path>) -> Result<Index> {
        let dir = dir.as_ref().to_path_buf();
        let mf = persist::read_manifest(&dir)?;
        let mpath = dir.join(MANIFEST);
        let bad = |r: &str| IndexError::corrupt(&mpath, r.to_string());
        let params = mf.params.clone();
        params.validate().map_err(|e| bad(&e.to_string()))?;
        let rot = Rotation::new(params.dim, params.seed);
        if mf.padded_dim != rot.padded() {
            return Err(bad("padded dimension mismatch"));
        }
        if mf.centroid.len() != params.dim {
            return Err(bad("centroid length mismatch"));
        }
        let n = usize::try_from(mf.count).map_err(|_| bad("count too large"))?;
        if n >= u32::MAX as usize {
            return Err(bad("count too large"));
        }
        let layout = CodeLayout::new(rot.padded());
        let row_bytes = (params.dim * params.store.bytes()) as u64;
        if mf.vectors.bytes != mf.count.saturating_mul(row_bytes) {
            return Err(bad("vector file size disagrees with count"));
        }
        let store = VectorStore::open(
            &dir.join(&mf.vectors.name),
            params.store,
            params.dim,
            n,
            mf.vectors.crc32,
        )?;
        let (codes, codes_name, codes_crc) = match &mf.codes {
            Some(f) => {
                if f.bytes != mf.count.saturating_mul(layout.stride as u64 * 8) {
                    return Err(bad("code file size disagrees with count"));
                }
                (persist::read_words(&dir, f)?, f.name.clone(), f.crc32)
            }
            None if n == 0 => (Vec::new(), String::new(), 0),
            None => return Err(bad("code file missing")),
        };
        let ex = match (&mf.excodes, params.ex_bits) {
            (_, 0) => None,
            (Some(f), _) => {
                let rb = excode::record_bytes(rot.padded());
                if f.bytes != mf.count.saturating_mul(rb as u64) {
                    return Err(bad("extended-code file size disagrees with count"));
                }
                Some(RowFile::open(&dir.join(&f.name), rb, n, f.crc32)?)
            }
            (None, _) => return Err(bad("extended-code file missing")),
        };
        let (graph, deleted) = persist::read_graph(&dir, &mf.graph, n, params.m)?;
        let n_deleted = deleted.count();
        if n_deleted as u64 != mf.deleted {
            return Err(bad("deleted count disagrees with tombstones"));
        }
        Ok(Index {
            rot,
            layout,
            centroid: mf.centroid.clone(),
            centroid_n: mf.centroid_count,
            store,
            codes,
            ex,
            graph,
            deleted,
            n_deleted,
            visited: VisitedPool::default(),
            generation: mf.generation,
            file_seq: mf.file_seq,
            codes_persisted: n,
            codes_rewrite: mf.codes.is_none(),
            codes_name,
            codes_crc,
            graph_ref: Some(mf.graph.clone()),
            dirty: false,
            construction: Construction::default(),
            max_norm2: mf.max_norm2,
            dir,
            params,
        })
    }

    /// Check the CRCs of the committed parts of the vector and extended-code files (reads them
    /// entirely).
    pub fn verify(&self) -> Result<()> {
        self.store.verify()?;
        match &self.ex {
            Some(ex) => ex.verify(),
            None => Ok(()),
        }
    }

    /// The mapped files that searches read at random and that are small enough to keep in the
    /// OS page cache: the extended-code file (520 MB at 1M), not the float file (4 GB at 1M, read
    /// ~16 rows per query). A caller that reads these once after opening (see
    /// `syrinx_library::Library::warm_page_cache`) spares the first searches faulting their
    /// random rows in from disk.
    pub fn page_cache_files(&self) -> Vec<PathBuf> {
        self.ex.iter().map(|x| x.path().to_path_buf()).collect()
    }

    /// Parameters.
    pub fn params(&self) -> &IndexParams {
        &self.params
    }

    /// Directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Number of live (not deleted) vectors.
    pub fn len(&self) -> usize {
        self.graph.len() - self.n_deleted
    }

    /// Whether there are no live vectors.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of ids assigned so far (live + deleted); ids are `0..id_bound()`.
    pub fn id_bound(&self) -> u32 {
        self.graph.len() as u32
    }

    /// Whether `id` is deleted (false for unknown ids).
    pub fn is_deleted(&self, id: u32) -> bool {
        self.deleted.contains(id)
    }

    /// Generation of the last commit (monotonic; 1 after `create`). Compare with the catalog's.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether there are changes not yet committed.
    pub fn has_uncommitted_changes(&self) -> bool {
        self.dirty
    }

    fn prepare(&self, v: &[f32], out: &mut Vec<f32>) -> Result<()> {
        if v.len() != self.params.dim {
            return Err(IndexError::Dimension {
                expected: self.params.dim,
                got: v.len(),
            });
        }
        // A NaN or infinite component makes the squared norm non-finite (one SIMD pass, needed
        // under cosine anyway); only then look at the components, since a finite vector can
        // also overflow it.
        let norm2 = simd::dot_f32(v, v);
        if !norm2.is_finite() && v.iter().any(|x| !x.is_finite()) {
            return Err(IndexError::InvalidVector("non-finite component".into()));
        }
        out.clear();
        if self.params.metric == Metric::Cosine {
            let n = norm2.sqrt();
            if n == 0.0 || !n.is_finite() {
                return Err(IndexError::InvalidVector(
                    "zero or overflowing norm under the cosine metric".into(),
                ));
            }
            let inv = 1.0 / n;
            // Scaled as it is copied (one pass, no memcpy; see `QueryCode::new`).
            out.extend(v.iter().map(|&x| x * inv));
        } else {
            out.extend_from_slice(v);
        }
        Ok(())
    }

    fn resident_estimate(&self, n: usize, threads: usize) -> u64 {
        let m = self.params.m as f64;
        // The extended codes are mapped, like the vectors, and not counted here.
        let per_node = (self.layout.stride * 8) as f64
            + (4 * (1 + 2 * self.params.m)) as f64
            + 5.0
            + 4.0 * (1.0 + m) / (m - 1.0).max(1.0)
            + 0.125
            + 2.0 * threads as f64;
        (per_node * n as f64) as u64 + self.other_bytes()
    }

    fn other_bytes(&self) -> u64 {
        (4 * (3 * self.rot.padded() + self.centroid.len())) as u64
    }

    /// How the final rerank reads float rows: through the mapping when every file of the index
    /// fits in the memory budget beside the resident part (the mapped pages can then all stay
    /// resident without exceeding it), else with positional reads, which keep the float file out
    /// of the resident set at the cost of a system call per row (~1 us; ~15% of a search at 1M).
    fn row_read(&self) -> search::RowRead {
        let all = (self.codes.capacity() * 8 + self.graph.bytes()) as u64
            + self.store.mapped_bytes() as u64
            + self.ex.as_ref().map_or(0, |e| e.mapped_bytes() as u64);
        if all <= self.params.memory_budget {
            search::RowRead::Mapped
        } else {
            search::RowRead::Positional
        }
    }

    /// Resident memory accounting.
    pub fn memory_report(&self) -> MemoryReport {
        let codes = (self.codes.capacity() * 8) as u64;
        let graph = self.graph.bytes() as u64;
        let tomb = (self.deleted.len().div_ceil(64) * 8) as u64;
        let vis = self.visited.bytes() as u64;
        let other = self.other_bytes();
        MemoryReport {
            codes_bytes: codes,
            graph_bytes: graph,
            tombstone_bytes: tomb,
            visited_bytes: vis,
            other_bytes: other,
            resident_bytes: codes + graph + tomb + vis + other,
            mapped_vector_bytes: self.store.mapped_bytes() as u64,
            mapped_excode_bytes: self.ex.as_ref().map_or(0, |e| e.mapped_bytes() as u64),
            budget_bytes: self.params.memory_budget,
        }
    }

    /// Choose where construction takes its distances from (see [`Construction`]).
    pub fn set_construction(&mut self, c: Construction) {
        self.construction = c;
    }

    /// Insert one vector; returns its id.
    pub fn insert(&mut self, v: &[f32]) -> Result<u32> {
        Ok(self.insert_batch(v)?.start)
    }

    /// Insert `rows.len() / dim` vectors given row-major; returns their (consecutive) ids.
    /// Large batches are linked into the graph in parallel (rayon). Not durable until
    /// [`Index::commit`].
    pub fn insert_batch(&mut self, rows: &[f32]) -> Result<Range<u32>> {
        let dim = self.params.dim;
        if !rows.len().is_multiple_of(dim) {
            return Err(IndexError::Dimension {
                expected: dim,
                got: rows.len() % dim,
            });
        }
        let b = rows.len() / dim;
        let n = self.graph.len();
        if b == 0 {
            return Ok(n as u32..n as u32);
        }
        if n + b >= u32::MAX as usize {
            return Err(IndexError::Full);
        }
        let needed = self.resident_estimate(n + b, rayon::current_num_threads() + 1);
        if needed > self.params.memory_budget {
            return Err(IndexError::MemoryBudget {
                needed,
                budget: self.params.memory_budget,
            });
        }
        // Validate and normalise everything before touching any state.
        let mut prepared = Vec::with_capacity(rows.len().min(dim * 16384));
        let mut row = Vec::with_capacity(dim);
        let mut sum = vec![0.0f64; dim];
        for r in rows.chunks_exact(dim) {
            self.prepare(r, &mut row)?;
        }
        let first_row = self.store.rows();
        for chunk in rows.chunks(dim * 16384) {
            prepared.clear();
            for r in chunk.chunks_exact(dim) {
                self.prepare(r, &mut row)?;
                for (s, &x) in sum.iter_mut().zip(&row) {
                    *s += x as f64;
                }
                prepared.extend_from_slice(&row);
            }
            if let Err(e) = self.store.append(prepared.chunks_exact(dim)) {
                let _ = self.store.rollback(first_row);
                return Err(e);
            }
        }
        let total = (n + b) as u64;
        let (old_centroid, old_centroid_n) = (self.centroid.clone(), self.centroid_n);
        let mut encode_from = n;
        if self.centroid_n == 0 {
            self.centroid = sum.iter().map(|s| (s / b as f64) as f32).collect();
            self.centroid_n = total;
            encode_from = 0;
        } else if total >= 2 * self.centroid_n && self.centroid_n < RECENTER_LIMIT {
            self.centroid = self.mean_of_rows(0..n + b);
            self.centroid_n = total;
            encode_from = 0;
        }
        if encode_from < n {
            self.codes_rewrite = true;
        }
        if let Err(e) = self.encode_range(encode_from, n + b, true) {
            // Back to the state before this batch (the graph is not touched yet).
            self.centroid = old_centroid;
            self.centroid_n = old_centroid_n;
            self.codes.truncate(n * self.layout.stride);
            if encode_from < n {
                // 1-bit codes only: cannot fail.
                let _ = self.encode_range(0, n, false);
            }
            let _ = self.store.rollback(first_row);
            if let Some(ex) = &mut self.ex {
                let _ = ex.rollback(n);
            }
            return Err(e);
        }
        if self.params.metric == Metric::InnerProduct {
            if let Err(e) = self.update_max_norm2(n, n + b) {
                let _ = self.store.rollback(first_row);
                if let Some(ex) = &mut self.ex {
                    let _ = ex.rollback(n);
                }
                self.codes.truncate(n * self.layout.stride);
                return Err(e);
            }
        }
        let levels: Vec<u8> = (n..n + b)
            .map(|i| build::node_level(self.params.seed, i as u32, self.params.m))
            .collect();
        self.graph.add_nodes(&levels);
        self.deleted.grow(n + b);
        self.link(n as u32..(n + b) as u32);
        self.dirty = true;
        Ok(n as u32..(n + b) as u32)
    }

    /// Fold rows `from..to` into the largest squared norm (all rows when it is not known yet,
    /// e.g. an index written before it was recorded). Positional reads, not the mapping.
    fn update_max_norm2(&mut self, from: usize, to: usize) -> Result<()> {
        let from = if self.max_norm2.is_some() { from } else { 0 };
        let mut m = self.max_norm2.unwrap_or(0.0);
        let mut row = Vec::new();
        for i in from..to {
            if self.store.read_copy(i as u32, &mut row)? {
                m = m.max(simd::dot_f32(&row, &row));
            }
        }
        self.max_norm2 = Some(m);
        Ok(())
    }

    /// Link new nodes (vectors stored, codes encoded, graph slots allocated) into the graph, then
    /// make every live node reachable from the entry point again.
    fn link(&self, ids: Range<u32>) {
        let mut builder = build::Builder::new(
            &self.graph,
            &self.store,
            self.params.metric,
            self.params.m,
            self.params.ef_construction,
        );
        // Construction walks on code estimates and re-scores only each beam's result list exactly:
        // measured at 20k, the same search recall as an exactly-built graph for half the time.
        if self.params.metric == Metric::InnerProduct {
            // Inner product is not a metric: built with its own distance, the diversity heuristic
            // keeps links to large-norm hubs and leaves nodes unreachable (the property test
            // found self-queries that the walk could not reach even at ef 64 on 351 vectors).
            // Build in the MIPS-to-L2 space instead (x -> [x, sqrt(phi^2 - |x|^2)], Bachrach et
            // al. 2014), where the order of a query's neighbours is its inner-product order.
            builder.aug_phi2 = Some(self.max_norm2.unwrap_or(0.0));
            builder.insert_all(ids);
            builder.repair_reachability(|id| self.deleted.contains(id));
            return;
        }
        builder.codes = Some((&self.codes, self.layout.stride, &self.rot, &self.centroid));
        // The extended estimate's error shrinks as 1/sqrt(padded dimension): at 256 code bits
        // code-built graphs still lost a self-query in ~1 of 10 property-test runs (32 cases
        // each), at 512 none in 20 runs; BirdNET's 1024 is above the floor.
        let metric_ok = matches!(self.params.metric, Metric::Cosine | Metric::L2)
            && self.rot.padded() >= MIN_CODE_CONSTRUCTION_BITS;
        if let (Construction::Codes, true, Some(ex)) = (self.construction, metric_ok, &self.ex) {
            builder.ex = Some(build::ExGeometry {
                ex,
                codes: &self.codes,
                stride: self.layout.stride,
                words: self.layout.words,
                half: self.params.metric == Metric::Cosine,
            });
        }
        builder.insert_all(ids);
        builder.repair_reachability(|id| self.deleted.contains(id));
    }

    fn mean_of_rows(&self, r: Range<usize>) -> Vec<f32> {
        let dim = self.params.dim;
        let cnt = r.len().max(1) as f64;
        let sum = r
            .into_par_iter()
            .fold(
                || (vec![0.0f64; dim], Vec::new()),
                |(mut s, mut buf), i| {
                    if self.store.read_into(i as u32, &mut buf) {
                        for (a, &x) in s.iter_mut().zip(&buf) {
                            *a += x as f64;
                        }
                    }
                    (s, buf)
                },
            )
            .map(|(s, _)| s)
            .reduce(
                || vec![0.0f64; dim],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(b) {
                        *x += y;
                    }
                    a
                },
            );
        sum.iter().map(|s| (s / cnt) as f32).collect()
    }

    /// Encode rows `from..to` of the vector store: 1-bit codes into RAM and, with `with_ex` (and
    /// extended codes enabled), extended codes appended to their file; `from == 0` over existing
    /// rows writes a new extended-code file (the committed one stays until the next commit).
    fn encode_range(&mut self, from: usize, to: usize, with_ex: bool) -> Result<()> {
        let stride = self.layout.stride;
        let want = to * stride;
        if want > self.codes.len() {
            let extra = want - self.codes.len();
            graph::reserve_headroom(&mut self.codes, extra);
        }
        self.codes.resize(want, 0);
        let padded = self.rot.padded();
        let rb = excode::record_bytes(padded);
        let mut fresh: Option<(RowFile, u64)> = None;
        let with_ex = with_ex && self.ex.is_some();
        if with_ex {
            if let Some(ex) = &mut self.ex {
                if from == 0 && ex.rows() > 0 {
                    let seq = self.file_seq + 1;
                    let path = self.dir.join(excodes_name(seq));
                    let _ = fs::remove_file(&path);
                    fresh = Some((RowFile::create(&path, rb)?, seq));
                } else {
                    ex.rollback(from)?;
                    if ex.rows() != from {
                        return Err(IndexError::InvalidParam(format!(
                            "extended codes hold {} rows, expected {from}",
                            ex.rows()
                        )));
                    }
                }
            }
        }
        const CHUNK: usize = 16384;
        let mut exbuf: Vec<u8> = Vec::new();
        let mut start = from;
        while start < to {
            let end = (start + CHUNK).min(to);
            let (rot, centroid, store) = (&self.rot, &self.centroid, &self.store);
            let codes = &mut self.codes[start * stride..end * stride];
            let init = || (vec![0.0f32; padded], Vec::new(), Vec::new());
            if with_ex {
                exbuf.clear();
                exbuf.resize((end - start) * rb, 0);
                codes
                    .par_chunks_mut(stride)
                    .zip(exbuf.par_chunks_mut(rb))
                    .enumerate()
                    .for_each_init(init, |(scratch, row, abs), (i, (rec, xrec))| {
                        if store.read_into((start + i) as u32, row) {
                            rabitq::encode(rot, centroid, row, scratch, rec);
                            // `scratch` now holds the rotated residual.
                            excode::encode(scratch, abs, xrec);
                        }
                    });
                let target = match fresh.as_mut() {
                    Some((f, _)) => Some(f),
                    None => self.ex.as_mut(),
                };
                // `target` is always Some here (`with_ex` requires an extended-code file).
                let r = target.map_or(Ok(0), |t| {
                    t.append_with(end - start, |i, w| {
                        w.write_all(&exbuf[i * rb..(i + 1) * rb])
                    })
                });
                if let Err(e) = r {
                    if let Some((f, _)) = fresh.take() {
                        let _ = fs::remove_file(f.path());
                    }
                    return Err(e);
                }
            } else {
                codes.par_chunks_mut(stride).enumerate().for_each_init(
                    init,
                    |(scratch, row, _), (i, rec)| {
                        if store.read_into((start + i) as u32, row) {
                            rabitq::encode(rot, centroid, row, scratch, rec);
                        }
                    },
                );
            }
            start = end;
        }
        if let Some((f, seq)) = fresh {
            self.ex = Some(f);
            self.file_seq = seq;
        }
        Ok(())
    }

    /// Mark `id` deleted (it is never returned again). Returns false if it was already deleted.
    pub fn delete(&mut self, id: u32) -> Result<bool> {
        if id as usize >= self.graph.len() {
            return Err(IndexError::UnknownId(id));
        }
        if !self.deleted.insert(id) {
            return Ok(false);
        }
        self.n_deleted += 1;
        self.dirty = true;
        Ok(true)
    }

    /// The stored vector of `id` (unit-normalised under cosine; f16-rounded with an f16 store).
    pub fn vector(&self, id: u32) -> Result<Vec<f32>> {
        let mut v = Vec::new();
        // Positional read: this is the query vector of a click (see `store` on why not the map).
        if id as usize >= self.graph.len() || !self.store.read_copy(id, &mut v)? {
            return Err(IndexError::UnknownId(id));
        }
        Ok(v)
    }

    /// Drop deleted vectors: rewrites the vector and code files, rebuilds the graph, renumbers ids
    /// densely (in order). Returns `map[old_id] = Some(new_id)` (None for deleted ids).
    /// Not durable until [`Index::commit`]. On an I/O error the index returns to its last commit
    /// (uncommitted changes are dropped) and the error is returned.
    pub fn compact(&mut self) -> Result<Vec<Option<u32>>> {
        let n = self.graph.len();
        if self.n_deleted == 0 {
            return Ok((0..n as u32).map(Some).collect());
        }
        let live: Vec<u32> = (0..n as u32)
            .filter(|&i| !self.deleted.contains(i))
            .collect();
        let seq = self.file_seq + 1;
        let store = self.write_vectors_in(&live, seq)?;
        self.file_seq = seq;
        self.store = store;
        let mut map = vec![None; n];
        for (new, &old) in live.iter().enumerate() {
            map[old as usize] = Some(new as u32);
        }
        let b = live.len();
        self.centroid = self.mean_of_rows(0..b);
        self.centroid_n = b as u64;
        self.codes = Vec::new();
        self.codes_rewrite = true;
        if let Err(e) = self.encode_range(0, b, true) {
            // The in-memory state is half-rebuilt: go back to the last commit.
            self.reset_to_last_commit()?;
            return Err(e);
        }
        self.graph = Graph::new(self.params.m, 2 * self.params.m);
        let levels: Vec<u8> = (0..b)
            .map(|i| build::node_level(self.params.seed, i as u32, self.params.m))
            .collect();
        self.graph.add_nodes(&levels);
        self.deleted = Bitset::new(b);
        self.n_deleted = 0;
        self.visited.clear();
        self.link(0..b as u32);
        self.dirty = true;
        Ok(map)
    }

    /// A new vector file for generation `seq` holding the rows of `ids`, in that order (a
    /// partial file is removed on error).
    fn write_vectors_in(&self, ids: &[u32], seq: u64) -> Result<VectorStore> {
        let dim = self.params.dim;
        let path = self.dir.join(vectors_name(seq, self.params.store));
        let _ = fs::remove_file(&path);
        let mut store = VectorStore::create(&path, self.params.store, dim)?;
        let mut buf = Vec::new();
        let mut row = Vec::new();
        let mut fill = || -> Result<()> {
            for chunk in ids.chunks(16384) {
                buf.clear();
                for &id in chunk {
                    if !self.store.read_into(id, &mut row) {
                        return Err(IndexError::UnknownId(id));
                    }
                    buf.extend_from_slice(&row);
                }
                store.append(buf.chunks_exact(dim))?;
            }
            Ok(())
        };
        match fill() {
            Ok(()) => Ok(store),
            Err(e) => {
                drop(store);
                let _ = fs::remove_file(&path);
                Err(e)
            }
        }
    }

    /// Drop every uncommitted change by reopening the last commit (the construction mode, a
    /// per-process setting, is kept).
    fn reset_to_last_commit(&mut self) -> Result<()> {
        let c = self.construction;
        *self = Index::open(&self.dir)?;
        self.construction = c;
        Ok(())
    }

    /// Renumber the nodes for memory locality ([`Graph::locality_order`]: breadth-first over
    /// level 0, so neighbours get nearby ids) and rewrite the codes, the extended codes and the
    /// vector file in that order. The graph is not rebuilt, so search results are the same
    /// vectors as before, under new ids. Returns `map[old_id] = new_id`; deleted ids stay deleted
    /// under their new ids. Not durable until [`Index::commit`]. On an I/O error the index returns
    /// to its last commit (uncommitted changes are dropped) and the error is returned.
    pub fn reorder_for_locality(&mut self) -> Result<Vec<u32>> {
        let n = self.graph.len();
        let order = self.graph.locality_order();
        let r = self.apply_order(&order);
        if let Err(e) = r {
            self.reset_to_last_commit()?;
            return Err(e);
        }
        let mut map = vec![0u32; n];
        for (new, &old) in order.iter().enumerate() {
            map[old as usize] = new as u32;
        }
        Ok(map)
    }

    fn apply_order(&mut self, order: &[u32]) -> Result<()> {
        const CHUNK: usize = 16384;
        let seq = self.file_seq + 1;
        if let Some(old) = self.ex.as_ref().filter(|x| x.rows() < order.len()) {
            return Err(IndexError::corrupt(
                old.path(),
                format!("{} extended-code rows for {} ids", old.rows(), order.len()),
            ));
        }
        let store = self.write_vectors_in(order, seq)?;
        let ex = match &self.ex {
            Some(old) => {
                let rb = excode::record_bytes(self.rot.padded());
                let path = self.dir.join(excodes_name(seq));
                let _ = fs::remove_file(&path);
                let mut f = RowFile::create(&path, rb)?;
                for chunk in order.chunks(CHUNK) {
                    f.append_with(chunk.len(), |i, w| w.write_all(old.row(chunk[i])))?;
                }
                Some(f)
            }
            None => None,
        };
        let stride = self.layout.stride;
        let mut codes = Vec::with_capacity(order.len() * stride);
        for &old in order {
            let a = old as usize * stride;
            codes.extend_from_slice(&self.codes[a..a + stride]);
        }
        let mut deleted = Bitset::new(order.len());
        for (new, &old) in order.iter().enumerate() {
            if self.deleted.contains(old) {
                deleted.insert(new as u32);
            }
        }
        self.graph = self.graph.permuted(order);
        self.store = store;
        if ex.is_some() {
            self.ex = ex;
        }
        self.codes = codes;
        self.codes_rewrite = true;
        self.deleted = deleted;
        self.file_seq = seq;
        self.visited.clear();
        self.dirty = true;
        Ok(())
    }

    /// Make all changes durable atomically and return the new generation. After a crash at any
    /// point, [`Index::open`] sees either the previous or the new generation, never a mix.
    pub fn commit(&mut self) -> Result<u64> {
        if !self.dirty {
            return Ok(self.generation);
        }
        let gen = self.generation + 1;
        let (_, vbytes, vcrc) = self.store.commit()?;
        let excodes = match &mut self.ex {
            Some(ex) => {
                let (_, bytes, crc32) = ex.commit()?;
                Some(FileRef {
                    name: ex.name(),
                    bytes,
                    crc32,
                })
            }
            None => None,
        };
        let n = self.graph.len();
        let stride = self.layout.stride;
        let codes_ref = if n == 0 {
            None
        } else {
            if self.codes_rewrite || self.codes_name.is_empty() {
                self.file_seq += 1;
                let name = format!("codes-{}.bin", self.file_seq);
                let bytes: &[u8] = bytemuck::cast_slice(&self.codes[..n * stride]);
                persist::write_atomic(&self.dir, &name, bytes)?;
                self.codes_crc = crc32fast::hash(bytes);
                self.codes_name = name;
                self.codes_rewrite = false;
            } else if n > self.codes_persisted {
                let a = self.codes_persisted * stride;
                let bytes: &[u8] = bytemuck::cast_slice(&self.codes[a..n * stride]);
                persist::append_file(&self.dir, &self.codes_name, (a * 8) as u64, bytes)?;
                let mut h = crc32fast::Hasher::new_with_initial(self.codes_crc);
                h.update(bytes);
                self.codes_crc = h.finalize();
            }
            self.codes_persisted = n;
            Some(FileRef {
                name: self.codes_name.clone(),
                bytes: (n * stride * 8) as u64,
                crc32: self.codes_crc,
            })
        };
        self.file_seq += 1;
        let gname = format!("graph-{}.bin", self.file_seq);
        let gbytes = persist::graph_bytes(&self.graph, &self.deleted);
        persist::write_atomic(&self.dir, &gname, &gbytes)?;
        let graph_ref = FileRef {
            name: gname,
            bytes: gbytes.len() as u64,
            crc32: crc32fast::hash(&gbytes),
        };
        drop(gbytes);
        let vname = self
            .store
            .path()
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let mf = Manifest {
            format: FORMAT.to_string(),
            version: VERSION,
            generation: gen,
            params: self.params.clone(),
            padded_dim: self.rot.padded(),
            count: n as u64,
            deleted: self.n_deleted as u64,
            centroid: self.centroid.clone(),
            centroid_count: self.centroid_n,
            file_seq: self.file_seq,
            vectors: FileRef {
                name: vname,
                bytes: vbytes,
                crc32: vcrc,
            },
            codes: codes_ref,
            excodes,
            max_norm2: self.max_norm2,
            graph: graph_ref.clone(),
            crc32: 0,
        };
        let json = mf.to_bytes()?;
        persist::write_atomic(&self.dir, MANIFEST, &json)?;
        self.generation = gen;
        self.graph_ref = Some(graph_ref);
        self.dirty = false;
        self.cleanup(&mf);
        Ok(gen)
    }

    /// Alias of [`Index::commit`].
    pub fn save(&mut self) -> Result<u64> {
        self.commit()
    }

    /// Remove files of earlier generations (best effort).
    fn cleanup(&self, mf: &Manifest) {
        let keep: Vec<&str> = mf.files().map(|f| f.name.as_str()).collect();
        if let Ok(rd) = fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                let name = e.file_name();
                if let Some(s) = name.to_str() {
                    if is_index_file(s) && !keep.contains(&s) {
                        let _ = fs::remove_file(e.path());
                    }
                }
            }
        }
    }

    /// k nearest live neighbours of `query`, ascending by distance (exact, or an estimate the
    /// codes settled; see [`Rerank`] and [`Hit::exact`]).
    pub fn search(&self, query: &[f32], k: usize, opts: &SearchOptions<'_>) -> Result<Vec<Hit>> {
        Ok(self.search_counted(query, k, opts)?.0)
    }

    /// [`Index::search`], also returning how much work it did.
    pub fn search_counted(
        &self,
        query: &[f32],
        k: usize,
        opts: &SearchOptions<'_>,
    ) -> Result<(Vec<Hit>, SearchCounts)> {
        let mut q = Vec::with_capacity(self.params.dim);
        self.prepare(query, &mut q)?;
        let mut c = SearchCounts::default();
        let hits = self.search_prepared(&q, k, opts, &mut c)?;
        Ok((hits, c))
    }

    /// k nearest live neighbours of the stored vector `id` (the id itself included if live).
    pub fn search_by_id(&self, id: u32, k: usize, opts: &SearchOptions<'_>) -> Result<Vec<Hit>> {
        let q = self.vector(id)?;
        self.search_prepared(&q, k, opts, &mut SearchCounts::default())
    }

    fn search_prepared(
        &self,
        q: &[f32],
        k: usize,
        opts: &SearchOptions<'_>,
        counts: &mut SearchCounts,
    ) -> Result<Vec<Hit>> {
        let n = self.graph.len();
        if k == 0 || self.is_empty() {
            return Ok(Vec::new());
        }
        let metric = self.params.metric;
        let qc = QueryCode::new(&self.rot, &self.centroid, metric, q, DEFAULT_EPS0);
        let oracle = CodeOracle {
            qc: &qc,
            codes: &self.codes,
            stride: self.layout.stride,
        };
        let ex = match opts.rescore {
            Rescore::Auto => self.ex.as_ref(),
            Rescore::Vectors => None,
        };
        let ex_est = |id: u32| -> Option<(f32, f32)> {
            let x = ex?.row(id);
            qc.estimate_ex(oracle.record(id)?, x)
        };
        let filter = opts.filter;
        let deleted = &self.deleted;
        let accept =
            |id: u32| !deleted.contains(id) && filter.as_ref().is_none_or(|f| f.allows(id));
        let allowed = match &filter {
            Some(f) => f.estimate_count(n).min(self.len()),
            None => self.len(),
        };
        let threshold = opts
            .exact_scan_below
            .unwrap_or_else(|| (self.len() / 50).max(2048));
        let shortlist: Vec<(f32, f32, u32)> = if allowed <= threshold {
            // Selective filter or small index: estimate every allowed id.
            (0..n as u32)
                .filter(|&id| accept(id))
                .filter_map(|id| {
                    oracle.record(id).map(|r| {
                        let (e, b) = qc.estimate_with_bound(r);
                        (e, b, id)
                    })
                })
                .collect()
        } else {
            let Some((ep, top)) = self.graph.entry() else {
                return Ok(Vec::new());
            };
            let ef = opts.ef.unwrap_or(self.params.ef_search);
            let mut vis = self.visited.take(n);
            let mut nbuf = Vec::with_capacity(2 * self.params.m);
            let mut cur = Cand {
                d: search::Oracle::dist(&oracle, ep),
                id: ep,
            };
            let mut l = top;
            while l > 0 {
                cur = search::greedy(&self.graph, &oracle, cur, l, &mut nbuf);
                l -= 1;
            }
            match opts.traversal {
                Traversal::Refined => {
                    let score = |id: u32| match ex {
                        Some(_) => ex_est(id).unwrap_or((f32::INFINITY, 0.0)),
                        None => (self.store.distance(metric, q, id), 0.0),
                    };
                    // Start fetching an extended-code row (all its cache lines) before it is
                    // scored; the float rows of `Rescore::Vectors` are read through the mapping
                    // and fetched the same way.
                    let prefetch_score = |id: u32| match ex {
                        Some(x) => x.prefetch_row(id),
                        None => self.store.prefetch_row(id),
                    };
                    let (mut pool, rescored, estimated) = search::search_refined(
                        &self.graph,
                        &oracle,
                        score,
                        prefetch_score,
                        cur,
                        ef,
                        k,
                        opts.bound_scale.unwrap_or(1.0).max(0.0),
                        &mut vis,
                        &mut nbuf,
                        accept,
                    );
                    self.visited.give(vis);
                    counts.rescored = rescored;
                    counts.estimated = estimated;
                    if ex.is_none() {
                        // Already exact.
                        pool.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
                        return Ok(to_hits(
                            pool.into_iter().take(k).map(|(d, _, id)| Cand { d, id }),
                        ));
                    }
                    // Exact distances for the re-scored nodes the bounds cannot place, in
                    // lower-bound order.
                    return search::rerank(
                        &self.store,
                        metric,
                        q,
                        pool,
                        k,
                        opts.rerank,
                        self.row_read(),
                        &mut counts.exact,
                    );
                }
                Traversal::Estimated => {
                    let res = search::search_layer(
                        &self.graph,
                        &oracle,
                        &[cur],
                        ef.max(k),
                        0,
                        &mut vis,
                        &mut nbuf,
                        accept,
                    );
                    self.visited.give(vis);
                    res.iter()
                        .filter_map(|c| {
                            oracle.record(c.id).map(|r| {
                                let (e, b) = qc.estimate_with_bound(r);
                                (e, b, c.id)
                            })
                        })
                        .collect()
                }
            }
        };
        let shortlist = match (ex, opts.rerank) {
            (Some(_), Rerank::Bounded | Rerank::Exact) => {
                search::refine_shortlist(ex_est, shortlist, k)
            }
            _ => shortlist,
        };
        search::rerank(
            &self.store,
            metric,
            q,
            shortlist,
            k,
            opts.rerank,
            self.row_read(),
            &mut counts.exact,
        )
    }
}

fn to_hits(c: impl IntoIterator<Item = Cand>) -> Vec<Hit> {
    c.into_iter()
        .map(|c| Hit {
            id: c.id,
            distance: c.d,
            exact: true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    #[test]
    fn rerank_through_mapping_or_pread_gives_the_same_hits() {
        let dir = tempfile::tempdir().unwrap();
        let dim = 64;
        let mut p = IndexParams::new(dim);
        p.m = 8;
        p.ef_construction = 40;
        let mut idx = Index::create(dir.path(), p).unwrap();
        let mut rng = SplitMix64::new(11);
        let rows: Vec<f32> = (0..400 * dim).map(|_| rng.next_f32()).collect();
        idx.insert_batch(&rows).unwrap();
        idx.commit().unwrap();
        // A small index fits the default budget: the rerank reads through the mapping.
        assert_eq!(idx.row_read(), search::RowRead::Mapped);
        let queries: Vec<Vec<f32>> = (0..20)
            .map(|_| (0..dim).map(|_| rng.next_f32()).collect())
            .collect();
        let opts = SearchOptions::default();
        let mapped: Vec<Vec<Hit>> = queries
            .iter()
            .map(|q| idx.search(q, 10, &opts).unwrap())
            .collect();
        // A budget below its files: positional reads, the same hits and distances.
        idx.params.memory_budget = 1;
        assert_eq!(idx.row_read(), search::RowRead::Positional);
        for (q, want) in queries.iter().zip(&mapped) {
            assert_eq!(&idx.search(q, 10, &opts).unwrap(), want);
        }
    }
}

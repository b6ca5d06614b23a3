//! Similarity search: by window, by a time point (click), by a time range, by an outside clip,
//! with filters, grouping of overlapping windows, and per-kind latency histograms.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use syrinx_embed::Embedder;
use syrinx_index::{Filter, Rerank, SearchOptions as IndexSearchOptions};

use crate::error::Result;
use crate::labels::Verdict;
use crate::latency::QueryKind;
use crate::{lock, read, Library, LibraryError, State, WinMeta, NO_SPECIES};

/// What to search for.
#[derive(Clone, Debug)]
pub enum Query {
    /// A stored window, by vector id.
    Window(u32),
    /// The window of `recording` containing the time point `t_s` (nearest sounding window).
    Click { recording: i64, t_s: f64 },
    /// The mean of the windows of `recording` overlapping `[start_s, end_s)`.
    Range {
        recording: i64,
        start_s: f64,
        end_s: f64,
    },
    /// A raw embedding (e.g. of an outside clip).
    Vector(Vec<f32>),
}

/// Restrictions on the hits (all optional, combined with AND).
#[derive(Clone, Debug, Default)]
pub struct SearchFilter {
    /// Only these recordings.
    pub recordings: Option<Vec<i64>>,
    /// Only recordings whose file lies under this folder.
    pub folder: Option<PathBuf>,
    /// Only windows whose best predicted species is this one...
    pub species: Option<u16>,
    /// ...with at least this score (applies to the best species even without `species`).
    pub min_score: f32,
    /// Only windows carrying this label (overlapping a labelled range or labelled directly)...
    pub label: Option<String>,
    /// ...with this verdict (any verdict if None).
    pub verdict: Option<Verdict>,
    /// Only windows within this time range of their recording (seconds).
    pub time_range: Option<(f64, f64)>,
}

/// Search options.
#[derive(Clone, Debug)]
pub struct SearchOptions {
    /// Number of hits (groups) wanted.
    pub k: usize,
    /// Effort (beam width); None: the index default.
    pub ef: Option<usize>,
    pub filter: SearchFilter,
    /// Leave out the query's own recording (window/click/range queries).
    pub exclude_query_recording: bool,
    /// Collapse overlapping windows of one recording into one hit.
    pub group: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            k: 10,
            ef: None,
            filter: SearchFilter::default(),
            exclude_query_recording: false,
            group: true,
        }
    }
}

/// One (grouped) hit.
#[derive(Clone, Debug, Serialize)]
pub struct Hit {
    pub recording_id: i64,
    pub path: PathBuf,
    /// Span of the group (union of its windows).
    pub start_s: f64,
    pub end_s: f64,
    /// Distance of the best window (cosine distance; lower is closer) and 1 - distance.
    pub distance: f32,
    pub similarity: f32,
    /// Best window of the group.
    pub vector_id: u32,
    /// Best predicted species of the best window.
    pub species: Option<u16>,
    pub scientific: Option<String>,
    pub common: Option<String>,
    pub score: f32,
    /// Vector ids of all windows in the group (best first).
    pub members: Vec<u32>,
}

/// Hits and what the query was.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResults {
    pub kind: QueryKind,
    pub query_recording: Option<i64>,
    pub query_vector_ids: Vec<u32>,
    pub hits: Vec<Hit>,
    /// End-to-end latency of this query (also recorded in the histogram of its kind).
    pub latency_us: u64,
}

impl Library {
    /// Run a query against the library (no model needed).
    pub fn search(&self, query: &Query, opts: &SearchOptions) -> Result<SearchResults> {
        let t0 = Instant::now();
        let (kind, qrec, qids, vector) = match query {
            Query::Window(id) => {
                let rec = read(&self.state).win(*id).map(|w| w.rec);
                let rec = rec
                    .ok_or_else(|| LibraryError::Missing(format!("window with vector id {id}")))?;
                (
                    QueryKind::Window,
                    Some(rec),
                    vec![*id],
                    read(&self.index).vector(*id)?,
                )
            }
            Query::Click { recording, t_s } => {
                let id = self.window_at(*recording, *t_s)?;
                (
                    QueryKind::Click,
                    Some(*recording),
                    vec![id],
                    read(&self.index).vector(id)?,
                )
            }
            Query::Range {
                recording,
                start_s,
                end_s,
            } => {
                let ids = self.windows_in(*recording, *start_s, *end_s)?;
                let idx = read(&self.index);
                let mut mean = vec![0f32; idx.params().dim];
                for &id in &ids {
                    for (m, x) in mean.iter_mut().zip(idx.vector(id)?) {
                        *m += x;
                    }
                }
                (QueryKind::Range, Some(*recording), ids, mean)
            }
            Query::Vector(v) => (QueryKind::Vector, None, Vec::new(), v.clone()),
        };
        let hits =
            self.search_vector(&vector, qrec.filter(|_| opts.exclude_query_recording), opts)?;
        let latency = t0.elapsed();
        self.latency.record(kind, latency);
        Ok(SearchResults {
            kind,
            query_recording: qrec,
            query_vector_ids: qids,
            hits,
            latency_us: latency.as_micros() as u64,
        })
    }

    /// Query by example: embed an outside clip or file (or a range of it) and search with the
    /// mean of its windows' embeddings.
    pub fn search_clip(
        &self,
        embedder: &mut Embedder,
        path: &Path,
        range: Option<(f64, f64)>,
        opts: &SearchOptions,
    ) -> Result<SearchResults> {
        let t0 = Instant::now();
        let decoded = match range {
            Some((a, b)) => syrinx_audio::decode_range(path, a, b)?,
            None => syrinx_audio::decode_mono_48k(path)?,
        };
        // If the clip is itself in the library, exclusion still works by content hash.
        let own = if opts.exclude_query_recording {
            self.recording_by_path(path).map(|r| r.id)
        } else {
            None
        };
        self.search_samples_since(t0, embedder, &decoded.samples, own, opts)
            .map_err(|e| match e {
                LibraryError::Invalid(m) => {
                    LibraryError::Invalid(format!("{}: {m}", path.display()))
                }
                e => e,
            })
    }

    /// Query by example from samples already in memory (mono, 48 kHz), e.g. the last seconds of
    /// a microphone; recorded as a `clip` query.
    pub fn search_samples(
        &self,
        embedder: &mut Embedder,
        samples_48k: &[f32],
        opts: &SearchOptions,
    ) -> Result<SearchResults> {
        self.search_samples_since(Instant::now(), embedder, samples_48k, None, opts)
    }

    fn search_samples_since(
        &self,
        t0: Instant,
        embedder: &mut Embedder,
        samples: &[f32],
        own: Option<i64>,
        opts: &SearchOptions,
    ) -> Result<SearchResults> {
        let hop = read(&self.settings).hop_s;
        let windows = syrinx_audio::windows_of(samples, syrinx_audio::WindowConfig { hop_s: hop })?;
        let sounding: Vec<&[f32]> = windows
            .iter()
            .filter(|w| !w.silent)
            .map(|w| w.samples.as_slice())
            .collect();
        if sounding.is_empty() {
            return Err(LibraryError::Invalid("the clip is silent".into()));
        }
        let mut mean = vec![0f32; syrinx_embed::EMBEDDING_DIM];
        for chunk in sounding.chunks(embedder.config().windows_per_call()) {
            for e in embedder.embed(chunk)? {
                for (m, x) in mean.iter_mut().zip(&e.embedding) {
                    *m += x;
                }
            }
        }
        let hits = self.search_vector(&mean, own, opts)?;
        let latency = t0.elapsed();
        self.latency.record(QueryKind::Clip, latency);
        Ok(SearchResults {
            kind: QueryKind::Clip,
            query_recording: own,
            query_vector_ids: Vec::new(),
            hits,
            latency_us: latency.as_micros() as u64,
        })
    }

    /// Vector id of the sounding window of `recording` nearest to `t_s` (containing it if any).
    pub fn window_at(&self, recording: i64, t_s: f64) -> Result<u32> {
        let conn = lock(&self.reader);
        let duration: Option<f64> = conn
            .prepare_cached("SELECT duration_s FROM recordings WHERE id = ?1")?
            .query_row([recording], |r| r.get(0))
            .ok();
        let Some(duration) = duration else {
            return Err(LibraryError::Missing(format!("recording {recording}")));
        };
        if !t_s.is_finite() || t_s < 0.0 || t_s > duration {
            return Err(LibraryError::Invalid(format!(
                "time {t_s} s is outside recording {recording} (0 to {duration:.2} s)"
            )));
        }
        // Two index seeks on windows(recording_id, start_s) instead of ranking every window of the
        // recording (a one-hour file has 1,200 to 3,600 of them), so the cost does not grow with it.
        // The sounding windows nearest to t on each side are among the first few starting at or
        // before t and after t; containing windows (start <= t < end) start at or before t.
        // Exact for windows of one length (every ingested window); a much longer imported window
        // starting more than 8 windows earlier would be missed as "containing".
        let mut near: Vec<(u32, f64, f64)> = Vec::with_capacity(16);
        for sql in [
            "SELECT vector_id, start_s, end_s FROM windows WHERE recording_id = ?1 AND vector_id IS NOT NULL
             AND start_s <= ?2 ORDER BY start_s DESC LIMIT 8",
            "SELECT vector_id, start_s, end_s FROM windows WHERE recording_id = ?1 AND vector_id IS NOT NULL
             AND start_s > ?2 ORDER BY start_s ASC LIMIT 8",
        ] {
            let mut q = conn.prepare_cached(sql)?;
            let rows = q.query_map(rusqlite::params![recording, t_s], |r| {
                Ok((r.get::<_, i64>(0)? as u32, r.get(1)?, r.get(2)?))
            })?;
            for row in rows {
                near.push(row?);
            }
        }
        // Containing windows first, then by distance of the centre to t (as before).
        let rank = |&(_, s, e): &(u32, f64, f64)| {
            let contains = s <= t_s && e > t_s;
            (!contains, ((s + e) / 2.0 - t_s).abs())
        };
        near.iter()
            .min_by(|a, b| {
                let (ca, da) = rank(a);
                let (cb, db) = rank(b);
                ca.cmp(&cb).then(da.total_cmp(&db))
            })
            .map(|w| w.0)
            .ok_or_else(|| {
                LibraryError::Missing(format!("a sounding window of recording {recording}"))
            })
    }

    /// Vector ids of the sounding windows of `recording` overlapping `[start_s, end_s)`.
    pub fn windows_in(&self, recording: i64, start_s: f64, end_s: f64) -> Result<Vec<u32>> {
        let conn = lock(&self.reader);
        let mut q = conn.prepare_cached(
            "SELECT vector_id FROM windows WHERE recording_id = ?1 AND vector_id IS NOT NULL AND start_s < ?3 AND end_s > ?2
             ORDER BY start_s",
        )?;
        let ids = q
            .query_map(rusqlite::params![recording, start_s, end_s], |r| {
                r.get::<_, i64>(0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if ids.is_empty() {
            return Err(LibraryError::Missing(format!(
                "sounding windows of recording {recording} in {start_s}-{end_s} s"
            )));
        }
        Ok(ids.into_iter().map(|i| i as u32).collect())
    }

    fn search_vector(
        &self,
        vector: &[f32],
        exclude: Option<i64>,
        opts: &SearchOptions,
    ) -> Result<Vec<Hit>> {
        let k = opts.k.max(1);
        let f = &opts.filter;
        let label_ids = match &f.label {
            Some(l) => Some(self.labelled_vector_ids(l, f.verdict)?),
            None => None,
        };
        let st = read(&self.state);
        let mut recs: Option<HashSet<i64>> =
            f.recordings.as_ref().map(|r| r.iter().copied().collect());
        if let Some(folder) = &f.folder {
            let folder = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.clone());
            let under: HashSet<i64> = st
                .recs
                .values()
                .filter(|r| r.path.starts_with(&folder))
                .map(|r| r.id)
                .collect();
            recs = Some(match recs {
                Some(r) => r.intersection(&under).copied().collect(),
                None => under,
            });
        }
        let allowed = |w: &WinMeta| -> bool {
            if exclude == Some(w.rec) {
                return false;
            }
            if let Some(r) = &recs {
                if !r.contains(&w.rec) {
                    return false;
                }
            }
            if let Some(s) = f.species {
                if w.species != s {
                    return false;
                }
            }
            if f.min_score > 0.0 && (w.species == NO_SPECIES || w.score < f.min_score) {
                return false;
            }
            if let Some((a, b)) = f.time_range {
                if (w.start_s as f64) < a || (w.end_s as f64) > b + 1e-6 {
                    return false;
                }
            }
            true
        };
        let pred = |id: u32| -> bool {
            match st.win(id) {
                Some(w) => allowed(w) && label_ids.as_ref().is_none_or(|l| l.contains(&id)),
                None => false, // orphans and vectors of a batch not yet in the catalog
            }
        };
        let idx = read(&self.index);
        // Over-fetch only when windows of one recording can overlap (hop < window): with the default
        // 3 s hop no two windows overlap, grouping never merges, and k candidates are enough
        // (measured at 100k: fetching 3k + 8 tripled the walk for nothing).
        let overlapping = read(&self.settings).hop_s < syrinx_audio::WINDOW_S - 1e-9;
        let mut fetch = if opts.group && overlapping {
            k * 3 + 8
        } else {
            k
        };
        loop {
            let iopts = IndexSearchOptions {
                ef: opts.ef.map(|e| e.max(fetch)),
                filter: Some(Filter::Predicate(&pred)),
                // Exact distance and order for every hit: the index's default keeps the code
                // estimate of hits its error bounds place, and at 1M that order differs from the
                // exact one at ~16% of positions (56% of queries), with similarities off by up to
                // 0.005. A user ranks and reads those values; exact costs ~0.01 ms per search
                // (`bench-index search --check-order`, docs/benchmarks.md), nothing next to a click.
                rerank: Rerank::Exact,
                ..Default::default()
            };
            let raw = idx.search(vector, fetch, &iopts)?;
            let hits = self.group(&st, &raw, k, opts.group);
            if hits.len() >= k || raw.len() < fetch || fetch >= 4096 {
                return Ok(hits);
            }
            fetch = (fetch * 4).min(4096);
        }
    }

    fn group(&self, st: &State, raw: &[syrinx_index::Hit], k: usize, group: bool) -> Vec<Hit> {
        let mut out: Vec<Hit> = Vec::new();
        for h in raw {
            let Some(w) = st.win(h.id) else { continue };
            let (s, e) = (w.start_s as f64, w.end_s as f64);
            if group {
                if let Some(g) = out
                    .iter_mut()
                    .find(|g| g.recording_id == w.rec && s < g.end_s && e > g.start_s)
                {
                    g.start_s = g.start_s.min(s);
                    g.end_s = g.end_s.max(e);
                    g.members.push(h.id);
                    continue;
                }
            }
            if out.len() >= k {
                continue;
            }
            let species = (w.species != NO_SPECIES).then_some(w.species);
            let names = species.and_then(|s| self.species_name(s));
            out.push(Hit {
                recording_id: w.rec,
                path: st
                    .recs
                    .get(&w.rec)
                    .map(|r| r.path.clone())
                    .unwrap_or_default(),
                start_s: s,
                end_s: e,
                distance: h.distance,
                similarity: 1.0 - h.distance,
                vector_id: h.id,
                species,
                scientific: names.as_ref().map(|n| n.0.clone()),
                common: names.map(|n| n.1),
                score: w.score,
                members: vec![h.id],
            });
        }
        out
    }
}

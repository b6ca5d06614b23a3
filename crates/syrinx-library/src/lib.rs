//! # syrinx-library
//!
//! A library of bird-call recordings a person can trust with an archive of thousands of hours:
//! a folder holding a SQLite catalog (`catalog.sqlite`, WAL) and a vector index (`index/`).
//! [`Library`] is the whole API the CLI and the desktop app call: create/open, ingest (crash-safe,
//! resumable, cancellable, with progress), search (by window, time point, time range or outside
//! clip; filters; grouping; latency histograms), labels, export, relink and verify.
//!
//! ## Crash protocol
//! Finished files are written in batches: (1) `Index::insert_batch` of their vectors,
//! (2) `Index::commit` → generation G (atomic, durable), (3) one SQLite transaction inserting the
//! recordings and all their windows (with vector ids) and `meta.index_generation = G`.
//! The catalog is the source of truth: a recording row only exists together with all its windows,
//! and those vectors were committed before it. A crash between (2) and (3) leaves index vectors
//! no window references ("orphans"); [`Library::open`] tombstones them and commits. A crash before
//! (2) loses nothing committed (the index reopens at its previous generation). Re-running ingest
//! skips every file whose content hash is already catalogued, so it finishes the rest.
//!
//! All methods take `&self`: searches run concurrently with one ingest (an internal lock
//! serialises writers). One process at a time may open a library (a lock file enforces it).

mod browse;
mod catalog;
mod error;
pub mod export;
mod import;
mod ingest;
pub mod labels;
pub mod latency;
mod relink;
pub mod search;
mod verify;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use syrinx_index::{Index, IndexParams};

pub use browse::{RecordingSummary, SpeciesScore, WindowRow, DOMINANT_MIN_SCORE};
pub use error::{LibraryError, Result};
pub use export::{ExportFormats, ExportItem, ExportReport};
pub use import::ImportedWindow;
pub use ingest::{
    AddedFile, FailedIngest, FileProgress, IngestHandle, IngestOptions, IngestPhase,
    IngestProgress, IngestReport, SkippedFile, AUDIO_EXTENSIONS,
};
pub use labels::{Label, LabelFilter, LabelTarget, Verdict};
pub use latency::{LatencyBucket, LatencySummary, QueryKind};
pub use relink::RelinkReport;
pub use search::{Hit, Query, SearchFilter, SearchOptions, SearchResults};
pub use verify::{RecoveryReport, VerifyReport};

use error::io_err;

const CATALOG: &str = "catalog.sqlite";
const INDEX_DIR: &str = "index";
const LOCK: &str = "LOCK";
const LABELS_FILE: &str = "labels.txt";

/// How a new library is set up.
#[derive(Clone, Debug)]
pub struct CreateOptions {
    /// Seconds between window starts (windows are 3 s long).
    pub hop_s: f64,
    /// Recordings under this folder are stored by relative path (the archive can move as a whole).
    pub root: Option<PathBuf>,
    /// Index parameters (dimension must be 1024 for BirdNET v2.4).
    pub index: IndexParams,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions {
            hop_s: syrinx_audio::DEFAULT_HOP_S,
            root: None,
            index: IndexParams::new(1024),
        }
    }
}

/// The settings that made the embeddings (stored in the catalog's `meta` table).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub schema_version: i64,
    /// Model identity (file name and size) and content hash; empty until the first ingest.
    pub model: String,
    pub model_hash: String,
    pub window_s: f64,
    pub hop_s: f64,
    pub root: Option<PathBuf>,
    pub index_params: IndexParams,
}

/// A catalogued recording.
#[derive(Clone, Debug, Serialize)]
pub struct Recording {
    pub id: i64,
    /// Where the file is (resolved against the root when stored relatively).
    pub path: PathBuf,
    /// As stored in the catalog.
    pub stored_path: String,
    pub content_hash: String,
    pub duration_s: f64,
    pub sample_rate: u32,
    pub channels: u32,
    pub size_bytes: u64,
    pub container: String,
    pub codec: String,
    pub added_at: i64,
    /// `ok` or `missing` (set by [`Library::check_files`] / relink).
    pub status: String,
    pub n_windows: u32,
}

/// What searches need of a window, by vector id (kept in memory: ~20 bytes per window).
#[derive(Clone, Copy, Debug)]
pub(crate) struct WinMeta {
    pub rec: i64,
    pub start_s: f32,
    pub end_s: f32,
    pub species: u16,
    pub score: f32,
}

pub(crate) const NO_SPECIES: u16 = u16::MAX;

#[derive(Default)]
pub(crate) struct State {
    /// `wins[vector_id]`: None for ids no window references (orphans, deleted).
    pub wins: Vec<Option<WinMeta>>,
    pub recs: HashMap<i64, Recording>,
}

impl State {
    pub fn win(&self, id: u32) -> Option<&WinMeta> {
        self.wins.get(id as usize).and_then(|w| w.as_ref())
    }
    fn set(&mut self, id: u32, w: WinMeta) {
        let i = id as usize;
        if self.wins.len() <= i {
            self.wins.resize(i + 1, None);
        }
        self.wins[i] = Some(w);
    }
}

/// Totals for `stats`.
#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    pub dir: PathBuf,
    pub settings: Settings,
    pub recordings: u64,
    pub missing_recordings: u64,
    pub windows: u64,
    pub silent_windows: u64,
    pub vectors_live: u64,
    pub vectors_deleted: u64,
    pub audio_hours: f64,
    pub labels: u64,
    pub failed_files: u64,
    pub index_generation: u64,
    pub catalog_index_generation: u64,
    pub index_memory: syrinx_index::MemoryReport,
    pub catalog_bytes: u64,
}

/// A file that could not be ingested (kept for the UI; cleared when it is ingested later).
#[derive(Clone, Debug, Serialize)]
pub struct FailedFile {
    pub path: String,
    pub reason: String,
    pub attempted_at: i64,
}

/// A library on disk. See the crate documentation.
pub struct Library {
    dir: PathBuf,
    settings: RwLock<Settings>,
    pub(crate) index: RwLock<Index>,
    pub(crate) writer: Mutex<Connection>,
    pub(crate) reader: Mutex<Connection>,
    pub(crate) state: RwLock<State>,
    pub(crate) latency: latency::Latency,
    pub(crate) ingest_lock: Mutex<()>,
    pub(crate) species: RwLock<Option<Arc<syrinx_embed::Labels>>>,
    recovery: RecoveryReport,
    _lock: fs::File,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library").field("dir", &self.dir).finish()
    }
}

fn lock_dir(dir: &Path) -> Result<fs::File> {
    let path = dir.join(LOCK);
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(fs::TryLockError::WouldBlock) => Err(LibraryError::Locked(dir.to_path_buf())),
        Err(fs::TryLockError::Error(e)) => Err(LibraryError::Io { path, source: e }),
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
pub(crate) fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}
pub(crate) fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}

impl Library {
    /// The default library folder: `$XDG_DATA_HOME/syrinx/library`, else
    /// `~/.local/share/syrinx/library`.
    pub fn default_dir() -> PathBuf {
        if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
            return PathBuf::from(d).join("syrinx").join("library");
        }
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        home.join(".local")
            .join("share")
            .join("syrinx")
            .join("library")
    }

    /// Whether `dir` holds a library.
    pub fn exists(dir: impl AsRef<Path>) -> bool {
        dir.as_ref().join(CATALOG).is_file()
    }

    /// Create a new library in `dir` (created if needed; must not hold one).
    pub fn create(dir: impl AsRef<Path>, opts: CreateOptions) -> Result<Library> {
        let dir = dir.as_ref().to_path_buf();
        if Self::exists(&dir) {
            return Err(LibraryError::AlreadyExists(dir));
        }
        syrinx_audio::WindowConfig { hop_s: opts.hop_s }.hop_samples()?;
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let lockf = lock_dir(&dir)?;
        let idx_dir = dir.join(INDEX_DIR);
        if idx_dir.exists() {
            // Leftover of a create that crashed before the catalog existed.
            fs::remove_dir_all(&idx_dir).map_err(io_err(&idx_dir))?;
        }
        let index = Index::create(&idx_dir, opts.index.clone())?;
        let root = match &opts.root {
            Some(r) => Some(fs::canonicalize(r).map_err(io_err(r))?),
            None => None,
        };
        // The catalog is built under a temporary name and renamed: it exists only when complete.
        let tmp = dir.join("catalog.sqlite.creating");
        let _ = fs::remove_file(&tmp);
        {
            let mut conn = catalog::open_connection(&tmp)?;
            catalog::migrate(&mut conn)?;
            let tx = conn.transaction()?;
            catalog::set_meta(&tx, "window_s", &syrinx_audio::WINDOW_S.to_string())?;
            catalog::set_meta(&tx, "hop_s", &opts.hop_s.to_string())?;
            catalog::set_meta(&tx, "model", "")?;
            catalog::set_meta(&tx, "model_hash", "")?;
            catalog::set_meta(
                &tx,
                "index_params",
                &serde_json::to_string(&opts.index).unwrap_or_default(),
            )?;
            catalog::set_meta(&tx, "index_generation", &index.generation().to_string())?;
            if let Some(r) = &root {
                catalog::set_meta(&tx, "root", &r.to_string_lossy())?;
            }
            tx.commit()?;
            conn.pragma_update(None, "journal_mode", "DELETE")?;
        }
        fs::rename(&tmp, dir.join(CATALOG)).map_err(io_err(&tmp))?;
        drop(index);
        Self::open_locked(dir, lockf)
    }

    /// Open the library in `dir`, recovering from any earlier crash (see [`Library::recovery`]).
    pub fn open(dir: impl AsRef<Path>) -> Result<Library> {
        let dir = dir.as_ref().to_path_buf();
        if !Self::exists(&dir) {
            return Err(LibraryError::NotFound(dir));
        }
        let lockf = lock_dir(&dir)?;
        Self::open_locked(dir, lockf)
    }

    fn open_locked(dir: PathBuf, lockf: fs::File) -> Result<Library> {
        let cpath = dir.join(CATALOG);
        let mut writer = catalog::open_connection(&cpath)?;
        let schema_version = catalog::migrate(&mut writer)?;
        let reader = catalog::open_connection(&cpath)?;
        let settings = load_settings(&writer, schema_version)?;
        let idx_dir = dir.join(INDEX_DIR);
        let index = match Index::open(&idx_dir) {
            Ok(i) => i,
            Err(syrinx_index::IndexError::NotFound(_)) => {
                let n: i64 = writer.query_row(
                    "SELECT COUNT(*) FROM windows WHERE vector_id IS NOT NULL",
                    [],
                    |r| r.get(0),
                )?;
                if n > 0 {
                    return Err(LibraryError::Inconsistent(format!(
                        "the index in {} is missing but the catalog references {n} vectors",
                        idx_dir.display()
                    )));
                }
                Index::create(&idx_dir, settings.index_params.clone())?
            }
            Err(e) => return Err(e.into()),
        };
        let species = {
            let p = dir.join(LABELS_FILE);
            syrinx_embed::Labels::load(&p).ok().map(Arc::new)
        };
        let lib = Library {
            state: RwLock::new(State::default()),
            settings: RwLock::new(settings),
            index: RwLock::new(index),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            latency: latency::Latency::default(),
            ingest_lock: Mutex::new(()),
            species: RwLock::new(species),
            recovery: RecoveryReport::default(),
            _lock: lockf,
            dir,
        };
        lib.reload_state()?;
        let recovery = lib.reconcile()?;
        Ok(Library { recovery, ..lib })
    }

    /// (Re)build the in-memory window and recording maps from the catalog.
    pub(crate) fn reload_state(&self) -> Result<()> {
        let root = read(&self.settings).root.clone();
        let conn = lock(&self.reader);
        let mut st = State::default();
        let mut q = conn.prepare(
            "SELECT id, path, relative, content_hash, duration_s, sample_rate, channels, size_bytes, container, codec,
                    added_at, status, n_windows FROM recordings",
        )?;
        let rows = q.query_map([], |r| recording_from_row(r, root.as_deref()))?;
        for r in rows {
            let r = r?;
            st.recs.insert(r.id, r);
        }
        let mut q = conn.prepare(
            "SELECT vector_id, recording_id, start_s, end_s, species, score FROM windows WHERE vector_id IS NOT NULL",
        )?;
        let mut rows = q.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let w = WinMeta {
                rec: r.get(1)?,
                start_s: r.get::<_, f64>(2)? as f32,
                end_s: r.get::<_, f64>(3)? as f32,
                species: r
                    .get::<_, Option<i64>>(4)?
                    .map(|s| s as u16)
                    .unwrap_or(NO_SPECIES),
                score: r.get::<_, Option<f64>>(5)?.unwrap_or(0.0) as f32,
            };
            if (0..u32::MAX as i64).contains(&id) {
                st.set(id as u32, w);
            }
        }
        drop(rows);
        drop(q);
        *write(&self.state) = st;
        Ok(())
    }

    /// The library folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The settings that made the embeddings.
    pub fn settings(&self) -> Settings {
        read(&self.settings).clone()
    }

    /// What [`Library::open`] repaired after an earlier crash.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// Species names of the model that made the library (copied in at the first ingest).
    pub fn species_labels(&self) -> Option<Arc<syrinx_embed::Labels>> {
        read(&self.species).clone()
    }

    /// Scientific and common name of a species index.
    pub fn species_name(&self, species: u16) -> Option<(String, String)> {
        let l = read(&self.species);
        l.as_ref()?
            .get(species as usize)
            .map(|l| (l.scientific.clone(), l.common.clone()))
    }

    /// Species index of a scientific or common name (case-insensitive), or of `#123`.
    pub fn find_species(&self, name: &str) -> Option<u16> {
        if let Some(n) = name.strip_prefix('#') {
            return n.parse().ok();
        }
        let guard = read(&self.species);
        let found = guard
            .as_ref()?
            .iter()
            .position(|l| {
                l.scientific.eq_ignore_ascii_case(name) || l.common.eq_ignore_ascii_case(name)
            })
            .map(|i| i as u16);
        found
    }

    /// One recording.
    pub fn recording(&self, id: i64) -> Option<Recording> {
        read(&self.state).recs.get(&id).cloned()
    }

    /// All recordings (ordered by id).
    pub fn recordings(&self) -> Vec<Recording> {
        let mut v: Vec<Recording> = read(&self.state).recs.values().cloned().collect();
        v.sort_by_key(|r| r.id);
        v
    }

    /// The recording stored at `path` (as given, canonicalised, or relative to the root), if any.
    pub fn recording_by_path(&self, path: &Path) -> Option<Recording> {
        let canon = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let st = read(&self.state);
        st.recs
            .values()
            .find(|r| r.path == canon || r.path == path || Path::new(&r.stored_path) == path)
            .cloned()
    }

    /// Files that failed to ingest.
    pub fn failed_files(&self) -> Result<Vec<FailedFile>> {
        let conn = lock(&self.reader);
        let mut q =
            conn.prepare("SELECT path, reason, attempted_at FROM failed_files ORDER BY path")?;
        let v = q
            .query_map([], |r| {
                Ok(FailedFile {
                    path: r.get(0)?,
                    reason: r.get(1)?,
                    attempted_at: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }

    /// Read the index files that searches touch at random (the extended codes) once, in order
    /// (`syrinx_index::warm_page_cache_file`), so that they sit in the OS page cache, in 2 MB folios
    /// where Linux allows, and the first clicks after opening a large library do not fault their
    /// rows in from disk one by one. Nothing is kept in this process (the pages are the kernel's,
    /// clean, and dropped under memory pressure). Holds no lock while reading, so searches and
    /// ingest go on beside it; `stop` ends it early. Returns the bytes read.
    pub fn warm_page_cache(&self, stop: &std::sync::atomic::AtomicBool) -> Result<u64> {
        let files = read(&self.index).page_cache_files();
        let mut total = 0u64;
        for path in files {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            total += syrinx_index::warm_page_cache_file(&path, stop)?;
        }
        Ok(total)
    }

    /// Totals.
    pub fn stats(&self) -> Result<Stats> {
        let conn = lock(&self.reader);
        let one = |sql: &str| {
            conn.query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|v| v as u64)
        };
        let recordings = one("SELECT COUNT(*) FROM recordings")?;
        let missing = one("SELECT COUNT(*) FROM recordings WHERE status = 'missing'")?;
        let windows = one("SELECT COUNT(*) FROM windows")?;
        let silent = one("SELECT COUNT(*) FROM windows WHERE silent = 1")?;
        let labels = one("SELECT COUNT(*) FROM labels")?;
        let failed = one("SELECT COUNT(*) FROM failed_files")?;
        let secs: f64 = conn.query_row(
            "SELECT COALESCE(SUM(duration_s), 0) FROM recordings",
            [],
            |r| r.get(0),
        )?;
        let cgen = catalog::get_meta(&conn, "index_generation")?
            .and_then(|g| g.parse().ok())
            .unwrap_or(0);
        drop(conn);
        let idx = read(&self.index);
        let catalog_bytes = [CATALOG, "catalog.sqlite-wal"]
            .iter()
            .filter_map(|f| fs::metadata(self.dir.join(f)).ok())
            .map(|m| m.len())
            .sum();
        Ok(Stats {
            dir: self.dir.clone(),
            settings: self.settings(),
            recordings,
            missing_recordings: missing,
            windows,
            silent_windows: silent,
            vectors_live: idx.len() as u64,
            vectors_deleted: (idx.id_bound() as usize - idx.len()) as u64,
            audio_hours: secs / 3600.0,
            labels,
            failed_files: failed,
            index_generation: idx.generation(),
            catalog_index_generation: cgen,
            index_memory: idx.memory_report(),
            catalog_bytes,
        })
    }

    /// Store a path relative to the root when it lies under it.
    pub(crate) fn store_path(&self, path: &Path) -> (String, bool) {
        let abs = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(root) = &read(&self.settings).root {
            if let Ok(rel) = abs.strip_prefix(root) {
                return (rel.to_string_lossy().into_owned(), true);
            }
        }
        (abs.to_string_lossy().into_owned(), false)
    }

    pub(crate) fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        catalog::set_meta(&lock(&self.writer), key, value)?;
        let sv = read(&self.settings).schema_version;
        *write(&self.settings) = load_settings(&lock(&self.reader), sv)?;
        Ok(())
    }

    pub(crate) fn labels_path(&self) -> PathBuf {
        self.dir.join(LABELS_FILE)
    }

    /// Remove recordings (catalog rows, labels) and tombstone their vectors. Used by verify's
    /// repair and available to the app ("remove from library"). Returns how many of `ids` were
    /// in the library (unknown ids are ignored).
    pub fn remove_recordings(&self, ids: &[i64]) -> Result<usize> {
        let _g = lock(&self.ingest_lock);
        let mut vids = Vec::new();
        let mut removed = 0;
        {
            let mut conn = lock(&self.writer);
            let tx = conn.transaction()?;
            for id in ids {
                let mut q = tx.prepare_cached("SELECT vector_id FROM windows WHERE recording_id = ?1 AND vector_id IS NOT NULL")?;
                let v = q
                    .query_map([id], |r| r.get::<_, i64>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                vids.extend(v);
                tx.execute("DELETE FROM labels WHERE recording_id = ?1", [id])?;
                tx.execute("DELETE FROM windows WHERE recording_id = ?1", [id])?;
                removed += tx.execute("DELETE FROM recordings WHERE id = ?1", [id])?;
            }
            tx.commit()?;
        }
        // Catalog first: vectors no row references are orphans, which open() also removes.
        {
            let mut st = write(&self.state);
            for id in ids {
                st.recs.remove(id);
            }
            for &v in &vids {
                if let Some(w) = st.wins.get_mut(v as usize) {
                    *w = None;
                }
            }
        }
        let mut idx = write(&self.index);
        for &v in &vids {
            if v >= 0 && (v as u64) < idx.id_bound() as u64 {
                idx.delete(v as u32)?;
            }
        }
        let g = idx.commit()?;
        drop(idx);
        catalog::set_meta(&lock(&self.writer), "index_generation", &g.to_string())?;
        Ok(removed)
    }
}

pub(crate) fn recording_from_row(
    r: &rusqlite::Row<'_>,
    root: Option<&Path>,
) -> rusqlite::Result<Recording> {
    let stored: String = r.get(1)?;
    let relative: i64 = r.get(2)?;
    let path = match (relative, root) {
        (1, Some(root)) => root.join(&stored),
        _ => PathBuf::from(&stored),
    };
    Ok(Recording {
        id: r.get(0)?,
        path,
        stored_path: stored,
        content_hash: r.get(3)?,
        duration_s: r.get(4)?,
        sample_rate: r.get::<_, i64>(5)? as u32,
        channels: r.get::<_, i64>(6)? as u32,
        size_bytes: r.get::<_, i64>(7)? as u64,
        container: r.get(8)?,
        codec: r.get(9)?,
        added_at: r.get(10)?,
        status: r.get(11)?,
        n_windows: r.get::<_, i64>(12)? as u32,
    })
}

fn load_settings(conn: &Connection, schema_version: i64) -> Result<Settings> {
    let get = |k: &str| catalog::get_meta(conn, k);
    let num =
        |k: &str, d: f64| -> Result<f64> { Ok(get(k)?.and_then(|v| v.parse().ok()).unwrap_or(d)) };
    let index_params = get("index_params")?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_else(|| IndexParams::new(1024));
    Ok(Settings {
        schema_version,
        model: get("model")?.unwrap_or_default(),
        model_hash: get("model_hash")?.unwrap_or_default(),
        window_s: num("window_s", syrinx_audio::WINDOW_S)?,
        hop_s: num("hop_s", syrinx_audio::DEFAULT_HOP_S)?,
        root: get("root")?.filter(|s| !s.is_empty()).map(PathBuf::from),
        index_params,
    })
}

#[cfg(test)]
mod tests {
    //! The library's own paths without the model: windows imported as if embedded elsewhere (the
    //! import path refuses a library without a model, so these tests name one in the catalog).
    use super::*;
    use crate::labels::{LabelFilter, LabelTarget, Verdict};
    use crate::search::{Query, SearchOptions};

    const DIM: usize = 1024;

    /// A real 48 kHz mono WAV of `seconds` of low noise, different content per `seed`.
    fn wav(dir: &Path, name: &str, seconds: f64, seed: u32) -> PathBuf {
        let path = dir.join(name);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        for _ in 0..(seconds * 48_000.0) as usize {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            w.write_sample((x % 2001) as i16 - 1000).unwrap();
        }
        w.finalize().unwrap();
        path
    }

    /// Non-negative, BirdNET-like: a per-recording direction plus a small per-window offset.
    fn embedding(rec: u32, window: u32) -> Vec<f32> {
        (0..DIM as u32)
            .map(|d| {
                let h = (d.wrapping_mul(31).wrapping_add(rec.wrapping_mul(7919))) % 97;
                let base = if h < 12 { 1.0 + h as f32 / 12.0 } else { 0.05 };
                let jitter = ((d ^ window.wrapping_mul(2_246_822_519)) % 13) as f32 / 200.0;
                base + jitter
            })
            .collect()
    }

    fn windows(rec: u32, n: u32) -> Vec<ImportedWindow> {
        (0..n)
            .map(|i| ImportedWindow {
                start_s: i as f64,
                end_s: i as f64 + 3.0,
                // the last window silent: no vector
                embedding: (i + 1 < n).then(|| embedding(rec, i)),
                top: vec![(rec as u16, 0.5)],
            })
            .collect()
    }

    fn library_with_model(dir: &Path) -> Library {
        let lib = Library::create(dir, CreateOptions::default()).unwrap();
        lib.set_setting("model", "test-model (imported vectors)")
            .unwrap();
        lib
    }

    fn hit_recordings(lib: &Library, v: Vec<f32>, k: usize) -> Vec<i64> {
        lib.search(
            &Query::Vector(v),
            &SearchOptions {
                k,
                group: false,
                ..Default::default()
            },
        )
        .unwrap()
        .hits
        .iter()
        .map(|h| h.recording_id)
        .collect()
    }

    #[test]
    fn import_rejects_bad_windows_with_a_reason_and_stores_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let audio = wav(tmp.path(), "a.wav", 8.0, 1);
        let lib = Library::create(tmp.path().join("lib"), CreateOptions::default()).unwrap();
        let err = lib.import_recording(&audio, windows(0, 6)).unwrap_err();
        assert!(err.to_string().contains("no model yet"), "{err}");
        lib.set_setting("model", "test-model").unwrap();

        let mut short = windows(0, 6);
        short[2].embedding = Some(vec![0.5; 3]);
        let mut nan = windows(0, 6);
        nan[1].embedding.as_mut().unwrap()[7] = f32::NAN;
        let mut late = windows(0, 6);
        late[4].start_s = 60.0;
        late[4].end_s = 63.0;
        let mut reversed = windows(0, 6);
        reversed[0].end_s = -1.0;
        for (ws, want) in [
            (
                short,
                "window 2: embedding of length 3 (the index holds 1024)",
            ),
            (nan, "window 1: embedding has a non-finite value"),
            (late, "window 4: time 60..63 s outside 0..8.000 s"),
            (reversed, "window 0: time 0..-1 s"),
        ] {
            let err = lib.import_recording(&audio, ws).unwrap_err();
            assert!(matches!(err, LibraryError::Invalid(_)), "{err:?}");
            assert!(err.to_string().contains(want), "{err} lacks {want:?}");
        }
        let missing = lib
            .import_recording(&tmp.path().join("nope.wav"), windows(0, 2))
            .unwrap_err();
        assert!(missing.to_string().contains("nope.wav"), "{missing}");
        assert!(lib.recordings().is_empty());
        let v = lib.verify(false).unwrap();
        assert!(v.ok && v.windows == 0 && v.index_live == 0, "{v:?}");

        let added = lib.import_recording(&audio, windows(0, 6)).unwrap();
        assert_eq!(lib.recordings().len(), 1);
        assert_eq!(lib.recording(added.recording_id).unwrap().n_windows, 6);
        // The same content under another name is refused, naming the recording it duplicates.
        let copy = tmp.path().join("copy.wav");
        std::fs::copy(&audio, &copy).unwrap();
        let dup = lib.import_recording(&copy, windows(0, 6)).unwrap_err();
        assert!(
            dup.to_string().contains(&format!(
                "already in the library (recording {})",
                added.recording_id
            )),
            "{dup}"
        );
        let v = lib.verify(false).unwrap();
        assert!(v.ok && v.windows == 6 && v.index_live == 5, "{v:?}");
    }

    #[test]
    fn removed_recordings_never_return_and_stay_removed_after_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("lib");
        let lib = library_with_model(&dir);
        let mut ids = Vec::new();
        for r in 0..5u32 {
            let audio = wav(tmp.path(), &format!("r{r}.wav"), 12.0, r + 10);
            ids.push(
                lib.import_recording(&audio, windows(r, 10))
                    .unwrap()
                    .recording_id,
            );
        }
        // A window of recording 2 finds recording 2 first.
        let probe = embedding(2, 3);
        assert_eq!(hit_recordings(&lib, probe.clone(), 5)[0], ids[2]);
        let vid = lib
            .recording_windows(ids[2])
            .unwrap()
            .iter()
            .find_map(|w| w.vector_id)
            .unwrap();
        lib.add_label(&LabelTarget::Window(vid), "song", Verdict::Positive, "")
            .unwrap();
        lib.add_label(&LabelTarget::Window(0), "song", Verdict::Negative, "")
            .unwrap();

        assert_eq!(lib.remove_recordings(&[ids[2]]).unwrap(), 1);
        let check = |lib: &Library| {
            assert_eq!(lib.recordings().len(), 4);
            assert!(lib.recording(ids[2]).is_none());
            // Every live window is still found, the removed ones never: ask for all of them.
            let hits = hit_recordings(lib, probe.clone(), 100);
            assert_eq!(hits.len(), 4 * 9, "{hits:?}");
            assert!(!hits.contains(&ids[2]), "{hits:?}");
            let labels = lib.labels(&LabelFilter::default()).unwrap();
            assert_eq!(labels.len(), 1, "{labels:?}");
            assert_eq!(labels[0].recording_id, ids[0]);
            // A query by one of its windows is refused by name.
            let err = lib
                .search(&Query::Window(vid), &SearchOptions::default())
                .unwrap_err();
            assert!(matches!(err, LibraryError::Missing(_)), "{err:?}");
            assert!(
                err.to_string().contains(&format!("vector id {vid}")),
                "{err}"
            );
            let v = lib.verify(false).unwrap();
            assert!(v.ok && v.recordings == 4 && v.index_live == 36, "{v:?}");
        };
        check(&lib);
        drop(lib);
        let lib = Library::open(&dir).unwrap();
        assert_eq!(lib.recovery().orphan_vectors_removed, 0);
        check(&lib);
        // Removing an id that is not there changes nothing, and says so.
        assert_eq!(lib.remove_recordings(&[ids[2], 9_999]).unwrap(), 0);
        check(&lib);
        // A new import after the removal gets fresh vector ids; the old ones stay dead.
        let audio = wav(tmp.path(), "r5.wav", 12.0, 99);
        lib.import_recording(&audio, windows(2, 10)).unwrap();
        let hits = hit_recordings(&lib, probe, 100);
        assert_eq!(hits.len(), 5 * 9);
        assert!(!hits.contains(&ids[2]));
    }
}

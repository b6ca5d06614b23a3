//! Ingest: files and folders in, recordings + windows + vectors out, crash-safe and resumable.
//!
//! The calling thread runs `syrinx_pipeline::analyze_files` (parallel decoders, batched embedding
//! across files); finished files go over a channel to a writer thread that commits them in batches
//! (index insert + commit, then one catalog transaction; see the crate docs). A file that fails is
//! listed with its reason and gets no rows. Re-running skips files already catalogued (hash).

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use syrinx_audio::{AudioInfo, WindowConfig};
use syrinx_embed::Embedder;
use syrinx_pipeline::{analyze_files, AnalyzeOptions, AnalyzedWindow, FileEvent, PipelineError};
use tokio::sync::watch;

use crate::catalog::{self, NewRecording, NewWindow};
use crate::error::{io_err, Result};
use crate::{lock, read, write, Library, LibraryError, Recording, WinMeta, NO_SPECIES};

/// Extensions picked up when scanning folders (files named explicitly are always tried).
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "flac", "mp3", "ogg", "oga", "opus", "m4a", "mp4", "aac", "aif", "aiff", "aifc",
    "caf", "mka", "mkv", "webm", "w64",
];

/// Ingest tuning.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// Species kept per window.
    pub top_k: usize,
    /// Files decoded in parallel.
    pub decoders: usize,
    /// Commit when this many windows are waiting...
    pub commit_every_windows: usize,
    /// ...or when the oldest waiting file finished this long ago (seconds).
    pub commit_every_s: f64,
    /// Files hashed and analysed per round (bounds the time before the first window).
    pub chunk_files: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            top_k: 5,
            decoders: 2,
            commit_every_windows: 8192,
            commit_every_s: 10.0,
            chunk_files: 256,
        }
    }
}

/// What the ingest is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestPhase {
    #[default]
    Scanning,
    Hashing,
    Analyzing,
    Done,
}

/// Progress, published on a `tokio::sync::watch` channel.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestProgress {
    pub phase: IngestPhase,
    pub files_total: u64,
    /// Added + skipped + failed.
    pub files_done: u64,
    pub files_added: u64,
    pub files_skipped: u64,
    pub files_failed: u64,
    /// Windows analysed (committed or waiting for the next commit).
    pub windows_done: u64,
    /// Estimate from the bytes left (exact once everything is done).
    pub windows_total_estimate: u64,
    pub audio_s_done: f64,
    pub bytes_total: u64,
    pub bytes_done: u64,
    pub elapsed_s: f64,
    pub windows_per_s: f64,
    /// Seconds of audio per second of wall time.
    pub realtime_factor: f64,
    pub eta_s: Option<f64>,
    pub current_file: Option<String>,
    /// The latest per-file failure: (path, reason).
    pub last_error: Option<(String, String)>,
    /// Files being analysed right now (decoders work on several at once), with their progress.
    pub active: Vec<FileProgress>,
}

/// Progress of one file being analysed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileProgress {
    pub path: String,
    pub windows_done: u64,
    /// From the file's duration and the hop (exact for files with a duration in their header).
    pub windows_expected: u64,
}

/// A file added by an ingest.
#[derive(Clone, Debug, Serialize)]
pub struct AddedFile {
    pub path: String,
    pub recording_id: i64,
    pub windows: u64,
    pub duration_s: f64,
}

/// A file skipped because its content is already in the library.
#[derive(Clone, Debug, Serialize)]
pub struct SkippedFile {
    pub path: String,
    pub recording_id: Option<i64>,
    pub reason: String,
}

/// A file that failed, with the reason.
#[derive(Clone, Debug, Serialize)]
pub struct FailedIngest {
    pub path: String,
    pub reason: String,
}

/// Outcome of an ingest (also after a cancel: what was committed is listed).
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestReport {
    pub added: Vec<AddedFile>,
    pub skipped: Vec<SkippedFile>,
    pub failed: Vec<FailedIngest>,
    pub windows: u64,
    pub audio_s: f64,
    pub elapsed_s: f64,
    pub commits: u64,
    pub cancelled: bool,
}

/// A running [`Library::ingest_async`].
pub struct IngestHandle {
    /// Latest progress.
    pub progress: watch::Receiver<IngestProgress>,
    cancel: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(Embedder, Result<IngestReport>)>,
}

impl IngestHandle {
    /// Ask the ingest to stop after the current batch (finished files are still committed).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
    /// The cancel flag (e.g. for a Ctrl-C handler).
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }
    /// Wait for the end; gives the embedder back.
    pub async fn wait(self) -> Result<(Embedder, Result<IngestReport>)> {
        self.task
            .await
            .map_err(|e| LibraryError::Inconsistent(format!("ingest task failed: {e}")))
    }
}

/// xxh3-128 of the file's bytes, hex.
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:032x}", h.digest128()))
}

/// Expand files and folders (recursively, audio extensions, hidden entries skipped) into a sorted,
/// de-duplicated file list; inputs that do not exist are returned as failures.
pub fn collect_files(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let mut seen = HashSet::new();
    let mut seen_dirs = HashSet::new();
    fn walk(
        dir: &Path,
        out: &mut Vec<PathBuf>,
        seen_dirs: &mut HashSet<PathBuf>,
        bad: &mut Vec<(PathBuf, String)>,
    ) {
        let canon = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        if !seen_dirs.insert(canon) {
            return;
        }
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                bad.push((dir.to_path_buf(), format!("cannot read folder: {e}")));
                return;
            }
        };
        let mut entries: Vec<PathBuf> = rd
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out, seen_dirs, bad);
            } else if p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            {
                out.push(p);
            }
        }
    }
    for input in inputs {
        if input.is_dir() {
            let mut files = Vec::new();
            walk(input, &mut files, &mut seen_dirs, &mut bad);
            out.extend(files);
        } else if input.exists() {
            out.push(input.clone());
        } else {
            bad.push((input.clone(), "no such file or folder".into()));
        }
    }
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    (out, bad)
}

pub(crate) struct DoneFile {
    pub path: PathBuf,
    pub hash: String,
    pub info: AudioInfo,
    pub windows: Vec<AnalyzedWindow>,
}

enum WriterMsg {
    Done(DoneFile),
    Failed(PathBuf, String),
}

/// Progress shared by the analysing and the writing thread, published at most every 100 ms.
struct Prog<'a> {
    inner: Mutex<(IngestProgress, Instant)>,
    tx: Option<&'a watch::Sender<IngestProgress>>,
    started: Instant,
    analysed_bytes: Mutex<u64>,
}

impl Prog<'_> {
    fn update(&self, force: bool, f: impl FnOnce(&mut IngestProgress)) {
        let mut g = lock(&self.inner);
        f(&mut g.0);
        let p = &mut g.0;
        p.elapsed_s = self.started.elapsed().as_secs_f64();
        if p.elapsed_s > 0.0 {
            p.windows_per_s = p.windows_done as f64 / p.elapsed_s;
            p.realtime_factor = p.audio_s_done / p.elapsed_s;
        }
        if p.bytes_done > 0 && p.bytes_total > 0 {
            let frac = p.bytes_done as f64 / p.bytes_total as f64;
            p.eta_s = Some(p.elapsed_s * (1.0 - frac) / frac);
        }
        let ab = *lock(&self.analysed_bytes);
        if ab > 0 {
            let left = p.bytes_total.saturating_sub(p.bytes_done);
            p.windows_total_estimate =
                p.windows_done + (left as f64 * p.windows_done as f64 / ab as f64) as u64;
        }
        if force || g.1.elapsed() >= Duration::from_millis(100) {
            g.1 = Instant::now();
            if let Some(tx) = self.tx {
                tx.send_replace(g.0.clone());
            }
        }
    }
    fn snapshot(&self) -> IngestProgress {
        lock(&self.inner).0.clone()
    }
}

impl Library {
    /// Ingest files and folders on a blocking task of the current tokio runtime; progress on a
    /// watch channel, cancellable. Must be called from within a tokio runtime.
    pub fn ingest_async(
        self: &Arc<Self>,
        mut embedder: Embedder,
        inputs: Vec<PathBuf>,
        opts: IngestOptions,
    ) -> IngestHandle {
        let (tx, rx) = watch::channel(IngestProgress::default());
        let cancel = Arc::new(AtomicBool::new(false));
        let lib = self.clone();
        let c = cancel.clone();
        let task = tokio::task::spawn_blocking(move || {
            let r = lib.ingest(&mut embedder, &inputs, &opts, &c, Some(&tx));
            (embedder, r)
        });
        IngestHandle {
            progress: rx,
            cancel,
            task,
        }
    }

    /// Ingest files and folders (blocking). Files whose content is already catalogued are skipped;
    /// failures are listed with their reason; `cancel` stops after the current batch (what
    /// finished is committed). Errors are only returned for library-level failures (disk, model
    /// mismatch...), never for a bad audio file.
    pub fn ingest(
        &self,
        embedder: &mut Embedder,
        inputs: &[PathBuf],
        opts: &IngestOptions,
        cancel: &AtomicBool,
        progress: Option<&watch::Sender<IngestProgress>>,
    ) -> Result<IngestReport> {
        let _g = lock(&self.ingest_lock);
        self.check_model(embedder)?;
        let hop_s = read(&self.settings).hop_s;
        let prog = Prog {
            inner: Mutex::new((IngestProgress::default(), Instant::now())),
            tx: progress,
            started: Instant::now(),
            analysed_bytes: Mutex::new(0),
        };
        let mut report = IngestReport::default();
        prog.update(true, |p| p.phase = IngestPhase::Scanning);
        let (files, bad) = collect_files(inputs);
        for (p, reason) in bad {
            report.failed.push(FailedIngest {
                path: p.display().to_string(),
                reason,
            });
        }
        let sizes: Vec<u64> = files
            .iter()
            .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
            .collect();
        prog.update(true, |p| {
            p.files_total = files.len() as u64;
            p.files_failed = report.failed.len() as u64;
            p.bytes_total = sizes.iter().sum();
        });
        let mut known: HashMap<String, Recording> = read(&self.state)
            .recs
            .values()
            .map(|r| (r.content_hash.clone(), r.clone()))
            .collect();
        let mut run_hashes: HashMap<String, String> = HashMap::new();
        for (chunk, chunk_sizes) in files
            .chunks(opts.chunk_files.max(1))
            .zip(sizes.chunks(opts.chunk_files.max(1)))
        {
            if cancel.load(Ordering::Relaxed) {
                report.cancelled = true;
                break;
            }
            prog.update(true, |p| p.phase = IngestPhase::Hashing);
            let hashes = hash_parallel(chunk, opts.decoders.max(2));
            let mut todo: Vec<(PathBuf, String, u64)> = Vec::new();
            for ((path, h), &size) in chunk.iter().zip(hashes).zip(chunk_sizes) {
                let shown = path.display().to_string();
                match h {
                    Err(e) => {
                        let reason = format!("cannot read: {e}");
                        self.record_failure(path, &reason)?;
                        prog.update(true, |p| {
                            p.files_failed += 1;
                            p.files_done += 1;
                            p.bytes_done += size;
                            p.last_error = Some((shown.clone(), reason.clone()));
                        });
                        report.failed.push(FailedIngest {
                            path: shown,
                            reason,
                        });
                    }
                    Ok(h) => {
                        if let Some(rec) = known.get(&h) {
                            let mut reason = "already in the library".to_string();
                            if !rec.path.is_file() && rec.path != *path {
                                self.move_recording(rec.id, path)?;
                                reason = format!(
                                    "already in the library; relinked (was {})",
                                    rec.path.display()
                                );
                            }
                            report.skipped.push(SkippedFile {
                                path: shown,
                                recording_id: Some(rec.id),
                                reason,
                            });
                            prog.update(false, |p| {
                                p.files_skipped += 1;
                                p.files_done += 1;
                                p.bytes_done += size;
                            });
                        } else if let Some(first) = run_hashes.get(&h) {
                            report.skipped.push(SkippedFile {
                                path: shown,
                                recording_id: None,
                                reason: format!("same content as {first}"),
                            });
                            prog.update(false, |p| {
                                p.files_skipped += 1;
                                p.files_done += 1;
                                p.bytes_done += size;
                            });
                        } else {
                            run_hashes.insert(h.clone(), shown);
                            todo.push((path.clone(), h, size));
                        }
                    }
                }
            }
            if todo.is_empty() {
                continue;
            }
            prog.update(true, |p| p.phase = IngestPhase::Analyzing);
            let cancelled =
                self.analyze_chunk(embedder, &todo, opts, hop_s, cancel, &prog, &mut report)?;
            // refresh `known` with what this chunk added (for duplicates across chunks)
            for a in &report.added {
                if let Some(r) = read(&self.state).recs.get(&a.recording_id) {
                    known
                        .entry(r.content_hash.clone())
                        .or_insert_with(|| r.clone());
                }
            }
            if cancelled {
                report.cancelled = true;
                break;
            }
        }
        let snap = prog.snapshot();
        report.windows = report.added.iter().map(|a| a.windows).sum();
        report.audio_s = report.added.iter().map(|a| a.duration_s).sum();
        report.elapsed_s = prog.started.elapsed().as_secs_f64();
        prog.update(true, |p| {
            p.phase = IngestPhase::Done;
            p.current_file = None;
            p.active.clear();
            p.windows_total_estimate = snap.windows_done;
            p.eta_s = Some(0.0);
        });
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    fn analyze_chunk(
        &self,
        embedder: &mut Embedder,
        todo: &[(PathBuf, String, u64)],
        opts: &IngestOptions,
        hop_s: f64,
        cancel: &AtomicBool,
        prog: &Prog<'_>,
        report: &mut IngestReport,
    ) -> Result<bool> {
        let paths: Vec<PathBuf> = todo.iter().map(|t| t.0.clone()).collect();
        let aopts = AnalyzeOptions {
            window: WindowConfig { hop_s },
            top_k: opts.top_k.max(1),
            keep_logits: false,
            decoders: opts.decoders.max(1),
        };
        let (tx, rx) = mpsc::sync_channel::<WriterMsg>(64);
        std::thread::scope(|s| -> Result<bool> {
            let writer = s.spawn(move || self.writer_loop(rx, opts, prog));
            let mut pending: HashMap<usize, (AudioInfo, Vec<AnalyzedWindow>)> = HashMap::new();
            let res = analyze_files(embedder, &paths, aopts, cancel, |ev| {
                let send = |m: WriterMsg| {
                    tx.send(m)
                        .map_err(|_| PipelineError::Sink("catalog writer stopped".into()))
                };
                match ev {
                    FileEvent::Started { file, info } => {
                        let shown = paths[file].display().to_string();
                        let rate = syrinx_audio::TARGET_RATE as f64;
                        let expected = syrinx_audio::window_count(
                            (info.duration_s.max(0.0) * rate) as u64,
                            (hop_s * rate) as u64,
                        );
                        prog.update(false, |p| {
                            p.current_file = Some(shown.clone());
                            p.active.push(FileProgress {
                                path: shown,
                                windows_done: 0,
                                windows_expected: expected,
                            });
                        });
                        pending.insert(file, (info, Vec::new()));
                    }
                    FileEvent::Window { file, window } => {
                        let secs = (window.end_s - window.start_s).min(hop_s);
                        let shown = paths[file].display().to_string();
                        prog.update(false, |p| {
                            p.windows_done += 1;
                            p.audio_s_done += secs;
                            if let Some(a) = p.active.iter_mut().find(|a| a.path == shown) {
                                a.windows_done += 1;
                            }
                        });
                        if let Some(f) = pending.get_mut(&file) {
                            f.1.push(window);
                        }
                    }
                    FileEvent::Finished { file, .. } => {
                        let shown = paths[file].display().to_string();
                        prog.update(false, |p| p.active.retain(|a| a.path != shown));
                        if let Some((info, windows)) = pending.remove(&file) {
                            *lock(&prog.analysed_bytes) += todo[file].2;
                            send(WriterMsg::Done(DoneFile {
                                path: paths[file].clone(),
                                hash: todo[file].1.clone(),
                                info,
                                windows,
                            }))?;
                        }
                    }
                    FileEvent::Failed { file, error } => {
                        let shown = paths[file].display().to_string();
                        prog.update(false, |p| p.active.retain(|a| a.path != shown));
                        if let Some((_, w)) = pending.remove(&file) {
                            prog.update(false, |p| {
                                p.windows_done = p.windows_done.saturating_sub(w.len() as u64)
                            });
                        }
                        let reason = match &error {
                            PipelineError::Audio(a) => a.to_string(),
                            e => e.to_string(),
                        };
                        send(WriterMsg::Failed(paths[file].clone(), reason))?;
                    }
                }
                Ok(())
            });
            drop(tx);
            let written = writer
                .join()
                .map_err(|_| LibraryError::Inconsistent("catalog writer panicked".into()))?;
            let (added, failed, commits) = written?;
            report.commits += commits;
            report.added.extend(added);
            report.failed.extend(failed);
            match res {
                Ok(_) => Ok(false),
                Err(PipelineError::Cancelled) => Ok(true),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn writer_loop(
        &self,
        rx: mpsc::Receiver<WriterMsg>,
        opts: &IngestOptions,
        prog: &Prog<'_>,
    ) -> Result<(Vec<AddedFile>, Vec<FailedIngest>, u64)> {
        let mut added = Vec::new();
        let mut failed = Vec::new();
        let mut batch: Vec<DoneFile> = Vec::new();
        let mut batch_windows = 0usize;
        let mut oldest: Option<Instant> = None;
        let every = Duration::from_secs_f64(opts.commit_every_s.max(0.0));
        let mut commits = 0u64;
        let mut failures: Vec<(PathBuf, String)> = Vec::new();
        loop {
            let wait = oldest
                .map(|t| every.saturating_sub(t.elapsed()))
                .unwrap_or(Duration::from_secs(3600));
            let msg = rx.recv_timeout(wait);
            let closed = matches!(msg, Err(mpsc::RecvTimeoutError::Disconnected));
            match msg {
                Ok(WriterMsg::Done(f)) => {
                    batch_windows += f.windows.len();
                    oldest.get_or_insert_with(Instant::now);
                    batch.push(f);
                }
                Ok(WriterMsg::Failed(p, reason)) => {
                    let size = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                    prog.update(true, |pr| {
                        pr.files_failed += 1;
                        pr.files_done += 1;
                        pr.bytes_done += size;
                        pr.last_error = Some((p.display().to_string(), reason.clone()));
                    });
                    failed.push(FailedIngest {
                        path: p.display().to_string(),
                        reason: reason.clone(),
                    });
                    failures.push((p, reason));
                }
                Err(_) => {}
            }
            let due = oldest.is_some_and(|t| t.elapsed() >= every);
            if !batch.is_empty() && (closed || due || batch_windows >= opts.commit_every_windows) {
                let files = std::mem::take(&mut batch);
                let n = files.len() as u64;
                let bytes: u64 = files.iter().map(|f| f.info.file_size).sum();
                added.extend(self.commit_files(files, &failures)?);
                failures.clear();
                commits += 1;
                batch_windows = 0;
                oldest = None;
                prog.update(true, |p| {
                    p.files_added += n;
                    p.files_done += n;
                    p.bytes_done += bytes;
                });
            }
            if closed {
                break;
            }
        }
        for (p, reason) in failures {
            self.record_failure(&p, &reason)?;
        }
        Ok((added, failed, commits))
    }

    /// The crash protocol: vectors into the index and commit, then one catalog transaction.
    pub(crate) fn commit_files(
        &self,
        files: Vec<DoneFile>,
        failures: &[(PathBuf, String)],
    ) -> Result<Vec<AddedFile>> {
        let dim = read(&self.settings).index_params.dim;
        let mut rows: Vec<f32> = Vec::new();
        for f in &files {
            for w in &f.windows {
                if let Some(e) = &w.embedding {
                    if e.len() != dim {
                        return Err(LibraryError::Inconsistent(format!(
                            "embedding of length {} (index dim {dim})",
                            e.len()
                        )));
                    }
                    rows.extend_from_slice(e);
                }
            }
        }
        // (1) + (2)
        let (first_id, gen) = {
            let mut idx = write(&self.index);
            if rows.is_empty() {
                (idx.id_bound(), idx.generation())
            } else {
                let r = idx.insert_batch(&rows)?;
                drop(rows);
                (r.start, idx.commit()?)
            }
        };
        // (3)
        let mut next = first_id;
        let mut news = Vec::with_capacity(files.len());
        for f in files {
            let (stored, relative) = self.store_path(&f.path);
            let windows = f
                .windows
                .into_iter()
                .map(|w| {
                    let vector_id = w.embedding.as_ref().map(|_| {
                        next += 1;
                        next - 1
                    });
                    NewWindow {
                        idx: w.index,
                        start_s: w.start_s,
                        end_s: w.end_s,
                        silent: w.silent,
                        vector_id,
                        top: w.top.iter().map(|s| (s.species, s.score)).collect(),
                    }
                })
                .collect();
            news.push((
                f.path,
                NewRecording {
                    path: stored,
                    relative,
                    content_hash: f.hash,
                    duration_s: f.info.duration_s,
                    sample_rate: f.info.sample_rate,
                    channels: f.info.channels,
                    size_bytes: f.info.file_size,
                    container: f.info.container.clone(),
                    codec: f.info.codec.clone(),
                    windows,
                },
            ));
        }
        let ids = {
            let mut conn = lock(&self.writer);
            let res = (|| -> Result<Vec<i64>> {
                let tx = conn.transaction()?;
                let mut ids = Vec::new();
                for (_, r) in &news {
                    ids.push(catalog::insert_recording(&tx, r)?);
                }
                for (p, reason) in failures {
                    insert_failure(&tx, &self.store_path(p).0, reason)?;
                }
                catalog::set_meta(&tx, "index_generation", &gen.to_string())?;
                tx.commit()?;
                Ok(ids)
            })();
            match res {
                Ok(ids) => ids,
                Err(e) => {
                    // Undo (best effort): the vectors are orphans either way and open() removes them.
                    let mut idx = write(&self.index);
                    for id in first_id..next {
                        let _ = idx.delete(id);
                    }
                    let _ = idx.commit();
                    return Err(e);
                }
            }
        };
        let root = read(&self.settings).root.clone();
        let mut st = write(&self.state);
        let mut out = Vec::with_capacity(news.len());
        for ((path, r), id) in news.into_iter().zip(ids) {
            for w in &r.windows {
                if let Some(v) = w.vector_id {
                    let best = w.top.first();
                    st.set(
                        v,
                        WinMeta {
                            rec: id,
                            start_s: w.start_s as f32,
                            end_s: w.end_s as f32,
                            species: best.map(|b| b.0).unwrap_or(NO_SPECIES),
                            score: best.map(|b| b.1).unwrap_or(0.0),
                        },
                    );
                }
            }
            out.push(AddedFile {
                path: path.display().to_string(),
                recording_id: id,
                windows: r.windows.len() as u64,
                duration_s: r.duration_s,
            });
            let full = match (&root, r.relative) {
                (Some(root), true) => root.join(&r.path),
                _ => PathBuf::from(&r.path),
            };
            st.recs.insert(
                id,
                Recording {
                    id,
                    path: full,
                    stored_path: r.path,
                    content_hash: r.content_hash,
                    duration_s: r.duration_s,
                    sample_rate: r.sample_rate,
                    channels: r.channels as u32,
                    size_bytes: r.size_bytes,
                    container: r.container,
                    codec: r.codec,
                    added_at: catalog::now_s(),
                    status: "ok".into(),
                    n_windows: r.windows.len() as u32,
                },
            );
        }
        Ok(out)
    }

    fn record_failure(&self, path: &Path, reason: &str) -> Result<()> {
        let conn = lock(&self.writer);
        insert_failure(&conn, &self.store_path(path).0, reason)
    }

    fn move_recording(&self, id: i64, path: &Path) -> Result<()> {
        let (stored, rel) = self.store_path(path);
        lock(&self.writer).execute(
            "UPDATE recordings SET path = ?1, relative = ?2, status = 'ok' WHERE id = ?3",
            rusqlite::params![stored, rel as i64, id],
        )?;
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(r) = write(&self.state).recs.get_mut(&id) {
            r.path = abs;
            r.stored_path = stored;
            r.status = "ok".into();
        }
        Ok(())
    }

    /// The library records the model that made its embeddings; another model is refused.
    fn check_model(&self, embedder: &Embedder) -> Result<()> {
        let model = &embedder.paths().model;
        let meta = std::fs::metadata(model).map_err(io_err(model))?;
        let identity = format!(
            "{} ({} bytes)",
            model
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            meta.len()
        );
        let s = read(&self.settings).clone();
        if s.model.is_empty() {
            let hash = hash_file(model).map_err(io_err(model))?;
            self.set_setting("model", &identity)?;
            self.set_setting("model_hash", &hash)?;
        } else if s.model != identity {
            return Err(LibraryError::ModelMismatch {
                library: s.model,
                loaded: identity,
            });
        } else {
            let hash = hash_file(model).map_err(io_err(model))?;
            if hash != s.model_hash {
                return Err(LibraryError::ModelMismatch {
                    library: format!("{} hash {}", s.model, s.model_hash),
                    loaded: format!("{identity} hash {hash}"),
                });
            }
        }
        let lp = self.labels_path();
        if !lp.is_file() {
            let src = &embedder.paths().labels;
            let tmp = lp.with_extension("txt.tmp");
            std::fs::copy(src, &tmp).map_err(io_err(src))?;
            std::fs::rename(&tmp, &lp).map_err(io_err(&lp))?;
            *write(&self.species) = Some(embedder.labels().clone());
        }
        Ok(())
    }
}

fn insert_failure(conn: &rusqlite::Connection, path: &str, reason: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO failed_files(path, reason, attempted_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(path) DO UPDATE SET reason = excluded.reason, attempted_at = excluded.attempted_at",
        rusqlite::params![path, reason, catalog::now_s()],
    )?;
    Ok(())
}

fn hash_parallel(files: &[PathBuf], threads: usize) -> Vec<std::io::Result<String>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let out: Vec<Mutex<Option<std::io::Result<String>>>> =
        files.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, files.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= files.len() {
                    return;
                }
                *lock(&out[i]) = Some(hash_file(&files[i]));
            });
        }
    });
    out.into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| Err(std::io::Error::other("not hashed")))
        })
        .collect()
}

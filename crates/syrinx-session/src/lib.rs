//! # syrinx-session
//!
//! Everything a Syrinx front end drives, without any UI toolkit: an open [`Library`], the BirdNET
//! model (loaded on first need), a queue of ingest jobs publishing progress [`SessionEvent`]s,
//! spectrogram tiles with a cache, playback with a position to follow, the microphone, search,
//! labels, export and the About facts. The desktop shell (`src-tauri`) only translates between
//! its window and a [`Session`]; tests drive the same API directly.
//!
//! Every method takes `&self` and may be called from any thread; long work (ingest) runs on the
//! session's own runtime and reports through the [`EventSink`].

mod error;
mod events;
mod jobs;
mod live;
mod models;
mod requests;
pub mod tiles;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use syrinx_devices::{DeviceInfo, Playback, PlaybackState, Recorder, Take};
use syrinx_library::{
    CreateOptions, ExportFormats, ExportItem, ExportReport, IngestOptions, LabelFilter,
    LabelTarget, Library, Query, RecordingSummary, SearchFilter, SearchOptions, Stats, Verdict,
    WindowRow,
};

pub use error::{ErrorInfo, Result, SessionError};
pub use events::{EventSink, NoEvents, SessionEvent};
pub use jobs::{JobInfo, JobState};
pub use live::LiveUpdate;
pub use models::ModelStatus;
pub use requests::{
    ExportFormatsIn, ExportItemIn, ExportRequest, HitRow, LabelRequest, QuerySpec, RecordingsQuery,
    SearchRequest, SearchResponse,
};
pub use syrinx_library as library;
/// Device and playback types the front end passes through.
pub mod devices {
    pub use syrinx_devices::{DeviceInfo, PlaybackState, Take};
}
pub use tiles::{Tile, TileRequest};

/// Longest stretch played at once (s): playback decodes it into memory (~11 MB per minute).
pub const MAX_PLAY_S: f64 = 300.0;
/// Seconds of a live take used for a live search.
pub const LIVE_QUERY_S: f64 = 3.0;

/// How to open a session.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// The library folder (created with default settings if it holds no library).
    pub library_dir: PathBuf,
    /// Model folder and ONNX Runtime library (defaults: the set-up's cache).
    pub model_dir: Option<PathBuf>,
    pub ort_dylib: Option<PathBuf>,
    /// Inference threads.
    pub threads: usize,
    /// Where microphone takes are saved (default: `<library>/takes`).
    pub takes_dir: Option<PathBuf>,
    /// Bytes of spectrogram tiles kept in memory.
    pub tile_cache_bytes: usize,
}

impl SessionConfig {
    pub fn new(library_dir: impl Into<PathBuf>) -> Self {
        SessionConfig {
            library_dir: library_dir.into(),
            model_dir: None,
            ort_dylib: None,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            takes_dir: None,
            tile_cache_bytes: 64 << 20,
        }
    }
}

/// The library as the header of the app shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Overview {
    pub stats: Stats,
    pub model: ModelStatus,
    pub busy: bool,
    pub recording: bool,
    /// Repairs made when the library was opened (after a crash), as sentences.
    pub recovery: Vec<String>,
}

/// A recording with its windows (the recording view).
#[derive(Clone, Debug, Serialize)]
pub struct RecordingDetail {
    pub summary: RecordingSummary,
    pub windows: Vec<WindowRow>,
    pub hop_s: f64,
}

/// Versions and attributions for the About box.
#[derive(Clone, Debug, Serialize)]
pub struct About {
    pub app_version: String,
    pub model: String,
    pub model_attribution: String,
    pub model_license_name: String,
    /// Text of the model's licence file, if the model is installed.
    pub model_license_text: Option<String>,
    pub onnxruntime_version: String,
    pub library_dir: PathBuf,
    pub components: Vec<(String, String)>,
}

/// Information about a take that started recording.
#[derive(Clone, Debug, Serialize)]
pub struct RecordStarted {
    pub path: PathBuf,
    pub sample_rate: u32,
}

/// A finished take and, if it was added, the ingest job adding it.
#[derive(Clone, Debug, Serialize)]
pub struct RecordStopped {
    pub take: Take,
    pub job: Option<u64>,
}

/// An open library and everything around it. See the crate documentation.
pub struct Session {
    lib: Arc<Library>,
    config: SessionConfig,
    sink: Arc<dyn EventSink>,
    models: Arc<models::Models>,
    jobs: Arc<jobs::Jobs>,
    tiles: tiles::TileCache,
    player: Playback,
    live: Mutex<Option<live::Live>>,
    preparing: Arc<std::sync::atomic::AtomicBool>,
    /// Ends the background page-cache warm-up started by `open` (set on drop).
    warm_stop: Arc<std::sync::atomic::AtomicBool>,
    rt: tokio::runtime::Runtime,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn parse_verdict(v: &str) -> Result<Verdict> {
    Ok(v.parse::<Verdict>()?)
}

impl Session {
    /// Open (or create) the library and start the ingest queue.
    pub fn open(config: SessionConfig, sink: Arc<dyn EventSink>) -> Result<Session> {
        let lib = if Library::exists(&config.library_dir) {
            Library::open(&config.library_dir)?
        } else {
            Library::create(&config.library_dir, CreateOptions::default())?
        };
        let lib = Arc::new(lib);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(4)
            .thread_name("syrinx-session")
            .enable_time()
            .build()
            .map_err(|e| SessionError::Internal(format!("cannot start the job runtime: {e}")))?;
        let models = Arc::new(models::Models::new(
            config.model_dir.clone(),
            config.ort_dylib.clone(),
            config.threads,
        ));
        let ingest_opts = IngestOptions {
            decoders: config.threads.clamp(1, 4),
            ..IngestOptions::default()
        };
        let jobs = jobs::Jobs::start(
            rt.handle(),
            lib.clone(),
            models.clone(),
            sink.clone(),
            ingest_opts,
        );
        // The first clicks on a large library would otherwise fault the extended codes in from
        // disk one row at a time (measured at 1M after dropping the page cache: first-pass
        // click p99 26-30 ms instead of ~3 ms). One sequential read in the background, at the
        // blocking pool's pace, puts them in the page cache; searches and ingest go on beside it.
        let warm_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        {
            let (lib, stop) = (lib.clone(), warm_stop.clone());
            rt.spawn_blocking(move || {
                if let Err(e) = lib.warm_page_cache(&stop) {
                    eprintln!(
                        "syrinx: could not pre-read the index files (searches still work): {e}"
                    );
                }
            });
        }
        Ok(Session {
            warm_stop,
            tiles: tiles::TileCache::new(config.tile_cache_bytes),
            lib,
            config,
            sink,
            models,
            jobs,
            player: Playback::new(),
            live: Mutex::new(None),
            preparing: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            rt,
        })
    }

    /// The library (for callers that need the full engine API).
    pub fn library(&self) -> &Arc<Library> {
        &self.lib
    }

    /// Totals, model status, what is running.
    pub fn overview(&self) -> Result<Overview> {
        let r = self.lib.recovery();
        let mut recovery = Vec::new();
        if r.orphan_vectors_removed > 0 {
            recovery.push(format!(
                "removed {} vectors left by an interrupted ingest",
                r.orphan_vectors_removed
            ));
        }
        Ok(Overview {
            stats: self.lib.stats()?,
            model: self.models.status(),
            busy: self.jobs.busy(),
            recording: lock(&self.live).is_some(),
            recovery,
        })
    }

    /// Recordings, filtered and sorted.
    pub fn recordings(&self, q: &RecordingsQuery) -> Vec<RecordingSummary> {
        let mut v = self.lib.recording_summaries();
        if let Some(t) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let t = t.to_lowercase();
            v.retain(|r| {
                r.name.to_lowercase().contains(&t)
                    || r.recording
                        .path
                        .to_string_lossy()
                        .to_lowercase()
                        .contains(&t)
                    || r.top_species.as_ref().is_some_and(|s| {
                        s.common.to_lowercase().contains(&t)
                            || s.scientific.to_lowercase().contains(&t)
                    })
            });
        }
        match q.sort.as_deref().unwrap_or("added") {
            "name" => v.sort_by_key(|r| r.name.to_lowercase()),
            "duration" => {
                v.sort_by(|a, b| a.recording.duration_s.total_cmp(&b.recording.duration_s))
            }
            "species" => v.sort_by_key(|r| {
                r.top_species
                    .as_ref()
                    .map(|s| s.common.to_lowercase())
                    .unwrap_or_else(|| "\u{10ffff}".into())
            }),
            _ => v.sort_by_key(|r| (r.recording.added_at, r.recording.id)),
        }
        if q.descending {
            v.reverse();
        }
        v
    }

    /// One recording with its window track.
    pub fn recording(&self, id: i64) -> Result<RecordingDetail> {
        let summary = self
            .lib
            .recording_summaries()
            .into_iter()
            .find(|r| r.recording.id == id)
            .ok_or_else(|| SessionError::Invalid(format!("there is no recording {id}")))?;
        Ok(RecordingDetail {
            windows: self.lib.recording_windows(id)?,
            hop_s: self.lib.settings().hop_s,
            summary,
        })
    }

    /// Remove recordings from the library (their files are not touched).
    pub fn remove_recordings(&self, ids: &[i64]) -> Result<usize> {
        let n = self.lib.remove_recordings(ids)?;
        for id in ids {
            self.tiles.forget(*id);
        }
        self.sink.emit(&SessionEvent::LibraryChanged);
        Ok(n)
    }

    /// A spectrogram tile of a recording.
    pub fn tile(&self, req: &TileRequest) -> Result<Arc<Tile>> {
        let rec = self.lib.recording(req.recording).ok_or_else(|| {
            SessionError::Invalid(format!("there is no recording {}", req.recording))
        })?;
        self.tiles.get_or_compute(&rec.path, req)
    }

    // ---- ingest ------------------------------------------------------------------------------

    /// Queue files and folders for ingest; returns the job id at once (progress comes as events).
    pub fn ingest(&self, inputs: Vec<PathBuf>) -> Result<u64> {
        self.jobs.submit(inputs, &*self.sink)
    }

    /// Cancel an ingest job (queued or running). False if no such job is pending.
    pub fn cancel_ingest(&self, job: u64) -> bool {
        self.jobs.cancel(job)
    }

    /// Known jobs (running, queued, and the last finished ones).
    pub fn jobs(&self) -> Vec<JobInfo> {
        self.jobs.list()
    }

    /// Files that failed to ingest (kept until they are ingested successfully).
    pub fn failed_files(&self) -> Result<Vec<syrinx_library::FailedFile>> {
        Ok(self.lib.failed_files()?)
    }

    // ---- search ------------------------------------------------------------------------------

    fn search_options(&self, r: &SearchRequest) -> Result<SearchOptions> {
        let species = match r.species.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(name) => Some(self.lib.find_species(name).ok_or_else(|| {
                SessionError::Invalid(format!(
                    "unknown species `{name}` (use a scientific or common name from the model's list)"
                ))
            })?),
        };
        let verdict = match r.verdict.as_deref().filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(parse_verdict(v)?),
        };
        if r.k == 0 || r.k > 10_000 {
            return Err(SessionError::Invalid(format!(
                "k = {} (number of results) must be 1..=10000",
                r.k
            )));
        }
        Ok(SearchOptions {
            k: r.k,
            ef: r.ef,
            filter: SearchFilter {
                recordings: r.recordings.clone(),
                folder: r.folder.clone(),
                species,
                min_score: r.min_score.unwrap_or(0.0),
                label: r.label.clone().filter(|l| !l.trim().is_empty()),
                verdict,
                time_range: r.time_range,
            },
            exclude_query_recording: r.exclude_self,
            group: true,
        })
    }

    /// Find similar calls.
    pub fn search(&self, r: &SearchRequest) -> Result<SearchResponse> {
        let opts = self.search_options(r)?;
        let (res, qs, qe) = match &r.query {
            QuerySpec::Click { recording, t_s } => {
                let res = self.lib.search(
                    &Query::Click {
                        recording: *recording,
                        t_s: *t_s,
                    },
                    &opts,
                )?;
                let span = self.span_of(&res.query_vector_ids);
                (res, span.map(|s| s.0), span.map(|s| s.1))
            }
            QuerySpec::Range {
                recording,
                start_s,
                end_s,
            } => {
                let res = self.lib.search(
                    &Query::Range {
                        recording: *recording,
                        start_s: *start_s,
                        end_s: *end_s,
                    },
                    &opts,
                )?;
                (res, Some(*start_s), Some(*end_s))
            }
            QuerySpec::Window { vector_id } => {
                let res = self.lib.search(&Query::Window(*vector_id), &opts)?;
                let span = self.span_of(&res.query_vector_ids);
                (res, span.map(|s| s.0), span.map(|s| s.1))
            }
            QuerySpec::File {
                path,
                start_s,
                end_s,
            } => {
                let range = match (start_s, end_s) {
                    (Some(a), Some(b)) => Some((*a, *b)),
                    _ => None,
                };
                let mut e = self.models.take()?;
                let res = self.lib.search_clip(&mut e, path, range, &opts);
                self.models.give(e);
                (res?, *start_s, *end_s)
            }
            QuerySpec::Live => {
                let samples = {
                    let live = lock(&self.live);
                    let l = live.as_ref().ok_or(SessionError::NotRecording)?;
                    l.last_48k(LIVE_QUERY_S)?
                };
                let mut e = self.models.take()?;
                let res = self.lib.search_samples(&mut e, &samples, &opts);
                self.models.give(e);
                (res?, None, None)
            }
        };
        let labels = self.lib.labels(&LabelFilter::default())?;
        let hits = res
            .hits
            .into_iter()
            .map(|h| {
                let rec = self.lib.recording(h.recording_id);
                let on: Vec<(i64, String, String)> = labels
                    .iter()
                    .filter(|l| {
                        l.recording_id == h.recording_id
                            && l.start_s < h.end_s
                            && l.end_s > h.start_s
                    })
                    .map(|l| (l.id, l.label.clone(), l.verdict.as_str().to_string()))
                    .collect();
                HitRow {
                    name: h
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    duration_s: rec.map(|r| r.duration_s).unwrap_or(0.0),
                    labels: on,
                    hit: h,
                }
            })
            .collect();
        Ok(SearchResponse {
            kind: res.kind,
            query_recording: res.query_recording,
            query_start_s: qs,
            query_end_s: qe,
            hits,
            latency_us: res.latency_us,
        })
    }

    fn span_of(&self, vids: &[u32]) -> Option<(f64, f64)> {
        let first = *vids.first()?;
        let rec = self.lib.window_span(first)?;
        let mut span = (rec.1, rec.2);
        for v in &vids[1..] {
            if let Some((_, a, b)) = self.lib.window_span(*v) {
                span = (span.0.min(a), span.1.max(b));
            }
        }
        Some(span)
    }

    /// Query latency per kind (percentiles and histogram buckets).
    pub fn latency(&self) -> Vec<syrinx_library::LatencySummary> {
        self.lib.latency()
    }

    pub fn reset_latency(&self) {
        self.lib.reset_latency()
    }

    // ---- labels and export -------------------------------------------------------------------

    /// Label a stretch; returns the label id.
    pub fn add_label(&self, r: &LabelRequest) -> Result<i64> {
        let v = parse_verdict(&r.verdict)?;
        Ok(self.lib.add_label(
            &LabelTarget::Range {
                recording: r.recording,
                start_s: r.start_s,
                end_s: r.end_s,
            },
            &r.label,
            v,
            &r.note,
        )?)
    }

    pub fn delete_label(&self, id: i64) -> Result<bool> {
        Ok(self.lib.delete_label(id)?)
    }

    pub fn labels(
        &self,
        label: Option<String>,
        recording: Option<i64>,
    ) -> Result<Vec<syrinx_library::Label>> {
        Ok(self.lib.labels(&LabelFilter {
            label,
            verdict: None,
            recording,
        })?)
    }

    /// Label names with (positive, negative, unsure) counts.
    pub fn label_names(&self) -> Result<Vec<(String, u64, u64, u64)>> {
        Ok(self.lib.label_names()?)
    }

    /// Export a result set (or the windows carrying a label) into a folder; never overwrites.
    pub fn export(&self, r: &ExportRequest) -> Result<ExportReport> {
        let items: Vec<ExportItem> = if r.items.is_empty() {
            match &r.label {
                Some(l) => {
                    let labels = self.labels(Some(l.clone()), None)?;
                    self.lib.label_items(&labels)
                }
                None => {
                    return Err(SessionError::Invalid(
                        "nothing to export: the result set is empty".into(),
                    ))
                }
            }
        } else {
            r.items
                .iter()
                .map(|i| {
                    let rec = self.lib.recording(i.recording_id).ok_or_else(|| {
                        SessionError::Invalid(format!("there is no recording {}", i.recording_id))
                    })?;
                    Ok(ExportItem {
                        recording_id: i.recording_id,
                        path: rec.path,
                        start_s: i.start_s,
                        end_s: i.end_s,
                        scientific: i.scientific.clone(),
                        common: i.common.clone(),
                        score: i.score,
                        similarity: i.similarity,
                        label: i.label.clone(),
                        verdict: i.verdict.clone(),
                        clip: None,
                        spectrogram: None,
                    })
                })
                .collect::<Result<Vec<_>>>()?
        };
        if r.dir.as_os_str().is_empty() {
            return Err(SessionError::Invalid(
                "choose a folder to export into".into(),
            ));
        }
        let formats = ExportFormats {
            csv: r.formats.csv,
            raven: r.formats.raven,
            audacity: r.formats.audacity,
            json: r.formats.json,
            wav_padding_s: r.formats.wav_padding_s,
            png: r.formats.png,
        };
        let base = r.base.clone().unwrap_or_else(|| "syrinx-results".into());
        Ok(self.lib.export(&items, &r.dir, &base, &formats)?)
    }

    // ---- playback ----------------------------------------------------------------------------

    /// Play a stretch of a recording (at most [`MAX_PLAY_S`]); replaces what is playing.
    pub fn play(&self, recording: i64, start_s: f64, end_s: Option<f64>) -> Result<PlaybackState> {
        let rec = self
            .lib
            .recording(recording)
            .ok_or_else(|| SessionError::Invalid(format!("there is no recording {recording}")))?;
        let start = start_s.clamp(0.0, rec.duration_s.max(0.0));
        let end = end_s
            .unwrap_or(rec.duration_s)
            .min(rec.duration_s)
            .min(start + MAX_PLAY_S);
        if end.partial_cmp(&start) != Some(std::cmp::Ordering::Greater) {
            return Err(SessionError::Invalid(format!(
                "nothing to play between {start:.2} s and {end:.2} s"
            )));
        }
        let d = syrinx_audio::decode_range(&rec.path, start, end)?;
        self.player
            .play(d.samples, d.sample_rate, start, recording)?;
        Ok(self.player.state())
    }

    pub fn stop_playback(&self) {
        self.player.stop()
    }

    pub fn playback(&self) -> PlaybackState {
        self.player.state()
    }

    // ---- microphone --------------------------------------------------------------------------

    pub fn input_devices(&self) -> Result<Vec<DeviceInfo>> {
        Ok(syrinx_devices::input_devices()?)
    }

    fn takes_dir(&self) -> PathBuf {
        self.config
            .takes_dir
            .clone()
            .unwrap_or_else(|| self.lib.dir().join("takes"))
    }

    /// Start recording a take from `device` (None: the default input).
    pub fn record_start(&self, device: Option<&str>) -> Result<RecordStarted> {
        let mut live = lock(&self.live);
        if live.is_some() {
            return Err(syrinx_devices::DevicesError::AlreadyRecording.into());
        }
        let dir = self.takes_dir();
        let path = unique_take_path(&dir);
        let rec = Recorder::start(device, &path, 30.0)?;
        let started = RecordStarted {
            path: rec.path().to_path_buf(),
            sample_rate: rec.sample_rate(),
        };
        *live = Some(live::Live::new(rec));
        Ok(started)
    }

    /// Level, elapsed time and new spectrogram columns of the running take.
    pub fn record_poll(&self) -> Result<LiveUpdate> {
        let mut live = lock(&self.live);
        live.as_mut().ok_or(SessionError::NotRecording)?.poll()
    }

    /// Stop the take; with `add`, queue it for ingest (it becomes a recording in the library).
    pub fn record_stop(&self, add: bool) -> Result<RecordStopped> {
        let l = lock(&self.live).take().ok_or(SessionError::NotRecording)?;
        let take = l.recorder.stop()?;
        let job = if add && take.frames > 0 {
            Some(self.ingest(vec![take.path.clone()])?)
        } else {
            None
        };
        Ok(RecordStopped { take, job })
    }

    // ---- model set-up ------------------------------------------------------------------------

    /// Prepare the model and ONNX Runtime in the cache by running the set-up's `prepare-model`
    /// script (bundled with the installed app); its progress lines arrive as
    /// [`SessionEvent::ModelSetup`]. Returns at once; false if a preparation is already running.
    pub fn prepare_model(&self, script: PathBuf) -> Result<bool> {
        if !script.is_file() {
            return Err(SessionError::Invalid(format!(
                "the model set-up script {} is missing: reinstall Syrinx, or run scripts/setup from a checkout",
                script.display()
            )));
        }
        if self
            .preparing
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(false);
        }
        let sink = self.sink.clone();
        let flag = self.preparing.clone();
        self.rt.spawn_blocking(move || {
            let ok = run_script(&script, &*sink);
            flag.store(false, std::sync::atomic::Ordering::SeqCst);
            ok
        });
        Ok(true)
    }

    // ---- about -------------------------------------------------------------------------------

    pub fn about(&self) -> About {
        let status = self.models.status();
        let license_text = status
            .license
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok());
        About {
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            model: "BirdNET v2.4 (BirdNET_GLOBAL_6K_V2.4), 6,522 species, converted to ONNX at install time".into(),
            model_attribution: "BirdNET by the K. Lisa Yang Center for Conservation Bioacoustics, Cornell Lab of Ornithology, and Chemnitz University of Technology (Kahl et al. 2021, Ecological Informatics 61:101236)".into(),
            model_license_name: "CC BY-NC-SA 4.0 (the model); Syrinx itself is MIT OR Apache-2.0".into(),
            model_license_text: license_text,
            onnxruntime_version: syrinx_embed::ORT_VERSION.to_string(),
            library_dir: self.lib.dir().to_path_buf(),
            components: vec![
                ("symphonia".into(), "audio decoding".into()),
                ("libopus (via symphonia-adapter-libopus)".into(), "Opus decoding".into()),
                ("rubato".into(), "resampling".into()),
                ("ONNX Runtime".into(), "inference".into()),
                ("SQLite (rusqlite)".into(), "catalog".into()),
                ("cpal".into(), "microphone and playback".into()),
            ],
        }
    }

    /// Run a future on the session's runtime (for shells without one of their own).
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.rt
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.warm_stop
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.player.stop();
        if let Some(l) = lock(&self.live).take() {
            let _ = l.recorder.stop();
        }
        for j in self.jobs.list() {
            self.jobs.cancel(j.id);
        }
    }
}

/// Run a set-up script, forwarding each output line as an event; true if it succeeded.
fn run_script(script: &Path, sink: &dyn EventSink) -> bool {
    use std::io::BufRead;
    let emit = |line: String, finished: bool, ok: bool| {
        sink.emit(&SessionEvent::ModelSetup { line, finished, ok })
    };
    let child = std::process::Command::new("bash")
        .arg(script)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            emit(
                format!("could not start {}: {e}", script.display()),
                true,
                false,
            );
            return false;
        }
    };
    let out = child.stdout.take();
    let t = std::thread::spawn(move || {
        out.map(|o| {
            std::io::BufReader::new(o)
                .lines()
                .map_while(|l| l.ok())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    });
    if let Some(err) = child.stderr.take() {
        for line in std::io::BufReader::new(err).lines().map_while(|l| l.ok()) {
            emit(line, false, false);
        }
    }
    for line in t.join().unwrap_or_default() {
        emit(line, false, false);
    }
    let ok = child.wait().map(|s| s.success()).unwrap_or(false);
    emit(
        if ok {
            "the model is ready".into()
        } else {
            "preparing the model failed (see the lines above)".into()
        },
        true,
        ok,
    );
    ok
}

fn unique_take_path(dir: &Path) -> PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, mo, d, h, mi, s) = civil(now);
    let stem = format!("take-{y:04}{mo:02}{d:02}-{h:02}{mi:02}{s:02}");
    let mut p = dir.join(format!("{stem}.wav"));
    let mut n = 2;
    while p.exists() {
        p = dir.join(format!("{stem}-{n}.wav"));
        n += 1;
    }
    p
}

/// UTC calendar date and time of unix seconds (Howard Hinnant's days-from-civil inverse).
fn civil(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 { y + 1 } else { y },
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(1_796_083_200), (2026, 12, 1, 0, 0, 0));
        assert_eq!(civil(951_782_400 + 3661), (2000, 2, 29, 1, 1, 1));
    }

    #[test]
    fn opens_a_new_library_and_answers_without_the_model() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = SessionConfig::new(dir.path().join("lib"));
        cfg.model_dir = Some(dir.path().join("no-model"));
        let s = Session::open(cfg, Arc::new(NoEvents)).expect("open");
        let o = s.overview().expect("overview");
        assert_eq!(o.stats.recordings, 0);
        assert!(!o.model.ready);
        assert!(o
            .model
            .error
            .as_deref()
            .unwrap_or("")
            .contains("scripts/setup"));
        assert!(s.recordings(&RecordingsQuery::default()).is_empty());
        let err = s.recording(7).expect_err("no recording 7");
        assert!(err.to_string().contains("no recording 7"));
        let err = s
            .search(&SearchRequest {
                query: QuerySpec::Click {
                    recording: 1,
                    t_s: 0.0,
                },
                k: 10,
                ef: None,
                exclude_self: false,
                species: None,
                min_score: None,
                label: None,
                verdict: None,
                recordings: None,
                folder: None,
                time_range: None,
            })
            .expect_err("empty library");
        assert_eq!(ErrorInfo::from(&err).kind, "invalid", "{err}");
        assert!(s.about().model_attribution.contains("BirdNET"));
    }

    #[test]
    fn a_setup_script_streams_its_lines_and_its_outcome() {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("prep");
        std::fs::write(
            &script,
            "echo '[1/2] one' >&2\necho '[2/2] two' >&2\nexit 3\n",
        )
        .expect("write");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let sink = move |e: &SessionEvent| {
            if let SessionEvent::ModelSetup { line, finished, ok } = e {
                lock(&s2).push((line.clone(), *finished, *ok));
            }
        };
        assert!(!run_script(&script, &sink));
        let v = lock(&seen).clone();
        assert_eq!(v[0].0, "[1/2] one");
        assert_eq!(v[1].0, "[2/2] two");
        let last = v.last().expect("a final event");
        assert!(last.1 && !last.2, "{v:?}");
        std::fs::write(&script, "echo fine\n").expect("write");
        assert!(run_script(&script, &sink));
    }

    #[test]
    fn ingest_without_the_model_fails_with_how_to_fix_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = SessionConfig::new(dir.path().join("lib"));
        cfg.model_dir = Some(dir.path().join("no-model"));
        let (tx, rx) = std::sync::mpsc::channel::<SessionEvent>();
        let tx = Mutex::new(tx);
        let sink = move |e: &SessionEvent| {
            let _ = lock(&tx).send(e.clone());
        };
        let s = Session::open(cfg, Arc::new(sink)).expect("open");
        let job = s.ingest(vec![dir.path().to_path_buf()]).expect("queued");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let ev = rx
                .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
                .expect("an event before the deadline");
            if let SessionEvent::IngestFinished { job: j, error, .. } = ev {
                assert_eq!(j, job);
                let e = error.expect("an error");
                assert_eq!(e.kind, "model");
                assert!(e.message.contains("scripts/setup"), "{}", e.message);
                break;
            }
        }
        assert_eq!(s.jobs()[0].state, JobState::Failed);
    }
}

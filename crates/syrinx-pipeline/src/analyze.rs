use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use syrinx_audio::{AudioInfo, Window, WindowConfig};
use syrinx_embed::{Embedder, SpeciesScore};

use crate::PipelineError;

/// What to compute per window.
#[derive(Debug, Clone, Copy)]
pub struct AnalyzeOptions {
    pub window: WindowConfig,
    /// How many species to keep per window (best first).
    pub top_k: usize,
    /// Keep the raw 6522 logits too (large: 26 KB per window).
    pub keep_logits: bool,
    /// Files decoded at once (each on its own thread). Windows of all files share inference batches, so many
    /// short clips still fill whole batches.
    pub decoders: usize,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            window: WindowConfig::default(),
            top_k: 5,
            keep_logits: false,
            decoders: 1,
        }
    }
}

/// One analysed window.
#[derive(Debug, Clone)]
pub struct AnalyzedWindow {
    pub index: usize,
    pub start_s: f64,
    pub end_s: f64,
    /// Digital silence: not embedded (`embedding` is `None`, `top` is empty).
    pub silent: bool,
    pub embedding: Option<Vec<f32>>,
    pub top: Vec<SpeciesScore>,
    pub logits: Option<Vec<f32>>,
}

/// Progress of one file, reported after every batch.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub windows_done: u64,
    /// Expected total from the header (may be off by one for compressed formats).
    pub windows_total: u64,
    pub seconds_done: f64,
    pub elapsed_s: f64,
}

/// Totals for one file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileSummary {
    pub info: AudioInfo,
    pub windows: u64,
    pub silent_windows: u64,
    pub elapsed_s: f64,
}

/// What [`analyze_files`] reports, in order per file: `Started`, its windows in time order, then `Finished`
/// or `Failed` (after a failure, windows already reported for that file are incomplete: discard them).
#[derive(Debug)]
pub enum FileEvent {
    Started { file: usize, info: AudioInfo },
    Window { file: usize, window: AnalyzedWindow },
    Finished { file: usize, summary: FileSummary },
    Failed { file: usize, error: PipelineError },
}

/// Expected number of windows for a duration (what the windower produces for an exact length).
pub fn expected_windows(duration_s: f64, hop_s: f64) -> u64 {
    if duration_s <= 3.0 {
        1
    } else {
        ((duration_s - 3.0) / hop_s.max(1e-9)).ceil() as u64 + 1
    }
}

enum Msg {
    Started(usize, AudioInfo, Instant),
    Window(usize, Window),
    Done(usize),
    Failed(usize, PipelineError),
}

/// Analyse many files: `opts.decoders` threads decode files in parallel into a bounded channel, and this
/// thread embeds their windows in shared batches. `on_event` sees every file's events in order; returning
/// an error from it stops everything. `cancel` is checked between batches. Returns the number of files that
/// finished.
pub fn analyze_files(
    embedder: &mut Embedder,
    paths: &[PathBuf],
    opts: AnalyzeOptions,
    cancel: &AtomicBool,
    mut on_event: impl FnMut(FileEvent) -> Result<(), PipelineError>,
) -> Result<usize, PipelineError> {
    let batch = embedder.config().windows_per_call();
    let decoders = opts.decoders.clamp(1, paths.len().max(1));
    let (tx, rx) = mpsc::sync_channel::<Msg>(2 * batch);
    let next_file = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);

    std::thread::scope(|scope| -> Result<usize, PipelineError> {
        let mut workers = Vec::with_capacity(decoders);
        for _ in 0..decoders {
            let tx = tx.clone();
            let (next_file, stop) = (&next_file, &stop);
            workers
                .push(scope.spawn(move || decode_worker(paths, opts.window, next_file, stop, tx)));
        }
        drop(tx);
        // `consume` owns the receiver: whatever way it returns, the channel closes and the decoders stop.
        let result = consume(rx, embedder, &opts, batch, cancel, &mut on_event);
        stop.store(true, Ordering::Relaxed);
        let mut panicked = false;
        for w in workers {
            panicked |= w.join().is_err();
        }
        let finished = result?;
        if panicked {
            return Err(PipelineError::DecoderThread);
        }
        Ok(finished)
    })
}

fn decode_worker(
    paths: &[PathBuf],
    window: WindowConfig,
    next_file: &AtomicUsize,
    stop: &AtomicBool,
    tx: mpsc::SyncSender<Msg>,
) {
    loop {
        let file = next_file.fetch_add(1, Ordering::Relaxed);
        if file >= paths.len() || stop.load(Ordering::Relaxed) {
            return;
        }
        let started = Instant::now();
        let mut stream = match syrinx_audio::windows(&paths[file], window) {
            Ok(s) => s,
            Err(e) => {
                if tx.send(Msg::Failed(file, e.into())).is_err() {
                    return;
                }
                continue;
            }
        };
        if tx
            .send(Msg::Started(file, stream.info().clone(), started))
            .is_err()
        {
            return;
        }
        let mut failed = None;
        for item in stream.by_ref() {
            match item {
                Ok(w) => {
                    if tx.send(Msg::Window(file, w)).is_err() {
                        return; // consumer gone: cancelled or failed
                    }
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let msg = match failed {
            Some(e) => Msg::Failed(file, e.into()),
            None => Msg::Done(file),
        };
        if tx.send(msg).is_err() {
            return;
        }
    }
}

struct FileState {
    summary: FileSummary,
    started: Instant,
}

fn consume(
    rx: mpsc::Receiver<Msg>,
    embedder: &mut Embedder,
    opts: &AnalyzeOptions,
    batch: usize,
    cancel: &AtomicBool,
    on_event: &mut impl FnMut(FileEvent) -> Result<(), PipelineError>,
) -> Result<usize, PipelineError> {
    let mut queue: VecDeque<Msg> = VecDeque::new();
    let mut sounding = 0usize;
    let mut files: std::collections::HashMap<usize, FileState> = std::collections::HashMap::new();
    let mut finished = 0usize;
    let mut closed = false;
    while !closed {
        if cancel.load(Ordering::Relaxed) {
            return Err(PipelineError::Cancelled);
        }
        // Gather messages until a batch of sounding windows is ready (silent windows, starts and ends ride
        // along in arrival order; the queue is bounded so a long silent stretch cannot pile up).
        while sounding < batch && queue.len() < 4 * batch {
            match rx.recv() {
                Ok(msg) => {
                    if matches!(&msg, Msg::Window(_, w) if !w.silent) {
                        sounding += 1;
                    }
                    queue.push_back(msg);
                }
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        let refs: Vec<&[f32]> = queue
            .iter()
            .filter_map(|m| match m {
                Msg::Window(_, w) if !w.silent => Some(w.samples.as_slice()),
                _ => None,
            })
            .collect();
        let mut outs = if refs.is_empty() {
            Vec::new()
        } else {
            embedder.embed(&refs)?
        }
        .into_iter();
        drop(refs);
        sounding = 0;
        for msg in queue.drain(..) {
            match msg {
                Msg::Started(file, info, started) => {
                    let summary = FileSummary {
                        info: info.clone(),
                        windows: 0,
                        silent_windows: 0,
                        elapsed_s: 0.0,
                    };
                    files.insert(file, FileState { summary, started });
                    on_event(FileEvent::Started { file, info })?;
                }
                Msg::Window(file, w) => {
                    let window = if w.silent {
                        AnalyzedWindow {
                            index: w.index,
                            start_s: w.start_s,
                            end_s: w.end_s,
                            silent: true,
                            embedding: None,
                            top: Vec::new(),
                            logits: None,
                        }
                    } else {
                        let e = outs.next().ok_or_else(|| {
                            PipelineError::Sink("model returned too few rows".into())
                        })?;
                        AnalyzedWindow {
                            index: w.index,
                            start_s: w.start_s,
                            end_s: w.end_s,
                            silent: false,
                            top: e.top_species(opts.top_k),
                            logits: opts.keep_logits.then_some(e.logits),
                            embedding: Some(e.embedding),
                        }
                    };
                    if let Some(st) = files.get_mut(&file) {
                        st.summary.windows += 1;
                        st.summary.silent_windows += u64::from(w.silent);
                    }
                    on_event(FileEvent::Window { file, window })?;
                }
                Msg::Done(file) => {
                    if let Some(mut st) = files.remove(&file) {
                        st.summary.elapsed_s = st.started.elapsed().as_secs_f64();
                        finished += 1;
                        on_event(FileEvent::Finished {
                            file,
                            summary: st.summary,
                        })?;
                    }
                }
                Msg::Failed(file, error) => {
                    files.remove(&file);
                    on_event(FileEvent::Failed { file, error })?;
                }
            }
        }
    }
    Ok(finished)
}

/// Analyse one file, handing each window to `sink` in order, with `progress` after every batch.
pub fn analyze_file(
    embedder: &mut Embedder,
    path: &Path,
    opts: AnalyzeOptions,
    cancel: &AtomicBool,
    mut progress: impl FnMut(Progress),
    mut sink: impl FnMut(AnalyzedWindow) -> Result<(), PipelineError>,
) -> Result<FileSummary, PipelineError> {
    let started = Instant::now();
    let hop = opts.window.hop_s;
    let paths = [path.to_path_buf()];
    let mut total = 1u64;
    let mut done = 0u64;
    let mut duration = 0.0;
    let mut outcome: Option<Result<FileSummary, PipelineError>> = None;
    let batch = embedder.config().windows_per_call() as u64;
    analyze_files(
        embedder,
        &paths,
        AnalyzeOptions {
            decoders: 1,
            ..opts
        },
        cancel,
        |event| {
            match event {
                FileEvent::Started { info, .. } => {
                    total = expected_windows(info.duration_s, hop);
                    duration = info.duration_s;
                }
                FileEvent::Window { window, .. } => {
                    sink(window)?;
                    done += 1;
                    if done.is_multiple_of(batch) {
                        progress(Progress {
                            windows_done: done,
                            windows_total: total.max(done),
                            seconds_done: (done as f64 * hop).min(duration),
                            elapsed_s: started.elapsed().as_secs_f64(),
                        });
                    }
                }
                FileEvent::Finished { summary, .. } => outcome = Some(Ok(summary)),
                FileEvent::Failed { error, .. } => outcome = Some(Err(error)),
            }
            Ok(())
        },
    )?;
    outcome.unwrap_or(Err(PipelineError::DecoderThread))
}

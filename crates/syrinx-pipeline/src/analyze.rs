use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
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
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            window: WindowConfig::default(),
            top_k: 5,
            keep_logits: false,
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

/// Decode `path` on a helper thread and embed its windows in batches on this thread, handing each window to
/// `sink` in order. `cancel` is checked between batches. Memory is bounded by a few batches of windows.
pub fn analyze_file(
    embedder: &mut Embedder,
    path: &Path,
    opts: AnalyzeOptions,
    cancel: &AtomicBool,
    mut progress: impl FnMut(Progress),
    mut sink: impl FnMut(AnalyzedWindow) -> Result<(), PipelineError>,
) -> Result<FileSummary, PipelineError> {
    let started = Instant::now();
    let stream = syrinx_audio::windows(path, opts.window)?;
    let info = stream.info().clone();
    let hop = opts.window.hop_s.max(1e-9);
    let windows_total = if info.duration_s <= 3.0 {
        1
    } else {
        ((info.duration_s - 3.0) / hop).ceil() as u64 + 1
    };
    let batch = embedder.config().batch_size.max(1);

    // Bounded: the decoder runs at most two batches ahead of the model.
    let (tx, rx) = mpsc::sync_channel::<Result<Window, syrinx_audio::AudioError>>(2 * batch);
    let (recycle_tx, recycle_rx) = mpsc::channel::<Window>();
    let mut summary = FileSummary {
        info,
        windows: 0,
        silent_windows: 0,
        elapsed_s: 0.0,
    };

    std::thread::scope(|scope| -> Result<(), PipelineError> {
        let decoder = scope.spawn(move || {
            let mut stream = stream;
            while let Some(item) = stream.next() {
                let failed = item.is_err();
                if tx.send(item).is_err() || failed {
                    break; // consumer gone (cancel/error) or decode failed
                }
                while let Ok(w) = recycle_rx.try_recv() {
                    stream.recycle(w);
                }
            }
        });
        // `consume` owns the receiver: whatever way it returns, the channel closes and the decoder stops.
        let ctx = Consume {
            batch,
            hop,
            windows_total,
            started,
            top_k: opts.top_k,
            keep_logits: opts.keep_logits,
        };
        let result = consume(
            rx,
            recycle_tx,
            embedder,
            &ctx,
            cancel,
            &mut summary,
            &mut progress,
            &mut sink,
        );
        let joined = decoder.join();
        result?;
        joined.map_err(|_| PipelineError::DecoderThread)
    })?;
    summary.elapsed_s = started.elapsed().as_secs_f64();
    Ok(summary)
}

struct Consume {
    batch: usize,
    hop: f64,
    windows_total: u64,
    started: Instant,
    top_k: usize,
    keep_logits: bool,
}

type WindowResult = Result<Window, syrinx_audio::AudioError>;

#[allow(clippy::too_many_arguments)]
fn consume(
    rx: mpsc::Receiver<WindowResult>,
    recycle_tx: mpsc::Sender<Window>,
    embedder: &mut Embedder,
    ctx: &Consume,
    cancel: &AtomicBool,
    summary: &mut FileSummary,
    progress: &mut impl FnMut(Progress),
    sink: &mut impl FnMut(AnalyzedWindow) -> Result<(), PipelineError>,
) -> Result<(), PipelineError> {
    let mut pending: Vec<Window> = Vec::with_capacity(ctx.batch);
    let mut held_silent: Option<Window> = None;
    let mut finished = false;
    while !finished {
        if cancel.load(Ordering::Relaxed) {
            return Err(PipelineError::Cancelled);
        }
        // Fill one batch of sounding windows. A silent window ends the batch early so that windows reach
        // the sink in order; silent windows are not embedded.
        while pending.len() < ctx.batch {
            match rx.recv() {
                Ok(Ok(w)) if w.silent => {
                    held_silent = Some(w);
                    break;
                }
                Ok(Ok(w)) => pending.push(w),
                Ok(Err(e)) => return Err(e.into()),
                Err(_) => {
                    finished = true;
                    break;
                }
            }
        }
        if !pending.is_empty() {
            let refs: Vec<&[f32]> = pending.iter().map(|w| w.samples.as_slice()).collect();
            let outs = embedder.embed(&refs)?;
            for (w, e) in pending.drain(..).zip(outs) {
                summary.windows += 1;
                sink(AnalyzedWindow {
                    index: w.index,
                    start_s: w.start_s,
                    end_s: w.end_s,
                    silent: false,
                    top: e.top_species(ctx.top_k),
                    logits: ctx.keep_logits.then_some(e.logits),
                    embedding: Some(e.embedding),
                })?;
                let _ = recycle_tx.send(w);
            }
        }
        if let Some(w) = held_silent.take() {
            summary.windows += 1;
            summary.silent_windows += 1;
            sink(silent_window(&w))?;
            let _ = recycle_tx.send(w);
        }
        progress(Progress {
            windows_done: summary.windows,
            windows_total: ctx.windows_total.max(summary.windows),
            seconds_done: (summary.windows as f64 * ctx.hop).min(summary.info.duration_s),
            elapsed_s: ctx.started.elapsed().as_secs_f64(),
        });
    }
    Ok(())
}

fn silent_window(w: &Window) -> AnalyzedWindow {
    AnalyzedWindow {
        index: w.index,
        start_s: w.start_s,
        end_s: w.end_s,
        silent: true,
        embedding: None,
        top: Vec::new(),
        logits: None,
    }
}

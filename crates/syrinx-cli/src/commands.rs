//! The subcommands. Each per-file failure is printed as `file: reason` and counted; the others go on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use indicatif::{ProgressBar, ProgressStyle};
use syrinx_audio::{FreqScale, SpectrogramParams, WindowConfig};
use syrinx_embed::{Embedder, EmbedderConfig, Labels, ModelPaths, EMBEDDING_DIM};
use syrinx_pipeline::{analyze_file, AnalyzeOptions, AnalyzedWindow, PipelineError};
use syrinx_plot::{spectrogram_png, SpectrogramStyle};

use crate::error::CliError;
use syrinx_pipeline::npy::NpyWriter;

pub struct Context {
    pub model_dir: Option<PathBuf>,
    pub ort_lib: Option<PathBuf>,
    pub json: bool,
}

pub struct EmbedArgs {
    pub out_dir: Option<PathBuf>,
    pub hop: f64,
    pub top: usize,
    pub threads: Option<usize>,
    pub batch: usize,
    pub min_score: f32,
}

fn print_json(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
}

pub fn info(ctx: &Context, files: &[PathBuf]) -> Result<usize, CliError> {
    if files.is_empty() {
        return Err(CliError::Usage("give at least one audio file".into()));
    }
    let mut failed = 0;
    for f in files {
        match syrinx_audio::probe(f) {
            Ok(info) if ctx.json => print_json(&serde_json::json!(info)),
            Ok(i) => println!(
                "{}: {} / {}, {} Hz, {} ch{}, {:.3} s{}, {} bytes",
                f.display(),
                i.container,
                i.codec,
                i.sample_rate,
                i.channels,
                i.bits_per_sample
                    .map(|b| format!(", {b}-bit"))
                    .unwrap_or_default(),
                i.duration_s,
                if i.duration_from_header {
                    ""
                } else {
                    " (counted)"
                },
                i.file_size
            ),
            Err(e) => {
                failed += 1;
                eprintln!("{e}");
            }
        }
    }
    Ok(failed)
}

pub fn embed(ctx: &Context, files: &[PathBuf], args: &EmbedArgs) -> Result<usize, CliError> {
    WindowConfig { hop_s: args.hop }.hop_samples()?;
    let paths = ModelPaths::resolve(ctx.model_dir.as_deref(), ctx.ort_lib.as_deref())?;
    let mut config = EmbedderConfig {
        batch_size: args.batch.max(1),
        ..EmbedderConfig::default()
    };
    if let Some(t) = args.threads {
        config.threads = t.max(1);
    }
    let mut embedder = Embedder::load(&paths, config)?;
    let labels = embedder.labels().clone();
    let cancel = AtomicBool::new(false);
    let mut failed = 0;
    for file in files {
        match embed_one(ctx, &mut embedder, &labels, file, args, &cancel) {
            Ok(()) => {}
            Err(e) => {
                failed += 1;
                eprintln!("{}", file_error(file, &e));
            }
        }
    }
    Ok(failed)
}

/// Audio errors already start with the path; others get it prefixed.
fn file_error(file: &Path, e: &PipelineError) -> String {
    match e {
        PipelineError::Audio(a) => a.to_string(),
        other => format!("{}: {other}", file.display()),
    }
}

fn outputs_for(file: &Path, out_dir: Option<&Path>) -> (PathBuf, PathBuf) {
    let stem = file
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "audio".into());
    let dir = out_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| file.parent().unwrap_or(Path::new(".")).to_path_buf());
    (
        dir.join(format!("{stem}.embeddings.npy")),
        dir.join(format!("{stem}.windows.csv")),
    )
}

fn species_text(labels: &Labels, w: &AnalyzedWindow) -> String {
    if w.silent {
        return "(digital silence)".into();
    }
    w.top
        .iter()
        .map(|s| {
            let name = labels
                .get(s.species as usize)
                .map(|l| format!("{} ({})", l.common, l.scientific));
            format!(
                "{} {:.2}",
                name.unwrap_or_else(|| format!("#{}", s.species)),
                s.score
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn embed_one(
    ctx: &Context,
    embedder: &mut Embedder,
    labels: &Labels,
    file: &Path,
    args: &EmbedArgs,
    cancel: &AtomicBool,
) -> Result<(), PipelineError> {
    let (npy_path, csv_path) = outputs_for(file, args.out_dir.as_deref());
    if let Some(dir) = npy_path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| PipelineError::Sink(format!("{}: {e}", dir.display())))?;
    }
    let sink_err = |p: &Path, e: std::io::Error| {
        PipelineError::Sink(format!("cannot write {}: {e}", p.display()))
    };
    let mut npy =
        NpyWriter::create(&npy_path, EMBEDDING_DIM).map_err(|e| sink_err(&npy_path, e))?;
    let csv_tmp = csv_path.with_extension("csv.partial");
    let mut csv = std::io::BufWriter::new(
        std::fs::File::create(&csv_tmp).map_err(|e| sink_err(&csv_tmp, e))?,
    );
    writeln!(csv, "row,start_s,end_s,silent,species,score").map_err(|e| sink_err(&csv_tmp, e))?;

    let bar = if ctx.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} windows {msg} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(
        file.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    let zeros = vec![0f32; EMBEDDING_DIM];
    let opts = AnalyzeOptions {
        window: WindowConfig { hop_s: args.hop },
        top_k: args.top.max(1),
        ..AnalyzeOptions::default()
    };
    let file_label = file.display().to_string();
    let result = analyze_file(
        embedder,
        file,
        opts,
        cancel,
        |p| {
            bar.set_length(p.windows_total);
            bar.set_position(p.windows_done);
            if p.elapsed_s > 0.0 {
                bar.set_message(format!("{:.0}x real time", p.seconds_done / p.elapsed_s));
            }
        },
        |w| {
            let row = w.index;
            npy.push(w.embedding.as_deref().unwrap_or(&zeros))
                .map_err(|e| sink_err(&npy_path, e))?;
            let best = w.top.first();
            let name = best
                .and_then(|s| labels.get(s.species as usize))
                .map(|l| l.scientific.as_str())
                .unwrap_or("");
            writeln!(
                csv,
                "{row},{:.3},{:.3},{},{},{:.4}",
                w.start_s,
                w.end_s,
                w.silent,
                name,
                best.map(|s| s.score).unwrap_or(0.0)
            )
            .map_err(|e| sink_err(&csv_tmp, e))?;
            let best_score = best.map(|s| s.score).unwrap_or(0.0);
            if ctx.json {
                let species: Vec<_> = w
                    .top
                    .iter()
                    .map(|s| {
                        let l = labels.get(s.species as usize);
                        serde_json::json!({
                            "scientific": l.map(|l| l.scientific.clone()),
                            "common": l.map(|l| l.common.clone()),
                            "score": s.score,
                        })
                    })
                    .collect();
                print_json(&serde_json::json!({
                    "file": file_label, "window": row, "start_s": w.start_s, "end_s": w.end_s,
                    "silent": w.silent, "species": species,
                }));
            } else if w.silent || best_score >= args.min_score {
                bar.suspend(|| {
                    println!(
                        "{file_label}\t{:8.2}-{:8.2}\t{}",
                        w.start_s,
                        w.end_s,
                        species_text(labels, &w)
                    )
                });
            }
            Ok(())
        },
    );
    bar.finish_and_clear();
    match result {
        Ok(summary) => {
            let rows = npy.finish().map_err(|e| sink_err(&npy_path, e))?;
            csv.flush().map_err(|e| sink_err(&csv_tmp, e))?;
            drop(csv);
            std::fs::rename(&csv_tmp, &csv_path).map_err(|e| sink_err(&csv_path, e))?;
            let speed = summary.info.duration_s / summary.elapsed_s.max(1e-9);
            if ctx.json {
                print_json(&serde_json::json!({
                    "file": file_label, "done": true, "windows": rows, "silent_windows": summary.silent_windows,
                    "duration_s": summary.info.duration_s, "elapsed_s": summary.elapsed_s,
                    "embeddings": npy_path, "windows_csv": csv_path,
                }));
            } else {
                eprintln!(
                    "{file_label}: {rows} windows ({} silent), {:.1} s of audio in {:.2} s ({speed:.0}x real time) -> {}",
                    summary.silent_windows,
                    summary.info.duration_s,
                    summary.elapsed_s,
                    npy_path.display()
                );
            }
            Ok(())
        }
        Err(e) => {
            drop(npy);
            drop(csv);
            let _ = std::fs::remove_file(npy_path.with_extension("npy.partial"));
            let _ = std::fs::remove_file(&csv_tmp);
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn spectrogram(
    file: &Path,
    out: &Path,
    start: f64,
    end: Option<f64>,
    scale: FreqScale,
    fmin: f32,
    fmax: Option<f32>,
    width: u32,
    height: u32,
) -> Result<usize, CliError> {
    if !(width >= 200 && height >= 120 && width <= 16_384 && height <= 4096) {
        return Err(CliError::Usage(
            "--width must be 200..16384 and --height 120..4096 pixels".into(),
        ));
    }
    let params = SpectrogramParams {
        start_s: start,
        end_s: end,
        // one spectrogram column and row per plot pixel, roughly (axes take ~70 x 60 px)
        width: (width as usize).saturating_sub(80).max(16),
        height: (height as usize).saturating_sub(80).max(16),
        scale,
        f_min: fmin,
        f_max: fmax,
        ..SpectrogramParams::default()
    };
    let spec = syrinx_audio::spectrogram_of_file(file, &params)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let style = SpectrogramStyle {
        width_px: width,
        height_px: height,
        title: format!("{name}  {:.1}-{:.1} s", spec.t0, spec.t1),
        ..SpectrogramStyle::default()
    };
    spectrogram_png(&spec, out, &style)?;
    eprintln!("wrote {}", out.display());
    Ok(0)
}

//! `syrinx library ...`: the library engine (syrinx-library) from the command line.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use syrinx_embed::{Embedder, EmbedderConfig, ModelPaths};
use syrinx_library::{
    CreateOptions, ExportFormats, ExportItem, IngestOptions, LabelFilter, LabelTarget, Library,
    Query, SearchFilter, SearchOptions, SearchResults, Verdict,
};

use crate::commands::Context;
use crate::error::CliError;

#[derive(Args)]
pub struct LibraryArgs {
    /// Library folder [default: $XDG_DATA_HOME/syrinx/library or ~/.local/share/syrinx/library]
    #[arg(long, global = true)]
    library: Option<PathBuf>,
    #[command(subcommand)]
    command: LibCommand,
}

#[derive(Subcommand)]
enum LibCommand {
    /// Create an empty library
    Init {
        /// Seconds between window starts (windows are 3 s long)
        #[arg(long, default_value_t = syrinx_audio::DEFAULT_HOP_S)]
        hop: f64,
        /// Store recordings under this folder by relative path
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Add audio files and folders (recursive); files already in the library are skipped
    Ingest {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Inference threads (default: all cores)
        #[arg(long)]
        threads: Option<usize>,
        /// Windows per inference call, per lane (memory grows with it; speed barely does)
        #[arg(long, default_value_t = syrinx_embed::DEFAULT_BATCH)]
        batch: usize,
        /// Files decoded in parallel
        #[arg(long, default_value_t = 2)]
        decoders: usize,
        /// Commit after this many windows...
        #[arg(long, default_value_t = 8192)]
        commit_windows: usize,
        /// ...or this many seconds
        #[arg(long, default_value_t = 10.0)]
        commit_secs: f64,
    },
    /// Find similar calls
    Search(Box<SearchArgs>),
    /// Add, list or delete labels
    Label {
        #[command(subcommand)]
        command: LabelCommand,
    },
    /// Export labelled selections (or a recording's windows) to CSV / Raven / Audacity / JSON (+ clips)
    Export {
        /// Folder to write into (created; existing files are never overwritten)
        out: PathBuf,
        /// Selections with this label...
        #[arg(long)]
        label: Option<String>,
        /// ...and this verdict
        #[arg(long)]
        verdict: Option<Verdict>,
        #[command(flatten)]
        formats: FormatArgs,
    },
    /// Totals, settings, memory, query latency
    Stats,
    /// List recordings (id, path, status)
    Recordings,
    /// Check catalog and index agree; repair what can be repaired
    Verify {
        /// Only check, change nothing
        #[arg(long)]
        no_repair: bool,
    },
    /// Find moved or renamed audio in a folder by content hash
    Relink { folder: PathBuf },
}

#[derive(Args)]
struct FormatArgs {
    /// Formats to write: csv, raven, audacity, json (comma-separated)
    #[arg(long, value_delimiter = ',', default_value = "csv,raven,audacity,json")]
    formats: Vec<String>,
    /// Write a WAV clip per item with this padding (seconds)
    #[arg(long)]
    wav_pad: Option<f64>,
    /// Write a PNG spectrogram per item
    #[arg(long)]
    png: bool,
    /// Base name of the exported files
    #[arg(long, default_value = "syrinx")]
    name: String,
}

#[derive(Args)]
struct SearchArgs {
    /// Query: a stored window (vector id)
    #[arg(long, group = "query")]
    window: Option<u32>,
    /// Query: a recording (id or path) with --at (click) or --from/--to (range)
    #[arg(long, group = "query")]
    recording: Option<String>,
    #[arg(long)]
    at: Option<f64>,
    #[arg(long)]
    from: Option<f64>,
    #[arg(long)]
    to: Option<f64>,
    /// Query by example: an audio file (need not be in the library); --from/--to cut it
    #[arg(long, group = "query")]
    clip: Option<PathBuf>,
    /// Hits wanted
    #[arg(short, long, default_value_t = 10)]
    k: usize,
    /// Search effort (beam width)
    #[arg(long)]
    ef: Option<usize>,
    /// Only windows whose best species is this (scientific or common name)
    #[arg(long)]
    species: Option<String>,
    #[arg(long, default_value_t = 0.0)]
    min_score: f32,
    /// Only windows with this label
    #[arg(long)]
    label: Option<String>,
    #[arg(long)]
    verdict: Option<Verdict>,
    /// Only these recordings (ids)
    #[arg(long, value_delimiter = ',')]
    only: Vec<i64>,
    /// Only recordings under this folder
    #[arg(long)]
    folder: Option<PathBuf>,
    /// Only windows in this time range of their recording
    #[arg(long, num_args = 2, value_names = ["START", "END"])]
    time_range: Option<Vec<f64>>,
    /// Leave out the query's own recording
    #[arg(long)]
    exclude_self: bool,
    /// Do not group overlapping windows
    #[arg(long)]
    no_group: bool,
    /// Export the hits into this folder
    #[arg(long)]
    export: Option<PathBuf>,
    #[command(flatten)]
    formats: FormatArgs,
    /// Label every hit with this label name (with --label-verdict)
    #[arg(long)]
    label_hits: Option<String>,
    #[arg(long, default_value = "unsure")]
    label_verdict: Verdict,
}

#[derive(Subcommand)]
enum LabelCommand {
    /// Label a window or a time range
    Add {
        #[arg(long)]
        window: Option<u32>,
        /// Recording id or path (with --from/--to)
        #[arg(long)]
        recording: Option<String>,
        #[arg(long)]
        from: Option<f64>,
        #[arg(long)]
        to: Option<f64>,
        #[arg(long)]
        name: String,
        #[arg(long)]
        verdict: Verdict,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List labels
    List {
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        verdict: Option<Verdict>,
    },
    /// Delete a label by id
    Delete { id: i64 },
}

fn out(v: serde_json::Value) {
    line(format_args!("{v}"));
}

/// Print a line to stdout; a closed pipe (`| head`) is not an error.
fn line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{args}");
}

fn load_embedder(
    ctx: &Context,
    threads: Option<usize>,
    batch: usize,
) -> Result<Embedder, CliError> {
    let paths = ModelPaths::resolve(ctx.model_dir.as_deref(), ctx.ort_lib.as_deref())?;
    let mut config = EmbedderConfig {
        batch_size: batch.max(1),
        ..EmbedderConfig::default()
    };
    if let Some(t) = threads {
        config.threads = t.max(1);
    }
    Ok(Embedder::load(&paths, config)?)
}

fn open(dir: &Path) -> Result<Library, CliError> {
    let lib = Library::open(dir)?;
    let r = lib.recovery();
    if r.orphan_vectors_removed > 0 {
        eprintln!(
            "recovered from an interrupted ingest: removed {} uncatalogued vector(s)",
            r.orphan_vectors_removed
        );
    }
    Ok(lib)
}

fn resolve_recording(lib: &Library, s: &str) -> Result<i64, CliError> {
    if let Ok(id) = s.parse::<i64>() {
        if lib.recording(id).is_some() {
            return Ok(id);
        }
    }
    lib.recording_by_path(Path::new(s))
        .map(|r| r.id)
        .ok_or_else(|| CliError::Usage(format!("no recording {s:?} in the library")))
}

fn formats(f: &FormatArgs) -> Result<ExportFormats, CliError> {
    let mut e = ExportFormats {
        csv: false,
        raven: false,
        audacity: false,
        json: false,
        wav_padding_s: f.wav_pad,
        png: f.png,
    };
    for name in &f.formats {
        match name.trim().to_ascii_lowercase().as_str() {
            "csv" => e.csv = true,
            "raven" => e.raven = true,
            "audacity" => e.audacity = true,
            "json" => e.json = true,
            "" | "none" => {}
            other => return Err(CliError::Usage(format!("unknown export format {other:?}"))),
        }
    }
    Ok(e)
}

fn do_export(
    ctx: &Context,
    lib: &Library,
    items: &[ExportItem],
    dir: &Path,
    f: &FormatArgs,
) -> Result<usize, CliError> {
    let rep = lib.export(items, dir, &f.name, &formats(f)?)?;
    if ctx.json {
        out(json!({"export": rep}));
    } else {
        for p in &rep.files {
            eprintln!("wrote {}", p.display());
        }
        for (a, b) in &rep.renamed {
            eprintln!(
                "note: {} exists; wrote {} instead",
                a.display(),
                b.display()
            );
        }
    }
    for (i, e) in &rep.item_errors {
        eprintln!("item {}: {e}", i + 1);
    }
    Ok(rep.item_errors.len())
}

pub fn run(ctx: &Context, args: LibraryArgs) -> Result<usize, CliError> {
    let dir = args.library.unwrap_or_else(Library::default_dir);
    match args.command {
        LibCommand::Init { hop, root } => {
            let lib = Library::create(
                &dir,
                CreateOptions {
                    hop_s: hop,
                    root,
                    ..Default::default()
                },
            )?;
            if ctx.json {
                out(json!({"created": lib.dir(), "settings": lib.settings()}));
            } else {
                eprintln!("created library {}", lib.dir().display());
            }
            Ok(0)
        }
        LibCommand::Ingest {
            paths,
            threads,
            batch,
            decoders,
            commit_windows,
            commit_secs,
        } => {
            if !Library::exists(&dir) {
                Library::create(&dir, CreateOptions::default())?;
                eprintln!("created library {}", dir.display());
            }
            let lib = Arc::new(open(&dir)?);
            let embedder = load_embedder(ctx, threads, batch)?;
            let opts = IngestOptions {
                decoders,
                commit_every_windows: commit_windows.max(1),
                commit_every_s: commit_secs,
                ..Default::default()
            };
            ingest(ctx, &lib, embedder, paths, opts)
        }
        LibCommand::Search(a) => search(ctx, &open(&dir)?, *a),
        LibCommand::Label { command } => {
            let lib = open(&dir)?;
            match command {
                LabelCommand::Add {
                    window,
                    recording,
                    from,
                    to,
                    name,
                    verdict,
                    note,
                } => {
                    let target = match (window, recording, from, to) {
                        (Some(w), None, None, None) => LabelTarget::Window(w),
                        (None, Some(r), Some(a), Some(b)) => LabelTarget::Range {
                            recording: resolve_recording(&lib, &r)?,
                            start_s: a,
                            end_s: b,
                        },
                        _ => {
                            return Err(CliError::Usage(
                                "give --window ID, or --recording R --from A --to B".into(),
                            ))
                        }
                    };
                    let id = lib.add_label(&target, &name, verdict, &note)?;
                    if ctx.json {
                        out(json!({"label_id": id}));
                    } else {
                        eprintln!("label {id} added");
                    }
                }
                LabelCommand::List { name, verdict } => {
                    for l in lib.labels(&LabelFilter {
                        label: name,
                        verdict,
                        recording: None,
                    })? {
                        if ctx.json {
                            out(json!(l));
                        } else {
                            let path = lib
                                .recording(l.recording_id)
                                .map(|r| r.path.display().to_string())
                                .unwrap_or_default();
                            println!(
                                "{}\t{}\t{}\t{:.2}\t{:.2}\t{}\t{}",
                                l.id,
                                l.label,
                                l.verdict.as_str(),
                                l.start_s,
                                l.end_s,
                                path,
                                l.note
                            );
                        }
                    }
                }
                LabelCommand::Delete { id } => {
                    if !lib.delete_label(id)? {
                        return Err(CliError::Usage(format!("no label {id}")));
                    }
                }
            }
            Ok(0)
        }
        LibCommand::Export {
            out: folder,
            label,
            verdict,
            formats,
        } => {
            let lib = open(&dir)?;
            let labels = lib.labels(&LabelFilter {
                label,
                verdict,
                recording: None,
            })?;
            if labels.is_empty() {
                return Err(CliError::Usage("no labels match: nothing to export".into()));
            }
            let items = lib.label_items(&labels);
            do_export(ctx, &lib, &items, &folder, &formats)
        }
        LibCommand::Stats => {
            let lib = open(&dir)?;
            let s = lib.stats()?;
            if ctx.json {
                out(
                    json!({"stats": s, "labels": lib.label_names()?, "failed_files": lib.failed_files()?}),
                );
            } else {
                println!("library        {}", s.dir.display());
                println!(
                    "recordings     {} ({} missing), {:.2} h of audio",
                    s.recordings, s.missing_recordings, s.audio_hours
                );
                println!(
                    "windows        {} ({} silent), vectors live {} / deleted {}",
                    s.windows, s.silent_windows, s.vectors_live, s.vectors_deleted
                );
                println!("labels         {}", s.labels);
                println!("failed files   {}", s.failed_files);
                println!(
                    "model          {} {}",
                    s.settings.model, s.settings.model_hash
                );
                println!(
                    "windows        {} s, hop {} s",
                    s.settings.window_s, s.settings.hop_s
                );
                println!("index          generation {} (catalog says {}), resident {:.1} MB, vectors file {:.1} MB, extended codes {:.1} MB (both mapped)",
                    s.index_generation, s.catalog_index_generation,
                    s.index_memory.resident_bytes as f64 / 1e6, s.index_memory.mapped_vector_bytes as f64 / 1e6,
                    s.index_memory.mapped_excode_bytes as f64 / 1e6);
                println!("catalog        {:.1} MB", s.catalog_bytes as f64 / 1e6);
            }
            Ok(0)
        }
        LibCommand::Recordings => {
            let lib = open(&dir)?;
            for r in lib.recordings() {
                if ctx.json {
                    out(json!(r));
                } else {
                    line(format_args!(
                        "{}\t{}\t{:.2}\t{}\t{}",
                        r.id,
                        r.status,
                        r.duration_s,
                        r.n_windows,
                        r.path.display()
                    ));
                }
            }
            Ok(0)
        }
        LibCommand::Verify { no_repair } => {
            let lib = open(&dir)?;
            let rep = lib.verify(!no_repair)?;
            if ctx.json {
                out(json!({"verify": rep, "recovery": lib.recovery()}));
            } else {
                println!(
                    "{} recordings, {} windows, {} vectors referenced, index: {} live of {} ids",
                    rep.recordings,
                    rep.windows,
                    rep.vectors_referenced,
                    rep.index_live,
                    rep.index_id_bound
                );
                for p in &rep.problems {
                    println!("problem: {p}");
                }
                for p in &rep.repaired {
                    println!("repaired: {p}");
                }
                for p in &rep.missing_files {
                    println!("missing file: {p}");
                }
                println!("{}", if rep.ok { "OK" } else { "NOT OK" });
            }
            if rep.ok {
                Ok(0)
            } else {
                Err(CliError::Usage(
                    "the library is inconsistent (see above)".into(),
                ))
            }
        }
        LibCommand::Relink { folder } => {
            let lib = open(&dir)?;
            let rep = lib.relink(&folder)?;
            if ctx.json {
                out(json!({"relink": rep}));
            } else {
                for (id, a, b) in &rep.relinked {
                    println!("relinked {id}: {a} -> {b}");
                }
                for m in &rep.still_missing {
                    println!("still missing: {m}");
                }
            }
            Ok(rep.still_missing.len())
        }
    }
}

fn ingest(
    ctx: &Context,
    lib: &Arc<Library>,
    embedder: Embedder,
    paths: Vec<PathBuf>,
    opts: IngestOptions,
) -> Result<usize, CliError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| CliError::Usage(format!("cannot start the runtime: {e}")))?;
    let json_mode = ctx.json;
    let (_, report) = rt.block_on(async {
        let mut handle = lib.ingest_async(embedder, paths, opts);
        let bar = if json_mode {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        bar.set_style(
            ProgressStyle::with_template("[{bar:30}] {pos}/{len} files  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let mut last_err = None;
        loop {
            let changed =
                tokio::time::timeout(Duration::from_millis(500), handle.progress.changed()).await;
            if matches!(changed, Ok(Err(_))) {
                break; // sender gone: finished
            }
            let p = handle.progress.borrow_and_update().clone();
            bar.set_length(p.files_total);
            bar.set_position(p.files_done);
            bar.set_message(format!(
                "{} windows, {:.0} win/s, {:.0}x real time, ETA {}  {}",
                p.windows_done,
                p.windows_per_s,
                p.realtime_factor,
                p.eta_s
                    .map(|e| format!("{e:.0}s"))
                    .unwrap_or_else(|| "?".into()),
                p.current_file
                    .as_deref()
                    .and_then(|f| Path::new(f).file_name())
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ));
            if p.last_error != last_err {
                last_err = p.last_error.clone();
            }
            if json_mode && changed.is_ok() {
                println!("{}", json!({"progress": p}));
            }
        }
        bar.finish_and_clear();
        handle.wait().await
    })?;
    let report = report?;
    if ctx.json {
        out(json!({"report": report}));
    } else {
        for f in &report.failed {
            eprintln!("failed: {}: {}", f.path, f.reason);
        }
        eprintln!(
            "added {} file(s) ({} windows, {:.1} s of audio) in {:.1} s ({:.0}x real time, {} commits); skipped {} already present; {} failed{}",
            report.added.len(),
            report.windows,
            report.audio_s,
            report.elapsed_s,
            report.audio_s / report.elapsed_s.max(1e-9),
            report.commits,
            report.skipped.len(),
            report.failed.len(),
            if report.cancelled { " (cancelled: re-run to resume)" } else { "" }
        );
    }
    Ok(report.failed.len())
}

fn search(ctx: &Context, lib: &Library, a: SearchArgs) -> Result<usize, CliError> {
    let species = match &a.species {
        Some(s) => Some(
            lib.find_species(s)
                .ok_or_else(|| CliError::Usage(format!("unknown species {s:?}")))?,
        ),
        None => None,
    };
    let opts = SearchOptions {
        k: a.k,
        ef: a.ef,
        exclude_query_recording: a.exclude_self,
        group: !a.no_group,
        filter: SearchFilter {
            recordings: (!a.only.is_empty()).then(|| a.only.clone()),
            folder: a.folder.clone(),
            species,
            min_score: a.min_score,
            label: a.label.clone(),
            verdict: a.verdict,
            time_range: a.time_range.as_ref().map(|v| (v[0], v[1])),
        },
    };
    let res: SearchResults = if let Some(clip) = &a.clip {
        let mut emb = load_embedder(ctx, None, 16)?;
        let range = match (a.from, a.to) {
            (Some(x), Some(y)) => Some((x, y)),
            _ => None,
        };
        lib.search_clip(&mut emb, clip, range, &opts)?
    } else if let Some(w) = a.window {
        lib.search(&Query::Window(w), &opts)?
    } else if let Some(r) = &a.recording {
        let recording = resolve_recording(lib, r)?;
        match (a.at, a.from, a.to) {
            (Some(t), _, _) => lib.search(&Query::Click { recording, t_s: t }, &opts)?,
            (None, Some(x), Some(y)) => lib.search(
                &Query::Range {
                    recording,
                    start_s: x,
                    end_s: y,
                },
                &opts,
            )?,
            _ => {
                return Err(CliError::Usage(
                    "with --recording give --at T or --from A --to B".into(),
                ))
            }
        }
    } else {
        return Err(CliError::Usage(
            "give --window, --recording (with --at or --from/--to) or --clip".into(),
        ));
    };
    if ctx.json {
        out(json!({"results": res}));
    } else {
        println!(
            "# {:?} query, {} hits in {} µs",
            res.kind,
            res.hits.len(),
            res.latency_us
        );
        for (i, h) in res.hits.iter().enumerate() {
            println!(
                "{:3}  sim {:.3}  {:8.2}-{:8.2}  {}  [{}] {} {:.2}  (window {}, {} in group)",
                i + 1,
                h.similarity,
                h.start_s,
                h.end_s,
                h.path.display(),
                h.recording_id,
                h.common.as_deref().unwrap_or("-"),
                h.score,
                h.vector_id,
                h.members.len()
            );
        }
    }
    if let Some(name) = &a.label_hits {
        for h in &res.hits {
            lib.add_label(&LabelTarget::Window(h.vector_id), name, a.label_verdict, "")?;
        }
        eprintln!(
            "labelled {} hit(s) {name} ({})",
            res.hits.len(),
            a.label_verdict.as_str()
        );
    }
    if let Some(dir) = &a.export {
        let items: Vec<ExportItem> = res.hits.iter().map(ExportItem::from).collect();
        return do_export(ctx, lib, &items, dir, &a.formats);
    }
    Ok(0)
}

//! `bench-ingest DIR... [--lib DIR] [--queries N] [--top-up WINDOWS] [--cold]`: ingest audio into a library
//! and print the end-to-end throughput (decode, embed, index, catalog) as x real time, then time N
//! click queries (single thread, two passes over the same clicks) and print the
//! latency percentiles. Prints figures; never asserts on time.
//!
//! `--top-up WINDOWS` (for the 1M click target of issue 4): after the real ingest, fills the library
//! up to WINDOWS windows with vectors from the generator that matches the real embeddings'
//! statistics (`syrinx_index::synth`), imported through the same crash-safe commit as an ingest onto
//! generated ten-hour FLAC files (1 kHz, a faint distinct tone each, so each has its own hash).
//! With `--lib` in a cache directory the library is kept: a re-run skips the ingest (same content is
//! a no-op) and the top-up (already full), and measures only the queries.
//!
//! Clicks land at uniformly random instants of the whole archive (recordings weighted by duration),
//! so every window is equally likely to be the query, as in the app.

mod generated;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use clap::Parser;
use syrinx_embed::{Embedder, EmbedderConfig, ModelPaths};
use syrinx_library::{CreateOptions, IngestOptions, Library, Query, SearchOptions};

#[derive(Parser)]
struct Args {
    /// Folders or files to ingest for real.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Library folder (kept); default: a temporary one, removed afterwards.
    #[arg(long)]
    lib: Option<PathBuf>,
    /// Click queries per pass.
    #[arg(long, default_value_t = 2000)]
    queries: usize,
    /// Fill the library up to this many windows with generated vectors.
    #[arg(long)]
    top_up: Option<usize>,
    /// Skip reading the extended codes into the page cache before the clicks (the app does it
    /// in the background after opening a library).
    #[arg(long)]
    cold: bool,
}

/// A memory figure of this process from /proc/self/status (`VmHWM:` peak resident set, `RssAnon:`
/// heap and other private memory, `RssFile:` mapped file pages, which are clean and reclaimable), bytes.
fn proc_status(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Print this process's memory now (and its peak so far) under `label`.
fn print_memory(label: &str) {
    println!(
        "{label}: peak RSS {:.1} MB; now {:.1} MB private (RssAnon) + {:.1} MB mapped file pages (RssFile)",
        proc_status("VmHWM:") as f64 / 1e6,
        proc_status("RssAnon:") as f64 / 1e6,
        proc_status("RssFile:") as f64 / 1e6
    );
}

/// Reset the peak-RSS counter (`VmHWM`) to the current RSS (Linux: `5` into `clear_refs`), so a
/// later peak is that of the phase that follows. Returns whether the kernel accepted it.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

const GEN_HOURS: usize = 10;
const GEN_RATE: u32 = 1000;

fn write_tone_flac(path: &Path, k: u64) {
    let wav = path.with_extension("tmp.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: GEN_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).expect("create wav");
    let freq = 50.0 + 0.37 * k as f32;
    for i in 0..GEN_HOURS * 3600 * GEN_RATE as usize {
        let s = 0.001 * (i as f32 * freq * std::f32::consts::TAU / GEN_RATE as f32).sin();
        w.write_sample((s * 32767.0) as i16).expect("write wav");
    }
    w.finalize().expect("finalize wav");
    let st = std::process::Command::new("sox")
        .arg(&wav)
        .arg(path)
        .status()
        .expect("sox (installed by scripts/setup)");
    assert!(st.success(), "sox failed");
    let _ = std::fs::remove_file(&wav);
}

fn top_up(lib: &Library, gen_dir: &Path, target: usize) {
    let have = lib.stats().expect("stats").windows as usize;
    if have >= target {
        return;
    }
    let per_file = GEN_HOURS * 3600 / 3; // the default 3 s hop
    let model = syrinx_index::synth::SynthModel::birdnet_like(1024, 7);
    std::fs::create_dir_all(gen_dir).expect("generated-audio");
    let t = Instant::now();
    let mut left = target - have;
    let mut k = 0u64;
    let mut done = 0usize;
    while left > 0 {
        let f = gen_dir.join(format!("gen-{k:04}.flac"));
        k += 1;
        if lib.recording_by_path(&f).is_some() {
            continue;
        }
        let n = left.min(per_file);
        write_tone_flac(&f, k);
        let v = model.sample(n, 1000 + k);
        let windows = generated::generated_windows(&v, n, k);
        let ti = Instant::now();
        lib.import_recording(&f, windows).expect("import");
        left -= n;
        done += n;
        eprintln!(
            "top-up: {} windows (+{n} in {:.1} s; {:.0} windows/s overall)",
            have + done,
            ti.elapsed().as_secs_f64(),
            done as f64 / t.elapsed().as_secs_f64()
        );
    }
    println!(
        "top-up: {done} generated windows imported in {:.0} s ({:.0} windows/s: index insert + commit + catalog)",
        t.elapsed().as_secs_f64(),
        done as f64 / t.elapsed().as_secs_f64()
    );
}

fn main() {
    let a = Args::parse();
    let tmp = std::env::temp_dir().join(format!("syrinx-bench-ingest-{}", std::process::id()));
    let dir = a.lib.clone().unwrap_or(tmp.clone());
    let t_open = Instant::now();
    let lib = if Library::exists(&dir) {
        Library::open(&dir)
    } else {
        Library::create(&dir, CreateOptions::default())
    }
    .expect("library");
    println!(
        "open: {:.0} ms ({} windows)",
        t_open.elapsed().as_secs_f64() * 1e3,
        lib.stats().map(|s| s.windows).unwrap_or(0)
    );
    let paths = ModelPaths::resolve(None, None).expect("model (run scripts/setup)");
    let mut emb = Embedder::load(&paths, EmbedderConfig::default()).expect("model");
    let t = Instant::now();
    let rep = lib
        .ingest(
            &mut emb,
            &a.inputs,
            &IngestOptions::default(),
            &AtomicBool::new(false),
            None,
        )
        .expect("ingest");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "ingest: {} files, {} windows, {:.1} s audio in {:.2} s = {:.1}x real time, {:.0} windows/s ({} failed, {} skipped, {} commits)",
        rep.added.len(), rep.windows, rep.audio_s, secs, rep.audio_s / secs, rep.windows as f64 / secs,
        rep.failed.len(), rep.skipped.len(), rep.commits
    );
    drop(emb);
    let gen_dir = PathBuf::from(format!("{}-generated-audio", dir.display()));
    if let Some(n) = a.top_up {
        top_up(&lib, &gen_dir, n);
    }
    let recs = lib.recordings();
    if recs.is_empty() {
        return;
    }
    if !a.cold {
        let t = Instant::now();
        let bytes = lib
            .warm_page_cache(&AtomicBool::new(false))
            .expect("warm the page cache");
        println!(
            "warm: read {:.0} MB of index files into the page cache in {:.0} ms (as the app does after opening; --cold skips it)",
            bytes as f64 / 1e6,
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    // Ingest and top-up map and write the float file; the queries alone must fit the budget, so
    // their peak is measured from here.
    print_memory("memory before the queries (after ingest/open)");
    let reset = reset_peak_rss();
    if !reset {
        println!("note: could not reset the peak-RSS counter; the peaks below include the ingest");
    }
    let total: f64 = recs.iter().map(|r| r.duration_s).sum();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut rand01 = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    // The first pass meets the pages as the ingest (or the OS) left them; the second repeats it.
    for pass in ["first pass", "second pass"] {
        lib.reset_latency();
        let mut failed = 0;
        for _ in 0..a.queries {
            let mut at = rand01() * total;
            let mut pick = &recs[0];
            for r in &recs {
                pick = r;
                if at < r.duration_s {
                    break;
                }
                at -= r.duration_s;
            }
            let q = Query::Click {
                recording: pick.id,
                t_s: at.min(pick.duration_s),
            };
            if lib.search(&q, &SearchOptions::default()).is_err() {
                failed += 1; // a silent-only recording: no window to click
            }
        }
        let s = lib.stats().expect("stats");
        for l in lib.latency() {
            println!(
                "{pass}: {:?} queries at {} windows: n={} p50={} µs p90={} µs p99={} µs max={} µs ({failed} without a window)",
                l.kind, s.windows, l.count, l.p50_us, l.p90_us, l.p99_us, l.max_us
            );
        }
        print_memory(&format!("memory after the {pass}"));
    }
    print_memory(if reset {
        "memory of the query phase"
    } else {
        "memory"
    });
    let s = lib.stats().expect("stats");
    let m = &s.index_memory;
    println!(
        "memory: index resident {:.1} MB (codes {:.1}, graph {:.1}, visited {:.1}), mapped vectors {:.1} MB + extended codes {:.1} MB, catalog {:.1} MB; this process: peak RSS {:.1} MB, now {:.1} MB private (RssAnon) + {:.1} MB mapped file pages (RssFile)",
        m.resident_bytes as f64 / 1e6,
        m.codes_bytes as f64 / 1e6,
        m.graph_bytes as f64 / 1e6,
        m.visited_bytes as f64 / 1e6,
        m.mapped_vector_bytes as f64 / 1e6,
        m.mapped_excode_bytes as f64 / 1e6,
        s.catalog_bytes as f64 / 1e6,
        proc_status("VmHWM:") as f64 / 1e6,
        proc_status("RssAnon:") as f64 / 1e6,
        proc_status("RssFile:") as f64 / 1e6
    );
    drop(lib);
    if dir == tmp {
        let _ = std::fs::remove_dir_all(&tmp);
        let _ = std::fs::remove_dir_all(&gen_dir);
    }
}

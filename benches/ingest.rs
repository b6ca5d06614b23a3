//! `bench-ingest DIR... [--lib DIR] [--queries N]`: ingest audio into a fresh library and print the
//! end-to-end throughput (decode, embed, index, catalog) as x real time, then time N click queries
//! (single thread) and print the latency percentiles. Prints figures; never asserts on time.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use syrinx_embed::{Embedder, EmbedderConfig, ModelPaths};
use syrinx_library::{CreateOptions, IngestOptions, Library, Query, SearchOptions};

fn main() {
    let mut inputs = Vec::new();
    let mut lib_dir: Option<PathBuf> = None;
    let mut queries = 2000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lib" => lib_dir = args.next().map(PathBuf::from),
            "--queries" => queries = args.next().and_then(|q| q.parse().ok()).unwrap_or(queries),
            _ => inputs.push(PathBuf::from(a)),
        }
    }
    if inputs.is_empty() {
        eprintln!("usage: bench-ingest DIR... [--lib DIR] [--queries N]");
        std::process::exit(2);
    }
    let tmp = std::env::temp_dir().join(format!("syrinx-bench-ingest-{}", std::process::id()));
    let dir = lib_dir.unwrap_or(tmp.clone());
    let lib = if Library::exists(&dir) {
        Library::open(&dir)
    } else {
        Library::create(&dir, CreateOptions::default())
    }
    .expect("library");
    let paths = ModelPaths::resolve(None, None).expect("model (run scripts/setup)");
    let mut emb = Embedder::load(&paths, EmbedderConfig::default()).expect("model");
    let t = Instant::now();
    let rep = lib
        .ingest(
            &mut emb,
            &inputs,
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
    let recs = lib.recordings();
    if recs.is_empty() {
        return;
    }
    lib.reset_latency();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..queries {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let r = &recs[(x % recs.len() as u64) as usize];
        let t_s = (x >> 20) as f64 % r.duration_s.max(0.1);
        let _ = lib.search(
            &Query::Click {
                recording: r.id,
                t_s,
            },
            &SearchOptions::default(),
        );
    }
    let s = lib.stats().expect("stats");
    for l in lib.latency() {
        println!(
            "{:?} queries at {} windows: n={} p50={} µs p90={} µs p99={} µs max={} µs",
            l.kind, s.windows, l.count, l.p50_us, l.p90_us, l.p99_us, l.max_us
        );
    }
    drop(lib);
    if dir == tmp {
        let _ = std::fs::remove_dir_all(&tmp);
    }
}

//! `bench-index`: benchmark of syrinx-index against exact search (and, via `peers_index.py`,
//! hnswlib / faiss / usearch on the same files and ground truth).
//!
//! Subcommands (see `benches/run_index.sh` for the full pipeline):
//! - `gen`: write seeded BirdNET-like base and query sets (`syrinx_index::synth`) as `.npy`;
//! - `split-real`: split real embeddings into base and held-out queries;
//! - `gt`: exact k-NN ground truth (same metric as the index), cached next to its inputs;
//! - `build`: build and commit an index from a base file (one process: build time, build RSS);
//! - `search`: open the index in a fresh process and sweep `ef` single-threaded
//!   (recall@k, QPS, p50/p99, index resident bytes, VmRSS/VmHWM);
//! - `report`: merge JSON result files (ours and peers') into one table, markdown and a PNG plot.

#[path = "index_io.rs"]
mod index_io;
#[path = "index_report.rs"]
mod index_report;

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use syrinx_index::synth::{RecordingsModel, RecordingsParams, SynthModel};
use syrinx_index::{
    Construction, Index, IndexParams, Metric, Rerank, Rescore, SearchOptions, StoreKind, Traversal,
};

use index_io::{read_f32, read_i32, rss, rss_split, write_f32, write_i32};

fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// One line of results (shared schema with peers_index.py).
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct Row {
    pub system: String,
    pub dataset: String,
    pub n: usize,
    pub nq: usize,
    pub param: String,
    pub recall: f64,
    pub qps: f64,
    /// Latency percentiles; `null` in the JSON (NaN here) where a peer was timed in one call.
    #[serde(deserialize_with = "nan_if_null")]
    pub p50_ms: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub p99_ms: f64,
    pub build_s: f64,
    /// Resident bytes of the index (ours: memory_report().resident_bytes; peers: their own size).
    pub index_bytes: u64,
    /// Peak RSS (VmHWM) of the search process.
    pub hwm_bytes: u64,
    #[serde(default)]
    pub note: String,
}

#[derive(Parser)]
#[command(about = "syrinx-index benchmark")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Generate a BirdNET-like base set and a query set (skipped if the files exist).
    Gen {
        #[arg(long)]
        n: usize,
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        #[arg(long, default_value_t = 1024)]
        dim: usize,
        #[arg(long, default_value_t = 42)]
        model_seed: u64,
        /// recordings (windows grouped in recordings of species, calibrated on the corpus'
        /// neighbourhoods; queries are new windows of base recordings) | mixture (independent
        /// draws from a Gaussian mixture, the first generator: locally far harder than real data)
        #[arg(long, default_value = "recordings")]
        generator: String,
        /// recordings: number of species (default: the model's 256; the calibration against the
        /// corpus used its 34)
        #[arg(long)]
        species: Option<usize>,
        /// recordings: `click` (new windows of recordings in the base, as a click on the library)
        /// or `new` (windows of recordings not in the base, as a query by an outside clip)
        #[arg(long, default_value = "click")]
        query_kind: String,
        #[arg(long)]
        base_out: PathBuf,
        #[arg(long)]
        query_out: PathBuf,
    },
    /// Split real embeddings into base and held-out queries (seeded).
    SplitReal {
        #[arg(long)]
        input: PathBuf,
        #[arg(long, default_value_t = 500)]
        queries: usize,
        #[arg(long)]
        base_out: PathBuf,
        #[arg(long)]
        query_out: PathBuf,
    },
    /// Exact ground truth (cached: skipped when up to date).
    Gt {
        #[arg(long)]
        base: PathBuf,
        #[arg(long)]
        queries: PathBuf,
        #[arg(long, default_value = "cosine")]
        metric: String,
        #[arg(long, default_value_t = 10)]
        k: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Build an index from a base file.
    Build {
        #[arg(long)]
        base: PathBuf,
        #[arg(long)]
        index_dir: PathBuf,
        #[arg(long, default_value = "cosine")]
        metric: String,
        #[arg(long, default_value_t = 16)]
        m: usize,
        #[arg(long, default_value_t = 200)]
        efc: usize,
        #[arg(long, default_value = "f32")]
        store: String,
        /// Bits of the memory-mapped extended codes (4, the index default; 0 = none).
        #[arg(long, default_value_t = 4)]
        ex_bits: u8,
        /// Insert the last `incremental` rows one batch of 1000 at a time after the bulk build
        /// (reports the time per 1000-vector insert).
        #[arg(long, default_value_t = 0)]
        incremental: usize,
        /// Where construction takes its distances from: `codes` (the index default: 1-bit and
        /// extended codes only) or `vectors` (exact distances from the float file).
        #[arg(long, default_value = "codes")]
        construction: String,
    },
    /// Open a built index in this (fresh) process and insert rows of a file in batches of 1000,
    /// committing after each, as an ingest does; prints time per batch and the process's
    /// resident memory split into private and file pages (the float file's pages show there).
    Insert {
        #[arg(long)]
        index_dir: PathBuf,
        #[arg(long)]
        base: PathBuf,
        /// Number of rows (from the start of `base`) to insert.
        #[arg(long, default_value_t = 10000)]
        count: usize,
        #[arg(long, default_value = "codes")]
        construction: String,
    },
    /// Copy an index and renumber the copy's nodes for memory locality (breadth-first over the
    /// graph); writes `OUT.order.u32` (new id -> old id) so `search` checks recall under old ids.
    Reorder {
        #[arg(long)]
        index_dir: PathBuf,
        #[arg(long)]
        out_dir: PathBuf,
    },
    /// Open an index and sweep ef.
    Search {
        #[arg(long)]
        index_dir: PathBuf,
        #[arg(long)]
        queries: PathBuf,
        #[arg(long)]
        gt: PathBuf,
        #[arg(long, default_value_t = 10)]
        k: usize,
        #[arg(long, default_value = "10,16,24,32,48,64,96,128,192,256")]
        ef: String,
        #[arg(long, default_value = "bounded")]
        rerank: String,
        /// estimated | refined
        #[arg(long, default_value = "estimated")]
        traversal: String,
        /// auto (extended codes when the index has them) | vectors (re-score from the float file)
        #[arg(long, default_value = "auto")]
        rescore: String,
        /// refined: multiplier of the 1-bit error bound in the walk's lower bound (index default 1.0)
        #[arg(long)]
        bound_scale: Option<f32>,
        /// Repeat each ef's pass over the queries until this many seconds have passed; QPS is the
        /// median pass (a single pass over a few hundred queries lasts 10-20 ms on small sets).
        #[arg(long, default_value_t = 0.0)]
        min_time: f64,
        /// After timing each ef, search every query again with exact distances for all hits and
        /// report how the default rerank's kept estimates differ (error, order, set).
        #[arg(long)]
        check_order: bool,
        #[arg(long)]
        system: Option<String>,
        #[arg(long)]
        dataset: String,
        #[arg(long)]
        json: PathBuf,
    },
    /// Merge result files into a table, markdown and a plot.
    Report {
        #[arg(long, num_args = 1..)]
        json: Vec<PathBuf>,
        #[arg(long)]
        md: Option<PathBuf>,
        #[arg(long)]
        png: Option<PathBuf>,
        /// Dataset plotted (default: the first one).
        #[arg(long)]
        plot_dataset: Option<String>,
        #[arg(long, default_value = "")]
        preamble: String,
    },
}

fn parse_metric(s: &str) -> Result<Metric, String> {
    match s {
        "cosine" => Ok(Metric::Cosine),
        "ip" | "inner_product" => Ok(Metric::InnerProduct),
        "l2" => Ok(Metric::L2),
        _ => Err(format!("unknown metric {s}")),
    }
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("bench-index: {e}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.cmd {
        Cmd::Gen {
            n,
            queries,
            dim,
            model_seed,
            generator,
            species,
            query_kind,
            base_out,
            query_out,
        } => gen(
            n,
            queries,
            dim,
            model_seed,
            (&generator, species, &query_kind),
            &base_out,
            &query_out,
        ),
        Cmd::SplitReal {
            input,
            queries,
            base_out,
            query_out,
        } => split_real(&input, queries, &base_out, &query_out),
        Cmd::Gt {
            base,
            queries,
            metric,
            k,
            out,
        } => ground_truth(&base, &queries, parse_metric(&metric)?, k, &out),
        Cmd::Build {
            base,
            index_dir,
            metric,
            m,
            efc,
            store,
            ex_bits,
            incremental,
            construction,
        } => build(
            &base,
            &index_dir,
            parse_metric(&metric)?,
            (m, efc),
            &store,
            ex_bits,
            incremental,
            &construction,
        ),
        Cmd::Insert {
            index_dir,
            base,
            count,
            construction,
        } => insert(&index_dir, &base, count, &construction),
        Cmd::Reorder { index_dir, out_dir } => reorder(&index_dir, &out_dir),
        Cmd::Search {
            index_dir,
            queries,
            gt,
            k,
            ef,
            rerank,
            traversal,
            rescore,
            bound_scale,
            min_time,
            check_order,
            system,
            dataset,
            json,
        } => search(
            &index_dir,
            &queries,
            &gt,
            k,
            &ef,
            (&rerank, &traversal, &rescore),
            bound_scale,
            (min_time, check_order),
            system,
            &dataset,
            &json,
        ),
        Cmd::Report {
            json,
            md,
            png,
            plot_dataset,
            preamble,
        } => index_report::report(
            &json,
            md.as_deref(),
            png.as_deref(),
            plot_dataset.as_deref(),
            &preamble,
        ),
    }
}

fn gen(
    n: usize,
    nq: usize,
    dim: usize,
    seed: u64,
    (generator, species, query_kind): (&str, Option<usize>, &str),
    base: &Path,
    query: &Path,
) -> Result<(), String> {
    match generator {
        "mixture" => gen_mixture(n, nq, dim, seed, base, query),
        "recordings" => {
            let mut p = RecordingsParams::birdnet_like(dim);
            if let Some(s) = species {
                p.species = s.max(1);
            }
            let new = match query_kind {
                "click" => false,
                "new" => true,
                k => return Err(format!("unknown --query-kind {k:?} (click | new)")),
            };
            gen_recordings(RecordingsModel::new(p, seed), n, (nq, new), base, query)
        }
        g => Err(format!("unknown --generator {g:?} (recordings | mixture)")),
    }
}

/// Windows of generated recordings; the base's recording ids go to `BASE.recordings.u32`
/// (little-endian u32 per row) for the statistics.
fn gen_recordings(
    model: RecordingsModel,
    n: usize,
    (nq, new_recordings): (usize, bool),
    base: &Path,
    query: &Path,
) -> Result<(), String> {
    let dim = model.dim();
    let (base_seed, query_seed) = (1u64, 2u64);
    for p in [base, query] {
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
        }
    }
    if base.exists() {
        println!("gen: {} exists, kept", base.display());
    } else {
        let t = Instant::now();
        let (rows, recs) = model.sample(n, base_seed);
        write_f32(base, n, dim, &rows)?;
        let bytes: Vec<u8> = recs.iter().flat_map(|r| r.to_le_bytes()).collect();
        std::fs::write(base.with_extension("recordings.u32"), bytes).map_err(|e| e.to_string())?;
        println!(
            "gen: wrote {} ({n} x {dim}, {} recordings) in {:.1}s",
            base.display(),
            recs.last().map_or(0, |r| r + 1),
            t.elapsed().as_secs_f64()
        );
    }
    if query.exists() {
        println!("gen: {} exists, kept", query.display());
    } else {
        let t = Instant::now();
        let (rows, what) = if new_recordings {
            // Another layout seed: recordings (offsets, species draws) the base does not hold.
            (model.sample(nq, query_seed).0, "windows of new recordings")
        } else {
            (
                model.sample_queries(nq, n, base_seed, query_seed),
                "new windows of base recordings",
            )
        };
        write_f32(query, nq, dim, &rows)?;
        println!(
            "gen: wrote {} ({nq} x {dim}: {what}) in {:.1}s",
            query.display(),
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn gen_mixture(
    n: usize,
    nq: usize,
    dim: usize,
    seed: u64,
    base: &Path,
    query: &Path,
) -> Result<(), String> {
    let model = SynthModel::birdnet_like(dim, seed);
    for (path, rows, sseed) in [(base, n, 1u64), (query, nq, 2u64)] {
        if path.exists() {
            println!("gen: {} exists, kept", path.display());
            continue;
        }
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|e| e.to_string())?;
        }
        let t = Instant::now();
        // Generate in chunks to bound memory at 1M rows.
        let mut all = Vec::with_capacity(rows * dim);
        let chunk = 65536;
        let mut start = 0;
        while start < rows {
            let c = chunk.min(rows - start);
            let part = model.sample(c, sseed.wrapping_mul(1_000_003).wrapping_add(start as u64));
            all.extend_from_slice(&part);
            start += c;
        }
        write_f32(path, rows, dim, &all)?;
        println!(
            "gen: wrote {} ({rows} x {dim}) in {:.1}s",
            path.display(),
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn split_real(input: &Path, nq: usize, base: &Path, query: &Path) -> Result<(), String> {
    let m = read_f32(input)?;
    let nq = nq.min(m.rows / 5);
    // Seeded choice of held-out rows (Fisher-Yates prefix on a SplitMix sequence).
    let mut idx: Vec<usize> = (0..m.rows).collect();
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..nq {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let j = i + (z ^ (z >> 31)) as usize % (m.rows - i);
        idx.swap(i, j);
    }
    let (q, b) = idx.split_at(nq);
    let mut b = b.to_vec();
    b.sort_unstable();
    let take = |ids: &[usize]| {
        ids.iter()
            .flat_map(|&i| m.row(i).to_vec())
            .collect::<Vec<f32>>()
    };
    write_f32(base, b.len(), m.cols, &take(&b))?;
    write_f32(query, q.len(), m.cols, &take(q))?;
    println!(
        "split-real: {} base rows, {} held-out queries",
        b.len(),
        q.len()
    );
    Ok(())
}

fn file_stamp(p: &Path) -> String {
    std::fs::metadata(p)
        .map(|m| {
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            format!("{}:{}", m.len(), t)
        })
        .unwrap_or_default()
}

fn ground_truth(
    base: &Path,
    queries: &Path,
    metric: Metric,
    k: usize,
    out: &Path,
) -> Result<(), String> {
    let stamp = format!(
        "{}|{}|{:?}|{k}",
        file_stamp(base),
        file_stamp(queries),
        metric
    );
    let side = out.with_extension("stamp");
    if out.exists() && std::fs::read_to_string(&side).ok().as_deref() == Some(stamp.as_str()) {
        println!("gt: {} up to date", out.display());
        return Ok(());
    }
    let t = Instant::now();
    let mut b = read_f32(base)?;
    let mut q = read_f32(queries)?;
    if b.cols != q.cols {
        return Err("base and queries differ in dimension".into());
    }
    let dim = b.cols;
    if metric == Metric::Cosine {
        for m in [&mut b, &mut q] {
            m.data.par_chunks_mut(dim).for_each(|r| {
                let n = syrinx_index::dot_f32(r, r).sqrt();
                if n > 0.0 {
                    r.iter_mut().for_each(|x| *x /= n);
                }
            });
        }
    }
    let ids: Vec<i32> = (0..q.rows)
        .into_par_iter()
        .flat_map_iter(|qi| {
            let qv = q.row(qi);
            let mut top: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
            for i in 0..b.rows {
                let x = b.row(i);
                let d = match metric {
                    Metric::Cosine => 1.0 - syrinx_index::dot_f32(qv, x),
                    Metric::InnerProduct => -syrinx_index::dot_f32(qv, x),
                    Metric::L2 => syrinx_index::l2sq_f32(qv, x),
                };
                if top.len() < k || d < top[top.len() - 1].0 {
                    let pos = top.partition_point(|e| e.0 <= d);
                    top.insert(pos, (d, i as u32));
                    top.truncate(k);
                }
            }
            let mut r: Vec<i32> = top.iter().map(|e| e.1 as i32).collect();
            r.resize(k, -1);
            r
        })
        .collect();
    write_i32(out, q.rows, k, &ids)?;
    std::fs::write(&side, stamp).map_err(|e| e.to_string())?;
    println!(
        "gt: {} ({} queries, k={k}, {:?}) in {:.1}s",
        out.display(),
        q.rows,
        metric,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

#[derive(Serialize, Deserialize, Default)]
struct BuildInfo {
    n: usize,
    build_s: f64,
    commit_s: f64,
    insert1000_ms: f64,
    resident_bytes: u64,
    mapped_bytes: u64,
    build_hwm: u64,
    m: usize,
    efc: usize,
    store: String,
    #[serde(default)]
    ex_bits: u8,
    #[serde(default)]
    mapped_excode_bytes: u64,
    #[serde(default)]
    construction: String,
}

fn parse_construction(s: &str) -> Result<Construction, String> {
    match s {
        "codes" => Ok(Construction::Codes),
        "vectors" => Ok(Construction::Vectors),
        other => Err(format!(
            "--construction must be codes or vectors, not {other:?}"
        )),
    }
}

fn insert(dir: &Path, base: &Path, count: usize, construction: &str) -> Result<(), String> {
    let cons = parse_construction(construction)?;
    let b = read_f32(base)?;
    let count = count.min(b.rows);
    let t = Instant::now();
    let mut idx = Index::open(dir).map_err(|e| e.to_string())?;
    idx.set_construction(cons);
    let (a0, f0) = rss_split();
    println!(
        "insert: opened {} ({} vectors) in {:.0} ms; RssAnon {:.0} MB, RssFile {:.0} MB; construction from {construction}",
        dir.display(),
        idx.len(),
        t.elapsed().as_secs_f64() * 1e3,
        a0 as f64 / 1e6,
        f0 as f64 / 1e6
    );
    let mut times = Vec::new();
    let mut start = 0;
    while start < count {
        let end = (start + 1000).min(count);
        let t = Instant::now();
        idx.insert_batch(&b.data[start * b.cols..end * b.cols])
            .map_err(|e| e.to_string())?;
        idx.commit().map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        start = end;
    }
    let (a1, f1) = rss_split();
    let (_, hwm) = rss();
    times.sort_by(f64::total_cmp);
    let med = times.get(times.len() / 2).copied().unwrap_or(0.0);
    println!(
        "insert: {count} rows in {} batches of 1000 (insert + commit): median {med:.0} ms, max {:.0} ms; after: RssAnon {:.0} MB, RssFile {:.0} MB, VmHWM {:.0} MB; float file {:.0} MB, extended codes {:.0} MB",
        times.len(),
        times.last().copied().unwrap_or(0.0),
        a1 as f64 / 1e6,
        f1 as f64 / 1e6,
        hwm as f64 / 1e6,
        idx.memory_report().mapped_vector_bytes as f64 / 1e6,
        idx.memory_report().mapped_excode_bytes as f64 / 1e6,
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn build(
    base: &Path,
    dir: &Path,
    metric: Metric,
    (m, efc): (usize, usize),
    store: &str,
    ex_bits: u8,
    incremental: usize,
    construction: &str,
) -> Result<(), String> {
    let cons = match construction {
        "codes" => Construction::Codes,
        "vectors" => Construction::Vectors,
        other => {
            return Err(format!(
                "--construction must be codes or vectors, not {other:?}"
            ))
        }
    };
    let b = read_f32(base)?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let mut p = IndexParams::new(b.cols);
    p.metric = metric;
    p.m = m;
    p.ef_construction = efc;
    p.ex_bits = ex_bits;
    p.store = if store == "f16" {
        StoreKind::F16
    } else {
        StoreKind::F32
    };
    let mut idx = Index::create(dir, p).map_err(|e| e.to_string())?;
    idx.set_construction(cons);
    let bulk = b.rows - incremental.min(b.rows);
    let t = Instant::now();
    idx.insert_batch(&b.data[..bulk * b.cols])
        .map_err(|e| e.to_string())?;
    let build_s = t.elapsed().as_secs_f64();
    let mut ins = Vec::new();
    let mut start = bulk;
    while start < b.rows {
        let end = (start + 1000).min(b.rows);
        let t = Instant::now();
        idx.insert_batch(&b.data[start * b.cols..end * b.cols])
            .map_err(|e| e.to_string())?;
        ins.push(t.elapsed().as_secs_f64() * 1000.0 * 1000.0 / (end - start) as f64);
        start = end;
    }
    let t = Instant::now();
    idx.commit().map_err(|e| e.to_string())?;
    let commit_s = t.elapsed().as_secs_f64();
    let mr = idx.memory_report();
    let info = BuildInfo {
        n: b.rows,
        build_s,
        commit_s,
        insert1000_ms: if ins.is_empty() {
            0.0
        } else {
            ins.iter().sum::<f64>() / ins.len() as f64
        },
        resident_bytes: mr.resident_bytes,
        mapped_bytes: mr.mapped_vector_bytes,
        build_hwm: rss().1,
        m,
        efc,
        store: store.to_string(),
        ex_bits,
        mapped_excode_bytes: mr.mapped_excode_bytes,
        construction: construction.to_string(),
    };
    println!(
        "build: n={} construction from {} bulk {:.1}s ({} threads), commit {:.2}s, insert of 1000 into the built index {:.0} ms, resident {:.1} MB, vectors file {:.1} MB, extended codes {:.1} MB, build VmHWM {:.0} MB",
        info.n,
        construction,
        build_s,
        rayon::current_num_threads(),
        commit_s,
        info.insert1000_ms,
        mr.resident_bytes as f64 / 1e6,
        mr.mapped_vector_bytes as f64 / 1e6,
        mr.mapped_excode_bytes as f64 / 1e6,
        info.build_hwm as f64 / 1e6
    );
    let js = serde_json::to_string_pretty(&info).map_err(|e| e.to_string())?;
    std::fs::write(dir.with_extension("build.json"), js).map_err(|e| e.to_string())
}

fn reorder(src: &Path, out: &Path) -> Result<(), String> {
    if out.exists() {
        return Err(format!("{} exists; remove it first", out.display()));
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let t = Instant::now();
    for e in std::fs::read_dir(src).map_err(|e| format!("{}: {e}", src.display()))? {
        let e = e.map_err(|e| e.to_string())?;
        std::fs::copy(e.path(), out.join(e.file_name())).map_err(|e| e.to_string())?;
    }
    let copy_s = t.elapsed().as_secs_f64();
    let mut idx = Index::open(out).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let map = idx.reorder_for_locality().map_err(|e| e.to_string())?;
    idx.commit().map_err(|e| e.to_string())?;
    let reorder_s = t.elapsed().as_secs_f64();
    let mut order = vec![0u32; map.len()];
    for (old, &new) in map.iter().enumerate() {
        order[new as usize] = old as u32;
    }
    let bytes: Vec<u8> = order.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(out.with_extension("order.u32"), bytes).map_err(|e| e.to_string())?;
    if let Ok(b) = std::fs::read(src.with_extension("build.json")) {
        std::fs::write(out.with_extension("build.json"), b).map_err(|e| e.to_string())?;
    }
    let moved = map
        .iter()
        .enumerate()
        .filter(|(o, &n)| *o as u32 != n)
        .count();
    println!(
        "reorder: {} nodes ({moved} moved) renumbered and rewritten in {reorder_s:.1} s (copy {copy_s:.1} s)",
        map.len()
    );
    Ok(())
}

/// `order[new] = old` written by `reorder`, when the index is a renumbered copy.
fn read_order(dir: &Path) -> Result<Option<Vec<u32>>, String> {
    match std::fs::read(dir.with_extension("order.u32")) {
        Ok(b) => Ok(Some(
            b.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!(
            "{}: {e}",
            dir.with_extension("order.u32").display()
        )),
    }
}

/// How the default rerank's hits differ from those with an exact distance for every hit, over
/// all queries: the kept estimates' error, the positions whose id differs, and whether the sets
/// agree.
fn order_check(
    idx: &Index,
    q: &index_io::Matrix<f32>,
    k: usize,
    bounded: &SearchOptions<'_>,
    exact: &SearchOptions<'_>,
) -> Result<String, String> {
    let metric = idx.params().metric;
    let (mut kept, mut err_sum, mut err_max) = (0usize, 0.0f64, 0.0f32);
    let (mut positions, mut moved, mut queries_moved, mut same_set) =
        (0usize, 0usize, 0usize, 0usize);
    for i in 0..q.rows {
        let b = idx
            .search(q.row(i), k, bounded)
            .map_err(|e| e.to_string())?;
        let e = idx.search(q.row(i), k, exact).map_err(|e| e.to_string())?;
        for h in b.iter().filter(|h| !h.exact) {
            let v = idx.vector(h.id).map_err(|e| e.to_string())?;
            let d = syrinx_index::exact_distance(metric, q.row(i), &v);
            let err = (h.distance - d).abs();
            kept += 1;
            err_sum += err as f64;
            err_max = err_max.max(err);
        }
        let differ = b.iter().zip(&e).filter(|(x, y)| x.id != y.id).count();
        positions += b.len().max(e.len());
        moved += differ + b.len().abs_diff(e.len());
        queries_moved += usize::from(differ > 0);
        let mut ib: Vec<u32> = b.iter().map(|h| h.id).collect();
        let mut ie: Vec<u32> = e.iter().map(|h| h.id).collect();
        ib.sort_unstable();
        ie.sort_unstable();
        same_set += usize::from(ib == ie);
    }
    let n = q.rows.max(1) as f64;
    Ok(format!(
        "{:.1} estimates kept per query, |estimate - exact| mean {:.5} max {:.5}; \
         order differs at {:.2}% of positions ({:.1}% of queries); same top-{k} set in {:.1}% of queries",
        kept as f64 / n,
        err_sum / kept.max(1) as f64,
        err_max,
        100.0 * moved as f64 / positions.max(1) as f64,
        100.0 * queries_moved as f64 / n,
        100.0 * same_set as f64 / n,
    ))
}

#[allow(clippy::too_many_arguments)]
fn search(
    dir: &Path,
    queries: &Path,
    gt: &Path,
    k: usize,
    efs: &str,
    (rerank, traversal, rescore): (&str, &str, &str),
    bound_scale: Option<f32>,
    (min_time, check_order): (f64, bool),
    system: Option<String>,
    dataset: &str,
    json: &Path,
) -> Result<(), String> {
    let info: BuildInfo = std::fs::read_to_string(dir.with_extension("build.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let q = read_f32(queries)?;
    let g = read_i32(gt)?;
    if g.rows != q.rows || g.cols < k {
        return Err("ground truth does not match the queries".into());
    }
    let order = read_order(dir)?;
    let t = Instant::now();
    let idx = Index::open(dir).map_err(|e| e.to_string())?;
    let open_ms = t.elapsed().as_secs_f64() * 1000.0;
    if order.as_ref().is_some_and(|o| o.len() != idx.len()) {
        return Err(format!(
            "{}: id map does not match the index",
            dir.display()
        ));
    }
    let rerank_mode = match rerank {
        "all" => Rerank::All,
        "exact" => Rerank::Exact,
        _ => Rerank::Bounded,
    };
    let trav = if traversal == "refined" {
        Traversal::Refined
    } else {
        Traversal::Estimated
    };
    let resc = if rescore == "vectors" {
        Rescore::Vectors
    } else {
        Rescore::Auto
    };
    // What actually re-scores: the extended codes only if the index has them.
    let uses_ex = info.ex_bits > 0 && resc == Rescore::Auto;
    let system = system.unwrap_or_else(|| {
        format!(
            "syrinx rabitq1{}+{} {traversal} M={} efC={}",
            if uses_ex {
                format!("+ex{}", info.ex_bits)
            } else {
                String::new()
            },
            info.store,
            info.m,
            info.efc
        ) + &bound_scale.map_or(String::new(), |b| format!(" bound x{b}"))
            + match rerank_mode {
                Rerank::Bounded => "",
                Rerank::Exact => " exact distances",
                Rerank::All => " rerank all",
            }
    });
    println!(
        "search: opened {} ({} vectors) in {open_ms:.1} ms",
        dir.display(),
        idx.len()
    );
    let efs: Vec<usize> = efs
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    // Warm-up pass: page the mapped vectors in (peers hold theirs in RAM).
    for i in 0..q.rows {
        let o = SearchOptions {
            ef: efs.last().copied(),
            rerank: rerank_mode,
            traversal: trav,
            rescore: resc,
            bound_scale,
            ..Default::default()
        };
        let _ = idx.search(q.row(i), k, &o);
    }
    let mut rows = Vec::new();
    for &ef in &efs {
        let o = SearchOptions {
            ef: Some(ef),
            rerank: rerank_mode,
            traversal: trav,
            rescore: resc,
            bound_scale,
            ..Default::default()
        };
        let mut lat = Vec::with_capacity(q.rows);
        let mut hits = 0usize;
        let mut work = [0usize; 3];
        // Passes over the whole query set until `min_time`; results are deterministic, so recall
        // and work counts come from the first pass, speed from the median pass.
        let mut pass_s: Vec<f64> = Vec::new();
        let started = Instant::now();
        while pass_s.is_empty() || started.elapsed().as_secs_f64() < min_time {
            let first = pass_s.is_empty();
            let t0 = Instant::now();
            for i in 0..q.rows {
                let t = Instant::now();
                let (res, c) = idx
                    .search_counted(q.row(i), k, &o)
                    .map_err(|e| e.to_string())?;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                if !first {
                    continue;
                }
                work[0] += c.estimated;
                work[1] += c.rescored;
                work[2] += c.exact;
                let truth = &g.row(i)[..k];
                hits += res
                    .iter()
                    .filter(|h| {
                        let id = order.as_ref().map_or(h.id, |o| o[h.id as usize]);
                        truth.contains(&(id as i32))
                    })
                    .count();
            }
            pass_s.push(t0.elapsed().as_secs_f64());
        }
        pass_s.sort_by(|a, b| a.total_cmp(b));
        let total = pass_s[pass_s.len() / 2];
        let passes = pass_s.len();
        let check = if check_order && rerank_mode == Rerank::Bounded {
            let exact_o = SearchOptions {
                rerank: Rerank::Exact,
                ..o
            };
            let c = order_check(&idx, &q, k, &o, &exact_o)?;
            println!("    vs exact distances: {c}");
            format!("; vs exact distances: {c}")
        } else {
            String::new()
        };
        lat.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
        let mr = idx.memory_report();
        let row = Row {
            system: system.clone(),
            dataset: dataset.to_string(),
            n: idx.len(),
            nq: q.rows,
            param: format!("ef={ef}"),
            recall: hits as f64 / (q.rows * k) as f64,
            qps: q.rows as f64 / total,
            p50_ms: pct(0.5),
            p99_ms: pct(0.99),
            build_s: info.build_s,
            index_bytes: mr.resident_bytes,
            hwm_bytes: rss().1,
            note: format!(
                "{passes} pass(es), median; open {open_ms:.0} ms; vectors file {:.0} MB + extended codes {:.0} MB mapped; insert 1000: {:.0} ms; per query: {:.0} estimates, {:.0} re-scored, {:.1} float rows",
                mr.mapped_vector_bytes as f64 / 1e6,
                mr.mapped_excode_bytes as f64 / 1e6,
                info.insert1000_ms,
                work[0] as f64 / q.rows as f64,
                work[1] as f64 / q.rows as f64,
                work[2] as f64 / q.rows as f64,
            ) + &check,
        };
        println!(
            "  {:<40} {:>8} recall {:.4}  QPS {:>8.0}  p50 {:.3} ms  p99 {:.3} ms  per query: {:.0} est, {:.0} re-scored, {:.1} float rows",
            row.system,
            row.param,
            row.recall,
            row.qps,
            row.p50_ms,
            row.p99_ms,
            work[0] as f64 / q.rows as f64,
            work[1] as f64 / q.rows as f64,
            work[2] as f64 / q.rows as f64,
        );
        rows.push(row);
    }
    let (rss_now, hwm) = rss();
    println!(
        "search: resident (index-reported) {:.1} MB; process VmRSS {:.0} MB, VmHWM {:.0} MB",
        idx.memory_report().resident_bytes as f64 / 1e6,
        rss_now as f64 / 1e6,
        hwm as f64 / 1e6
    );
    for r in rows.iter_mut() {
        r.hwm_bytes = hwm;
    }
    let js = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
    std::fs::write(json, js).map_err(|e| e.to_string())
}

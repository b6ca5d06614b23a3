//! bench-embed: end-to-end embedding throughput (decode + resample + window + BirdNET) over the shared corpus,
//! on 1 and 2 threads, against the reference Python path (the TFLite model through the LiteRT interpreter) on
//! the same windows, in the same run. Also: peak memory on a long (default 10 h) generated recording, and a
//! dump of real embeddings for the index benchmark.
//!
//!   bench-embed throughput [--hop 3] [--repeats 3] [--reference-windows 192]
//!   bench-embed long [--hours 10]
//!   bench-embed dump --hop 1 --out FILE.npy        (+ FILE.csv: row, file, species, start_s)
//!   bench-embed overview [--hours 1]               (time to compute a whole-recording spectrogram overview)
//!
//! Figures are medians of `--repeats` runs; nothing here is a pass/fail test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use syrinx_audio::WindowConfig;
use syrinx_embed::{
    cache_dir, Embedder, EmbedderConfig, ModelPaths, EMBEDDING_DIM, WINDOW_SAMPLES,
};
use syrinx_pipeline::npy::NpyWriter;
use syrinx_pipeline::{analyze_files, AnalyzeOptions, FileEvent};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn corpus() -> Option<(PathBuf, Vec<(PathBuf, String)>)> {
    let root = std::env::var_os("SYRINX_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
        .join("birdaudio");
    let mut rdr = csv::Reader::from_path(root.join("MANIFEST.csv")).ok()?;
    let mut files = Vec::new();
    for rec in rdr.records().flatten() {
        let species = rec.get(4).unwrap_or("").to_string();
        files.push((root.join(rec.get(0).unwrap_or("")), species));
    }
    Some((root, files))
}

fn vm_hwm_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.to_string())
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// A session with one batch already run (first calls pay for allocation and kernel selection).
fn load_warm(paths: &ModelPaths, threads: usize, lanes: usize, batch: usize) -> Res<Embedder> {
    let mut embedder = Embedder::load(
        paths,
        EmbedderConfig {
            threads,
            batch_size: batch,
            lanes,
        },
    )?;
    let warm = vec![0.1f32; WINDOW_SAMPLES];
    let refs: Vec<&[f32]> = vec![warm.as_slice(); embedder.config().windows_per_call()];
    embedder.embed(&refs)?;
    Ok(embedder)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("throughput");
    match mode {
        "throughput" => throughput(&args),
        "long" => long(&args),
        "dump" => dump(&args),
        "overview" => overview(&args),
        _ => Err(format!("unknown mode {mode}: throughput | long | dump | overview").into()),
    }
}

struct Run {
    windows: u64,
    audio_s: f64,
    wall_s: f64,
}

fn run_corpus(embedder: &mut Embedder, files: &[PathBuf], hop: f64, decoders: usize) -> Res<Run> {
    let cancel = AtomicBool::new(false);
    let mut windows = 0u64;
    let mut audio_s = 0.0;
    let t = Instant::now();
    let opts = AnalyzeOptions {
        window: WindowConfig { hop_s: hop },
        top_k: 1,
        keep_logits: false,
        decoders,
    };
    analyze_files(embedder, files, opts, &cancel, |ev| {
        match ev {
            FileEvent::Window { .. } => windows += 1,
            FileEvent::Finished { summary, .. } => audio_s += summary.info.duration_s,
            FileEvent::Failed { file, error } => eprintln!("{}: {error}", files[file].display()),
            FileEvent::Started { .. } => {}
        }
        Ok(())
    })?;
    Ok(Run {
        windows,
        audio_s,
        wall_s: t.elapsed().as_secs_f64(),
    })
}

fn throughput(args: &[String]) -> Res<()> {
    let Some((_, files)) = corpus() else {
        println!("SKIPPED: ../shared/birdaudio not found (set SYRINX_SHARED_DIR)");
        return Ok(());
    };
    let files: Vec<PathBuf> = files.into_iter().map(|(p, _)| p).collect();
    let hop: f64 = arg(args, "--hop", 3.0);
    let repeats: usize = arg(args, "--repeats", 3);
    let batch: usize = arg(args, "--batch", syrinx_embed::DEFAULT_BATCH);
    let n_ref: usize = arg(args, "--reference-windows", 192);
    let decoders_arg: usize = arg(args, "--decoders", 2);
    let paths = ModelPaths::resolve(None, None)?;
    println!("# bench-embed throughput: {} files of ../shared/birdaudio, hop {hop} s, batch {batch}, {repeats} repeats (medians)", files.len());
    // (threads, lanes): one thread; two intra-op threads in one call; two single-threaded calls side by side.
    let configs = [(1usize, 1usize), (2, 1), (2, 2)];
    let mut rows = Vec::new();
    for (threads, lanes) in configs {
        let mut embedder = load_warm(&paths, threads, lanes, batch)?;
        for decoders in [decoders_arg] {
            let mut walls = Vec::new();
            let mut last = None;
            for _ in 0..repeats {
                let r = run_corpus(&mut embedder, &files, hop, decoders)?;
                walls.push(r.wall_s);
                last = Some(r);
            }
            let r = last.ok_or("no run")?;
            let wall = median(walls);
            println!(
                "syrinx (ORT {}): threads {threads}, lanes {lanes}, decoders {decoders}: {} windows, {:.0} s audio in {:.2} s = {:.0}x real time, {:.1} windows/s",
                syrinx_embed::ORT_VERSION, r.windows, r.audio_s, wall, r.audio_s / wall, r.windows as f64 / wall
            );
            rows.push((threads, lanes, r.windows, r.audio_s, wall));
        }
    }

    // The same windows through both engines, model only.
    let bench_dir = cache_dir().join("bench");
    std::fs::create_dir_all(&bench_dir)?;
    let win_path = bench_dir.join("reference_windows.npy");
    let mut w = NpyWriter::create(&win_path, WINDOW_SAMPLES)?;
    let mut collected: Vec<Vec<f32>> = Vec::new();
    'files: for f in &files {
        let Ok(stream) = syrinx_audio::windows(f, WindowConfig { hop_s: hop }) else {
            continue;
        };
        for win in stream.flatten() {
            if !win.silent {
                w.push(&win.samples)?;
                collected.push(win.samples);
                if collected.len() >= n_ref {
                    break 'files;
                }
            }
        }
    }
    w.finish()?;
    let refs: Vec<&[f32]> = collected.iter().map(|v| v.as_slice()).collect();
    let mut ours = Vec::new();
    let mut our_emb = Vec::new();
    for (threads, lanes) in configs {
        let mut embedder = load_warm(&paths, threads, lanes, batch)?;
        let mut times = Vec::new();
        for _ in 0..repeats {
            let t = Instant::now();
            our_emb = embedder.embed(&refs)?;
            times.push(t.elapsed().as_secs_f64());
        }
        let m = median(times);
        ours.push((threads, lanes, refs.len() as f64 / m));
    }
    let python =
        Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("setup_reference.sh")).output()?;
    let python = String::from_utf8(python.stdout)?.trim().to_string();
    let tflite = paths
        .model_dir()
        .join("source/BirdNET_GLOBAL_6K_V2.4_Model_FP32.tflite");
    let prefix = bench_dir.join("litert");
    let out = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("reference_litert.py"))
        .arg(&tflite)
        .arg(&win_path)
        .arg(&prefix)
        .args(["--repeats", &repeats.to_string()])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "reference path failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let json: serde_json::Value = serde_json::from_slice(
        out.stdout
            .split(|b| *b == b'\n')
            .rfind(|l| l.starts_with(b"{"))
            .ok_or("no JSON from reference")?,
    )?;
    let bytes = std::fs::read(prefix.with_file_name("litert_embedding.npy"))?;
    let lite = npyz::NpyFile::new(&bytes[..])?.into_vec::<f32>()?;
    let mut min_cos = 1.0f64;
    for (i, e) in our_emb.iter().enumerate() {
        let r = &lite[i * EMBEDDING_DIM..(i + 1) * EMBEDDING_DIM];
        let dot: f64 = e
            .embedding
            .iter()
            .zip(r)
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum();
        let na: f64 = e
            .embedding
            .iter()
            .map(|a| (*a as f64).powi(2))
            .sum::<f64>()
            .sqrt();
        let nb: f64 = r.iter().map(|a| (*a as f64).powi(2)).sum::<f64>().sqrt();
        min_cos = min_cos.min(dot / (na * nb));
    }
    println!("\n# model only, the same {} real windows", refs.len());
    for (t, l, wps) in &ours {
        println!("syrinx ORT batch {batch}: threads {t}, lanes {l}: {wps:.1} windows/s");
    }
    let mut best_ref: std::collections::HashMap<u64, f64> = Default::default();
    for r in json["results"].as_array().ok_or("bad reference JSON")? {
        let t = r["threads"].as_u64().unwrap_or(0);
        let wps = r["windows_per_s"].as_f64().unwrap_or(0.0);
        println!(
            "LiteRT reference batch {}: threads {t}: {wps:.1} windows/s",
            r["batch"]
        );
        let e = best_ref.entry(t).or_insert(0.0);
        *e = e.max(wps);
    }
    println!("min cosine, syrinx vs LiteRT embeddings on these windows: {min_cos:.6}");
    println!("\n| threads | lanes | syrinx end-to-end x real time | windows/s | reference (LiteRT, model only, best batch) windows/s | ratio |");
    println!("|---|---|---|---|---|---|");
    for (t, l, n, audio, wall) in &rows {
        let ref_wps = best_ref.get(&(*t as u64)).copied().unwrap_or(f64::NAN);
        let wps = *n as f64 / wall;
        println!(
            "| {t} | {l} | {:.0}x | {wps:.1} | {ref_wps:.1} | {:.2}x |",
            audio / wall,
            wps / ref_wps
        );
    }
    std::io::stdout().flush()?;
    Ok(())
}

/// Peak memory while decoding and embedding one long recording (generated from the corpus, cached).
fn long(args: &[String]) -> Res<()> {
    let hours: f64 = arg(args, "--hours", 10.0);
    let Some((_, files)) = corpus() else {
        println!("SKIPPED: ../shared/birdaudio not found (set SYRINX_SHARED_DIR)");
        return Ok(());
    };
    let path = cache_dir()
        .join("bench")
        .join(format!("long_{hours}h_16k.wav"));
    // (the overview mode reuses the 10 h file)
    if !path.exists() {
        make_long_wav(&path, &files, hours)?;
    }
    let batch: usize = arg(args, "--batch", syrinx_embed::DEFAULT_BATCH);
    let lanes: usize = arg(args, "--lanes", 2);
    let paths = ModelPaths::resolve(None, None)?;
    let mut embedder = Embedder::load(
        &paths,
        EmbedderConfig {
            threads: 2,
            batch_size: batch,
            lanes,
        },
    )?;
    let before = vm_hwm_mb();
    let t = Instant::now();
    let mut out = NpyWriter::create(
        &cache_dir().join("bench").join("long.embeddings.npy"),
        EMBEDDING_DIM,
    )?;
    let cancel = AtomicBool::new(false);
    let summary = syrinx_pipeline::analyze_file(
        &mut embedder,
        &path,
        AnalyzeOptions::default(),
        &cancel,
        |_| {},
        |w| {
            if let Some(e) = &w.embedding {
                out.push(e)
                    .map_err(|e| syrinx_pipeline::PipelineError::Sink(e.to_string()))?;
            }
            Ok(())
        },
    )?;
    out.finish()?;
    let wall = t.elapsed().as_secs_f64();
    println!(
        "# bench-embed long: {:.1} h (16 kHz mono WAV, {:.2} GB), batch {batch} -> {} windows in {wall:.0} s ({:.0}x real time); peak RSS {:.0} MB (after model load {before:.0} MB)",
        summary.info.duration_s / 3600.0,
        summary.info.file_size as f64 / 1e9,
        summary.windows,
        summary.info.duration_s / wall,
        vm_hwm_mb()
    );
    Ok(())
}

fn make_long_wav(path: &Path, files: &[(PathBuf, String)], hours: f64) -> Res<()> {
    // Corpus recordings end to end, decimated 3:1 (averaged) to 16 kHz 16-bit, looped to the length.
    std::fs::create_dir_all(path.parent().ok_or("no parent")?)?;
    let mut pool: Vec<i16> = Vec::new();
    for (f, _) in files.iter().take(60) {
        if let Ok(d) = syrinx_audio::decode_mono_48k(f) {
            pool.extend(d.samples.chunks(3).map(|c| {
                let m = c.iter().sum::<f32>() / c.len() as f32;
                (m.clamp(-1.0, 1.0) * 32767.0) as i16
            }));
        }
    }
    if pool.is_empty() {
        return Err("no audio decoded for the long file".into());
    }
    let total = (hours * 3600.0 * 16_000.0) as u64;
    let tmp = path.with_extension("wav.partial");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    let data_len = (total * 2) as u32;
    f.write_all(b"RIFF")?;
    f.write_all(&(36 + data_len).to_le_bytes())?;
    f.write_all(b"WAVEfmt ")?;
    f.write_all(&16u32.to_le_bytes())?;
    f.write_all(&1u16.to_le_bytes())?;
    f.write_all(&1u16.to_le_bytes())?;
    f.write_all(&16_000u32.to_le_bytes())?;
    f.write_all(&32_000u32.to_le_bytes())?;
    f.write_all(&2u16.to_le_bytes())?;
    f.write_all(&16u16.to_le_bytes())?;
    f.write_all(b"data")?;
    f.write_all(&data_len.to_le_bytes())?;
    let mut written = 0u64;
    while written < total {
        let n = ((total - written) as usize).min(pool.len());
        for s in &pool[..n] {
            f.write_all(&s.to_le_bytes())?;
        }
        written += n as u64;
    }
    f.flush()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Real embeddings of every sounding window, for the index benchmark and tests.
fn dump(args: &[String]) -> Res<()> {
    let Some((root, files)) = corpus() else {
        println!("SKIPPED: ../shared/birdaudio not found (set SYRINX_SHARED_DIR)");
        return Ok(());
    };
    let hop: f64 = arg(args, "--hop", 1.0);
    let out: PathBuf = arg(
        args,
        "--out",
        cache_dir()
            .join("data")
            .join(format!("birdaudio_windows_hop{hop}.npy")),
    );
    std::fs::create_dir_all(out.parent().ok_or("no parent")?)?;
    let paths = ModelPaths::resolve(None, None)?;
    let mut embedder = Embedder::load(
        &paths,
        EmbedderConfig {
            threads: 2,
            ..EmbedderConfig::default()
        },
    )?;
    let list: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    let mut npy = NpyWriter::create(&out, EMBEDDING_DIM)?;
    let mut csv = std::io::BufWriter::new(std::fs::File::create(out.with_extension("csv"))?);
    writeln!(csv, "row,file,species,start_s")?;
    let cancel = AtomicBool::new(false);
    let opts = AnalyzeOptions {
        window: WindowConfig { hop_s: hop },
        top_k: 1,
        keep_logits: false,
        decoders: 2,
    };
    let t = Instant::now();
    analyze_files(&mut embedder, &list, opts, &cancel, |ev| {
        if let FileEvent::Window { file, window } = ev {
            if let Some(e) = &window.embedding {
                let rel = files[file]
                    .0
                    .strip_prefix(&root)
                    .unwrap_or(&files[file].0)
                    .display()
                    .to_string();
                writeln!(
                    csv,
                    "{},{},{},{:.3}",
                    npy.rows(),
                    rel,
                    files[file].1,
                    window.start_s
                )
                .map_err(|e| syrinx_pipeline::PipelineError::Sink(e.to_string()))?;
                npy.push(e)
                    .map_err(|e| syrinx_pipeline::PipelineError::Sink(e.to_string()))?;
            }
        }
        Ok(())
    })?;
    let rows = npy.finish()?;
    csv.flush()?;
    println!(
        "wrote {rows} embeddings (hop {hop} s) to {} in {:.0} s",
        out.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Time to compute the overview spectrogram (1200 x 256, mel) of the first `--hours` of the long file.
fn overview(args: &[String]) -> Res<()> {
    let hours: f64 = arg(args, "--hours", 1.0);
    let repeats: usize = arg(args, "--repeats", 5);
    let Some((_, files)) = corpus() else {
        println!("SKIPPED: ../shared/birdaudio not found (set SYRINX_SHARED_DIR)");
        return Ok(());
    };
    let path = cache_dir().join("bench").join("long_10h_16k.wav");
    if !path.exists() {
        make_long_wav(&path, &files, 10.0)?;
    }
    for scale in [
        syrinx_audio::FreqScale::Linear,
        syrinx_audio::FreqScale::Mel,
    ] {
        let params = syrinx_audio::SpectrogramParams {
            start_s: 0.0,
            end_s: Some(hours * 3600.0),
            width: 1200,
            height: 256,
            scale,
            ..Default::default()
        };
        let mut times = Vec::new();
        for _ in 0..repeats {
            let t = Instant::now();
            let spec = syrinx_audio::spectrogram_of_file(&path, &params)?;
            times.push(t.elapsed().as_secs_f64());
            std::hint::black_box(spec);
        }
        println!(
            "overview of {hours} h (16 kHz WAV), 1200x256 {scale:?}: median {:.0} ms over {repeats} runs",
            median(times) * 1000.0
        );
    }
    Ok(())
}

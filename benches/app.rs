//! `bench-app [--windows 100000] [--clicks 200] [--opens 5]`: the interaction benchmark in the
//! real window (release build of the app, Xvfb, WebKitWebDriver). Prints figures; never asserts.
//!
//! Prepares once, into `~/.cache/syrinx/bench/app-<windows>/` (never the repository):
//! - `long-1h.wav`: one hour of real audio (the corpus decoded, concatenated and looped), 48 kHz;
//! - a library at the default 3 s hop holding the whole corpus and `long-1h.wav`, ingested for real,
//!   topped up to `--windows` with vectors from the generator that matches the real embeddings'
//!   statistics (`syrinx_index::synth`), imported through the same crash-safe commit as an ingest
//!   onto generated one-hour FLAC files (a faint distinct tone each, so each has its own hash).
//!
//! Then measures, in the window:
//! - time to open the one-hour recording: from the click on its row to every visible spectrogram tile
//!   and the overview drawn, each time in a freshly started app (no cache);
//! - click-to-results: `--clicks` WebDriver pointer clicks on the spectrogram at random times; the
//!   page records from the click handler to the frame after the results are in the DOM.

mod generated;
#[path = "../src-tauri/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use clap::Parser;
use support::desktop;
use support::webdriver::Driver;
use syrinx_embed::{Embedder, EmbedderConfig, ModelPaths};
use syrinx_library::{CreateOptions, IngestOptions, Library};

#[derive(Parser)]
struct Args {
    /// Windows in the benchmark library.
    #[arg(long, default_value_t = 100_000)]
    windows: usize,
    /// Clicks on the spectrogram.
    #[arg(long, default_value_t = 200)]
    clicks: usize,
    /// Fresh app starts for the open-time measurement.
    #[arg(long, default_value_t = 5)]
    opens: usize,
    /// The corpus.
    #[arg(long, default_value = "../shared/birdaudio")]
    corpus: PathBuf,
    /// The app binary (release build).
    #[arg(long, default_value = "target/release/syrinx-app")]
    app: PathBuf,
}

fn pct(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return f64::NAN;
    }
    s[((q * s.len() as f64) as usize).min(s.len() - 1)]
}

fn write_wav(path: &Path, rate: u32, samples: impl Iterator<Item = f32>) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let tmp = path.with_extension("tmp.wav");
    let mut w = hound::WavWriter::create(&tmp, spec).expect("create wav");
    for s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
            .expect("write wav");
    }
    w.finalize().expect("finalize wav");
    std::fs::rename(&tmp, path).expect("rename wav");
}

/// One hour of the corpus at 48 kHz, looped.
fn make_long(corpus: &Path, out: &Path) {
    let mut audio: Vec<f32> = Vec::new();
    let mut rdr = csv::Reader::from_path(corpus.join("MANIFEST.csv")).expect("MANIFEST.csv");
    for rec in rdr.records().flatten() {
        if let Ok(d) = syrinx_audio::decode_mono_48k(corpus.join(&rec[0])) {
            audio.extend_from_slice(&d.samples);
        }
    }
    let n = 3600 * 48_000;
    let len = audio.len().max(1);
    write_wav(out, 48_000, (0..n).map(|i| audio[i % len]));
}

fn prepare(a: &Args, dir: &Path) -> PathBuf {
    let lib_dir = dir.join("library");
    let long = dir.join("long-1h.wav");
    if dir.join("READY").is_file() {
        return long;
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("bench dir");
    eprintln!(
        "preparing {} (once): one hour of corpus audio...",
        dir.display()
    );
    make_long(&a.corpus, &long);
    let lib = Library::create(&lib_dir, CreateOptions::default()).expect("library");
    let paths = ModelPaths::resolve(None, None).expect("model (run scripts/setup)");
    let mut emb = Embedder::load(&paths, EmbedderConfig::default()).expect("model");
    let t = Instant::now();
    let rep = lib
        .ingest(
            &mut emb,
            &[a.corpus.clone(), long.clone()],
            &IngestOptions::default(),
            &AtomicBool::new(false),
            None,
        )
        .expect("ingest");
    eprintln!(
        "ingested {} files, {} windows for real in {:.0} s",
        rep.added.len(),
        rep.windows,
        t.elapsed().as_secs_f64()
    );
    let real = lib.stats().expect("stats").windows as usize;
    let per_file = 1200usize; // one hour at 3 s
    let mut left = a.windows.saturating_sub(real);
    let model = syrinx_index::synth::SynthModel::birdnet_like(1024, 7);
    let mut k = 0u64;
    while left > 0 {
        let n = left.min(per_file);
        let f = dir.join(format!("gen-{k:03}.flac"));
        let wav = dir.join("gen.tmp.wav");
        let freq = 300.0 + 37.0 * k as f32;
        write_wav(
            &wav,
            8000,
            (0..3600 * 8000)
                .map(|i| 0.001 * (i as f32 * freq * std::f32::consts::TAU / 8000.0).sin()),
        );
        let st = std::process::Command::new("sox")
            .arg(&wav)
            .arg(&f)
            .status()
            .expect("sox (installed by scripts/setup)");
        assert!(st.success(), "sox failed");
        let _ = std::fs::remove_file(&wav);
        let v = model.sample(n, 1000 + k);
        let windows = generated::generated_windows(&v, n, k);
        lib.import_recording(&f, windows).expect("import");
        left -= n;
        k += 1;
    }
    let s = lib.stats().expect("stats");
    eprintln!(
        "library: {} recordings, {} windows ({} real, {} generated)",
        s.recordings,
        s.windows,
        real,
        s.windows as usize - real
    );
    drop(lib);
    std::fs::write(dir.join("READY"), format!("{}\n", a.windows)).expect("READY");
    long
}

struct App {
    _x: desktop::Proc,
    _wd: desktop::Proc,
    d: Driver,
}

/// The environment the app runs in under WebDriver.
fn app_env(display: String, lib: &Path) -> Vec<(String, String)> {
    vec![
        ("DISPLAY".to_string(), display),
        ("SYRINX_LIBRARY".to_string(), lib.display().to_string()),
        ("TAURI_WEBVIEW_AUTOMATION".to_string(), "true".to_string()),
        ("GDK_BACKEND".to_string(), "x11".to_string()),
        ("NO_AT_BRIDGE".to_string(), "1".to_string()),
    ]
}

fn start_app(app: &Path, lib: &Path, log: &Path) -> App {
    let (x, display) = desktop::xvfb(1440, 900).expect("Xvfb");
    let envs = app_env(display, lib);
    let (wd, port) = desktop::webdriver(&envs, log).expect("WebKitWebDriver");
    let app = std::fs::canonicalize(app)
        .expect("the app binary (cargo build --release -p syrinx-app --features custom-protocol)");
    let d =
        Driver::start(port, &app.display().to_string(), Duration::from_secs(30)).expect("session");
    d.wait_js(
        "return +document.querySelector('[data-testid=stats]')?.dataset.recordings > 0",
        Duration::from_secs(60),
    )
    .expect("library loaded");
    App { _x: x, _wd: wd, d }
}

const OPEN_JS: &str = r#"
const name = arguments[0];
const row = [...document.querySelectorAll('[data-testid=recording-row]')].find(r => r.dataset.name === name);
if (!row) return -1;
const t0 = performance.now();
row.click();
return new Promise(res => {
  const tick = () => {
    const c = document.querySelector('[data-testid=spectrogram]');
    const v = document.querySelector('[data-testid=recording-view]');
    if (c && v && v.dataset.recording && c.dataset.tilesMissing === '0' && c.dataset.overview === '1') res(performance.now() - t0);
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
});
"#;

fn main() {
    let a = Args::parse();
    let cache = syrinx_embed::cache_dir()
        .join("bench")
        .join(format!("app-{}", a.windows));
    let long = prepare(&a, &cache);
    let lib = cache.join("library");
    let name = long.file_name().unwrap().to_string_lossy().to_string();
    let log = std::env::temp_dir().join("syrinx-bench-app-webdriver.log");
    println!(
        "bench-app: library {} ({} windows), app {}",
        lib.display(),
        a.windows,
        a.app.display()
    );

    // Time to open a one-hour recording, each in a fresh app.
    let mut opens = Vec::new();
    for _ in 0..a.opens {
        let app = start_app(&a.app, &lib, &log);
        app.d
            .exec(
                "const s = document.querySelector('[data-testid=library-search]'); return 1",
                vec![],
            )
            .unwrap();
        // Make sure the row is rendered (the list is windowed): filter by name.
        let search = app.d.find("[data-testid=library-search]").unwrap();
        app.d.send_keys(&search, "long-1h").unwrap();
        app.d
            .wait_js(&format!("return !!document.querySelector(\"[data-testid=recording-row][data-name='{name}']\")"), Duration::from_secs(10))
            .unwrap();
        let ms = app
            .d
            .exec(OPEN_JS, vec![serde_json::json!(name)])
            .unwrap()
            .as_f64()
            .unwrap_or(f64::NAN);
        println!(
            "open 1 h recording (48 kHz WAV): {ms:.0} ms to the first full spectrogram + overview"
        );
        opens.push(ms);
    }

    // Click-to-results with the one-hour recording open.
    let app = start_app(&a.app, &lib, &log);
    let d = &app.d;
    let search = d.find("[data-testid=library-search]").unwrap();
    d.send_keys(&search, "long-1h").unwrap();
    d.wait_js(
        &format!(
            "return !!document.querySelector(\"[data-testid=recording-row][data-name='{name}']\")"
        ),
        Duration::from_secs(10),
    )
    .unwrap();
    d.exec(OPEN_JS, vec![serde_json::json!(name)]).unwrap();
    // Zoom to ~1 minute so clicks land on distinct windows.
    let spec = d.find("[data-testid=spectrogram]").unwrap();
    for _ in 0..6 {
        d.exec(
            "window.dispatchEvent(new CustomEvent('syrinx-view', {detail: 'zoom-in'}))",
            vec![],
        )
        .unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    let rect = d.exec("const r = document.querySelector('[data-testid=spectrogram]').getBoundingClientRect(); return [r.width, r.height];", vec![]).unwrap();
    let (w, h) = (rect[0].as_f64().unwrap(), rect[1].as_f64().unwrap());
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let t = Instant::now();
    for i in 0..a.clicks {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let px = 60.0 + (x % 1000) as f64 / 1000.0 * (w - 70.0);
        d.pointer_at(&spec, px, h * 0.4, None).unwrap();
        let want = i + 1;
        d.wait_js(&format!("return document.querySelector('[data-testid=latency-panel]').dataset.clickToScreen.split(',').filter(Boolean).length >= {want}"), Duration::from_secs(10))
            .unwrap();
        if i % 20 == 19 {
            // scroll on so the clicks cover the hour
            d.exec(
                "window.dispatchEvent(new CustomEvent('syrinx-view', {detail: 'scroll-right'}))",
                vec![],
            )
            .unwrap();
        }
    }
    let wall = t.elapsed().as_secs_f64();
    let c2r: Vec<f64> = d
        .exec(
            "return document.querySelector('[data-testid=latency-panel]').dataset.clickToScreen",
            vec![],
        )
        .unwrap()
        .as_str()
        .unwrap_or("")
        .split(',')
        .filter_map(|v| v.parse().ok())
        .collect();
    let engine = d.exec("return [...document.querySelectorAll('[data-testid=latency-click] td')].map(td => td.textContent)", vec![]).unwrap();
    println!(
        "open 1 h recording: median {:.0} ms, max {:.0} ms over {} fresh starts (target <= 500 ms)",
        pct(&opens, 0.5),
        opens.iter().cloned().fold(f64::NAN, f64::max),
        opens.len()
    );
    println!(
        "click-to-results in the window, {} windows: n={} p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target p95 <= 100 ms); {:.1} s for all clicks incl. WebDriver",
        a.windows,
        c2r.len(),
        pct(&c2r, 0.5),
        pct(&c2r, 0.95),
        pct(&c2r, 0.99),
        c2r.iter().cloned().fold(f64::NAN, f64::max),
        wall
    );
    println!("engine click latency (kind, n, p50, p90, p99, max): {engine}");
    drop(app);

    // Responsiveness while hundreds of files arrive at once: every corpus file queued in one
    // batch (as a drop of that many files would), into a fresh library; the page measures the gaps
    // between animation frames until the batch is done.
    let mut files = Vec::new();
    let mut rdr = csv::Reader::from_path(a.corpus.join("MANIFEST.csv")).expect("MANIFEST.csv");
    for rec in rdr.records().flatten() {
        files.push(
            std::fs::canonicalize(a.corpus.join(&rec[0]))
                .expect("corpus file")
                .display()
                .to_string(),
        );
    }
    let fresh = std::env::temp_dir().join(format!("syrinx-bench-app-drop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&fresh);
    let (x, display) = desktop::xvfb(1440, 900).expect("Xvfb");
    let envs = app_env(display, &fresh);
    let (wd, port) = desktop::webdriver(&envs, &log).expect("WebKitWebDriver");
    let appbin = std::fs::canonicalize(&a.app).expect("app");
    let d = Driver::start(port, &appbin.display().to_string(), Duration::from_secs(30))
        .expect("session");
    d.wait_for("[data-testid=library]", Duration::from_secs(30))
        .expect("window");
    d.set_script_timeout(Duration::from_secs(900))
        .expect("script timeout");
    let gaps = d
        .exec(
            r#"
const files = arguments[0];
const invoke = window.__TAURI_INTERNALS__.invoke;
const gaps = [];
let last = performance.now();
let done = false;
const frame = () => { const t = performance.now(); gaps.push(t - last); last = t; if (!done) requestAnimationFrame(frame); };
requestAnimationFrame(frame);
const t0 = performance.now();
return invoke('ingest', { paths: files }).then(() => new Promise(res => {
  const poll = () => invoke('jobs').then(j => {
    if (j.length && j.every(x => x.state !== 'running' && x.state !== 'queued')) { done = true; res({ gaps, ms: performance.now() - t0 }); }
    else setTimeout(poll, 250);
  });
  poll();
}));
"#,
            vec![serde_json::json!(files)],
        )
        .expect("ingest in the window");
    let g: Vec<f64> = gaps["gaps"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x.as_f64()).collect())
        .unwrap_or_default();
    println!(
        "{} files queued at once (one batch), ingested in {:.1} s while the window kept drawing: frame gaps p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} frames",
        files.len(),
        gaps["ms"].as_f64().unwrap_or(f64::NAN) / 1000.0,
        pct(&g, 0.5),
        pct(&g, 0.99),
        g.iter().cloned().fold(f64::NAN, f64::max),
        g.len()
    );
    drop(d);
    drop(wd);
    drop(x);
    let _ = std::fs::remove_dir_all(&fresh);
}

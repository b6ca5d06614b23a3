//! End to end in the real window: the built app under Xvfb, driven over WebDriver
//! (WebKitWebDriver), with a private PulseAudio server as speaker and microphone.
//!
//! Adds a folder of real recordings (and a broken file) through the Add dialog, opens a
//! recording, clicks a call on its spectrogram, checks the hits' species, plays a hit (and hears
//! it on the sink), labels it, exports the result set (files checked on disk), watches the
//! latency histogram update, records 3+ s from the virtual microphone fed with a known recording
//! and checks the saved take against it, adds a folder and a file through the native GTK folder and
//! file choosers (typed into them over XTest), then drags 500 files onto the window from another X
//! client (real XDND) and checks they are all added while the window keeps answering. Screenshots of each
//! screen go to `target/tmp/e2e/` (and to `$SYRINX_E2E_SCREENSHOTS` if set).

// Skip notes go straight to stderr: libtest captures eprintln!, and a skip must be seen.
use std::io::Write as _;

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::desktop;
use support::webdriver::{Driver, Element};

fn shared_birdaudio() -> Option<PathBuf> {
    let shared = std::env::var_os("SYRINX_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("..")
                .join("shared")
        });
    let d = shared.join("birdaudio");
    d.join("MANIFEST.csv").is_file().then_some(d)
}

struct Shots {
    dirs: Vec<PathBuf>,
    n: usize,
}

impl Shots {
    fn take(&mut self, d: &Driver, name: &str) {
        self.n += 1;
        // Let the page paint what the last command changed (the snapshot is of the painted layer).
        let _ = d.exec(
            "return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(1))))",
            vec![],
        );
        match d.screenshot() {
            Ok(png) => {
                for dir in &self.dirs {
                    let _ = std::fs::create_dir_all(dir);
                    let _ = std::fs::write(dir.join(format!("{:02}-{name}.png", self.n)), &png);
                }
            }
            Err(e) => eprintln!("screenshot {name} failed: {e}"),
        }
    }
}

fn attr_f64(d: &Driver, e: &Element, a: &str) -> f64 {
    d.attr(e, a)
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The library's recording count, as the stats line shows it.
fn recording_count(d: &Driver) -> u64 {
    d.exec(
        "return +document.querySelector('[data-testid=stats]').dataset.recordings",
        vec![],
    )
    .unwrap()
    .as_u64()
    .unwrap_or(0)
}

fn count(d: &Driver, css: &str) -> usize {
    d.find_all(css).map(|v| v.len()).unwrap_or(0)
}

/// Normalised cross-correlation of `a` (shorter) inside `b`: (best lag, correlation).
fn best_alignment(a: &[f32], b: &[f32]) -> (usize, f64) {
    // Coarse search on 8x decimated envelopes-free signals, then exact around the best lag.
    let dec = |x: &[f32]| -> Vec<f32> {
        x.chunks(8)
            .map(|c| c.iter().sum::<f32>() / c.len() as f32)
            .collect()
    };
    let (da, db) = (dec(a), dec(b));
    let ncc = |x: &[f32], y: &[f32], lag: usize| -> f64 {
        let n = x.len().min(y.len().saturating_sub(lag));
        if n == 0 {
            return 0.0;
        }
        let (mut xy, mut xx, mut yy) = (0f64, 0f64, 0f64);
        for i in 0..n {
            let (p, q) = (x[i] as f64, y[lag + i] as f64);
            xy += p * q;
            xx += p * p;
            yy += q * q;
        }
        if xx == 0.0 || yy == 0.0 {
            0.0
        } else {
            xy / (xx.sqrt() * yy.sqrt())
        }
    };
    let mut best = (0usize, f64::MIN);
    for lag in 0..db.len().saturating_sub(da.len() / 2) {
        let c = ncc(&da, &db, lag);
        if c > best.1 {
            best = (lag, c);
        }
    }
    let centre = best.0 * 8;
    let mut fine = (centre, f64::MIN);
    for lag in centre.saturating_sub(16)..=(centre + 16).min(b.len().saturating_sub(1)) {
        let c = ncc(a, b, lag);
        if c > fine.1 {
            fine = (lag, c);
        }
    }
    fine
}

/// A temporary folder kept after the test when SYRINX_E2E_KEEP is set (to read the logs).
struct Keep(Option<tempfile::TempDir>);

impl Keep {
    fn path(&self) -> &Path {
        self.0
            .as_ref()
            .map(|t| t.path())
            .unwrap_or(Path::new("/nonexistent"))
    }
}

impl Drop for Keep {
    fn drop(&mut self) {
        if std::env::var_os("SYRINX_E2E_KEEP").is_some() {
            if let Some(t) = self.0.take() {
                let _ = t.keep();
            }
        }
    }
}

/// Opens the Add dialog, clicks `button` (its data-testid) and answers the native chooser titled
/// `title` with `path`; true once the ingest is done with at least `want` recordings. Typing into
/// another app's dialog can lose keys to its completion: up to three tries.
fn add_through_chooser(
    d: &Driver,
    display: &str,
    (button, title): (&str, &str),
    path: &str,
    want: u64,
) -> bool {
    (1..=3).any(|attempt| {
        d.click_css("[data-testid=open-add]").unwrap();
        d.wait_for(&format!("[data-testid={button}]"), Duration::from_secs(5))
            .unwrap();
        d.click_css(&format!("[data-testid={button}]")).unwrap();
        desktop::answer_file_chooser(display, title, path).expect("the native chooser");
        let ok = d
            .wait_js(
                &format!("return !document.querySelector('[data-testid=job][data-state=running], [data-testid=job][data-state=queued]') && +document.querySelector('[data-testid=stats]').dataset.recordings >= {want}"),
                Duration::from_secs(60),
            )
            .is_ok();
        if !ok {
            eprintln!("{title:?} chooser, try {attempt}: {path} was not added");
            let _ = d.exec("document.querySelector('[data-testid=add-dialog]') && document.querySelector('.scrim').click()", vec![]);
        }
        ok
    })
}

/// `n` clips of 2 s cut from the corpus recordings (largest files first), written as
/// 16-bit WAV files: distinct real audio, like a folder of short detections a user would drop.
fn make_clips(birdaudio: &Path, dir: &Path, n: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let manifest = std::fs::read_to_string(birdaudio.join("MANIFEST.csv")).unwrap();
    let mut rows: Vec<(u64, String)> = manifest
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .map(|p| {
            let size = std::fs::metadata(birdaudio.join(p))
                .map(|m| m.len())
                .unwrap_or(0);
            (size, p.to_string())
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Vec::new();
    // Every clip must be new content for the library (the same audio twice is skipped, by design):
    // corpora can hold one recording under two names, so equal clips are dropped here.
    let mut seen = std::collections::HashSet::new();
    for (_, rel) in rows {
        let Ok(a) = syrinx_audio::decode_mono_48k(birdaudio.join(&rel)) else {
            continue;
        };
        for (i, c) in a.samples.chunks_exact(96_000).enumerate() {
            if out.len() == n {
                return out;
            }
            let pcm: Vec<i16> = c
                .iter()
                .map(|v| (v.clamp(-1.0, 1.0) * 32767.0) as i16)
                .collect();
            let digest = {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                pcm.hash(&mut h);
                h.finish()
            };
            if pcm.iter().all(|&v| v == 0) || !seen.insert(digest) {
                continue;
            }
            let p = dir.join(format!("clip-{:03}-{i:03}.wav", out.len()));
            let mut w = hound::WavWriter::create(&p, spec).unwrap();
            for v in pcm {
                w.write_sample(v).unwrap();
            }
            w.finalize().unwrap();
            out.push(p);
        }
    }
    out
}

#[test]
fn app_end_to_end() {
    let Some(birdaudio) = shared_birdaudio() else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED app_end_to_end: ../shared/birdaudio not found (set SYRINX_SHARED_DIR)"
        );
        return;
    };
    if std::env::var("SYRINX_SKIP_E2E").as_deref() == Ok("1") {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED app_end_to_end: SYRINX_SKIP_E2E=1"
        );
        return;
    }
    for tool in [
        "Xvfb",
        "WebKitWebDriver",
        "pulseaudio",
        "pactl",
        "paplay",
        "parec",
        "xdotool",
    ] {
        assert!(
            desktop::which(tool).is_some(),
            "{tool} is not installed: run scripts/setup (it installs the desktop test tools)"
        );
    }
    if let Err(e) = syrinx_embed::ModelPaths::resolve(None, None) {
        panic!("the model is needed for the end-to-end test: {e}");
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    if std::env::var_os("SYRINX_E2E_KEEP").is_some() {
        eprintln!("keeping {}", tmp.path().display());
    }
    let tmp = Keep(Some(tmp));
    let lib_dir = tmp.path().join("library");
    let export_dir = tmp.path().join("export");
    let mut shots = Shots {
        dirs: [
            Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e")),
            std::env::var_os("SYRINX_E2E_SCREENSHOTS").map(PathBuf::from),
        ]
        .into_iter()
        .flatten()
        .collect(),
        n: 0,
    };
    // A broken file beside the real ones: it must be listed with its reason, not stop the rest.
    let bad_dir = tmp.path().join("incoming");
    std::fs::create_dir_all(&bad_dir).unwrap();
    std::fs::write(
        bad_dir.join("broken.mp3"),
        (0..20_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let corpus = birdaudio.join("bird-radio");

    let (_x, display) = desktop::xvfb(1440, 900).expect("Xvfb");
    let (_pa, pulse) = desktop::pulseaudio(&tmp.path().join("pulse")).expect("pulseaudio");
    let envs: Vec<(String, String)> = vec![
        ("DISPLAY".into(), display.clone()),
        ("PULSE_SERVER".into(), pulse.clone()),
        ("SYRINX_LIBRARY".into(), lib_dir.display().to_string()),
        ("TAURI_WEBVIEW_AUTOMATION".into(), "true".into()),
        ("GDK_BACKEND".into(), "x11".into()),
        ("NO_AT_BRIDGE".into(), "1".into()),
    ];
    let (_wd, port) =
        desktop::webdriver(&envs, &tmp.path().join("webdriver.log")).expect("WebKitWebDriver");
    let t_start = Instant::now();
    let d = Driver::start(
        port,
        env!("CARGO_BIN_EXE_syrinx-app"),
        Duration::from_secs(30),
    )
    .expect("a WebDriver session with the app");
    let s = Duration::from_secs;

    // 1. The empty window.
    d.wait_for("[data-testid=library]", s(30))
        .expect("the window shows the library panel");
    d.wait_js(
        "return document.querySelector('[data-testid=stats]')?.dataset.recordings === '0'",
        s(10),
    )
    .expect("an empty library");
    shots.take(&d, "empty-library");

    // 2. Add a folder of real recordings plus the broken file, through the Add dialog.
    d.click_css("[data-testid=open-add]").unwrap();
    let input = d.wait_for("[data-testid=add-path]", s(5)).unwrap();
    d.send_keys(&input, &format!("{}", corpus.display()))
        .unwrap();
    d.click_css("[data-testid=add-submit]").unwrap();
    d.click_css("[data-testid=open-add]").unwrap();
    let input = d.wait_for("[data-testid=add-path]", s(5)).unwrap();
    d.send_keys(&input, &format!("{}", bad_dir.display()))
        .unwrap();
    d.click_css("[data-testid=add-submit]").unwrap();
    // Progress shows while it runs.
    d.wait_for(
        "[data-testid=job][data-state=running] [data-testid=job-progress]",
        s(30),
    )
    .expect("a progress bar while adding");
    shots.take(&d, "adding");
    let n_files = std::fs::read_dir(&corpus).map(|_| ()).ok();
    let _ = n_files;
    d.wait_js(
        "return !document.querySelector('[data-testid=job][data-state=running], [data-testid=job][data-state=queued]') && +document.querySelector('[data-testid=stats]').dataset.recordings > 100",
        s(300),
    )
    .expect("the folder is ingested");
    let recs: usize = recording_count(&d) as usize;
    assert!(recs >= 100, "{recs} recordings");
    // The broken file is listed with its reason.
    d.click_css("[data-testid=toggle-failed]")
        .expect("a list of files that failed");
    let failed = d.wait_for("[data-testid=failed-list]", s(5)).unwrap();
    let _ = failed;
    // textContent, not the rendered text: the path cell is ellipsised to fit the panel.
    let failed_text = d
        .exec(
            "return document.querySelector('[data-testid=failed-list]').textContent",
            vec![],
        )
        .unwrap()
        .as_str()
        .unwrap_or("")
        .to_string();
    eprintln!(
        "rendered failed list: {:?}",
        d.text(&d.find("[data-testid=failed-list]").unwrap())
    );
    assert!(
        failed_text.contains("broken.mp3"),
        "failed list: {failed_text}"
    );
    shots.take(&d, "ingest-done-with-failure");

    // 3. Open a Great Tit recording.
    let row = d
        .wait_for(
            "[data-testid=recording-row][data-name='xc_863285_001.m4a']",
            s(10),
        )
        .or_else(|_| {
            let search = d.find("[data-testid=library-search]")?;
            d.send_keys(&search, "xc_863285")?;
            d.wait_for(
                "[data-testid=recording-row][data-name='xc_863285_001.m4a']",
                s(5),
            )
        })
        .expect("the Great Tit recording is listed");
    d.click(&row).unwrap();
    let spec = d.wait_for("[data-testid=spectrogram]", s(10)).unwrap();
    d.wait_js(
        "return document.querySelector('[data-testid=spectrogram]')?.dataset.tilesMissing === '0'",
        s(20),
    )
    .expect("the spectrogram tiles are drawn");
    shots.take(&d, "recording");

    // 4. Click the call the model is surest about.
    let track = d.find("[data-testid=species-track]").unwrap();
    let best = attr_f64(&d, &track, "data-best-start");
    let best_species = d
        .attr(&track, "data-best-species")
        .unwrap()
        .unwrap_or_default();
    assert_eq!(
        best_species, "Great Tit",
        "the model's best window of a Great Tit clip"
    );
    let (t0, t1, axis) = (
        attr_f64(&d, &spec, "data-t0"),
        attr_f64(&d, &spec, "data-t1"),
        attr_f64(&d, &spec, "data-axis-w"),
    );
    let rect = d.exec("const r = document.querySelector('[data-testid=spectrogram]').getBoundingClientRect(); return [r.width, r.height];", vec![]).unwrap();
    let (w, h) = (rect[0].as_f64().unwrap(), rect[1].as_f64().unwrap());
    let t_click = best + 1.5;
    let x = axis + (t_click - t0) / (t1 - t0) * (w - axis);
    d.pointer_at(&spec, x, h * 0.4, None).unwrap();
    d.wait_js(
        "return document.querySelectorAll('[data-testid=hit]').length >= 5",
        s(20),
    )
    .expect("hits after a click");
    let species: Vec<String> = d
        .exec("return [...document.querySelectorAll('[data-testid=hit]')].slice(0, 10).map(h => h.dataset.species)", vec![])
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect();
    let same = species.iter().take(5).filter(|s| *s == "Great Tit").count();
    assert!(
        same >= 3,
        "predicted species of the top hits for a Great Tit call: {species:?}"
    );
    // Other recordings only: the top hits must come from recordings labelled Great Tit (the
    // corpus keeps each species in its own folder), whatever the model predicted for them.
    d.click_css("[data-testid=exclude-self]").unwrap();
    let qrec = d
        .attr(
            &d.find("[data-testid=recording-view]").unwrap(),
            "data-recording",
        )
        .unwrap()
        .unwrap_or_default();
    let paths = d
        .wait_js(
            &format!("const h = [...document.querySelectorAll('[data-testid=hit]')]; return h.length >= 5 && h.every(x => x.dataset.recording !== '{qrec}') && h.slice(0, 5).map(x => x.dataset.path)"),
            s(20),
        )
        .expect("hits from other recordings");
    let paths: Vec<String> = paths
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect();
    let from_great_tits = paths.iter().filter(|p| p.contains("/great_tit/")).count();
    assert!(
        from_great_tits >= 3,
        "top 5 hits from other recordings: {paths:?}"
    );
    d.wait_js("return [...document.querySelectorAll('.hit canvas.thumb')].slice(0,5).every(c => c.dataset.loaded === '1')", s(20)).expect("thumbnails drawn");
    shots.take(&d, "results");

    // 5. The latency panel counts the click.
    d.click_css("[data-testid=tab-latency]").unwrap();
    let n1 = d.wait_js("const r = document.querySelector('[data-testid=latency-click]'); return r && +r.dataset.count", s(10)).expect("the click in the histogram");
    // another click, a little later in the recording: the histogram updates
    d.pointer_at(&spec, x + 30.0, h * 0.5, None).unwrap();
    d.wait_js(&format!("const r = document.querySelector('[data-testid=latency-click]'); return r && +r.dataset.count > {}", n1), s(10)).expect("the histogram updates");
    assert!(count(&d, ".lat-hist .bar-col") > 0, "histogram bars");
    shots.take(&d, "latency");

    // 6. Play the first hit: the cursor moves and the sound reaches the speaker.
    let listener = {
        let server = pulse.clone();
        std::thread::spawn(move || desktop::parec_for(&server, 2.5))
    };
    std::thread::sleep(Duration::from_millis(400));
    d.click_css("[data-testid=hit-play]").unwrap();
    d.wait_js(
        "return document.querySelector('[data-testid=hit-play]')?.textContent.includes('■')",
        s(5),
    )
    .expect("the hit shows as playing");
    let heard = listener.join().unwrap().expect("parec");
    let rms =
        (heard.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / heard.len().max(1) as f64).sqrt();
    assert!(
        heard.len() > 4_800 && rms > 30.0,
        "playback reached the sink: {} samples, rms {rms:.1}",
        heard.len()
    );
    shots.take(&d, "playing");

    // 7. Label the first hit positive (keyboard: y) and the second negative (button).
    let labels0 = d
        .exec(
            "return +document.querySelector('[data-testid=stats]').dataset.labels",
            vec![],
        )
        .unwrap()
        .as_u64()
        .unwrap_or(0);
    d.exec(
        "document.activeElement && document.activeElement.blur()",
        vec![],
    )
    .unwrap();
    d.key("y").unwrap();
    let second = d.find_all("[data-testid=label-negative]").unwrap();
    d.click(&second[1]).unwrap();
    d.wait_js(
        &format!(
            "return +document.querySelector('[data-testid=stats]').dataset.labels >= {}",
            labels0 + 2
        ),
        s(10),
    )
    .expect("two labels saved");
    assert!(
        count(&d, ".hit .tag.positive") >= 1 && count(&d, ".hit .tag.negative") >= 1,
        "labels shown on the hits"
    );
    shots.take(&d, "labelled");

    // 8. Export the result set with WAV clips; check the files.
    d.click_css("[data-testid=open-export]").unwrap();
    let dir_in = d.wait_for("[data-testid=export-dir]", s(5)).unwrap();
    d.send_keys(&dir_in, &export_dir.display().to_string())
        .unwrap();
    d.click_css("[data-testid=export-wav]").unwrap();
    d.click_css("[data-testid=export-run]").unwrap();
    d.wait_for("[data-testid=export-report]", s(60))
        .expect("an export summary");
    shots.take(&d, "exported");
    let n_hits = count(&d, "[data-testid=hit]");
    let csv = std::fs::read_to_string(export_dir.join("syrinx-results.csv")).expect("CSV written");
    assert_eq!(csv.lines().count(), n_hits + 1, "one CSV row per hit");
    let raven = std::fs::read_to_string(export_dir.join("syrinx-results.selection.table.txt"))
        .expect("Raven table written");
    assert!(
        raven.lines().next().unwrap_or("").contains("Begin Path"),
        "Raven header"
    );
    let wavs: Vec<PathBuf> = std::fs::read_dir(&export_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    assert_eq!(wavs.len(), n_hits, "one WAV clip per hit");
    // Each clip is the hit padded by 0.5 s each side, cut at the ends of its recording.
    let items: Value = serde_json::from_str(
        &std::fs::read_to_string(export_dir.join("syrinx-results.json")).expect("JSON written"),
    )
    .unwrap();
    for it in items.as_array().expect("a JSON array") {
        let clip = it["clip"].as_str().expect("clip path in the JSON");
        let r = hound::WavReader::open(clip).expect("clip decodes");
        let secs = r.duration() as f64 / r.spec().sample_rate as f64;
        let dur = syrinx_audio::probe(it["path"].as_str().unwrap())
            .unwrap()
            .duration_s;
        let (a, b) = (
            it["start_s"].as_f64().unwrap(),
            it["end_s"].as_f64().unwrap(),
        );
        let want = (b + 0.5).min(dur) - (a - 0.5).max(0.0);
        assert!(
            (secs - want).abs() < 0.03,
            "{clip} lasts {secs:.3} s, expected {want:.3} s"
        );
    }
    d.exec(
        "document.querySelector('.modal .buttons .primary')?.click()",
        vec![],
    )
    .unwrap();

    // 9. Record from the (virtual) microphone fed with a known recording.
    let source = corpus
        .join("audio")
        .join("great_tit")
        .join("xc_863276_001.m4a");
    let recs_before = recording_count(&d);
    d.click_css("[data-testid=open-record]").unwrap();
    d.wait_js(
        "const s = document.querySelector('[data-testid=record-start]'); return s && !s.disabled",
        s(10),
    )
    .expect("an input device");
    // paplay needs a WAV/FLAC/OGG: decode the source with the engine into a WAV to play.
    let feed = tmp.path().join("feed.wav");
    let decoded = syrinx_audio::decode_mono_48k(&source).expect("decode the source");
    {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut wr = hound::WavWriter::create(&feed, spec).unwrap();
        for &v in &decoded.samples {
            wr.write_sample(v).unwrap();
        }
        wr.finalize().unwrap();
    }
    let _player = desktop::paplay(&pulse, &feed).expect("paplay");
    std::thread::sleep(Duration::from_millis(2500));
    d.click_css("[data-testid=record-start]").unwrap();
    d.wait_js(
        "return +document.querySelector('[data-testid=record-status]')?.dataset.elapsed >= 3.2",
        s(15),
    )
    .expect("3 s recorded");
    shots.take(&d, "recording-live");
    d.click_css("[data-testid=record-stop]").unwrap();
    d.wait_js(&format!("return +document.querySelector('[data-testid=stats]').dataset.recordings > {recs_before}"), s(60)).expect("the take becomes a recording");
    let takes: Vec<PathBuf> = std::fs::read_dir(lib_dir.join("takes"))
        .expect("takes folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(takes.len(), 1, "{takes:?}");
    let take = syrinx_audio::decode_mono_48k(&takes[0]).expect("the take decodes");
    assert!(
        take.samples.len() as f64 / 48_000.0 >= 3.0,
        "take of {} samples",
        take.samples.len()
    );
    // The middle 2 s of the take must match the source somewhere (it was played from its start).
    let mid = &take.samples[take.samples.len() / 2 - 48_000..take.samples.len() / 2 + 48_000];
    let (lag, corr) = best_alignment(mid, &decoded.samples);
    assert!(
        corr > 0.95,
        "take vs source: correlation {corr:.4} at {:.3} s",
        lag as f64 / 48_000.0
    );
    eprintln!(
        "take matches the source at {:.3} s with correlation {corr:.4}",
        lag as f64 / 48_000.0
    );

    // 10. Add a folder through the native folder chooser (a GTK dialog: another X window).
    let chosen = birdaudio.join("birdnet-go");
    let recs_before = recording_count(&d);
    let added = add_through_chooser(
        &d,
        &display,
        ("pick-folder", "Add a folder of recordings"),
        &format!("{}/", chosen.display()),
        recs_before + 3,
    );
    assert!(
        added,
        "the 3 recordings of {} added through the native folder chooser",
        chosen.display()
    );
    shots.take(&d, "added-through-chooser");

    // 10b. Add a file through the native file chooser ("Choose files…", another GTK dialog):
    //      the path typed into its location bar picks the file, as a user's typing or clicking does.
    let chosen_file = birdaudio
        .join("birdvoxdetect/tests/data/audio/BirdVox-full-night_unit03_00-19-45_01min.wav");
    let name = chosen_file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let recs_before = recording_count(&d);
    let added = add_through_chooser(
        &d,
        &display,
        ("pick-files", "Add recordings"),
        &chosen_file.display().to_string(),
        recs_before + 1,
    );
    assert!(
        added,
        "{} added through the native file chooser",
        chosen_file.display()
    );
    assert_eq!(
        recording_count(&d),
        recs_before + 1,
        "exactly the one chosen file is added"
    );
    // The chosen file is the one in the library, under its own name.
    let set_search = |text: &str| {
        d.exec(
            "const i = document.querySelector('[data-testid=library-search]'); i.value = arguments[0]; i.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![json!(text)],
        )
    };
    set_search("BirdVox-full-night_unit03").unwrap();
    d.wait_for(
        &format!("[data-testid=recording-row][data-name='{name}']"),
        s(10),
    )
    .expect("the recording chosen in the file chooser is listed");
    shots.take(&d, "added-through-file-chooser");
    set_search("").unwrap();

    // 11. Drop 500 files at once from another X client (real XDND, as from a file manager): the
    //     overlay shows while hovering, every file is added, and the window keeps answering.
    let clips = make_clips(&birdaudio, &tmp.path().join("drop500"), 500);
    assert_eq!(clips.len(), 500, "500 clips cut from the corpus");
    let recs_before = recording_count(&d);
    // A probe of the page's event loop: a 50 ms timer records how late each tick runs.
    d.exec(
        "window.__probe = { last: performance.now(), gaps: [] }; window.__probeId = setInterval(() => { const t = performance.now(); window.__probe.gaps.push(t - window.__probe.last); window.__probe.last = t; }, 50);",
        vec![],
    )
    .unwrap();
    let drag = desktop::FileDrag::start(
        &display,
        &clips,
        &tmp.path().join("drop500.list"),
        (1368, 8),
    )
    .expect("the drag source window");
    drag.hover((620, 420)).expect("drag over the window");
    d.wait_for("[data-testid=drop-overlay]", s(10))
        .expect("the drop overlay while files hover over the window");
    shots.take(&d, "drop-hover");
    let t_drop = Instant::now();
    let sent = drag.drop_here().expect("the drop");
    assert_eq!(sent, 500, "files offered by the drag source");
    d.wait_js(
        "return !document.querySelector('[data-testid=drop-overlay]')",
        s(10),
    )
    .expect("the overlay goes away after the drop");
    d.wait_for(
        "[data-testid=job][data-state=running] [data-testid=job-progress]",
        s(30),
    )
    .expect("a progress bar for the dropped files");
    // While it runs, the window answers: switch tabs and back.
    d.click_css("[data-testid=tab-latency]").unwrap();
    d.wait_for("[data-testid=latency-click]", s(10))
        .expect("the latency tab opens during the ingest");
    d.click_css("[data-testid=tab-ingest]").unwrap();
    d.wait_for("[data-testid=job]", s(10))
        .expect("the ingest tab opens during the ingest");
    shots.take(&d, "drop-adding");
    d.wait_js(
        &format!("return !document.querySelector('[data-testid=job][data-state=running], [data-testid=job][data-state=queued]') && +document.querySelector('[data-testid=stats]').dataset.recordings >= {}", recs_before + 500),
        s(600),
    )
    .expect("the 500 dropped files are added");
    let t_ingest = t_drop.elapsed().as_secs_f64();
    let probe = d
        .exec(
            "clearInterval(window.__probeId); const g = window.__probe.gaps.slice().sort((a, b) => a - b); return [g.length, g[Math.floor(g.length / 2)], g[Math.floor(g.length * 0.99)], g[g.length - 1]];",
            vec![],
        )
        .unwrap();
    eprintln!(
        "drop of 500 files: all added in {t_ingest:.1} s; page event loop during it, 50 ms timer: {} ticks, interval p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        probe[0], probe[1].as_f64().unwrap_or(f64::NAN), probe[2].as_f64().unwrap_or(f64::NAN), probe[3].as_f64().unwrap_or(f64::NAN)
    );
    shots.take(&d, "drop-done");

    // 12. About box with the model's attribution and licence.
    d.click_css("[data-testid=open-about]").unwrap();
    d.wait_for("[data-testid=model-licence]", s(10))
        .expect("the model licence in About");
    let about = d
        .text(&d.find("[data-testid=about-dialog]").unwrap())
        .unwrap();
    assert!(
        about.contains("BirdNET") && about.contains("CC BY-NC-SA"),
        "about: {about}"
    );
    shots.take(&d, "about");
    assert_eq!(
        count(&d, "[data-testid=error-toast]"),
        0,
        "no error toasts: {}",
        d.exec(
            "return document.querySelector('[data-testid=toasts]').innerText",
            vec![]
        )
        .unwrap_or(json!(""))
    );
    let _ = Value::Null;
    eprintln!(
        "end-to-end run took {:.1} s",
        t_start.elapsed().as_secs_f64()
    );
}

//! Decodes every file of the shared bird-audio corpus (`../shared/birdaudio/MANIFEST.csv`) and
//! checks duration (within 1 %), native sample rate and channel count against the manifest.
//! All mismatches are reported together. Skips, with a message, where the corpus is absent.

// Skip notes go straight to stderr: libtest captures eprintln!, and a skip must be seen.
use std::io::Write as _;

use std::path::PathBuf;

use rayon::prelude::*;

fn shared_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SYRINX_SHARED_DIR") {
        return PathBuf::from(d);
    }
    // this package lives in <repo>/tests; shared/ sits beside the repo
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    repo.join("..").join("shared")
}

#[derive(Debug)]
struct Entry {
    path: String,
    duration_s: f64,
    sample_rate: u32,
    channels: usize,
}

fn read_manifest(path: &std::path::Path) -> Vec<Entry> {
    let mut rdr = csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let headers = rdr.headers().expect("manifest header").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("manifest lacks column {name}"))
    };
    let (c_path, c_dur, c_rate, c_ch) = (
        col("path"),
        col("duration_s"),
        col("sample_rate"),
        col("channels"),
    );
    rdr.records()
        .enumerate()
        .map(|(i, r)| {
            let r = r.unwrap_or_else(|e| panic!("manifest row {}: {e}", i + 2));
            let f = |c: usize| r.get(c).unwrap_or("").trim().to_string();
            Entry {
                path: f(c_path),
                duration_s: f(c_dur)
                    .parse()
                    .unwrap_or_else(|e| panic!("row {}: duration_s: {e}", i + 2)),
                sample_rate: f(c_rate)
                    .parse()
                    .unwrap_or_else(|e| panic!("row {}: sample_rate: {e}", i + 2)),
                channels: f(c_ch)
                    .parse()
                    .unwrap_or_else(|e| panic!("row {}: channels: {e}", i + 2)),
            }
        })
        .collect()
}

#[test]
fn every_corpus_file_decodes_with_manifest_duration_rate_and_channels() {
    let shared = shared_dir();
    let corpus = shared.join("birdaudio");
    let manifest = corpus.join("MANIFEST.csv");
    if !manifest.is_file() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: ../shared/birdaudio not found (set SYRINX_SHARED_DIR); looked for {}",
            manifest.display()
        );
        return;
    }
    let entries = read_manifest(&manifest);
    assert!(!entries.is_empty(), "manifest lists no files");

    let t = std::time::Instant::now();
    let failures: Vec<String> = entries
        .par_iter()
        .filter_map(|e| {
            let p = corpus.join(&e.path);
            let mut problems = Vec::new();
            match syrinx_audio::probe(&p) {
                Ok(info) => {
                    if info.sample_rate != e.sample_rate {
                        problems.push(format!(
                            "sample rate {} Hz, manifest {} Hz",
                            info.sample_rate, e.sample_rate
                        ));
                    }
                    if info.channels != e.channels {
                        problems.push(format!(
                            "{} channels, manifest {}",
                            info.channels, e.channels
                        ));
                    }
                }
                Err(err) => problems.push(format!("probe failed: {err}")),
            }
            match syrinx_audio::decode_mono_48k(&p) {
                Ok(d) => {
                    let rel = (d.duration_s - e.duration_s).abs() / e.duration_s.max(1e-9);
                    if rel > 0.01 {
                        problems.push(format!(
                            "decoded {:.3} s, manifest {:.3} s ({:.2} % off)",
                            d.duration_s,
                            e.duration_s,
                            rel * 100.0
                        ));
                    }
                    if d.samples.iter().any(|x| !x.is_finite()) {
                        problems.push("non-finite output sample".into());
                    }
                }
                Err(err) => problems.push(format!("decode failed: {err}")),
            }
            (!problems.is_empty()).then(|| format!("{}: {}", e.path, problems.join("; ")))
        })
        .collect();
    eprintln!(
        "decoded {} corpus files in {:.1} s",
        entries.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} corpus files disagree with the manifest:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
}

//! The library end to end on the shared corpus: ingest a folder with bad files mixed in (concurrent
//! searches during the ingest), re-ingest is a no-op, query by an outside clip finds the same
//! species, labels filter searches, exports parse back, relink after a move.

// Skip notes go straight to stderr: libtest captures eprintln!, and a skip must be seen.
use std::io::Write as _;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use syrinx_embed::{Embedder, EmbedderConfig, ModelPaths};
use syrinx_library::{
    CreateOptions, ExportFormats, ExportItem, IngestOptions, LabelFilter, LabelTarget, Library,
    Query, SearchFilter, SearchOptions, Verdict,
};

const SPECIES: &[&str] = &["Monk Parakeet", "Long-billed Hermit", "Zebra Finch"];

/// Copy up to `per` clips of each species into `dest/<species>/`; returns (held-out clip per species).
fn make_input(birdaudio: &Path, dest: &Path, per: usize) -> HashMap<String, PathBuf> {
    let mut rdr = csv::Reader::from_path(birdaudio.join("MANIFEST.csv")).expect("manifest");
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut held = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let (path, sp) = (rec[0].to_string(), rec[5].to_string());
        if !SPECIES.contains(&sp.as_str()) {
            continue;
        }
        let src = birdaudio.join(&path);
        if !held.contains_key(&sp) {
            held.insert(sp.clone(), src); // query clip, not ingested
            continue;
        }
        let c = counts.entry(sp.clone()).or_default();
        if *c >= per {
            continue;
        }
        *c += 1;
        let d = dest.join(sp.replace(' ', "_"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(
            &src,
            d.join(format!(
                "{c:03}_{}",
                src.file_name().unwrap().to_string_lossy()
            )),
        )
        .unwrap();
    }
    // bad files: empty, random bytes, truncated WAV
    std::fs::write(dest.join("empty.wav"), b"").unwrap();
    std::fs::write(
        dest.join("random.wav"),
        (0..8000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 9) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let good = std::fs::read_dir(dest.join("Monk_Parakeet"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let bytes = std::fs::read(good).unwrap();
    std::fs::write(dest.join("truncated.wav"), &bytes[..30.min(bytes.len())]).unwrap();
    held
}

fn species_of(path: &Path) -> String {
    path.parent()
        .and_then(|p| p.file_name())
        .map(|s| s.to_string_lossy().replace('_', " "))
        .unwrap_or_default()
}

#[test]
fn library_ingest_search_label_export() {
    let Some(birdaudio) =
        syrinx_integration_tests::birdaudio_dir("library_ingest_search_label_export")
    else {
        return;
    };
    let Ok(paths) = ModelPaths::resolve(None, None) else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED library_ingest_search_label_export: model not installed (scripts/setup)"
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("audio");
    let held = make_input(&birdaudio, &input, 30);
    let lib = Arc::new(Library::create(tmp.path().join("lib"), CreateOptions::default()).unwrap());
    let mut embedder = Embedder::load(
        &paths,
        EmbedderConfig {
            threads: 2,
            batch_size: 16,
            lanes: 2,
        },
    )
    .unwrap();

    // Concurrent searches while ingesting: every hit must be a catalogued window.
    let done = Arc::new(AtomicBool::new(false));
    let searcher = {
        let (lib, done) = (lib.clone(), done.clone());
        std::thread::spawn(move || {
            let mut checked = 0;
            while !done.load(Ordering::Relaxed) {
                if let Some(r) = lib.recordings().first() {
                    if let Ok(res) = lib.search(
                        &Query::Click {
                            recording: r.id,
                            t_s: 0.5,
                        },
                        &SearchOptions::default(),
                    ) {
                        for h in &res.hits {
                            let rec = lib
                                .recording(h.recording_id)
                                .expect("hit of a catalogued recording");
                            assert!(
                                h.start_s < rec.duration_s + 3.0
                                    && h.members.contains(&h.vector_id)
                            );
                        }
                        checked += 1;
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            checked
        })
    };
    let cancel = AtomicBool::new(false);
    let opts = IngestOptions {
        commit_every_windows: 16,
        commit_every_s: 0.5,
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let report = lib
        .ingest(
            &mut embedder,
            std::slice::from_ref(&input),
            &opts,
            &cancel,
            None,
        )
        .unwrap();
    done.store(true, Ordering::Relaxed);
    let searches = searcher.join().expect("searcher thread");
    eprintln!(
        "ingested {} files / {} windows / {:.1} s audio in {:.1} s ({} commits); {} concurrent searches",
        report.added.len(), report.windows, report.audio_s, t.elapsed().as_secs_f64(), report.commits, searches
    );
    let failed: Vec<_> = report
        .failed
        .iter()
        .map(|f| {
            Path::new(&f.path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(report.failed.len(), 3, "{:?}", report.failed);
    for bad in ["empty.wav", "random.wav", "truncated.wav"] {
        assert!(
            failed.iter().any(|f| f == bad),
            "{bad} not reported: {failed:?}"
        );
    }
    assert!(report.failed.iter().all(|f| !f.reason.is_empty()));
    assert!(report.added.len() >= 80, "{} added", report.added.len());
    assert!(lib.verify(false).unwrap().ok);

    // Re-adding the same content is a no-op.
    let again = lib
        .ingest(
            &mut embedder,
            std::slice::from_ref(&input),
            &opts,
            &cancel,
            None,
        )
        .unwrap();
    assert!(again.added.is_empty());
    assert_eq!(
        again.skipped.len() + again.failed.len(),
        report.added.len() + report.skipped.len() + 3
    );

    // Query by example with a held-out clip: most top hits are the same species.
    for (sp, clip) in &held {
        let res = lib
            .search_clip(
                &mut embedder,
                clip,
                None,
                &SearchOptions {
                    k: 10,
                    ..Default::default()
                },
            )
            .unwrap();
        let same = res
            .hits
            .iter()
            .filter(|h| species_of(&h.path) == *sp)
            .count();
        eprintln!("{sp}: {same}/{} top hits same species", res.hits.len());
        assert_eq!(res.hits.len(), 10);
        assert!(same >= 6, "{sp}: only {same} of 10 hits are {sp}");
    }

    // Click query excluding own recording; grouping keeps distinct (recording, span) hits.
    let rec = lib.recordings()[0].clone();
    let res = lib
        .search(
            &Query::Click {
                recording: rec.id,
                t_s: 0.1,
            },
            &SearchOptions {
                k: 8,
                exclude_query_recording: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(res.hits.iter().all(|h| h.recording_id != rec.id));

    // The click's window (two index seeks) is the one a ranking of every window picks: a sounding
    // window containing t, else the sounding window whose centre is nearest t.
    for r in lib.recordings().iter().take(12) {
        let rows = lib.recording_windows(r.id).unwrap();
        let mut t = 0.0;
        while t <= r.duration_s {
            let want = rows
                .iter()
                .filter_map(|w| w.vector_id.map(|v| (v, w.start_s, w.end_s)))
                .min_by(|a, b| {
                    let key = |&(_, s, e): &(u32, f64, f64)| {
                        (!(s <= t && e > t), ((s + e) / 2.0 - t).abs())
                    };
                    let (ca, da) = key(a);
                    let (cb, db) = key(b);
                    ca.cmp(&cb).then(da.total_cmp(&db))
                })
                .map(|w| w.0);
            match want {
                Some(v) => assert_eq!(lib.window_at(r.id, t).unwrap(), v, "{} at {t} s", r.id),
                None => assert!(lib.window_at(r.id, t).is_err()),
            }
            t += 0.37;
        }
    }
    let lat = lib.latency();
    assert!(lat
        .iter()
        .any(|l| l.count > 0 && l.p99_us >= l.p50_us && !l.buckets.is_empty()));

    // Labels: label hits, then filter a search by the label.
    for h in &res.hits[..3] {
        lib.add_label(
            &LabelTarget::Window(h.vector_id),
            "call-A",
            Verdict::Positive,
            "test",
        )
        .unwrap();
    }
    lib.add_label(
        &LabelTarget::Range {
            recording: rec.id,
            start_s: 0.0,
            end_s: 1.0,
        },
        "call-A",
        Verdict::Negative,
        "",
    )
    .unwrap();
    assert_eq!(
        lib.labels(&LabelFilter {
            label: Some("call-A".into()),
            verdict: Some(Verdict::Positive),
            recording: None
        })
        .unwrap()
        .len(),
        3
    );
    let filtered = lib
        .search(
            &Query::Click {
                recording: rec.id,
                t_s: 0.1,
            },
            &SearchOptions {
                k: 10,
                filter: SearchFilter {
                    label: Some("call-A".into()),
                    verdict: Some(Verdict::Positive),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(filtered.hits.len(), 3);

    // Export: CSV, Raven, Audacity, JSON, WAV clips; parse back.
    let items: Vec<ExportItem> = res.hits.iter().map(ExportItem::from).collect();
    let out = tmp.path().join("export");
    let formats = ExportFormats {
        wav_padding_s: Some(0.5),
        ..Default::default()
    };
    let rep = lib.export(&items, &out, "hits", &formats).unwrap();
    assert!(
        rep.renamed.is_empty() && rep.item_errors.is_empty(),
        "{rep:?}"
    );
    let mut csv_r = csv::Reader::from_path(out.join("hits.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = csv_r.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), items.len());
    for (row, it) in rows.iter().zip(&items) {
        assert_eq!(row[1].parse::<i64>().unwrap(), it.recording_id);
        assert!((row[3].parse::<f64>().unwrap() - it.start_s).abs() < 1e-3);
        // the clip decodes to the window (clipped to the file) plus padding
        let clip = PathBuf::from(&row[11]);
        let d = syrinx_audio::decode_mono_48k(&clip).unwrap();
        let rec_len = lib.recording(it.recording_id).unwrap().duration_s;
        let want = (it.end_s.min(rec_len) + 0.5).min(rec_len) - (it.start_s - 0.5).max(0.0);
        assert!(
            (d.duration_s - want).abs() < 0.05,
            "clip {} s, want {want} s",
            d.duration_s
        );
    }
    let raven = std::fs::read_to_string(out.join("hits.selection.table.txt")).unwrap();
    let mut lines = raven.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    for col in [
        "Selection",
        "View",
        "Channel",
        "Begin Time (s)",
        "End Time (s)",
        "Low Freq (Hz)",
        "High Freq (Hz)",
        "Begin Path",
        "File Offset (s)",
        "Scientific Name",
        "Common Name",
    ] {
        assert!(header.contains(&col), "Raven column {col} missing");
    }
    let body: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    assert_eq!(body.len(), items.len());
    for (r, it) in body.iter().zip(&items) {
        assert_eq!(r.len(), header.len());
        let b: f64 = r[3].parse().unwrap();
        assert!((b - it.start_s).abs() < 1e-3);
        assert_eq!(Path::new(r[7]), it.path);
    }
    let js: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("hits.json")).unwrap()).unwrap();
    assert_eq!(js.as_array().unwrap().len(), items.len());
    let auda: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".audacity.txt"))
        .collect();
    assert!(!auda.is_empty());
    for e in auda {
        for l in std::fs::read_to_string(e.path()).unwrap().lines() {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3);
            assert!(f[0].parse::<f64>().unwrap() <= f[1].parse::<f64>().unwrap());
        }
    }
    // Exporting again never overwrites: new names, reported.
    let rep2 = lib
        .export(&items, &out, "hits", &ExportFormats::default())
        .unwrap();
    assert!(
        rep2.renamed
            .iter()
            .any(|(a, b)| a.ends_with("hits.csv") && b.ends_with("hits (2).csv")),
        "{:?}",
        rep2.renamed
    );

    // Relink: move a species folder; the files are reported missing, then found by content.
    let moved = tmp.path().join("moved");
    std::fs::rename(input.join("Zebra_Finch"), &moved).unwrap();
    let missing = lib.check_files().unwrap();
    assert!(missing > 0);
    let v = lib.verify(false).unwrap();
    assert_eq!(v.missing_files.len(), missing);
    let rl = lib.relink(&moved).unwrap();
    assert_eq!(rl.relinked.len(), missing);
    assert!(rl.still_missing.is_empty());
    assert_eq!(lib.check_files().unwrap(), 0);

    // Reopen: everything is still there.
    let n = lib.recordings().len();
    drop(lib);
    let lib = Library::open(tmp.path().join("lib")).unwrap();
    assert_eq!(lib.recordings().len(), n);
    assert_eq!(lib.recovery().orphan_vectors_removed, 0);
    assert!(lib.verify(false).unwrap().ok);
    // The page-cache warm-up reads the whole extended-code file (520 B per 1024-d vector), and a
    // stop request ends it at once.
    let read = lib
        .warm_page_cache(&std::sync::atomic::AtomicBool::new(false))
        .unwrap();
    assert!(read > 0 && read.is_multiple_of(520), "{read} bytes read");
    assert_eq!(
        lib.warm_page_cache(&std::sync::atomic::AtomicBool::new(true))
            .unwrap(),
        0
    );
}

//! Species sanity of the whole front end (real decoding + resampling + windowing + the real model): on the
//! `bird-radio` clips of the shared corpus, the labelled species must be the top-1 prediction of the
//! recording's best window (the window with the highest top score) for at least 70% of clips.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use syrinx_embed::{Embedder, EmbedderConfig, ModelPaths};
use syrinx_integration_tests::birdaudio_dir;
use syrinx_pipeline::{analyze_files, AnalyzeOptions, FileEvent};

#[test]
fn labelled_species_is_top1_of_the_best_window_for_70_percent_of_bird_radio_clips() {
    let Some(root) = birdaudio_dir("species_sanity") else {
        return;
    };
    let mut rdr = csv::Reader::from_path(root.join("MANIFEST.csv")).expect("manifest");
    let clips: Vec<(PathBuf, String)> = rdr
        .records()
        .map(|r| r.expect("manifest row"))
        .filter(|r| r.get(0).is_some_and(|p| p.starts_with("bird-radio/")))
        .map(|r| {
            (
                root.join(r.get(0).unwrap_or_default()),
                r.get(4).unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        clips.len() >= 50,
        "expected the bird-radio clips, found {}",
        clips.len()
    );

    let paths = ModelPaths::resolve(None, None).expect("model and runtime (run scripts/setup)");
    let mut embedder = Embedder::load(
        &paths,
        EmbedderConfig {
            threads: 2,
            batch_size: 16,
            lanes: 2,
        },
    )
    .expect("model");
    let labels = embedder.labels().clone();
    let files: Vec<PathBuf> = clips.iter().map(|c| c.0.clone()).collect();
    // best (score, species) per clip
    let mut best: Vec<Option<(f32, u16)>> = vec![None; files.len()];
    let mut failures = Vec::new();
    let opts = AnalyzeOptions {
        decoders: 2,
        top_k: 1,
        ..AnalyzeOptions::default()
    };
    analyze_files(&mut embedder, &files, opts, &AtomicBool::new(false), |ev| {
        match ev {
            FileEvent::Window { file, window } => {
                if let Some(top) = window.top.first() {
                    if best[file].is_none_or(|(s, _)| top.score > s) {
                        best[file] = Some((top.score, top.species));
                    }
                }
            }
            FileEvent::Failed { file, error } => {
                failures.push(format!("{}: {error}", files[file].display()))
            }
            _ => {}
        }
        Ok(())
    })
    .expect("analysis");
    assert!(failures.is_empty(), "clips failed to decode: {failures:#?}");

    let mut agree = 0;
    let mut misses = Vec::new();
    for (i, (path, species)) in clips.iter().enumerate() {
        let predicted = best[i]
            .and_then(|(_, s)| labels.get(s as usize))
            .map(|l| l.scientific.clone());
        if predicted.as_deref() == Some(species.as_str()) {
            agree += 1;
        } else {
            misses.push(format!(
                "{}: labelled {species}, predicted {predicted:?}",
                path.display()
            ));
        }
    }
    let rate = agree as f64 / clips.len() as f64;
    eprintln!(
        "species sanity: {agree}/{} bird-radio clips agree ({:.1}%)",
        clips.len(),
        rate * 100.0
    );
    assert!(
        rate >= 0.70,
        "only {:.1}% agree (< 70%); misses:\n{}",
        rate * 100.0,
        misses.join("\n")
    );
}

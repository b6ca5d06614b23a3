//! The Rust embedder (ONNX Runtime over the converted model) must reproduce the original TFLite model.
//!
//! `scripts/setup` runs the TFLite model through the LiteRT interpreter on a few deterministic windows (chirp,
//! noise, synthetic bird, tone + DC, clicks) and stores inputs and outputs beside the converted model. This test
//! runs the same inputs through `syrinx-embed` and compares: cosine >= 0.9999 and the same top-1 species.

use std::path::Path;

use syrinx_embed::{
    Embedder, EmbedderConfig, ModelPaths, EMBEDDING_DIM, N_SPECIES, WINDOW_SAMPLES,
};

fn read_npy(path: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup)", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).expect("valid npy");
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f32>().expect("f32 data"))
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap_or(0)
}

#[test]
fn rust_embeddings_match_the_tflite_reference() {
    let paths = ModelPaths::resolve(None, None).expect("model and runtime (run scripts/setup)");
    let reference = paths.model_dir().join("reference");
    let (shape, inputs) = read_npy(&reference.join("inputs.npy"));
    assert_eq!(shape[1] as usize, WINDOW_SAMPLES);
    let (_, ref_emb) = read_npy(&reference.join("tflite_embedding.npy"));
    let (_, ref_logits) = read_npy(&reference.join("tflite_logits.npy"));
    let windows: Vec<&[f32]> = inputs.chunks(WINDOW_SAMPLES).collect();

    for threads in [1, 2] {
        // batch 2 with 5 windows also exercises a partial last batch
        let mut embedder = Embedder::load(
            &paths,
            EmbedderConfig {
                threads,
                batch_size: 2,
                lanes: threads,
            },
        )
        .expect("load model");
        let out = embedder.embed(&windows).expect("embed");
        assert_eq!(out.len(), windows.len());
        for (i, w) in out.iter().enumerate() {
            let want = &ref_emb[i * EMBEDDING_DIM..(i + 1) * EMBEDDING_DIM];
            let c = cosine(&w.embedding, want);
            eprintln!("window {i} (threads {threads}): cosine to TFLite {c:.8}");
            assert!(
                c >= 0.9999,
                "window {i} (threads {threads}): cosine {c} < 0.9999"
            );
            let want_logits = &ref_logits[i * N_SPECIES..(i + 1) * N_SPECIES];
            assert_eq!(
                argmax(&w.logits),
                argmax(want_logits),
                "window {i}: top-1 species differs"
            );
            assert!(
                w.embedding.iter().all(|x| *x >= 0.0),
                "BirdNET embeddings are non-negative"
            );
        }
    }
}

#[test]
fn wrong_window_length_is_a_typed_error() {
    let paths = ModelPaths::resolve(None, None).expect("model and runtime (run scripts/setup)");
    let mut embedder = Embedder::load(
        &paths,
        EmbedderConfig {
            threads: 1,
            batch_size: 4,
            lanes: 1,
        },
    )
    .expect("load");
    let short = vec![0.1f32; 1000];
    let err = embedder.embed(&[&short]).expect_err("must refuse");
    assert!(
        matches!(
            err,
            syrinx_embed::EmbedError::BadWindowLength { got: 1000, .. }
        ),
        "{err}"
    );
    let mut nan = vec![0.1f32; WINDOW_SAMPLES];
    nan[5] = f32::NAN;
    let err = embedder.embed(&[&nan]).expect_err("must refuse");
    assert!(
        matches!(err, syrinx_embed::EmbedError::NonFiniteInput { index: 0 }),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_a_model_is_a_clear_error() {
    let good = ModelPaths::resolve(None, None).expect("model and runtime (run scripts/setup)");
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["birdnet_v2.4.onnx", "birdnet_v2.4_backbone.onnx"] {
        std::fs::write(dir.path().join(name), b"this is not an onnx file").expect("write");
    }
    std::fs::copy(&good.labels, dir.path().join("labels.txt")).expect("copy labels");
    std::fs::copy(&good.frontend, dir.path().join("frontend.json")).expect("copy front end");
    let paths = ModelPaths::resolve(Some(dir.path()), Some(&good.ort_dylib)).expect("paths exist");
    let err = Embedder::load(&paths, EmbedderConfig::default())
        .err()
        .expect("must fail");
    assert!(
        matches!(err, syrinx_embed::EmbedError::ModelLoad { .. }),
        "{err}"
    );
    // A broken front-end description is refused before the model is even read, and says which file.
    std::fs::write(dir.path().join("frontend.json"), b"{\"version\": 1}").expect("write");
    let err = Embedder::load(&paths, EmbedderConfig::default())
        .err()
        .expect("must fail");
    assert!(
        matches!(err, syrinx_embed::EmbedError::ModelMismatch { .. })
            && err.to_string().contains("frontend.json"),
        "{err}"
    );
}

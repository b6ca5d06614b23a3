//! A library that is not ONNX Runtime must give a clear, recoverable error (its own test binary: the
//! runtime is loaded once per process).

use syrinx_embed::{EmbedError, Embedder, EmbedderConfig, ModelPaths};

#[test]
fn a_library_that_is_not_onnx_runtime_is_a_clear_error() {
    let good = ModelPaths::resolve(None, None).expect("model and runtime (run scripts/setup)");
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = dir.path().join("libonnxruntime.so.1.31.1");
    std::fs::write(&fake, b"\x7fELF not really a shared library").expect("write");
    let paths = ModelPaths::resolve(Some(good.model_dir()), Some(&fake)).expect("paths exist");
    let err = Embedder::load(&paths, EmbedderConfig::default())
        .err()
        .expect("must fail");
    assert!(matches!(err, EmbedError::OrtLoad { .. }), "{err}");
    assert!(
        err.to_string().contains("could not load ONNX Runtime"),
        "{err}"
    );
    // and it stays a clear error on a second attempt in the same process
    let err = Embedder::load(&paths, EmbedderConfig::default())
        .err()
        .expect("must fail again");
    assert!(matches!(err, EmbedError::OrtLoad { .. }), "{err}");
}

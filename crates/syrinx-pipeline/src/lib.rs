//! The analysis pipeline: one audio file in, per-window embeddings and species out.
//!
//! Data flows one way: `syrinx-audio` decodes, mixes down, resamples and cuts 3 s windows on a decoder
//! thread; windows cross a bounded channel (so memory stays flat for any file length) and are embedded in
//! batches by `syrinx-embed` on the caller's thread. Digital-silence windows are reported but not embedded.
//! Progress is reported per batch and the work can be cancelled between batches.

mod analyze;
mod error;
pub mod npy;

pub use analyze::{
    analyze_file, analyze_files, expected_windows, AnalyzeOptions, AnalyzedWindow, FileEvent,
    FileSummary, Progress,
};
pub use error::PipelineError;

//! Importing windows embedded elsewhere: a recording plus its per-window embeddings and species
//! scores (e.g. `syrinx embed` run on another machine, or a benchmark's generated vectors).
//! Goes through the same crash-safe commit as an ingest.

use std::path::Path;

use syrinx_embed::SpeciesScore;
use syrinx_pipeline::AnalyzedWindow;

use crate::error::{io_err, Result};
use crate::ingest::{hash_file, AddedFile, DoneFile};
use crate::{read, Library, LibraryError};

/// One window to import.
#[derive(Clone, Debug)]
pub struct ImportedWindow {
    pub start_s: f64,
    pub end_s: f64,
    /// None for a silent window.
    pub embedding: Option<Vec<f32>>,
    /// Best species first: (label index, score).
    pub top: Vec<(u16, f32)>,
}

impl Library {
    /// Add `path` with windows embedded elsewhere. The library must already know its model (one
    /// ingest done) and the caller vouches that the embeddings come from that model at the
    /// library's window hop; windows must lie within the file and have the index's dimension.
    pub fn import_recording(&self, path: &Path, windows: Vec<ImportedWindow>) -> Result<AddedFile> {
        let _g = crate::lock(&self.ingest_lock);
        let settings = read(&self.settings).clone();
        if settings.model.is_empty() {
            return Err(LibraryError::Invalid(
                "this library has no model yet: ingest at least one recording before importing embeddings".into(),
            ));
        }
        let info = syrinx_audio::probe(path)?;
        let dim = settings.index_params.dim;
        for (i, w) in windows.iter().enumerate() {
            let bad = |why: String| {
                LibraryError::Invalid(format!("{}: window {i}: {why}", path.display()))
            };
            if !(w.start_s >= 0.0 && w.end_s > w.start_s && w.start_s <= info.duration_s + 1e-3) {
                return Err(bad(format!(
                    "time {}..{} s outside 0..{:.3} s",
                    w.start_s, w.end_s, info.duration_s
                )));
            }
            if let Some(e) = &w.embedding {
                if e.len() != dim {
                    return Err(bad(format!(
                        "embedding of length {} (the index holds {dim})",
                        e.len()
                    )));
                }
                if e.iter().any(|v| !v.is_finite()) {
                    return Err(bad("embedding has a non-finite value".into()));
                }
            }
        }
        let hash = hash_file(path).map_err(io_err(path))?;
        if let Some(r) = read(&self.state)
            .recs
            .values()
            .find(|r| r.content_hash == hash)
        {
            return Err(LibraryError::Invalid(format!(
                "{} is already in the library (recording {})",
                path.display(),
                r.id
            )));
        }
        let windows = windows
            .into_iter()
            .enumerate()
            .map(|(index, w)| AnalyzedWindow {
                index,
                start_s: w.start_s,
                end_s: w.end_s,
                silent: w.embedding.is_none(),
                embedding: w.embedding,
                top: w
                    .top
                    .into_iter()
                    .map(|(species, score)| SpeciesScore { species, score })
                    .collect(),
                logits: None,
            })
            .collect();
        let mut added = self.commit_files(
            vec![DoneFile {
                path: path.to_path_buf(),
                hash,
                info,
                windows,
            }],
            &[],
        )?;
        added
            .pop()
            .ok_or_else(|| LibraryError::Inconsistent("import committed nothing".into()))
    }
}

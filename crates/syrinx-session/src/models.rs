//! The BirdNET model: found lazily (the app starts, browses and searches without it) and kept
//! loaded in a small pool shared by ingest and query-by-example.

use std::path::PathBuf;
use std::sync::Mutex;

use serde::Serialize;
use syrinx_embed::{Embedder, EmbedderConfig, ModelPaths};

use crate::error::Result;

/// Whether the model can be used, and where it is.
#[derive(Clone, Debug, Serialize)]
pub struct ModelStatus {
    pub ready: bool,
    pub model: Option<PathBuf>,
    pub ort_dylib: Option<PathBuf>,
    pub license: Option<PathBuf>,
    /// Why it cannot be used and how to fix it.
    pub error: Option<String>,
}

pub(crate) struct Models {
    model_dir: Option<PathBuf>,
    ort_dylib: Option<PathBuf>,
    threads: usize,
    pool: Mutex<Vec<Embedder>>,
}

impl Models {
    pub fn new(model_dir: Option<PathBuf>, ort_dylib: Option<PathBuf>, threads: usize) -> Self {
        Models {
            model_dir,
            ort_dylib,
            threads: threads.max(1),
            pool: Mutex::new(Vec::new()),
        }
    }

    pub fn paths(&self) -> Result<ModelPaths> {
        Ok(ModelPaths::resolve(
            self.model_dir.as_deref(),
            self.ort_dylib.as_deref(),
        )?)
    }

    pub fn status(&self) -> ModelStatus {
        match self.paths() {
            Ok(p) => ModelStatus {
                ready: true,
                model: Some(p.model.clone()),
                ort_dylib: Some(p.ort_dylib.clone()),
                license: Some(p.license.clone()),
                error: None,
            },
            Err(e) => ModelStatus {
                ready: false,
                model: None,
                ort_dylib: None,
                license: None,
                error: Some(e.to_string()),
            },
        }
    }

    /// A loaded embedder (from the pool, or loaded now: ~0.3 s).
    pub fn take(&self) -> Result<Embedder> {
        if let Some(e) = self.lock().pop() {
            return Ok(e);
        }
        let paths = self.paths()?;
        Ok(Embedder::load(
            &paths,
            EmbedderConfig {
                threads: self.threads,
                ..EmbedderConfig::default()
            },
        )?)
    }

    /// Give an embedder back (one is kept; a second, loaded while the first was busy, is freed).
    pub fn give(&self, e: Embedder) {
        let mut p = self.lock();
        if p.is_empty() {
            p.push(e);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Embedder>> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }
}

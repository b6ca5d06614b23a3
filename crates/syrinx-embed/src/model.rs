//! The ONNX Runtime session over the converted BirdNET model.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;

use rayon::prelude::*;

use crate::frontend::{Frontend, Scratch};
use crate::labels::Labels;
use crate::{EmbedError, ModelPaths, EMBEDDING_DIM, N_SPECIES, WINDOW_SAMPLES};

/// How the session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbedderConfig {
    /// Intra-op threads of ONNX Runtime (1 = single-threaded).
    pub threads: usize,
    /// Windows per inference call. ONNX Runtime's activation memory grows with the batch (peak RSS of a
    /// whole `syrinx embed` run: ~165 MB at 1, ~220 MB at 4, ~320 MB at 8, ~510 MB at 16) while the time
    /// per window barely changes, so the default is 4 (see docs/benchmarks.md).
    pub batch_size: usize,
}

/// Default windows per inference call.
pub const DEFAULT_BATCH: usize = 4;

impl Default for EmbedderConfig {
    fn default() -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        EmbedderConfig {
            threads,
            batch_size: DEFAULT_BATCH,
        }
    }
}

/// The model's outputs for one window.
#[derive(Debug, Clone)]
pub struct WindowEmbedding {
    /// 1024 values, all >= 0 (a global average of ReLU activations).
    pub embedding: Vec<f32>,
    /// 6522 raw logits; [`sigmoid_score`] turns one into a score in (0, 1).
    pub logits: Vec<f32>,
}

/// A species and its score (sigmoid of the clipped logit).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpeciesScore {
    pub species: u16,
    pub score: f32,
}

/// BirdNET's score: `sigmoid(clip(logit, -15, 15))`.
pub fn sigmoid_score(logit: f32) -> f32 {
    let x = logit.clamp(-15.0, 15.0);
    1.0 / (1.0 + (-x).exp())
}

impl WindowEmbedding {
    /// The `k` best species, best first.
    pub fn top_species(&self, k: usize) -> Vec<SpeciesScore> {
        let mut idx: Vec<usize> = (0..self.logits.len()).collect();
        let k = k.min(idx.len());
        if k == 0 {
            return Vec::new();
        }
        let by_logit = |a: &usize, b: &usize| self.logits[*b].total_cmp(&self.logits[*a]);
        idx.select_nth_unstable_by(k - 1, by_logit);
        idx.truncate(k);
        idx.sort_by(by_logit);
        idx.into_iter()
            .map(|i| SpeciesScore {
                species: i as u16,
                score: sigmoid_score(self.logits[i]),
            })
            .collect()
    }
}

/// A loaded model: call [`Embedder::embed`] with 3 s windows at 48 kHz.
pub struct Embedder {
    session: Session,
    frontend: Frontend,
    labels: Arc<Labels>,
    config: EmbedderConfig,
    paths: ModelPaths,
    /// The batch's spectrograms, one buffer per backbone input.
    specs: Vec<Vec<f32>>,
}

type LoadedRuntime = (PathBuf, Result<Environment, String>);
static ORT_ENV: OnceLock<Mutex<Option<LoadedRuntime>>> = OnceLock::new();

/// Load ONNX Runtime once per process from `path`; later calls must name the same library.
fn init_runtime(path: &Path) -> Result<Environment, EmbedError> {
    let cell = ORT_ENV.get_or_init(|| Mutex::new(None));
    let mut guard = cell
        .lock()
        .map_err(|_| EmbedError::Inference("runtime lock poisoned".into()))?;
    if let Some((loaded, result)) = guard.as_ref() {
        if loaded != path {
            return Err(EmbedError::OrtAlreadyLoaded {
                loaded: loaded.clone(),
                requested: path.to_path_buf(),
            });
        }
        return result.clone().map_err(|reason| EmbedError::OrtLoad {
            path: path.to_path_buf(),
            reason,
        });
    }
    let result = ort::init_from(path)
        .map_err(|e| e.to_string())
        .and_then(|b| b.with_name("syrinx").build().map_err(|e| e.to_string()));
    *guard = Some((path.to_path_buf(), result.clone()));
    result.map_err(|reason| EmbedError::OrtLoad {
        path: path.to_path_buf(),
        reason,
    })
}

impl Embedder {
    /// Load the runtime (once per process), the backbone, its front end and the labels, and check that they
    /// are the ones expected (inputs `spec1`/`spec2` [batch, frames, bands] as `frontend.json` describes them,
    /// outputs `embedding` [batch, 1024] and `logits` [batch, 6522]).
    pub fn load(paths: &ModelPaths, config: EmbedderConfig) -> Result<Self, EmbedError> {
        if config.threads == 0 || config.batch_size == 0 {
            return Err(EmbedError::Config(
                "threads and batch size must be at least 1".into(),
            ));
        }
        let env = init_runtime(&paths.ort_dylib)?;
        let labels = Labels::load(&paths.labels)?;
        if labels.len() != N_SPECIES {
            return Err(EmbedError::ModelMismatch {
                path: paths.labels.clone(),
                reason: format!("{} labels, expected {N_SPECIES}", labels.len()),
            });
        }
        let frontend = Frontend::load(&paths.frontend)?;
        let load_err = |e: ort::Error<_>| EmbedError::ModelLoad {
            path: paths.backbone.clone(),
            reason: e.to_string(),
        };
        let session = Session::builder(&env)
            .map_err(|e| EmbedError::ModelLoad {
                path: paths.backbone.clone(),
                reason: e.to_string(),
            })?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(load_err)?
            .with_intra_threads(config.threads)
            .map_err(load_err)?
            .with_inter_threads(1)
            .map_err(load_err)?
            // Spinning threads would steal the CPU from the decoder running beside the model.
            .with_intra_op_spinning(false)
            .map_err(load_err)?
            .commit_from_file(&paths.backbone)
            .map_err(|e| EmbedError::ModelLoad {
                path: paths.backbone.clone(),
                reason: e.to_string(),
            })?;
        check_signature(&session, &frontend, &paths.backbone)?;
        Ok(Embedder {
            session,
            specs: vec![Vec::new(); frontend.specs.len()],
            frontend,
            labels: Arc::new(labels),
            config,
            paths: paths.clone(),
        })
    }

    pub fn labels(&self) -> &Arc<Labels> {
        &self.labels
    }

    pub fn config(&self) -> EmbedderConfig {
        self.config
    }

    pub fn paths(&self) -> &ModelPaths {
        &self.paths
    }

    /// Embed windows of exactly [`WINDOW_SAMPLES`] samples each, in batches of `batch_size`.
    pub fn embed(&mut self, windows: &[&[f32]]) -> Result<Vec<WindowEmbedding>, EmbedError> {
        for (index, w) in windows.iter().enumerate() {
            if w.len() != WINDOW_SAMPLES {
                return Err(EmbedError::BadWindowLength {
                    index,
                    got: w.len(),
                    expected: WINDOW_SAMPLES,
                });
            }
            if !w.iter().all(|x| x.is_finite()) {
                return Err(EmbedError::NonFiniteInput { index });
            }
        }
        let mut out = Vec::with_capacity(windows.len());
        for chunk in windows.chunks(self.config.batch_size) {
            self.run_batch(chunk, &mut out)?;
        }
        Ok(out)
    }

    fn run_batch(
        &mut self,
        chunk: &[&[f32]],
        out: &mut Vec<WindowEmbedding>,
    ) -> Result<(), EmbedError> {
        let n = chunk.len();
        let fe = &self.frontend;
        let sizes: Vec<usize> = fe.specs.iter().map(|s| s.frames * s.bands).collect();
        for (buf, &size) in self.specs.iter_mut().zip(&sizes) {
            buf.resize(n * size, 0.0);
        }
        // Spectrograms of the batch's windows in parallel (the FFT front end, see `frontend`).
        let [a, b] = &mut self.specs[..] else {
            return Err(EmbedError::Inference(
                "the front end must make two spectrograms".into(),
            ));
        };
        a.par_chunks_mut(sizes[0])
            .zip(b.par_chunks_mut(sizes[1]))
            .zip(chunk.par_iter())
            .for_each_init(Scratch::default, |sc, ((a, b), w)| {
                fe.compute(w, &mut [a, b], sc)
            });
        let inference = |e: ort::Error| EmbedError::Inference(e.to_string());
        let s0 = &fe.specs[0];
        let s1 = &fe.specs[1];
        let t0 = TensorRef::from_array_view(([n, s0.frames, s0.bands], &self.specs[0][..]))
            .map_err(inference)?;
        let t1 = TensorRef::from_array_view(([n, s1.frames, s1.bands], &self.specs[1][..]))
            .map_err(inference)?;
        let outputs = self
            .session
            .run(ort::inputs![s0.input.as_str() => t0, s1.input.as_str() => t1])
            .map_err(inference)?;
        let (emb_shape, emb) = outputs["embedding"]
            .try_extract_tensor::<f32>()
            .map_err(inference)?;
        let (log_shape, logits) = outputs["logits"]
            .try_extract_tensor::<f32>()
            .map_err(inference)?;
        if emb.len() != n * EMBEDDING_DIM || logits.len() != n * N_SPECIES {
            return Err(EmbedError::Inference(format!(
                "unexpected output shapes {emb_shape:?} and {log_shape:?} for a batch of {n}"
            )));
        }
        for i in 0..n {
            out.push(WindowEmbedding {
                embedding: emb[i * EMBEDDING_DIM..(i + 1) * EMBEDDING_DIM].to_vec(),
                logits: logits[i * N_SPECIES..(i + 1) * N_SPECIES].to_vec(),
            });
        }
        Ok(())
    }
}

fn check_signature(session: &Session, fe: &Frontend, path: &Path) -> Result<(), EmbedError> {
    let mismatch = |reason: String| EmbedError::ModelMismatch {
        path: path.to_path_buf(),
        reason,
    };
    let dims = |outlets: &[ort::value::Outlet], name: &str| -> Result<Vec<i64>, EmbedError> {
        let outlet = outlets
            .iter()
            .find(|o| o.name() == name)
            .ok_or_else(|| mismatch(format!("it has no tensor named '{name}'")))?;
        let shape = outlet
            .dtype()
            .tensor_shape()
            .ok_or_else(|| mismatch(format!("'{name}' is not a tensor")))?;
        Ok(shape.iter().copied().collect())
    };
    for s in &fe.specs {
        let d = dims(session.inputs(), &s.input)?;
        // Batch and frame dimensions are dynamic (-1) in the backbone; the bands are fixed.
        let fits = |got: i64, want: usize| got < 0 || got == want as i64;
        if d.len() != 3 || !fits(d[1], s.frames) || !fits(d[2], s.bands) {
            return Err(mismatch(format!(
                "'{}' has shape {d:?}, expected [batch, {}, {}] (frontend.json)",
                s.input, s.frames, s.bands
            )));
        }
    }
    if session.inputs().len() != fe.specs.len() {
        return Err(mismatch(format!(
            "it has {} inputs, frontend.json makes {}",
            session.inputs().len(),
            fe.specs.len()
        )));
    }
    for (name, want) in [
        ("embedding", EMBEDDING_DIM as i64),
        ("logits", N_SPECIES as i64),
    ] {
        let d = dims(session.outputs(), name)?;
        if d.len() != 2 || d[1] != want {
            return Err(mismatch(format!(
                "'{name}' has shape {d:?}, expected [batch, {want}]"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_clips_like_birdnet() {
        assert!((sigmoid_score(0.0) - 0.5).abs() < 1e-7);
        assert_eq!(sigmoid_score(100.0), sigmoid_score(15.0));
        assert_eq!(sigmoid_score(-100.0), sigmoid_score(-15.0));
    }

    #[test]
    fn top_species_are_sorted_best_first() {
        let mut logits = vec![-5.0; N_SPECIES];
        logits[7] = 3.0;
        logits[42] = 1.0;
        logits[99] = 2.0;
        let w = WindowEmbedding {
            embedding: vec![],
            logits,
        };
        let top: Vec<u16> = w.top_species(3).iter().map(|s| s.species).collect();
        assert_eq!(top, vec![7, 99, 42]);
    }
}

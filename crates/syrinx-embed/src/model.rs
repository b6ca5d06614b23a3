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
    /// CPU threads for inference in all: `lanes` concurrent inference calls of `threads / lanes` ONNX
    /// Runtime intra-op threads each.
    pub threads: usize,
    /// Windows per inference call (per lane). ONNX Runtime's activation memory grows with the batch (peak
    /// RSS of a whole one-lane `syrinx embed` run: ~165 MB at 1, ~220 MB at 4, ~320 MB at 8, ~510 MB at 16)
    /// while the time per window barely changes; with two lanes, batch 2 keeps a 10-hour file under 300 MB
    /// (see docs/benchmarks.md), hence the default 2.
    pub batch_size: usize,
    /// Inference calls run at once, each on its own session. BirdNET's backbone hardly gains from a second
    /// intra-op thread, while two single-threaded calls on two batches run side by side (~1.35x the windows/s
    /// on 2 cores), so the default is one lane per thread. Each lane holds its own copy of the weights and
    /// its own activation arena (~+85 MB of peak RSS for the second lane at batch 2). Clamped to
    /// `1..=threads`.
    pub lanes: usize,
}

/// The most lanes [`EmbedderConfig::default`] makes (each adds ~85 MB).
pub const MAX_DEFAULT_LANES: usize = 4;

/// Default windows per inference call (per lane).
pub const DEFAULT_BATCH: usize = 2;

impl Default for EmbedderConfig {
    fn default() -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        EmbedderConfig {
            threads,
            batch_size: DEFAULT_BATCH,
            // Each lane costs a copy of the weights and an arena: on many cores, lanes of several threads.
            lanes: threads.min(MAX_DEFAULT_LANES),
        }
    }
}

impl EmbedderConfig {
    /// Concurrent inference calls this configuration runs (`lanes` within `1..=threads`).
    pub fn effective_lanes(&self) -> usize {
        self.lanes.clamp(1, self.threads.max(1))
    }

    /// Windows one [`Embedder::embed`] call should get to keep every lane busy: `batch_size` per lane.
    pub fn windows_per_call(&self) -> usize {
        self.batch_size.max(1) * self.effective_lanes()
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
    /// One session per concurrent inference call.
    lanes: Vec<Lane>,
    frontend: Frontend,
    labels: Arc<Labels>,
    config: EmbedderConfig,
    paths: ModelPaths,
}

/// One session and the spectrogram buffers of the batch it runs, one buffer per backbone input.
struct Lane {
    session: Session,
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
        let lanes_n = config.effective_lanes();
        let intra = (config.threads / lanes_n).max(1);
        let mut lanes = Vec::with_capacity(lanes_n);
        for _ in 0..lanes_n {
            let session = Session::builder(&env)
                .map_err(|e| EmbedError::ModelLoad {
                    path: paths.backbone.clone(),
                    reason: e.to_string(),
                })?
                .with_optimization_level(GraphOptimizationLevel::Level3)
                .map_err(load_err)?
                .with_intra_threads(intra)
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
            lanes.push(Lane {
                session,
                specs: vec![Vec::new(); frontend.specs.len()],
            });
        }
        Ok(Embedder {
            lanes,
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
        let batch = self.config.batch_size.max(1);
        let fe = &self.frontend;
        if self.lanes.len() == 1 {
            for chunk in windows.chunks(batch) {
                self.lanes[0].run_batch(fe, chunk, &mut out)?;
            }
            return Ok(out);
        }
        // Batches in groups of one per lane, the lanes' calls side by side; results keep the input order.
        for group in windows.chunks(batch * self.lanes.len()) {
            let parts = self
                .lanes
                .par_iter_mut()
                .zip(group.par_chunks(batch))
                .map(|(lane, chunk)| {
                    let mut part = Vec::with_capacity(chunk.len());
                    lane.run_batch(fe, chunk, &mut part).map(|()| part)
                })
                .collect::<Result<Vec<_>, EmbedError>>()?;
            out.extend(parts.into_iter().flatten());
        }
        Ok(out)
    }
}

impl Lane {
    fn run_batch(
        &mut self,
        fe: &Frontend,
        chunk: &[&[f32]],
        out: &mut Vec<WindowEmbedding>,
    ) -> Result<(), EmbedError> {
        let n = chunk.len();
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
    fn lanes_stay_within_the_threads_and_fill_one_batch_each() {
        let c = |threads, lanes| EmbedderConfig {
            threads,
            batch_size: 3,
            lanes,
        };
        assert_eq!(c(2, 2).effective_lanes(), 2);
        assert_eq!(c(2, 2).windows_per_call(), 6);
        assert_eq!(
            c(1, 2).effective_lanes(),
            1,
            "never more lanes than threads"
        );
        assert_eq!(c(4, 0).effective_lanes(), 1, "at least one lane");
        assert!(EmbedderConfig::default().effective_lanes() <= MAX_DEFAULT_LANES);
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

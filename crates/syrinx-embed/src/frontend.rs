//! BirdNET's two mel spectrograms, computed in Rust in front of the ONNX backbone.
//!
//! The converted model spends ~55% of its time making its input spectrograms (framing, windowing and a
//! dense DFT-times-mel matrix product over 511 x 2048 values per window). `scripts/split_birdnet.py` cuts
//! the graph after those products and writes `frontend.json`; this module computes the same tensors with a
//! real FFT (in f64) and the sparse filterbank (252 and 609 non-zero weights), several times cheaper.
//!
//! Per 3 s window `x` (144,000 samples): `s = ((x - min x) / (max(x - min x) + eps) - offset) * scale`, then
//! for each spectrogram: frames of `frame_len` samples every `hop`, times the Hann window, the REAL part of
//! the FFT (BirdNET keeps the real part, not the magnitude) and the mel filterbank. Output
//! `[frames, bands]` row-major, as the backbone's `spec1`/`spec2` inputs expect.

use std::path::Path;
use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};
use serde::Deserialize;

use crate::{EmbedError, WINDOW_SAMPLES};

#[derive(Deserialize)]
struct FrontendFile {
    version: u32,
    window_samples: usize,
    normalize: Normalize,
    specs: Vec<SpecFile>,
}

#[derive(Deserialize, Clone, Copy)]
struct Normalize {
    eps: f32,
    offset: f32,
    scale: f32,
}

#[derive(Deserialize)]
struct SpecFile {
    input: String,
    frame_len: usize,
    hop: usize,
    frames: usize,
    bands: usize,
    window: Vec<f32>,
    /// (FFT bin, mel band, weight).
    mel: Vec<(usize, usize, f32)>,
}

/// One mel spectrogram of the front end.
pub(crate) struct Spec {
    /// Backbone input it feeds.
    pub input: String,
    frame_len: usize,
    hop: usize,
    pub frames: usize,
    pub bands: usize,
    window: Vec<f32>,
    /// Filterbank grouped by bin: bins `lo..hi` of the FFT are used; `weights[b - lo]` lists (band, weight).
    lo: usize,
    weights: Vec<Vec<(u32, f32)>>,
    fft: Arc<dyn RealToComplex<f64>>,
}

/// The front end described by `frontend.json`.
pub(crate) struct Frontend {
    norm: Normalize,
    pub specs: Vec<Spec>,
}

/// Reusable buffers for one thread.
#[derive(Default)]
pub(crate) struct Scratch {
    norm: Vec<f32>,
    frame: Vec<f64>,
    spectrum: Vec<realfft::num_complex::Complex<f64>>,
    fft: Vec<realfft::num_complex::Complex<f64>>,
    row: Vec<f64>,
}

impl Frontend {
    /// Load and check `frontend.json`.
    pub fn load(path: &Path) -> Result<Self, EmbedError> {
        let mismatch = |reason: String| EmbedError::ModelMismatch {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| EmbedError::ModelLoad {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let f: FrontendFile = serde_json::from_str(&text)
            .map_err(|e| mismatch(format!("not a front-end description ({e})")))?;
        if f.version != 1 || f.window_samples != WINDOW_SAMPLES || f.specs.len() != 2 {
            return Err(mismatch(format!(
                "version {}, {} samples, {} spectrograms; expected version 1, {WINDOW_SAMPLES}, 2",
                f.version,
                f.window_samples,
                f.specs.len()
            )));
        }
        if !(f.normalize.eps.is_finite()
            && f.normalize.offset.is_finite()
            && f.normalize.scale.is_finite())
        {
            return Err(mismatch("non-finite normalisation constants".into()));
        }
        let mut planner = RealFftPlanner::<f64>::new();
        let mut specs = Vec::with_capacity(2);
        for s in f.specs {
            let bins = s.frame_len / 2 + 1;
            let bad = s.frame_len < 2
                || s.frame_len > WINDOW_SAMPLES
                || s.hop == 0
                || s.frames != (WINDOW_SAMPLES - s.frame_len) / s.hop + 1
                || s.bands == 0
                || s.window.len() != s.frame_len
                || s.mel.is_empty()
                || s.mel
                    .iter()
                    .any(|&(b, m, w)| b >= bins || m >= s.bands || !w.is_finite());
            if bad {
                return Err(mismatch(format!(
                    "spectrogram '{}' is inconsistent (frame {}, hop {}, {} frames, {} bands)",
                    s.input, s.frame_len, s.hop, s.frames, s.bands
                )));
            }
            let lo = s.mel.iter().map(|t| t.0).min().unwrap_or(0);
            let hi = s.mel.iter().map(|t| t.0).max().unwrap_or(0) + 1;
            let mut weights = vec![Vec::new(); hi - lo];
            for &(b, m, w) in &s.mel {
                weights[b - lo].push((m as u32, w));
            }
            specs.push(Spec {
                fft: planner.plan_fft_forward(s.frame_len),
                input: s.input,
                frame_len: s.frame_len,
                hop: s.hop,
                frames: s.frames,
                bands: s.bands,
                window: s.window,
                lo,
                weights,
            });
        }
        Ok(Frontend {
            norm: f.normalize,
            specs,
        })
    }

    /// Compute every spectrogram of one window (exactly [`WINDOW_SAMPLES`] finite samples) into `outs`
    /// (one slice of `frames * bands` per spectrogram, overwritten).
    pub fn compute(&self, x: &[f32], outs: &mut [&mut [f32]], sc: &mut Scratch) {
        debug_assert_eq!(x.len(), WINDOW_SAMPLES);
        // Min-max normalisation in the graph's order of float operations.
        let mn = x.iter().copied().fold(f32::INFINITY, f32::min);
        sc.norm.clear();
        sc.norm.extend(x.iter().map(|&v| v - mn));
        let mx = sc.norm.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let den = mx + self.norm.eps;
        let (off, scale) = (self.norm.offset, self.norm.scale);
        for v in sc.norm.iter_mut() {
            *v = (*v / den - off) * scale;
        }
        for (s, out) in self.specs.iter().zip(outs.iter_mut()) {
            sc.frame.resize(s.frame_len, 0.0);
            sc.spectrum.resize(s.frame_len / 2 + 1, Default::default());
            sc.fft.resize(s.fft.get_scratch_len(), Default::default());
            sc.row.resize(s.bands, 0.0);
            for t in 0..s.frames {
                let src = &sc.norm[t * s.hop..t * s.hop + s.frame_len];
                // The windowed frame is rounded to f32 as in the graph; the FFT runs in f64, because an f32
                // FFT loses the quiet bins next to a strong DC offset (cosine 0.99998 instead of 1.0000
                // against the TFLite model on the reference tone + DC window).
                for ((f, &a), &w) in sc.frame.iter_mut().zip(src).zip(&s.window) {
                    *f = (a * w) as f64;
                }
                // Lengths match the plan by construction, so this cannot fail; if it did, the frame is zero.
                if s.fft
                    .process_with_scratch(&mut sc.frame, &mut sc.spectrum, &mut sc.fft)
                    .is_err()
                {
                    sc.spectrum.fill(Default::default());
                }
                sc.row.fill(0.0);
                for (c, ws) in sc.spectrum[s.lo..].iter().zip(&s.weights) {
                    for &(m, w) in ws {
                        sc.row[m as usize] += c.re * w as f64;
                    }
                }
                for (o, &v) in out[t * s.bands..(t + 1) * s.bands].iter_mut().zip(&sc.row) {
                    *o = v as f32;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, json: &str) -> std::path::PathBuf {
        let p = dir.join("frontend.json");
        std::fs::write(&p, json).unwrap();
        p
    }

    fn spec_json(frame: usize, hop: usize, mel: &str) -> String {
        let frames = (WINDOW_SAMPLES - frame) / hop + 1;
        let window: Vec<String> = (0..frame)
            .map(|i| {
                let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / frame as f64).cos();
                format!("{w}")
            })
            .collect();
        format!(
            r#"{{"input":"s","frame_len":{frame},"hop":{hop},"frames":{frames},"bands":3,"window":[{}],"mel":{mel}}}"#,
            window.join(",")
        )
    }

    #[test]
    fn matches_a_direct_dft_of_the_normalised_window() {
        let dir = tempfile::tempdir().unwrap();
        let mel = "[[1,0,1.0],[2,0,0.5],[5,1,2.0],[6,2,-1.0]]";
        let json = format!(
            r#"{{"version":1,"window_samples":144000,"normalize":{{"eps":1e-6,"offset":0.5,"scale":2.0}},"specs":[{},{}]}}"#,
            spec_json(64, 2000, mel),
            spec_json(32, 4000, mel)
        );
        let fe = Frontend::load(&write(dir.path(), &json)).unwrap();
        let x: Vec<f32> = (0..WINDOW_SAMPLES)
            .map(|i| (i as f32 * 0.37).sin() * 0.3 + ((i * 7919) % 101) as f32 / 400.0)
            .collect();
        let mut a = vec![0.0; fe.specs[0].frames * 3];
        let mut b = vec![0.0; fe.specs[1].frames * 3];
        fe.compute(&x, &mut [&mut a, &mut b], &mut Scratch::default());
        // Reference in f64: normalise, frame, window, real part of the DFT, filterbank.
        let mn = x.iter().copied().fold(f32::INFINITY, f32::min) as f64;
        let mx = x.iter().map(|&v| v as f64 - mn).fold(0.0, f64::max);
        let s: Vec<f64> = x
            .iter()
            .map(|&v| ((v as f64 - mn) / (mx + 1e-6) - 0.5) * 2.0)
            .collect();
        let tri = [
            (1usize, 0usize, 1.0f64),
            (2, 0, 0.5),
            (5, 1, 2.0),
            (6, 2, -1.0),
        ];
        for (frame, hop, got) in [(64usize, 2000usize, &a), (32, 4000, &b)] {
            for t in 0..(WINDOW_SAMPLES - frame) / hop + 1 {
                let mut want = [0.0f64; 3];
                for &(k, m, w) in &tri {
                    let re: f64 = (0..frame)
                        .map(|n| {
                            let win =
                                0.5 - 0.5 * (std::f64::consts::TAU * n as f64 / frame as f64).cos();
                            s[t * hop + n]
                                * win
                                * (std::f64::consts::TAU * (n * k) as f64 / frame as f64).cos()
                        })
                        .sum();
                    want[m] += re * w;
                }
                for m in 0..3 {
                    let g = got[t * 3 + m] as f64;
                    assert!(
                        (g - want[m]).abs() < 1e-4,
                        "frame {frame} t {t} band {m}: {g} vs {}",
                        want[m]
                    );
                }
            }
        }
    }

    #[test]
    fn inconsistent_descriptions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for json in [
            "not json".to_string(),
            r#"{"version":2,"window_samples":144000,"normalize":{"eps":1e-6,"offset":0.5,"scale":2.0},"specs":[]}"#.into(),
            format!(
                r#"{{"version":1,"window_samples":144000,"normalize":{{"eps":1e-6,"offset":0.5,"scale":2.0}},"specs":[{},{}]}}"#,
                spec_json(64, 2000, "[[40,0,1.0]]"), // bin 40 > 32
                spec_json(64, 2000, "[[1,0,1.0]]")
            ),
        ] {
            let err = Frontend::load(&write(dir.path(), &json)).err().expect("refused");
            assert!(matches!(err, EmbedError::ModelMismatch { .. }), "{err}");
        }
    }
}

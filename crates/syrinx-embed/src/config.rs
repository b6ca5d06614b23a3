//! Where the model and the ONNX Runtime library live.

use std::path::{Path, PathBuf};

use crate::EmbedError;

/// The ONNX Runtime version `scripts/setup` installs.
pub const ORT_VERSION: &str = "1.31.1";
const MODEL_FILE: &str = "birdnet_v2.4.onnx";
const BACKBONE_FILE: &str = "birdnet_v2.4_backbone.onnx";
const FRONTEND_FILE: &str = "frontend.json";
const LABELS_FILE: &str = "labels.txt";
const LICENSE_FILE: &str = "LICENSE";

/// The per-user cache: `SYRINX_CACHE`, else `$XDG_CACHE_HOME/syrinx`, else `~/.cache/syrinx`.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("SYRINX_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_CACHE_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p).join("syrinx");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache").join("syrinx")
}

/// Resolved locations of everything the embedder needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPaths {
    /// The converted full model (`audio` in), verified against the TFLite original: the identity of the
    /// embeddings (a library records its size and hash).
    pub model: PathBuf,
    /// The network after the spectrograms (`spec1`, `spec2` in), cut from `model`: what actually runs.
    pub backbone: PathBuf,
    /// How to compute `spec1`/`spec2` from a window (`frontend.json`, from `scripts/split_birdnet.py`).
    pub frontend: PathBuf,
    pub labels: PathBuf,
    /// The model's licence (CC BY-NC-SA 4.0), shown in the app's About box.
    pub license: PathBuf,
    pub ort_dylib: PathBuf,
}

impl ModelPaths {
    /// Resolve paths: explicit arguments first, then `SYRINX_MODEL_DIR` / `SYRINX_ORT_DYLIB`, then the cache
    /// directory. Checks that the files exist; says how to fix it when they do not.
    pub fn resolve(model_dir: Option<&Path>, ort_dylib: Option<&Path>) -> Result<Self, EmbedError> {
        let model_dir = model_dir
            .map(Path::to_path_buf)
            .or_else(|| env_path("SYRINX_MODEL_DIR"))
            .unwrap_or_else(default_model_dir);
        let ort_dylib = ort_dylib
            .map(Path::to_path_buf)
            .or_else(|| env_path("SYRINX_ORT_DYLIB"))
            .unwrap_or_else(default_ort_dylib);
        let paths = ModelPaths {
            model: model_dir.join(MODEL_FILE),
            backbone: model_dir.join(BACKBONE_FILE),
            frontend: model_dir.join(FRONTEND_FILE),
            labels: model_dir.join(LABELS_FILE),
            license: model_dir.join(LICENSE_FILE),
            ort_dylib,
        };
        if !paths.model.is_file() {
            return Err(EmbedError::ModelNotFound { path: paths.model });
        }
        for p in [&paths.backbone, &paths.frontend, &paths.labels] {
            if !p.is_file() {
                return Err(EmbedError::ModelNotFound { path: p.clone() });
            }
        }
        if !paths.ort_dylib.is_file() {
            return Err(EmbedError::OrtLibraryNotFound {
                path: paths.ort_dylib,
            });
        }
        Ok(paths)
    }

    /// The folder holding the model, its labels and licence.
    pub fn model_dir(&self) -> &Path {
        self.model.parent().unwrap_or(Path::new("."))
    }
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `<cache>/models/birdnet-v2.4`.
pub fn default_model_dir() -> PathBuf {
    cache_dir().join("models").join("birdnet-v2.4")
}

/// `<cache>/onnxruntime/<version>/libonnxruntime.so.<version>`.
pub fn default_ort_dylib() -> PathBuf {
    let name = if cfg!(target_os = "macos") {
        format!("libonnxruntime.{ORT_VERSION}.dylib")
    } else if cfg!(target_os = "windows") {
        "onnxruntime.dll".to_string()
    } else {
        format!("libonnxruntime.so.{ORT_VERSION}")
    };
    cache_dir().join("onnxruntime").join(ORT_VERSION).join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_model_names_the_path_and_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = ModelPaths::resolve(Some(dir.path()), Some(dir.path())).expect_err("must fail");
        let msg = err.to_string();
        assert!(matches!(err, EmbedError::ModelNotFound { .. }), "{msg}");
        assert!(
            msg.contains("birdnet_v2.4.onnx") && msg.contains("scripts/setup"),
            "{msg}"
        );
    }

    #[test]
    fn a_model_without_its_split_parts_says_to_rerun_setup() {
        // A cache prepared before the front end moved to Rust holds only the full model.
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(MODEL_FILE), b"x").expect("write");
        let err = ModelPaths::resolve(Some(dir.path()), Some(dir.path())).expect_err("must fail");
        let msg = err.to_string();
        assert!(
            msg.contains(BACKBONE_FILE) && msg.contains("scripts/setup"),
            "{msg}"
        );
    }

    #[test]
    fn missing_runtime_names_the_path_and_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in [MODEL_FILE, BACKBONE_FILE, FRONTEND_FILE, LABELS_FILE] {
            std::fs::write(dir.path().join(f), b"x").expect("write");
        }
        let lib = dir.path().join("libonnxruntime.so.0");
        let err = ModelPaths::resolve(Some(dir.path()), Some(&lib)).expect_err("must fail");
        assert!(
            matches!(err, EmbedError::OrtLibraryNotFound { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("scripts/setup"));
    }
}

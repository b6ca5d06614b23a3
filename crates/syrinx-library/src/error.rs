use std::path::PathBuf;

/// Errors of the library engine. Per-file ingest failures are not errors: they are listed in the
/// [`crate::IngestReport`].
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("catalog: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("index: {0}")]
    Index(#[from] syrinx_index::IndexError),
    #[error("{0}")]
    Pipeline(#[from] syrinx_pipeline::PipelineError),
    #[error("{0}")]
    Audio(#[from] syrinx_audio::AudioError),
    #[error("{0}")]
    Embed(#[from] syrinx_embed::EmbedError),
    #[error("{0}")]
    Plot(#[from] syrinx_plot::PlotError),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no library in {0} (run `syrinx library init`)")]
    NotFound(PathBuf),
    #[error("{0} already holds a library")]
    AlreadyExists(PathBuf),
    #[error("library {0} is in use by another process")]
    Locked(PathBuf),
    #[error("catalog schema version {found} is newer than this build ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("the library was built with model {library}, but the loaded model is {loaded}")]
    ModelMismatch { library: String, loaded: String },
    #[error("the library uses windows with hop {library} s, not {requested} s")]
    HopMismatch { library: f64, requested: f64 },
    #[error("not found: {0}")]
    Missing(String),
    #[error("invalid argument: {0}")]
    Invalid(String),
    #[error("cancelled")]
    Cancelled,
    #[error("inconsistent library: {0}")]
    Inconsistent(String),
}

pub type Result<T, E = LibraryError> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> LibraryError {
    let path = path.into();
    move |source| LibraryError::Io { path, source }
}

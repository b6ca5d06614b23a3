//! Error type of the index crate.

use std::path::PathBuf;

/// Everything that can go wrong in the index. No operation panics on bad input or bad files:
/// corrupt or truncated files surface as [`IndexError::Corrupt`] / [`IndexError::Checksum`].
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// An operating-system I/O error on a file of the index directory.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// File or directory concerned.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A file is structurally invalid (bad magic, wrong size, out-of-range link or offset...).
    #[error("corrupt index file {path}: {reason}")]
    Corrupt {
        /// File concerned.
        path: PathBuf,
        /// What failed to validate.
        reason: String,
    },
    /// A file's CRC-32 does not match the manifest.
    #[error("checksum mismatch in {path}: manifest says {expected:08x}, file has {found:08x}")]
    Checksum {
        /// File concerned.
        path: PathBuf,
        /// CRC recorded in the manifest.
        expected: u32,
        /// CRC of the bytes on disk.
        found: u32,
    },
    /// The manifest was written by an incompatible version of this crate.
    #[error("unsupported index format version {found} (this build reads version {supported})")]
    Version {
        /// Version found in the manifest.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// No manifest in the directory.
    #[error("no index in {0} (MANIFEST.json missing)")]
    NotFound(PathBuf),
    /// `create` on a directory that already holds an index.
    #[error("directory {0} already contains an index")]
    AlreadyExists(PathBuf),
    /// A vector has the wrong number of components.
    #[error("dimension mismatch: index has {expected}, got {got}")]
    Dimension {
        /// Index dimension.
        expected: usize,
        /// Length supplied.
        got: usize,
    },
    /// A vector contains NaN or infinity (or is all zeros under the cosine metric).
    #[error("invalid vector: {0}")]
    InvalidVector(String),
    /// A parameter is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParam(String),
    /// An id that the index never assigned.
    #[error("unknown id {0}")]
    UnknownId(u32),
    /// The operation would take resident memory above the configured budget.
    #[error("memory budget exceeded: would need {needed} resident bytes, budget is {budget}")]
    MemoryBudget {
        /// Estimated resident bytes after the operation.
        needed: u64,
        /// Configured budget.
        budget: u64,
    },
    /// More than `u32::MAX - 1` vectors.
    #[error("index is full (u32 id space exhausted)")]
    Full,
}

impl IndexError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IndexError::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        IndexError::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, IndexError>;

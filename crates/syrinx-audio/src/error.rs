//! The crate's error type: every failure names the file (where there is one) and a specific reason.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = AudioError> = std::result::Result<T, E>;

/// Everything that can go wrong while reading, decoding or analysing audio.
///
/// Variants that concern a file carry its `path`; the `Display` text always starts with the path
/// followed by a specific, human-readable reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// The file could not be opened, read or seeked by the operating system.
    #[error("{}: I/O error: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file has no bytes at all.
    #[error("{}: empty file (0 bytes)", path.display())]
    EmptyFile { path: PathBuf },

    /// No container format reader recognised the file.
    #[error("{}: not an audio file (unrecognised container)", path.display())]
    UnrecognisedContainer { path: PathBuf },

    /// The container holds no audio track.
    #[error("{}: no audio track in container", path.display())]
    NoAudioTrack { path: PathBuf },

    /// The audio track uses a codec that has no decoder here.
    #[error("{}: unsupported codec ({codec})", path.display())]
    UnsupportedCodec { path: PathBuf, codec: String },

    /// The header says the stream has zero channels.
    #[error("{}: zero channels", path.display())]
    ZeroChannels { path: PathBuf },

    /// The header says the sample rate is 0 Hz (or does not say at all).
    #[error("{}: sample rate 0", path.display())]
    ZeroSampleRate { path: PathBuf },

    /// A sample rate or channel count that is technically non-zero but outside what we accept.
    #[error("{}: unsupported stream layout: {reason}", path.display())]
    UnsupportedLayout { path: PathBuf, reason: String },

    /// A header field (chunk size, block size, …) is impossible or absurd.
    #[error("{}: malformed header: {reason}", path.display())]
    MalformedHeader { path: PathBuf, reason: String },

    /// The stream ended well before the length announced by its header.
    #[error(
        "{}: truncated file: stream ended at {decoded_s:.2} s while header promised {expected_s:.2} s",
        path.display()
    )]
    Truncated {
        path: PathBuf,
        decoded_s: f64,
        expected_s: f64,
    },

    /// A decoded sample was NaN or infinite.
    #[error("{}: non-finite sample (NaN/inf) at {at_s:.2} s", path.display())]
    NonFiniteSample { path: PathBuf, at_s: f64 },

    /// Too many corrupt packets, or the decoder stopped making progress.
    #[error("{}: corrupt stream: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },

    /// The stream decoded to zero samples.
    #[error("{}: no audio samples in stream", path.display())]
    NoAudio { path: PathBuf },

    /// A seek was refused by the container or failed.
    #[error("{}: seek to {to_s:.3} s failed: {reason}", path.display())]
    Seek {
        path: PathBuf,
        to_s: f64,
        reason: String,
    },

    /// A requested time range is empty, negative, non-finite, or starts past the end.
    #[error("{}: invalid time range {start_s}..{end_s} s: {reason}", path.display())]
    InvalidRange {
        path: PathBuf,
        start_s: f64,
        end_s: f64,
        reason: String,
    },

    /// The resampler could not be built or failed (no file involved).
    #[error("resampler error: {reason}")]
    Resample { reason: String },

    /// A caller-supplied parameter is out of range (no file involved).
    #[error("invalid parameter: {reason}")]
    InvalidParameter { reason: String },
}

impl AudioError {
    /// The file this error concerns, if any.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            AudioError::Io { path, .. }
            | AudioError::EmptyFile { path }
            | AudioError::UnrecognisedContainer { path }
            | AudioError::NoAudioTrack { path }
            | AudioError::UnsupportedCodec { path, .. }
            | AudioError::ZeroChannels { path }
            | AudioError::ZeroSampleRate { path }
            | AudioError::UnsupportedLayout { path, .. }
            | AudioError::MalformedHeader { path, .. }
            | AudioError::Truncated { path, .. }
            | AudioError::NonFiniteSample { path, .. }
            | AudioError::Corrupt { path, .. }
            | AudioError::NoAudio { path }
            | AudioError::Seek { path, .. }
            | AudioError::InvalidRange { path, .. } => Some(path),
            AudioError::Resample { .. } | AudioError::InvalidParameter { .. } => None,
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        AudioError::InvalidParameter {
            reason: reason.into(),
        }
    }
}

//! The crate's error type.

use std::path::PathBuf;

/// What can go wrong with audio devices.
#[derive(Debug, thiserror::Error)]
pub enum DevicesError {
    #[error("no audio input device is available (is a microphone connected, and is PulseAudio/PipeWire running?)")]
    NoInputDevice,
    #[error("no audio output device is available (is PulseAudio/PipeWire running?)")]
    NoOutputDevice,
    #[error("audio device `{0}` was not found (it may have been unplugged); choose another one")]
    DeviceNotFound(String),
    #[error("audio device `{device}`: {reason}")]
    Device { device: String, reason: String },
    #[error("audio device `{device}` uses the sample format {format}, which Syrinx cannot record")]
    UnsupportedFormat { device: String, format: String },
    #[error("a recording is already running")]
    AlreadyRecording,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: could not write the WAV file: {reason}")]
    Wav { path: PathBuf, reason: String },
    #[error("the audio thread stopped unexpectedly")]
    ThreadGone,
}

pub type Result<T> = std::result::Result<T, DevicesError>;

pub(crate) fn device_err(device: &str, e: impl std::fmt::Display) -> DevicesError {
    DevicesError::Device {
        device: device.to_string(),
        reason: e.to_string(),
    }
}

/// Stream errors that are glitches, not failures: an under/overrun (a click in the audio), a
/// refused realtime priority, or a default-device switch that cpal followed. The stream goes on;
/// reporting them as errors would alarm the user about nothing (seen on a loaded 2-core machine).
pub(crate) fn is_glitch(e: &cpal::Error) -> bool {
    matches!(
        e.kind(),
        cpal::ErrorKind::Xrun | cpal::ErrorKind::RealtimeDenied | cpal::ErrorKind::DeviceChanged
    )
}

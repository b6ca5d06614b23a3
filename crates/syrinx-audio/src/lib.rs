//! # syrinx-audio
//!
//! The audio front end of Syrinx: decode bird-call recordings (WAV, FLAC, MP3, Ogg Vorbis,
//! Ogg Opus, M4A/AAC, …) with symphonia (+ libopus for Opus), mix them down to mono, resample
//! them to 48 kHz with rubato, and cut them into 3 s analysis windows — all streaming, so memory
//! does not grow with the length of the recording. Also: header probing, decoding a time range
//! (seeking where the container allows), and display spectrograms whose cost depends on the
//! picture size rather than on the recording length.
//!
//! Entry points:
//! - [`probe`] — format, rate, channels, duration.
//! - [`MonoStream`] / [`windows`] — streaming mono 48 kHz chunks / 3 s [`Window`]s.
//! - [`decode_mono_48k`] / [`decode_range`] — short clips and ranges in memory.
//! - [`spectrogram_of_file`] / [`spectrogram_of_samples`].
//!
//! Every failure is an [`AudioError`] naming the file and a specific reason; no input can make
//! these functions panic or loop forever.

mod decode;
pub mod error;
pub mod mixdown;
mod opus;
pub mod resample;
pub mod silence;
pub mod spectrogram;
mod wav_header;
pub mod window;

pub use decode::{
    decode_mono_48k, decode_range, probe, windows, windows_with, AudioInfo, DecodeOptions, Decoded,
    MonoStream, WindowStream, MAX_CHANNELS,
};
pub use error::{AudioError, Result};
pub use mixdown::{mix_to_mono, mix_to_mono_into};
pub use resample::{resample_to_48k, StreamResampler, TARGET_RATE};
pub use silence::is_silent;
pub use spectrogram::{
    spectrogram_of_file, spectrogram_of_samples, FreqScale, Spectrogram, SpectrogramParams,
};
pub use window::{
    window_count, windows_of, Window, WindowConfig, Windower, DEFAULT_HOP_S, WINDOW_S,
    WINDOW_SAMPLES,
};

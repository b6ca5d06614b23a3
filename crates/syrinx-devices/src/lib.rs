//! # syrinx-devices
//!
//! Audio hardware for Syrinx, through cpal: list input/output devices, record a take from a
//! microphone into a WAV file while keeping a live tail of the last seconds (for the scrolling
//! spectrogram and "search the last 3 s"), and play mono audio with a position the UI can follow.
//!
//! Real-time discipline: the audio callbacks only mix to mono and push into (or pull from) a
//! lock-free ring (`rtrb`); file writing, the tail and the level meter live on ordinary threads.
//! cpal streams are created and dropped on the thread that owns them, so no stream crosses
//! threads (they are not `Send` on every platform).

mod device;
mod error;
mod playback;
mod record;

pub use device::{default_input_name, input_devices, output_devices, DeviceInfo};
pub use error::{DevicesError, Result};
pub use playback::{Playback, PlaybackState};
pub use record::{Recorder, RecordingStatus, Take};

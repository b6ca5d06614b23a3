//! The microphone: a take being recorded, its live spectrogram columns, and its last seconds.

use serde::Serialize;
use syrinx_audio::{FreqScale, SpectrogramParams};
use syrinx_devices::{Recorder, RecordingStatus};

use crate::error::Result;
use crate::tiles::quantise;

/// Rows of a live spectrogram column.
pub const LIVE_ROWS: usize = 128;
/// Highest frequency the live view shows (Hz; bird song sits below).
pub const LIVE_F_MAX: f32 = 12_000.0;

/// What the UI receives on each poll while recording.
#[derive(Clone, Debug, Serialize)]
pub struct LiveUpdate {
    pub status: RecordingStatus,
    /// New spectrogram columns since the last poll: `n_columns` columns of `rows` bytes each,
    /// column after column, **top row (highest frequency) first** within a column.
    pub columns: Vec<u8>,
    pub n_columns: usize,
    pub rows: usize,
    /// Seconds of audio per column.
    pub column_s: f64,
    pub f_max: f32,
}

pub(crate) struct Live {
    pub recorder: Recorder,
    cursor: u64,
    hop: usize,
}

impl Live {
    pub fn new(recorder: Recorder) -> Live {
        // ~21 ms per column whatever the device rate.
        let hop = ((recorder.sample_rate() as f64 / 48.0).round() as usize).max(64);
        Live {
            recorder,
            cursor: 0,
            hop,
        }
    }

    /// Columns for the audio received since the previous call.
    pub fn poll(&mut self) -> Result<LiveUpdate> {
        let status = self.recorder.status();
        let rate = self.recorder.sample_rate();
        let (samples, first) = self.recorder.since(self.cursor);
        let n_columns = samples.len() / self.hop;
        let f_max = LIVE_F_MAX.min(rate as f32 / 2.0);
        let mut columns = Vec::with_capacity(n_columns * LIVE_ROWS);
        if n_columns > 0 {
            let used = n_columns * self.hop;
            let p = SpectrogramParams {
                start_s: 0.0,
                end_s: Some(used as f64 / rate as f64),
                width: n_columns,
                height: LIVE_ROWS,
                scale: FreqScale::Linear,
                f_min: 0.0,
                f_max: Some(f_max),
                fft_size: (self.hop * 2).next_power_of_two().clamp(64, 16384),
                frames_per_column: 1,
                floor_db: crate::tiles::FLOOR_DB,
            };
            let s = syrinx_audio::spectrogram_of_samples(&samples[..used], rate, &p)?;
            for c in 0..s.width {
                for r in (0..s.height).rev() {
                    columns.push(quantise(s.data[r * s.width + c]));
                }
            }
            self.cursor = first + used as u64;
        }
        Ok(LiveUpdate {
            status,
            columns,
            n_columns,
            rows: LIVE_ROWS,
            column_s: self.hop as f64 / rate as f64,
            f_max,
        })
    }

    /// The last `seconds` of audio resampled to 48 kHz (for a live search).
    pub fn last_48k(&self, seconds: f64) -> Result<Vec<f32>> {
        let (tail, _) = self.recorder.tail(seconds);
        Ok(syrinx_audio::resample_to_48k(
            &tail,
            self.recorder.sample_rate(),
        )?)
    }
}

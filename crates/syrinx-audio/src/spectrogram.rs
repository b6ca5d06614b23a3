//! Display spectrograms at a requested pixel size, on a linear or mel frequency axis.
//!
//! Cost is bounded by the picture, not by the recording: each pixel column gets at most
//! `frames_per_column` FFT frames (spread evenly over the column's time span and max-pooled), so
//! an hour-long overview costs the same few thousand FFTs as a ten-second one. From files in
//! cheaply seekable containers (WAV, AIFF, CAF, FLAC, MP4) only the samples under those frames
//! are read, by seeking; other containers are decoded sequentially but never held in memory.
//!
//! Output is dB relative to full scale (a full-scale sine reads ≈ 0 dB), row-major, with
//! **row 0 at `f_min` (the bottom of the picture)** and rows increasing in frequency.

use std::path::Path;

use realfft::RealFftPlanner;

use crate::decode::{DecodeOptions, SourceReader};
use crate::error::{AudioError, Result};

/// Frequency axis of a spectrogram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FreqScale {
    Linear,
    /// HTK mel scale: `mel = 2595 log10(1 + f / 700)`.
    Mel,
}

/// What to draw.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpectrogramParams {
    /// Start of the time range (s, ≥ 0).
    pub start_s: f64,
    /// End of the time range (s); `None` means the end of the audio.
    pub end_s: Option<f64>,
    /// Pixel columns (time), 1..=16384.
    pub width: usize,
    /// Pixel rows (frequency), 1..=4096.
    pub height: usize,
    pub scale: FreqScale,
    /// Lowest frequency shown (Hz).
    pub f_min: f32,
    /// Highest frequency shown (Hz); `None` (or above Nyquist) means the Nyquist frequency.
    pub f_max: Option<f32>,
    /// FFT length in samples (power of two, 64..=16384); 0 picks ≈ 21 ms at the file's rate.
    pub fft_size: usize,
    /// Most FFT frames max-pooled into one column (≥ 1).
    pub frames_per_column: usize,
    /// Values are clamped below at this level (dB).
    pub floor_db: f32,
}

impl Default for SpectrogramParams {
    fn default() -> Self {
        SpectrogramParams {
            start_s: 0.0,
            end_s: None,
            width: 1200,
            height: 256,
            scale: FreqScale::Linear,
            f_min: 0.0,
            f_max: None,
            fft_size: 0,
            frames_per_column: 4,
            floor_db: -120.0,
        }
    }
}

/// A computed spectrogram.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Spectrogram {
    pub width: usize,
    pub height: usize,
    /// `height * width` dB values, row-major; row 0 is `f_min`.
    pub data: Vec<f32>,
    /// Time of the left edge of column 0 (s).
    pub t0: f64,
    /// Time of the right edge of the last column (s).
    pub t1: f64,
    pub f_min: f32,
    pub f_max: f32,
    pub scale: FreqScale,
    /// Sample rate the spectrogram was computed at (the file's native rate).
    pub sample_rate: u32,
    pub fft_size: usize,
}

fn hz_to_mel(f: f64) -> f64 {
    2595.0 * (1.0 + f / 700.0).log10()
}

fn mel_to_hz(m: f64) -> f64 {
    700.0 * (10f64.powf(m / 2595.0) - 1.0)
}

impl Spectrogram {
    /// dB value at (`row`, `col`), if inside.
    pub fn get(&self, row: usize, col: usize) -> Option<f32> {
        if row < self.height && col < self.width {
            self.data.get(row * self.width + col).copied()
        } else {
            None
        }
    }

    fn hz_to_axis(&self, f: f64) -> f64 {
        match self.scale {
            FreqScale::Linear => f,
            FreqScale::Mel => hz_to_mel(f),
        }
    }

    fn axis_to_hz(&self, a: f64) -> f64 {
        match self.scale {
            FreqScale::Linear => a,
            FreqScale::Mel => mel_to_hz(a),
        }
    }

    /// Centre frequency (Hz) of a row.
    pub fn row_center_hz(&self, row: usize) -> f32 {
        let lo = self.hz_to_axis(self.f_min as f64);
        let hi = self.hz_to_axis(self.f_max as f64);
        let a = lo + (row as f64 + 0.5) * (hi - lo) / self.height as f64;
        self.axis_to_hz(a) as f32
    }

    /// Row that contains frequency `hz`, if it is within `[f_min, f_max]`.
    pub fn row_of_hz(&self, hz: f32) -> Option<usize> {
        if !(hz >= self.f_min && hz <= self.f_max) {
            return None;
        }
        let lo = self.hz_to_axis(self.f_min as f64);
        let hi = self.hz_to_axis(self.f_max as f64);
        let r =
            ((self.hz_to_axis(hz as f64) - lo) / (hi - lo) * self.height as f64).floor() as usize;
        Some(r.min(self.height - 1))
    }

    /// Time (s) at the centre of a column.
    pub fn col_center_s(&self, col: usize) -> f64 {
        self.t0 + (col as f64 + 0.5) * (self.t1 - self.t0) / self.width as f64
    }
}

/// Validated layout shared by the in-memory and file paths.
struct Plan {
    sr: u32,
    n_fft: usize,
    width: usize,
    height: usize,
    f_min: f32,
    f_max: f32,
    scale: FreqScale,
    floor_db: f32,
    /// Range in frames (absolute).
    s0: f64,
    s1: f64,
    /// Frames per column.
    k: usize,
    /// For each row: inclusive FFT bin range.
    rows: Vec<(usize, usize)>,
    /// Spread a column's frames over its whole span (best coverage); otherwise they sit
    /// side by side (50 % overlap) at the column centre, so a file needs one seek per column.
    spread: bool,
}

impl Plan {
    fn new(params: &SpectrogramParams, sr: u32, end_default_s: f64) -> Result<Plan> {
        if sr == 0 {
            return Err(AudioError::invalid("sample rate 0"));
        }
        if params.width == 0 || params.width > 16_384 || params.height == 0 || params.height > 4096
        {
            return Err(AudioError::invalid(format!(
                "picture size {}x{} outside 1..=16384 x 1..=4096",
                params.width, params.height
            )));
        }
        let t0 = params.start_s;
        let t1 = params.end_s.unwrap_or(end_default_s);
        if !t0.is_finite() || !t1.is_finite() || t0 < 0.0 || t1 <= t0 {
            return Err(AudioError::invalid(format!(
                "time range {t0}..{t1} s is empty or invalid"
            )));
        }
        let n_fft = if params.fft_size == 0 {
            ((sr as f64 * 0.021) as usize)
                .next_power_of_two()
                .clamp(256, 4096)
        } else {
            params.fft_size
        };
        if !n_fft.is_power_of_two() || !(64..=16_384).contains(&n_fft) {
            return Err(AudioError::invalid(format!(
                "fft_size {n_fft} must be a power of two in 64..=16384"
            )));
        }
        let nyq = sr as f32 / 2.0;
        let f_max = params.f_max.unwrap_or(nyq).min(nyq);
        let f_min = params.f_min;
        if !f_min.is_finite() || !f_max.is_finite() || f_min < 0.0 || f_max <= f_min {
            return Err(AudioError::invalid(format!(
                "frequency range {f_min}..{f_max} Hz is empty or invalid (Nyquist {nyq} Hz)"
            )));
        }
        if params.frames_per_column == 0 {
            return Err(AudioError::invalid("frames_per_column must be ≥ 1"));
        }
        let s0 = t0 * sr as f64;
        let s1 = t1 * sr as f64;
        let span = (s1 - s0) / params.width as f64;
        let k = ((span / n_fft as f64).ceil() as usize).clamp(1, params.frames_per_column);

        let bin_hz = sr as f64 / n_fft as f64;
        let n_bins = n_fft / 2 + 1;
        let (alo, ahi) = match params.scale {
            FreqScale::Linear => (f_min as f64, f_max as f64),
            FreqScale::Mel => (hz_to_mel(f_min as f64), hz_to_mel(f_max as f64)),
        };
        let inv = |a: f64| match params.scale {
            FreqScale::Linear => a,
            FreqScale::Mel => mel_to_hz(a),
        };
        let rows = (0..params.height)
            .map(|r| {
                let step = (ahi - alo) / params.height as f64;
                let lo_hz = inv(alo + r as f64 * step);
                let hi_hz = inv(alo + (r + 1) as f64 * step);
                let mid_hz = inv(alo + (r as f64 + 0.5) * step);
                let klo = (lo_hz / bin_hz).ceil() as usize;
                let khi = ((hi_hz / bin_hz).ceil() as usize).saturating_sub(1);
                if klo <= khi && khi < n_bins {
                    (klo, khi)
                } else {
                    // Band narrower than a bin: use the nearest bin.
                    let k = ((mid_hz / bin_hz).round() as usize).min(n_bins - 1);
                    (k, k)
                }
            })
            .collect();
        Ok(Plan {
            sr,
            n_fft,
            width: params.width,
            height: params.height,
            f_min,
            f_max,
            scale: params.scale,
            floor_db: params.floor_db,
            s0,
            s1,
            k,
            rows,
            spread: true,
        })
    }

    /// Start frame (may be negative) of frame `j` of column `c`.
    fn frame_start(&self, c: usize, j: usize) -> i64 {
        let span = (self.s1 - self.s0) / self.width as f64;
        let n = self.n_fft as f64;
        if self.spread || span <= self.k as f64 * n {
            let centre = self.s0 + (c as f64 + (j as f64 + 0.5) / self.k as f64) * span;
            (centre - n / 2.0).round() as i64
        } else {
            let hop = n / 2.0;
            let group = (self.k - 1) as f64 * hop + n;
            let centre = self.s0 + (c as f64 + 0.5) * span;
            (centre - group / 2.0 + j as f64 * hop).round() as i64
        }
    }

    /// Runs the plan, pulling each frame's samples from `fill(start, dst)`.
    fn run(&self, mut fill: impl FnMut(i64, &mut [f32]) -> Result<()>) -> Result<Spectrogram> {
        let n = self.n_fft;
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(n);
        let window: Vec<f32> = (0..n)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / n as f32).cos())
            .collect();
        let wsum: f32 = window.iter().sum();
        let norm = (2.0 / wsum).powi(2);
        let mut raw = vec![0.0f32; n];
        let mut inbuf = vec![0.0f32; n];
        let mut spec = fft.make_output_vec();
        let mut scratch = fft.make_scratch_vec();
        let mut pooled = vec![0.0f32; n / 2 + 1];
        let mut data = vec![self.floor_db; self.width * self.height];
        for c in 0..self.width {
            pooled.fill(0.0);
            for j in 0..self.k {
                raw.fill(0.0);
                fill(self.frame_start(c, j), &mut raw)?;
                for ((d, &x), &w) in inbuf.iter_mut().zip(&raw).zip(&window) {
                    *d = x * w;
                }
                fft.process_with_scratch(&mut inbuf, &mut spec, &mut scratch)
                    .map_err(|e| AudioError::invalid(format!("fft failed: {e}")))?;
                for (p, z) in pooled.iter_mut().zip(&spec) {
                    *p = p.max(z.norm_sqr() * norm);
                }
            }
            for (r, &(klo, khi)) in self.rows.iter().enumerate() {
                let p = pooled[klo..=khi].iter().copied().fold(0.0f32, f32::max);
                let db = 10.0 * p.max(1e-30).log10();
                data[r * self.width + c] = if db.is_finite() {
                    db.max(self.floor_db)
                } else {
                    self.floor_db
                };
            }
        }
        Ok(Spectrogram {
            width: self.width,
            height: self.height,
            data,
            t0: self.s0 / self.sr as f64,
            t1: self.s1 / self.sr as f64,
            f_min: self.f_min,
            f_max: self.f_max,
            scale: self.scale,
            sample_rate: self.sr,
            fft_size: self.n_fft,
        })
    }
}

/// Spectrogram of in-memory mono samples (time 0 = `samples[0]`). Parts of frames outside the
/// samples count as silence.
pub fn spectrogram_of_samples(
    samples: &[f32],
    sample_rate: u32,
    params: &SpectrogramParams,
) -> Result<Spectrogram> {
    let end = samples.len() as f64 / sample_rate.max(1) as f64;
    let plan = Plan::new(params, sample_rate, end)?;
    plan.run(|start, dst| {
        let n = dst.len() as i64;
        let len = samples.len() as i64;
        let a = start.clamp(0, len);
        let b = (start + n).clamp(0, len);
        if a < b {
            let off = (a - start) as usize;
            dst[off..off + (b - a) as usize].copy_from_slice(&samples[a as usize..b as usize]);
        }
        Ok(())
    })
}

/// Pulls frames out of a file, seeking over large gaps where that is cheap.
struct FrameReader<'a> {
    reader: &'a mut SourceReader,
    buf: Vec<f32>,
    buf_start: u64,
    tmp: Vec<f32>,
    eof: bool,
    can_seek: bool,
    seek_gap: u64,
}

impl FrameReader<'_> {
    fn buf_end(&self) -> u64 {
        self.buf_start + self.buf.len() as u64
    }

    fn drop_before(&mut self, a: u64) {
        if self.buf_start < a {
            let d = ((a - self.buf_start) as usize).min(self.buf.len());
            self.buf.drain(..d);
            self.buf_start += d as u64;
            if self.buf.is_empty() {
                self.buf_start = a.max(self.buf_start);
            }
        }
    }

    fn fill(&mut self, start: i64, dst: &mut [f32]) -> Result<()> {
        let end = start + dst.len() as i64;
        if end <= 0 {
            return Ok(());
        }
        let a = start.max(0) as u64;
        let b = end as u64;
        if !self.eof && self.can_seek && a > self.buf_end() + self.seek_gap {
            match self.reader.seek(a) {
                Ok(()) => {
                    self.buf.clear();
                    self.buf_start = self.reader.pos;
                }
                Err(_) => self.can_seek = false,
            }
        }
        self.drop_before(a);
        while self.buf_end() < b && !self.eof {
            self.tmp.clear();
            let n = self.reader.read_packet(&mut self.tmp)?;
            if n == 0 {
                self.eof = true;
                break;
            }
            let p_end = self.reader.pos;
            let p_start = p_end.saturating_sub(n as u64);
            if self.buf.is_empty() || p_start != self.buf_end() {
                // First data, or a discontinuity after a seek: restart the buffer here.
                self.buf.clear();
                self.buf_start = p_start;
            }
            self.buf.extend_from_slice(&self.tmp);
            self.drop_before(a);
        }
        // Copy the overlap of [a, b) with the buffer.
        let lo = a.max(self.buf_start);
        let hi = b.min(self.buf_end());
        if lo < hi {
            let src = &self.buf[(lo - self.buf_start) as usize..(hi - self.buf_start) as usize];
            let off = (lo as i64 - start) as usize;
            dst[off..off + src.len()].copy_from_slice(src);
        }
        Ok(())
    }
}

/// Spectrogram of a time range of a file, at the file's native sample rate (mono mix).
///
/// Unlike the decoders this tolerates a truncated file (the missing part draws as silence), so a
/// damaged recording can still be looked at.
pub fn spectrogram_of_file(
    path: impl AsRef<Path>,
    params: &SpectrogramParams,
) -> Result<Spectrogram> {
    let path = path.as_ref();
    let opts = DecodeOptions {
        allow_truncated: true,
        ..DecodeOptions::default()
    };
    let mut reader = SourceReader::open(path, opts)?;
    let sr = reader.info.sample_rate;
    let end_default = if reader.info.duration_from_header {
        reader.info.duration_s
    } else if params.end_s.is_some() {
        0.0 // unused
    } else {
        crate::decode::probe(path)?.duration_s
    };
    let mut plan = Plan::new(params, sr, end_default).map_err(|e| match e {
        AudioError::InvalidParameter { reason } => AudioError::InvalidRange {
            path: path.to_path_buf(),
            start_s: params.start_s,
            end_s: params.end_s.unwrap_or(end_default),
            reason,
        },
        other => other,
    })?;
    let container = reader.info.container.to_ascii_lowercase();
    let can_seek = matches!(
        container.as_str(),
        "wave" | "wav" | "aiff" | "caf" | "flac" | "isomp4"
    );
    // PCM containers seek by arithmetic, so every frame may have its own seek; compressed
    // ones (FLAC, MP4) pay per seek, so their frames are grouped: one seek per column.
    plan.spread = matches!(container.as_str(), "wave" | "wav" | "aiff" | "caf");
    reader.mark_range_read();
    let mut fr = FrameReader {
        reader: &mut reader,
        buf: Vec::new(),
        buf_start: 0,
        tmp: Vec::with_capacity(8192),
        eof: false,
        can_seek,
        seek_gap: (sr as u64 / 2).max(plan.n_fft as u64 * 4),
    };
    plan.run(|start, dst| fr.fill(start, dst))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f32, sr: u32, secs: f32) -> Vec<f32> {
        (0..(sr as f32 * secs) as usize)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq * i as f32 / sr as f32).sin())
            .collect()
    }

    fn peak_row(s: &Spectrogram, col: usize) -> usize {
        (0..s.height)
            .max_by(|&a, &b| s.get(a, col).unwrap().total_cmp(&s.get(b, col).unwrap()))
            .unwrap()
    }

    #[test]
    fn linear_tone_lands_on_its_row() {
        let x = tone(4000.0, 48_000, 2.0);
        let p = SpectrogramParams {
            width: 100,
            height: 240,
            ..Default::default()
        };
        let s = spectrogram_of_samples(&x, 48_000, &p).unwrap();
        assert_eq!(s.data.len(), 240 * 100);
        assert_eq!(s.f_max, 24_000.0);
        let want = s.row_of_hz(4000.0).unwrap();
        assert_eq!(want, 40);
        for col in [5, 50, 95] {
            let r = peak_row(&s, col);
            assert!(r.abs_diff(want) <= 1, "col {col}: row {r} vs {want}");
            // 0.5 amplitude sine ≈ -6 dBFS
            let v = s.get(r, col).unwrap();
            assert!((v + 6.0).abs() < 1.5, "level {v}");
        }
        // Far from the tone it is much quieter.
        assert!(s.get(200, 50).unwrap() < -60.0);
    }

    #[test]
    fn mel_tone_lands_on_its_row() {
        let x = tone(2500.0, 32_000, 1.0);
        let p = SpectrogramParams {
            width: 50,
            height: 128,
            scale: FreqScale::Mel,
            f_min: 500.0,
            f_max: Some(12_000.0),
            ..Default::default()
        };
        let s = spectrogram_of_samples(&x, 32_000, &p).unwrap();
        let want = s.row_of_hz(2500.0).unwrap();
        let r = peak_row(&s, 25);
        assert!(r.abs_diff(want) <= 1, "row {r} vs {want}");
        let c = s.row_center_hz(r);
        assert!((c - 2500.0).abs() < 150.0, "centre {c}");
        // mel rows are narrower at the bottom
        assert!(
            s.row_center_hz(1) - s.row_center_hz(0) < s.row_center_hz(127) - s.row_center_hz(126)
        );
    }

    #[test]
    fn time_range_selects_the_right_part() {
        // 1 s of 1 kHz then 1 s of 6 kHz; ask for the second half only.
        let mut x = tone(1000.0, 48_000, 1.0);
        x.extend(tone(6000.0, 48_000, 1.0));
        let p = SpectrogramParams {
            start_s: 1.0,
            end_s: Some(2.0),
            width: 20,
            height: 96,
            ..Default::default()
        };
        let s = spectrogram_of_samples(&x, 48_000, &p).unwrap();
        assert_eq!((s.t0, s.t1), (1.0, 2.0));
        assert_eq!(peak_row(&s, 10), s.row_of_hz(6000.0).unwrap());
    }

    #[test]
    fn silence_is_floor_and_bad_params_error() {
        let x = vec![0.0f32; 48_000];
        let s = spectrogram_of_samples(&x, 48_000, &SpectrogramParams::default()).unwrap();
        assert!(s.data.iter().all(|&v| v == -120.0));
        for p in [
            SpectrogramParams {
                width: 0,
                ..Default::default()
            },
            SpectrogramParams {
                fft_size: 1000,
                ..Default::default()
            },
            SpectrogramParams {
                f_min: 30_000.0,
                ..Default::default()
            },
            SpectrogramParams {
                start_s: 2.0,
                end_s: Some(1.0),
                ..Default::default()
            },
            SpectrogramParams {
                frames_per_column: 0,
                ..Default::default()
            },
        ] {
            assert!(matches!(
                spectrogram_of_samples(&x, 48_000, &p),
                Err(AudioError::InvalidParameter { .. })
            ));
        }
        assert!(spectrogram_of_samples(&x, 0, &SpectrogramParams::default()).is_err());
    }
}

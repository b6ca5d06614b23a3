//! Streaming band-limited resampling of mono audio to [`TARGET_RATE`] (48 kHz) with `rubato`.
//!
//! Fixed rational ratios (e.g. 44.1k→48k = 147:160) use rubato's synchronous FFT resampler, which
//! is fast and has a steep anti-aliasing filter. Rates whose reduced ratio is awkward (huge FFT
//! sizes, e.g. 44 101 Hz) fall back to rubato's asynchronous sinc resampler. The resampler's
//! start-up delay is trimmed and the output length is exactly `round(n_in * 48000 / rate)`.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, FixedAsync, FixedSync, Indexing, Resampler, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};

use crate::error::{AudioError, Result};

/// The output sample rate of every decode path in this crate.
pub const TARGET_RATE: u32 = 48_000;

/// Lowest input sample rate accepted (Hz).
pub const MIN_INPUT_RATE: u32 = 1_000;
/// Highest input sample rate accepted (Hz); covers ultrasonic (bat) recorders.
pub const MAX_INPUT_RATE: u32 = 1_536_000;

/// Input frames fed to rubato per call.
const CHUNK: usize = 4096;
/// Largest reduced input factor for which the FFT resampler is used.
const MAX_FFT_FACTOR: usize = 4096;

/// A streaming mono resampler from an arbitrary rate to 48 kHz.
///
/// Feed it with [`push`](Self::push) and close with [`finish`](Self::finish); both append the
/// resampled samples to the caller's vector. A 48 kHz input passes straight through.
pub struct StreamResampler {
    inner: Option<Box<dyn Resampler<f32>>>,
    in_rate: u32,
    pending: Vec<f32>,
    out_buf: Vec<f32>,
    delay_left: usize,
    total_in: u64,
    total_out: u64,
    finished: bool,
}

impl std::fmt::Debug for StreamResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamResampler")
            .field("in_rate", &self.in_rate)
            .field("passthrough", &self.inner.is_none())
            .field("total_in", &self.total_in)
            .field("total_out", &self.total_out)
            .finish()
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn resample_err(e: impl std::fmt::Display) -> AudioError {
    AudioError::Resample {
        reason: e.to_string(),
    }
}

impl StreamResampler {
    /// Creates a resampler from `in_rate` Hz to 48 kHz.
    pub fn new(in_rate: u32) -> Result<Self> {
        if !(MIN_INPUT_RATE..=MAX_INPUT_RATE).contains(&in_rate) {
            return Err(AudioError::Resample {
                reason: format!(
                    "input rate {in_rate} Hz outside supported {MIN_INPUT_RATE}..={MAX_INPUT_RATE} Hz"
                ),
            });
        }
        let inner: Option<Box<dyn Resampler<f32>>> = if in_rate == TARGET_RATE {
            None
        } else {
            let (i, o) = (in_rate as usize, TARGET_RATE as usize);
            let factor = i / gcd(i, o);
            if factor <= MAX_FFT_FACTOR {
                Some(Box::new(
                    rubato::Fft::<f32>::new(i, o, CHUNK, 1, FixedSync::Input)
                        .map_err(resample_err)?,
                ))
            } else {
                let params = SincInterpolationParameters::new(256, WindowFunction::BlackmanHarris2)
                    .f_cutoff(0.95)
                    .oversampling_factor(256)
                    .interpolation(SincInterpolationType::Cubic);
                Some(Box::new(
                    Async::<f32>::new_sinc(
                        o as f64 / i as f64,
                        1.0,
                        &params,
                        CHUNK,
                        1,
                        FixedAsync::Input,
                    )
                    .map_err(resample_err)?,
                ))
            }
        };
        let (out_cap, delay) = match &inner {
            Some(r) => (r.output_frames_max(), r.output_delay()),
            None => (0, 0),
        };
        Ok(StreamResampler {
            inner,
            in_rate,
            pending: Vec::with_capacity(CHUNK * 2),
            out_buf: vec![0.0; out_cap],
            delay_left: delay,
            total_in: 0,
            total_out: 0,
            finished: false,
        })
    }

    /// The input sample rate.
    pub fn input_rate(&self) -> u32 {
        self.in_rate
    }

    /// Output samples that the input so far will eventually produce.
    fn expected_out(&self) -> u64 {
        // round(total_in * 48000 / in_rate) in integer arithmetic
        let num = self.total_in as u128 * TARGET_RATE as u128;
        let den = self.in_rate as u128;
        ((num + den / 2) / den) as u64
    }

    fn run_chunk(&mut self, partial: Option<usize>, out: &mut Vec<f32>) -> Result<()> {
        let Some(r) = self.inner.as_mut() else {
            return Ok(());
        };
        let need = r.input_frames_next();
        let avail = partial.unwrap_or(need);
        if self.pending.len() < need {
            self.pending.resize(need, 0.0);
        }
        let input = InterleavedSlice::new(&self.pending[..need], 1, need).map_err(resample_err)?;
        let cap = self.out_buf.len();
        let mut output =
            InterleavedSlice::new_mut(&mut self.out_buf[..], 1, cap).map_err(resample_err)?;
        let idx = partial.map(|n| Indexing::new().partial_len(n));
        let (_n_in, n_out) = r
            .process_into_buffer(&input, &mut output, idx.as_ref())
            .map_err(resample_err)?;
        self.pending.drain(..avail.min(self.pending.len()));
        let mut produced = &self.out_buf[..n_out];
        let skip = self.delay_left.min(produced.len());
        self.delay_left -= skip;
        produced = &produced[skip..];
        let room = self.expected_out().saturating_sub(self.total_out) as usize;
        let take = produced.len().min(room);
        out.extend_from_slice(&produced[..take]);
        self.total_out += take as u64;
        Ok(())
    }

    /// Feeds `input` (mono, at the input rate) and appends any resampled output to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<()> {
        if self.finished {
            return Err(AudioError::Resample {
                reason: "push after finish".into(),
            });
        }
        self.total_in += input.len() as u64;
        if self.inner.is_none() {
            out.extend_from_slice(input);
            self.total_out += input.len() as u64;
            return Ok(());
        }
        self.pending.extend_from_slice(input);
        loop {
            let need = match &self.inner {
                Some(r) => r.input_frames_next(),
                None => return Ok(()),
            };
            if self.pending.len() < need {
                break;
            }
            self.run_chunk(None, out)?;
        }
        Ok(())
    }

    /// Flushes the remaining input (and the filter tail) and appends it to `out`. After this the
    /// total output length is exactly `round(total_in * 48000 / in_rate)`.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        if self.inner.is_none() {
            return Ok(());
        }
        let target = self.expected_out();
        // The first partial chunk carries the leftover input; further ones are pure silence
        // that pushes out the filter delay. Bounded: each call yields ≥ 1 output frame.
        let mut guard = 0usize;
        while self.total_out < target {
            let left = self.pending.len();
            self.run_chunk(Some(left), out)?;
            self.pending.clear();
            guard += 1;
            if guard > 10_000 {
                return Err(AudioError::Resample {
                    reason: "resampler produced no output while flushing".into(),
                });
            }
        }
        Ok(())
    }
}

/// Resamples a whole in-memory mono clip from `in_rate` to 48 kHz.
pub fn resample_to_48k(input: &[f32], in_rate: u32) -> Result<Vec<f32>> {
    let mut r = StreamResampler::new(in_rate)?;
    let expected = (input.len() as u128 * TARGET_RATE as u128 / in_rate.max(1) as u128) as usize;
    let mut out = Vec::with_capacity(expected + 16);
    r.push(input, &mut out)?;
    r.finish(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use realfft::RealFftPlanner;

    fn sine(freq: f64, rate: u32, secs: f64, amp: f32) -> Vec<f32> {
        let n = (rate as f64 * secs).round() as usize;
        (0..n)
            .map(|i| {
                amp * (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin() as f32
            })
            .collect()
    }

    /// Peak frequency (Hz, parabolic interpolation) and RMS-derived amplitude of the middle part.
    fn analyse(x: &[f32], rate: u32) -> (f64, f64) {
        let n = 32768.min(x.len() / 2 * 2);
        let start = (x.len() - n) / 2;
        let seg = &x[start..start + n];
        let mut planner = RealFftPlanner::<f64>::new();
        let fft = planner.plan_fft_forward(n);
        let mut buf: Vec<f64> = seg
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos();
                v as f64 * w
            })
            .collect();
        let mut spec = fft.make_output_vec();
        fft.process(&mut buf, &mut spec).unwrap();
        let mags: Vec<f64> = spec.iter().map(|c| c.norm()).collect();
        let k = (1..mags.len() - 1)
            .max_by(|&a, &b| mags[a].total_cmp(&mags[b]))
            .unwrap();
        let (a, b, c) = (mags[k - 1].ln(), mags[k].ln(), mags[k + 1].ln());
        let delta = 0.5 * (a - c) / (a - 2.0 * b + c);
        let freq = (k as f64 + delta) * rate as f64 / n as f64;
        let rms = (seg.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / n as f64).sqrt();
        (freq, rms * std::f64::consts::SQRT_2)
    }

    #[test]
    fn tones_keep_frequency_amplitude_and_length() {
        for &rate in &[
            44_100u32, 22_050, 16_000, 96_000, 32_000, 8_000, 48_000, 44_101,
        ] {
            let x = sine(1000.0, rate, 2.0, 0.5);
            let y = resample_to_48k(&x, rate).unwrap();
            let expect_len = (x.len() as f64 * 48_000.0 / rate as f64).round() as usize;
            assert!(
                (y.len() as i64 - expect_len as i64).abs() <= 2,
                "{rate}: len {} vs {expect_len}",
                y.len()
            );
            let (f, a) = analyse(&y, TARGET_RATE);
            assert!((f - 1000.0).abs() < 1.0, "{rate}: freq {f}");
            assert!((a - 0.5).abs() < 0.005, "{rate}: amplitude {a}");
        }
    }

    #[test]
    fn no_startup_delay_phase_is_preserved() {
        // A tone starting at t=0 must still start at t=0 after resampling (delay trimmed):
        // compare against an ideal 48 kHz rendering of the same tone.
        let x = sine(440.0, 44_100, 1.0, 0.8);
        let y = resample_to_48k(&x, 44_100).unwrap();
        let ideal = sine(440.0, 48_000, 1.0, 0.8);
        let mid = 24_000;
        let err: f32 = (mid..mid + 1000)
            .map(|i| (y[i] - ideal[i]).abs())
            .fold(0.0, f32::max);
        assert!(err < 0.01, "max deviation {err}");
    }

    #[test]
    fn streaming_in_odd_pieces_equals_one_shot() {
        let x = sine(3000.0, 22_050, 1.3, 0.3);
        let once = resample_to_48k(&x, 22_050).unwrap();
        let mut r = StreamResampler::new(22_050).unwrap();
        let mut out = Vec::new();
        for piece in x.chunks(777) {
            r.push(piece, &mut out).unwrap();
        }
        r.finish(&mut out).unwrap();
        assert_eq!(out.len(), once.len());
        let maxdiff = out
            .iter()
            .zip(&once)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(maxdiff < 1e-5, "{maxdiff}");
    }

    #[test]
    fn rejects_absurd_rates_and_handles_tiny_input() {
        assert!(StreamResampler::new(0).is_err());
        assert!(StreamResampler::new(10_000_000).is_err());
        assert_eq!(resample_to_48k(&[], 44_100).unwrap().len(), 0);
        assert_eq!(resample_to_48k(&[0.1; 3], 16_000).unwrap().len(), 9);
    }
}

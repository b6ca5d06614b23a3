//! Cutting a stream of 48 kHz mono samples into fixed 3 s analysis windows.
//!
//! The [`Windower`] is fed arbitrary-sized chunks and holds at most about one window of audio, so
//! memory does not grow with the length of the recording.
//!
//! Window `k` starts at `k * hop`. Windows are produced while they contain real audio and the
//! previous window did not already reach the end of the stream; so a stream of `L` samples gives
//! `min(ceil(L / hop), 1 + ceil((L - W) / hop))` windows when `L > W`, one window when
//! `0 < L <= W`, and none when `L == 0`. Any part of a window past the end is zero-padded.

use crate::error::{AudioError, Result};
use crate::resample::TARGET_RATE;
use crate::silence::is_silent;

/// Window length in seconds.
pub const WINDOW_S: f64 = 3.0;
/// Window length in samples at 48 kHz (144 000).
pub const WINDOW_SAMPLES: usize = 144_000;
/// Default hop between window starts, in seconds (non-overlapping windows).
pub const DEFAULT_HOP_S: f64 = 3.0;

/// How windows are laid out.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WindowConfig {
    /// Seconds between the starts of consecutive windows (> 0; values above 3 s leave gaps).
    pub hop_s: f64,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            hop_s: DEFAULT_HOP_S,
        }
    }
}

impl WindowConfig {
    /// Hop in samples at 48 kHz (rounded, at least 1), or an error for a non-positive,
    /// non-finite or absurd (> 1 day) hop.
    pub fn hop_samples(&self) -> Result<usize> {
        if !self.hop_s.is_finite() || self.hop_s <= 0.0 || self.hop_s > 86_400.0 {
            return Err(AudioError::invalid(format!(
                "hop_s must be a finite number in (0, 86400], got {}",
                self.hop_s
            )));
        }
        Ok(((self.hop_s * TARGET_RATE as f64).round() as usize).max(1))
    }
}

/// One analysis window.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// 0-based position in the stream's window sequence.
    pub index: usize,
    /// Start time of the window (s).
    pub start_s: f64,
    /// End time of the real audio covered (s); less than `start_s + 3` for a padded last window.
    pub end_s: f64,
    /// Exactly [`WINDOW_SAMPLES`] mono samples at 48 kHz, zero-padded past the end of the audio.
    pub samples: Vec<f32>,
    /// True if the real audio in the window is digital silence (see [`crate::silence`]).
    pub silent: bool,
}

/// Number of windows a stream of `len` samples yields with hop `hop` (both in samples).
pub fn window_count(len: u64, hop: u64) -> u64 {
    let w = WINDOW_SAMPLES as u64;
    let hop = hop.max(1);
    if len == 0 {
        0
    } else if len <= w {
        1
    } else {
        len.div_ceil(hop).min(1 + (len - w).div_ceil(hop))
    }
}

/// Streaming windower: push samples, pull windows.
#[derive(Debug)]
pub struct Windower {
    hop: usize,
    /// Samples from absolute position `buf_start` on.
    buf: Vec<f32>,
    buf_start: u64,
    /// Total samples pushed.
    total: u64,
    /// Absolute start of the next window.
    next_start: u64,
    next_index: usize,
    /// End (absolute, samples of real audio) of the last emitted window.
    last_end: u64,
    finished: bool,
    spare: Vec<Vec<f32>>,
}

impl Windower {
    /// A windower for the given layout.
    pub fn new(config: WindowConfig) -> Result<Self> {
        let hop = config.hop_samples()?;
        Ok(Windower {
            hop,
            buf: Vec::with_capacity(WINDOW_SAMPLES + 65_536),
            buf_start: 0,
            total: 0,
            next_start: 0,
            next_index: 0,
            last_end: 0,
            finished: false,
            spare: Vec::new(),
        })
    }

    /// Hop between windows, in samples.
    pub fn hop_samples(&self) -> usize {
        self.hop
    }

    /// Total samples pushed so far.
    pub fn samples_pushed(&self) -> u64 {
        self.total
    }

    /// Appends 48 kHz mono samples. Samples that no future window needs (gaps when hop > 3 s)
    /// are dropped at once.
    pub fn push(&mut self, samples: &[f32]) {
        let start = self.total;
        self.total += samples.len() as u64;
        // Only samples at or after the next window's start are needed.
        let from = self.next_start.max(start);
        if from >= self.total {
            return;
        }
        let skip = (from - start) as usize;
        if self.buf.is_empty() {
            self.buf_start = from;
        }
        self.buf.extend_from_slice(&samples[skip..]);
    }

    /// Marks the end of the stream; afterwards [`next_window`](Self::next_window) also returns
    /// the zero-padded trailing window(s).
    pub fn finish(&mut self) {
        self.finished = true;
    }

    /// Hands a used window's buffer back for reuse, avoiding an allocation per window.
    pub fn recycle(&mut self, window: Window) {
        if self.spare.len() < 4 && window.samples.capacity() >= WINDOW_SAMPLES {
            self.spare.push(window.samples);
        }
    }

    /// The next complete window, if available (or, after `finish`, the next padded one).
    pub fn next_window(&mut self) -> Option<Window> {
        let w = WINDOW_SAMPLES as u64;
        let start = self.next_start;
        let full = start + w <= self.total;
        if !full {
            // Only trailing windows remain; they need the end of stream.
            let more = self.finished
                && start < self.total
                && (self.next_index == 0 || self.last_end < self.total);
            if !more {
                return None;
            }
        }
        let end = (start + w).min(self.total);
        let real = (end - start) as usize;
        let off = (start - self.buf_start) as usize;
        let mut samples = self.spare.pop().unwrap_or_default();
        samples.clear();
        samples.reserve(WINDOW_SAMPLES);
        // Invariant: the buffer holds [next_start, total); `get` keeps this panic-free anyway.
        let Some(src) = self.buf.get(off..off + real) else {
            debug_assert!(false, "windower buffer invariant broken");
            return None;
        };
        samples.extend_from_slice(src);
        let silent = is_silent(&samples);
        samples.resize(WINDOW_SAMPLES, 0.0);
        let window = Window {
            index: self.next_index,
            start_s: start as f64 / TARGET_RATE as f64,
            end_s: end as f64 / TARGET_RATE as f64,
            samples,
            silent,
        };
        self.next_index += 1;
        self.last_end = end;
        self.next_start = start + self.hop as u64;
        // Drop samples before the new start.
        let drop = (self.next_start.saturating_sub(self.buf_start) as usize).min(self.buf.len());
        self.buf.drain(..drop);
        self.buf_start += drop as u64;
        Some(window)
    }
}

/// Cuts an in-memory 48 kHz mono clip into windows.
pub fn windows_of(samples: &[f32], config: WindowConfig) -> Result<Vec<Window>> {
    let mut w = Windower::new(config)?;
    w.push(samples);
    w.finish();
    let mut out = Vec::new();
    while let Some(win) = w.next_window() {
        out.push(win);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SR: usize = TARGET_RATE as usize;

    fn ramp(n: usize) -> Vec<f32> {
        (0..n).map(|i| (i % 1000) as f32 / 1000.0 + 0.001).collect()
    }

    #[test]
    fn ten_seconds_default_hop() {
        let x = ramp(10 * SR);
        let ws = windows_of(&x, WindowConfig::default()).unwrap();
        assert_eq!(ws.len(), 4);
        let starts: Vec<f64> = ws.iter().map(|w| w.start_s).collect();
        assert_eq!(starts, vec![0.0, 3.0, 6.0, 9.0]);
        assert_eq!(ws[3].end_s, 10.0);
        assert!(ws.iter().all(|w| w.samples.len() == WINDOW_SAMPLES));
        // last window: 1 s real audio then zeros
        assert_eq!(ws[3].samples[..SR], x[9 * SR..]);
        assert!(ws[3].samples[SR..].iter().all(|&v| v == 0.0));
        assert_eq!(ws[1].samples[..], x[3 * SR..6 * SR]);
        assert!(ws.iter().all(|w| !w.silent));
        assert_eq!(
            ws.iter().map(|w| w.index).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
    }

    #[test]
    fn short_clip_is_one_padded_window_and_empty_is_none() {
        let x = ramp(SR / 2);
        let ws = windows_of(&x, WindowConfig::default()).unwrap();
        assert_eq!(ws.len(), 1);
        assert_eq!(ws[0].end_s, 0.5);
        assert!(ws[0].samples[SR / 2..].iter().all(|&v| v == 0.0));
        assert!(windows_of(&[], WindowConfig::default()).unwrap().is_empty());
    }

    #[test]
    fn overlapping_hop_and_exact_fit() {
        let x = ramp(10 * SR);
        let ws = windows_of(&x, WindowConfig { hop_s: 1.0 }).unwrap();
        // starts 0..=7, the window at 7 s reaches the end exactly
        assert_eq!(ws.len(), 8);
        assert_eq!(ws[7].start_s, 7.0);
        assert_eq!(ws[7].end_s, 10.0);
        let ws = windows_of(&ramp(9 * SR), WindowConfig::default()).unwrap();
        assert_eq!(ws.len(), 3);
        let ws = windows_of(&ramp(3 * SR), WindowConfig { hop_s: 1.5 }).unwrap();
        assert_eq!(ws.len(), 1);
    }

    #[test]
    fn gaps_when_hop_exceeds_window() {
        let x = ramp(10 * SR);
        let ws = windows_of(&x, WindowConfig { hop_s: 5.0 }).unwrap();
        assert_eq!(ws.len(), 2);
        assert_eq!(ws[1].samples[..], x[5 * SR..8 * SR]);
    }

    #[test]
    fn silence_flag_per_window() {
        let mut x = vec![0.0f32; 9 * SR];
        for (i, v) in x[3 * SR..6 * SR].iter_mut().enumerate() {
            *v = (i as f32 * 0.05).sin() * 0.1;
        }
        x[6 * SR..].fill(0.25); // constant DC: silent too
        let ws = windows_of(&x, WindowConfig::default()).unwrap();
        assert_eq!(
            ws.iter().map(|w| w.silent).collect::<Vec<_>>(),
            vec![true, false, true]
        );
    }

    #[test]
    fn bad_hops_are_rejected() {
        for hop in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Windower::new(WindowConfig { hop_s: hop }).is_err());
        }
    }

    #[test]
    fn recycled_buffers_are_reused() {
        let mut w = Windower::new(WindowConfig::default()).unwrap();
        w.push(&ramp(7 * SR));
        let a = w.next_window().unwrap();
        let ptr = a.samples.as_ptr();
        w.recycle(a);
        let b = w.next_window().unwrap();
        assert_eq!(b.samples.as_ptr(), ptr);
        assert_eq!(b.index, 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn windower_matches_model(len in 0usize..1_200_000, hop in 1usize..400_000, chunk in 1usize..200_000) {
            let x: Vec<f32> = (0..len).map(|i| (i % 97) as f32 + 1.0).collect();
            let mut w = Windower::new(WindowConfig { hop_s: hop as f64 / SR as f64 }).unwrap();
            let hop = w.hop_samples();
            let mut got = Vec::new();
            for piece in x.chunks(chunk) {
                w.push(piece);
                while let Some(win) = w.next_window() { got.push(win); }
            }
            w.finish();
            while let Some(win) = w.next_window() { got.push(win); }
            // brute-force model
            let mut starts = Vec::new();
            let mut k = 0usize;
            loop {
                let s = k * hop;
                if s >= len { break; }
                if k > 0 && (k - 1) * hop + WINDOW_SAMPLES >= len { break; }
                starts.push(s);
                k += 1;
            }
            prop_assert_eq!(got.len(), starts.len());
            prop_assert_eq!(got.len() as u64, window_count(len as u64, hop as u64));
            for (i, (win, &s)) in got.iter().zip(&starts).enumerate() {
                prop_assert_eq!(win.index, i);
                prop_assert!((win.start_s - s as f64 / SR as f64).abs() < 1e-9);
                let e = (s + WINDOW_SAMPLES).min(len);
                prop_assert!((win.end_s - e as f64 / SR as f64).abs() < 1e-9);
                prop_assert_eq!(win.samples.len(), WINDOW_SAMPLES);
                prop_assert_eq!(&win.samples[..e - s], &x[s..e]);
                prop_assert!(win.samples[e - s..].iter().all(|&v| v == 0.0));
            }
        }
    }
}

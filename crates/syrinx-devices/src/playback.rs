//! Playing a stretch of a recording through the default output device, with a position to follow.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use cpal::traits::{DeviceTrait, StreamTrait};
use serde::Serialize;

use crate::device::{default_output, device_id};
use crate::error::{device_err, DevicesError, Result};

/// What the player is doing.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PlaybackState {
    pub playing: bool,
    /// Recording the audio belongs to (opaque to this crate; set by the caller).
    pub tag: i64,
    /// Position in the recording's time (s).
    pub position_s: f64,
    pub start_s: f64,
    pub end_s: f64,
    pub error: Option<String>,
}

struct Current {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    frames: Arc<AtomicU64>,
    rate: u32,
    /// Frames in the stretch.
    total: u64,
    tag: i64,
    start_s: f64,
    end_s: f64,
    error: Arc<Mutex<Option<String>>>,
}

/// The player: one stretch at a time; `play` replaces what is playing.
#[derive(Default)]
pub struct Playback {
    current: Mutex<Option<Current>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Playback {
    pub fn new() -> Playback {
        Playback::default()
    }

    /// Play mono `samples` at `sample_rate`; `start_s` is the recording time of `samples[0]`
    /// (positions are reported in recording time), `tag` identifies the recording.
    pub fn play(&self, samples: Vec<f32>, sample_rate: u32, start_s: f64, tag: i64) -> Result<()> {
        self.stop();
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let frames = Arc::new(AtomicU64::new(0));
        let error = Arc::new(Mutex::new(None));
        let (ready_tx, ready_rx) = mpsc::channel::<Result<()>>();
        let n = samples.len();
        {
            let (stop, done, frames, error) =
                (stop.clone(), done.clone(), frames.clone(), error.clone());
            std::thread::Builder::new()
                .name("syrinx-playback".into())
                .spawn(move || {
                    play_thread(samples, sample_rate, stop, done, frames, error, ready_tx)
                })
                .map_err(|e| device_err("playback thread", e))?;
        }
        match ready_rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                stop.store(true, Ordering::Relaxed);
                return Err(DevicesError::ThreadGone);
            }
        }
        *lock(&self.current) = Some(Current {
            stop,
            done,
            frames,
            rate: sample_rate,
            total: n as u64,
            tag,
            start_s,
            end_s: start_s + n as f64 / sample_rate.max(1) as f64,
            error,
        });
        Ok(())
    }

    /// Stop playing (no-op when idle).
    pub fn stop(&self) {
        if let Some(c) = lock(&self.current).take() {
            c.stop.store(true, Ordering::Relaxed);
        }
    }

    /// Current state.
    pub fn state(&self) -> PlaybackState {
        match &*lock(&self.current) {
            None => PlaybackState::default(),
            Some(c) => {
                let pos =
                    c.start_s + c.frames.load(Ordering::Relaxed) as f64 / c.rate.max(1) as f64;
                PlaybackState {
                    playing: !c.done.load(Ordering::Relaxed),
                    tag: c.tag,
                    position_s: pos.min(c.end_s),
                    start_s: c.start_s,
                    end_s: c.end_s,
                    // Reported only if the stretch did not play to its end.
                    error: if c.frames.load(Ordering::Relaxed) < c.total {
                        lock(&c.error).clone()
                    } else {
                        None
                    },
                }
            }
        }
    }
}

fn play_thread(
    samples: Vec<f32>,
    rate: u32,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    frames: Arc<AtomicU64>,
    error: Arc<Mutex<Option<String>>>,
    ready: mpsc::Sender<Result<()>>,
) {
    let setup = (|| -> Result<cpal::Stream> {
        let dev = default_output()?;
        let name = device_id(&dev);
        let def = dev
            .default_output_config()
            .map_err(|e| device_err(&name, e))?;
        let supports_rate = dev
            .supported_output_configs()
            .map(|mut it| {
                it.any(|c| {
                    c.sample_format() == cpal::SampleFormat::F32
                        && c.min_sample_rate() <= rate
                        && rate <= c.max_sample_rate()
                })
            })
            .unwrap_or(false);
        if !supports_rate {
            return Err(DevicesError::Device {
                device: name,
                reason: format!(
                    "cannot play {rate} Hz float audio (the device's default is {} Hz {})",
                    def.sample_rate(),
                    def.sample_format()
                ),
            });
        }
        let ch = def.channels().max(1);
        let config = cpal::StreamConfig {
            channels: ch,
            sample_rate: rate,
            buffer_size: cpal::BufferSize::Default,
        };
        let samples = Arc::new(samples);
        let (s2, d2, f2, e2) = (samples.clone(), done.clone(), frames.clone(), error.clone());
        let (d3, st3) = (done.clone(), stop.clone());
        let chn = ch as usize;
        let stream = dev
            .build_output_stream(
                config,
                move |out: &mut [f32], _: &cpal::OutputCallbackInfo| {
                    let pos = f2.load(Ordering::Relaxed) as usize;
                    let n = out.len() / chn;
                    let avail = s2.len().saturating_sub(pos).min(n);
                    for i in 0..avail {
                        let v = s2[pos + i];
                        for c in 0..chn {
                            out[i * chn + c] = v;
                        }
                    }
                    for v in out[avail * chn..].iter_mut() {
                        *v = 0.0;
                    }
                    f2.store((pos + avail) as u64, Ordering::Relaxed);
                    if pos + avail >= s2.len() {
                        d2.store(true, Ordering::Relaxed);
                    }
                },
                move |err| {
                    // Errors while the stream is being torn down (stopped, or played out) are
                    // ALSA complaining about the closing device, not a failed playback.
                    let ending = d3.load(Ordering::Relaxed) || st3.load(Ordering::Relaxed);
                    if !ending && !crate::error::is_glitch(&err) {
                        *lock(&e2).get_or_insert_with(String::new) = err.to_string();
                    }
                },
                None,
            )
            .map_err(|e| device_err(&name, e))?;
        stream.play().map_err(|e| device_err(&name, e))?;
        Ok(stream)
    })();
    let stream = match setup {
        Ok(s) => {
            let _ = ready.send(Ok(()));
            s
        }
        Err(e) => {
            done.store(true, Ordering::Relaxed);
            let _ = ready.send(Err(e));
            return;
        }
    };
    // A backend error is only a failure if playback stops moving: the ALSA pulse plugin reports
    // transient I/O errors (seen: snd_pcm_avail_delay, EIO) on a loaded machine while the audio
    // plays on. A stream that makes no progress for 2 s is given up, with its error.
    let mut last = (frames.load(Ordering::Relaxed), std::time::Instant::now());
    while !stop.load(Ordering::Relaxed) && !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(10));
        let f = frames.load(Ordering::Relaxed);
        if f != last.0 {
            last = (f, std::time::Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(2) {
            lock(&error).get_or_insert_with(|| "the output device stopped playing".into());
            break;
        }
    }
    // Let the device play out its buffer before closing (a short tail, not a click).
    if !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stream);
    done.store(true, Ordering::Relaxed);
}

//! Recording a take from an input device: mono f32 WAV at the device's rate, plus a live tail.

use std::collections::VecDeque;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{FromSample, Sample, SampleFormat, SizedSample};
use serde::Serialize;

use crate::device::{device_id, find_input};
use crate::error::{device_err, DevicesError, Result};

/// A finished take.
#[derive(Clone, Debug, Serialize)]
pub struct Take {
    pub path: PathBuf,
    pub device: String,
    pub sample_rate: u32,
    pub frames: u64,
    pub duration_s: f64,
    /// Frames dropped because the writer could not keep up (0 on a healthy system).
    pub dropped_frames: u64,
}

/// What a running recording is doing.
#[derive(Clone, Debug, Serialize)]
pub struct RecordingStatus {
    pub device: String,
    pub path: PathBuf,
    pub sample_rate: u32,
    pub elapsed_s: f64,
    /// Peak level of the last ~100 ms, dBFS (-inf for digital silence is reported as -120).
    pub level_db: f32,
    pub dropped_frames: u64,
    /// A stream error reported by the device (the take so far is kept).
    pub error: Option<String>,
}

struct Tail {
    buf: VecDeque<f32>,
    cap: usize,
    /// Frames received in total (the index after the last sample in `buf`).
    total: u64,
}

struct Shared {
    tail: Mutex<Tail>,
    peak: AtomicU32,
    dropped: AtomicU64,
    error: Mutex<Option<String>>,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running recording. Dropping it stops the recording and finalises the file.
pub struct Recorder {
    shared: Arc<Shared>,
    sample_rate: u32,
    device: String,
    path: PathBuf,
    started: Instant,
    thread: Option<JoinHandle<Result<Take>>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("device", &self.device)
            .field("path", &self.path)
            .finish()
    }
}

impl Recorder {
    /// Start recording from `device` (an id from [`crate::input_devices`]; `None`: the default
    /// input) into a new WAV file at `path` (never overwritten). `tail_s` seconds of the most
    /// recent audio are kept in memory for [`Recorder::tail`].
    pub fn start(device: Option<&str>, path: &Path, tail_s: f64) -> Result<Recorder> {
        if path.exists() {
            return Err(DevicesError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "a file with this name already exists",
                ),
            });
        }
        let shared = Arc::new(Shared {
            tail: Mutex::new(Tail {
                buf: VecDeque::new(),
                cap: 0,
                total: 0,
            }),
            peak: AtomicU32::new(0),
            dropped: AtomicU64::new(0),
            error: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(u32, String)>>();
        let dev = device.map(str::to_string);
        let p = path.to_path_buf();
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name("syrinx-capture".into())
            .spawn(move || capture_thread(dev.as_deref(), &p, tail_s, sh, ready_tx))
            .map_err(|e| device_err("capture thread", e))?;
        match ready_rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok((sample_rate, device))) => Ok(Recorder {
                shared,
                sample_rate,
                device,
                path: path.to_path_buf(),
                started: Instant::now(),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                shared.stop.store(true, Ordering::Relaxed);
                match thread.join() {
                    Ok(Err(e)) => Err(e),
                    _ => Err(DevicesError::ThreadGone),
                }
            }
        }
    }

    /// The device's sample rate (the take's rate).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Where the take is being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Current state.
    pub fn status(&self) -> RecordingStatus {
        let total = lock(&self.shared.tail).total;
        let peak = f32::from_bits(self.shared.peak.swap(0, Ordering::Relaxed));
        RecordingStatus {
            device: self.device.clone(),
            path: self.path.clone(),
            sample_rate: self.sample_rate,
            elapsed_s: total as f64 / self.sample_rate.max(1) as f64,
            level_db: if peak > 1e-6 {
                20.0 * peak.log10()
            } else {
                -120.0
            },
            dropped_frames: self.shared.dropped.load(Ordering::Relaxed),
            error: lock(&self.shared.error).clone(),
        }
    }

    /// Time since the recording started (wall clock).
    pub fn wall_elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The most recent `seconds` of audio (mono, device rate) and the frame index just after it.
    pub fn tail(&self, seconds: f64) -> (Vec<f32>, u64) {
        let t = lock(&self.shared.tail);
        let n = ((seconds * self.sample_rate as f64) as usize).min(t.buf.len());
        let v: Vec<f32> = t.buf.iter().skip(t.buf.len() - n).copied().collect();
        (v, t.total)
    }

    /// Audio received since frame `from` (as far as the tail still holds it): the samples and
    /// the frame index of the first one.
    pub fn since(&self, from: u64) -> (Vec<f32>, u64) {
        let t = lock(&self.shared.tail);
        let first = t.total - t.buf.len() as u64;
        let a = from.clamp(first, t.total);
        let v: Vec<f32> = t.buf.iter().skip((a - first) as usize).copied().collect();
        (v, a)
    }

    /// Stop and finalise the WAV file.
    pub fn stop(mut self) -> Result<Take> {
        self.finish()
    }

    fn finish(&mut self) -> Result<Take> {
        self.shared.stop.store(true, Ordering::Relaxed);
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| DevicesError::ThreadGone)?,
            None => Err(DevicesError::ThreadGone),
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.finish();
        }
    }
}

type Producer = rtrb::Producer<f32>;

fn build_stream<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    mut prod: Producer,
    shared: Arc<Shared>,
) -> std::result::Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + Send + 'static,
    f32: FromSample<T>,
{
    let ch = config.channels.max(1) as usize;
    let sh = shared.clone();
    device.build_input_stream(
        *config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            let frames = data.len() / ch;
            let mut dropped = 0u64;
            for f in 0..frames {
                let mut s = 0.0f32;
                for c in 0..ch {
                    s += f32::from_sample(data[f * ch + c]);
                }
                let s = s / ch as f32;
                if prod.push(s).is_err() {
                    dropped += 1;
                }
            }
            if dropped > 0 {
                shared.dropped.fetch_add(dropped, Ordering::Relaxed);
            }
        },
        move |err| {
            if !crate::error::is_glitch(&err) {
                *lock(&sh.error) = Some(err.to_string());
            }
        },
        None,
    )
}

fn capture_thread(
    device: Option<&str>,
    path: &Path,
    tail_s: f64,
    shared: Arc<Shared>,
    ready: mpsc::Sender<Result<(u32, String)>>,
) -> Result<Take> {
    let setup = (|| -> Result<_> {
        let dev = find_input(device)?;
        let name = device_id(&dev);
        let supported = dev
            .default_input_config()
            .map_err(|e| device_err(&name, e))?;
        let format = supported.sample_format();
        let config: cpal::StreamConfig = supported.config();
        let rate = config.sample_rate;
        let (prod, cons) = rtrb::RingBuffer::<f32>::new((rate as usize * 2).max(4096));
        let stream = match format {
            SampleFormat::F32 => build_stream::<f32>(&dev, &config, prod, shared.clone()),
            SampleFormat::I16 => build_stream::<i16>(&dev, &config, prod, shared.clone()),
            SampleFormat::I32 => build_stream::<i32>(&dev, &config, prod, shared.clone()),
            SampleFormat::U16 => build_stream::<u16>(&dev, &config, prod, shared.clone()),
            SampleFormat::I8 => build_stream::<i8>(&dev, &config, prod, shared.clone()),
            SampleFormat::U8 => build_stream::<u8>(&dev, &config, prod, shared.clone()),
            SampleFormat::F64 => build_stream::<f64>(&dev, &config, prod, shared.clone()),
            other => {
                return Err(DevicesError::UnsupportedFormat {
                    device: name,
                    format: other.to_string(),
                })
            }
        }
        .map_err(|e| device_err(&name, e))?;
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| DevicesError::Io {
                path: dir.to_path_buf(),
                source: e,
            })?;
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| DevicesError::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
        let writer =
            hound::WavWriter::new(BufWriter::new(file), spec).map_err(|e| DevicesError::Wav {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        stream.play().map_err(|e| device_err(&name, e))?;
        Ok((stream, cons, writer, rate, name))
    })();
    let (stream, mut cons, mut writer, rate, name) = match setup {
        Ok(v) => v,
        Err(e) => {
            let msg = e.to_string();
            let _ = ready.send(Err(e));
            return Err(DevicesError::Device {
                device: device.unwrap_or("default").to_string(),
                reason: msg,
            });
        }
    };
    {
        let mut t = lock(&shared.tail);
        let cap = ((tail_s.max(1.0)) * rate as f64) as usize;
        t.cap = cap;
        t.buf.reserve(cap);
    }
    let _ = ready.send(Ok((rate, name.clone())));
    let wav_err = |e: hound::Error| DevicesError::Wav {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut frames = 0u64;
    let mut last_flush = Instant::now();
    let mut chunk = Vec::with_capacity(rate as usize / 10);
    let mut stopping = false;
    loop {
        if shared.stop.load(Ordering::Relaxed) && !stopping {
            // Stop the device first, then drain what it already delivered.
            stopping = true;
            let _ = stream.pause();
        }
        chunk.clear();
        while let Ok(s) = cons.pop() {
            chunk.push(s);
            if chunk.len() >= chunk.capacity().max(1) {
                break;
            }
        }
        if chunk.is_empty() {
            if stopping {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        let mut peak = 0.0f32;
        for &s in &chunk {
            writer.write_sample(s).map_err(wav_err)?;
            peak = peak.max(s.abs());
        }
        frames += chunk.len() as u64;
        let old = f32::from_bits(shared.peak.load(Ordering::Relaxed));
        shared
            .peak
            .store(old.max(peak).to_bits(), Ordering::Relaxed);
        {
            let mut t = lock(&shared.tail);
            let cap = t.cap;
            t.buf.extend(chunk.iter().copied());
            let excess = t.buf.len().saturating_sub(cap);
            t.buf.drain(..excess);
            t.total += chunk.len() as u64;
        }
        if last_flush.elapsed() >= Duration::from_secs(1) {
            // Keeps the header valid on disk, so a crash loses at most the last second.
            writer.flush().map_err(wav_err)?;
            last_flush = Instant::now();
        }
    }
    drop(stream);
    writer.finalize().map_err(wav_err)?;
    Ok(Take {
        path: path.to_path_buf(),
        device: name,
        sample_rate: rate,
        frames,
        duration_s: frames as f64 / rate as f64,
        dropped_frames: shared.dropped.load(Ordering::Relaxed),
    })
}

//! Opening and decoding audio files with symphonia: probing, the native-rate mono packet reader
//! (with seeking), the streaming 48 kHz [`MonoStream`], [`decode_mono_48k`], [`decode_range`]
//! and [`probe`].

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::{Time, TimeBase, Timestamp};

use crate::error::{AudioError, Result};
use crate::mixdown::mix_to_mono_into;
use crate::opus::codec_registry;
use crate::resample::{StreamResampler, MAX_INPUT_RATE, MIN_INPUT_RATE, TARGET_RATE};
use crate::wav_header::check_wav;
use crate::window::{Window, WindowConfig, Windower};

/// Channel counts above this are rejected as absurd.
pub const MAX_CHANNELS: usize = 64;
/// Consecutive packets that decode to nothing before the stream is declared stuck.
const MAX_EMPTY_PACKETS: usize = 20_000;
/// Consecutive packets of other tracks tolerated between two of ours.
const MAX_FOREIGN_PACKETS: usize = 100_000;
/// Native frames gathered before a chunk is resampled and handed out.
const NATIVE_CHUNK: usize = 16_384;

/// Knobs for decoding. The defaults are strict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Corrupt packets skipped before giving up (per stream, and consecutively half as many).
    pub max_bad_packets: usize,
    /// Decode what is there when the stream is shorter than its header says, instead of
    /// returning [`AudioError::Truncated`].
    pub allow_truncated: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_bad_packets: 32,
            allow_truncated: false,
        }
    }
}

/// What [`probe`] (and every opened stream) knows about a file.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AudioInfo {
    pub path: PathBuf,
    /// Container short name, e.g. `wave`, `flac`, `isomp4`, `ogg`, `mpa`.
    pub container: String,
    /// Codec short name, e.g. `pcm_s16le`, `flac`, `aac`, `mp3`, `vorbis`, `opus`.
    pub codec: String,
    /// Sample rate of the decoded stream in Hz (Opus always decodes at 48 kHz).
    pub sample_rate: u32,
    pub channels: usize,
    /// Frames (samples per channel) at `sample_rate`.
    pub n_frames: u64,
    pub duration_s: f64,
    /// True if `n_frames` came from the header; false if the file was decoded to count them.
    pub duration_from_header: bool,
    pub bits_per_sample: Option<u32>,
    pub file_size: u64,
}

/// A whole clip decoded to mono 48 kHz.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// Mono samples at [`TARGET_RATE`].
    pub samples: Vec<f32>,
    /// Always [`TARGET_RATE`] (48 000).
    pub sample_rate: u32,
    /// Start of the clip within the file (s); 0 for whole files.
    pub start_s: f64,
    /// `samples.len() / 48000`.
    pub duration_s: f64,
    pub source_sample_rate: u32,
    pub source_channels: usize,
}

fn io_err(path: &Path, source: std::io::Error) -> AudioError {
    AudioError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs a symphonia call, turning a panic inside it (a bug in a dependency triggered by a
/// malformed file) into [`AudioError::Corrupt`] instead of bringing the process down.
fn guard_panic<T>(path: &Path, what: &str, f: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        AudioError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("{what} failed on malformed data ({msg})"),
        }
    })
}

/// Reads packets of one audio track and hands out native-rate mono samples.
pub(crate) struct SourceReader {
    pub(crate) path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    time_base: Option<TimeBase>,
    pub(crate) info: AudioInfo,
    /// Frames promised by the header.
    header_frames: Option<u64>,
    /// Absolute frame index of the next sample handed out.
    pub(crate) pos: u64,
    /// Frames decoded since open (not meaningful after a seek).
    decoded: u64,
    seeked: bool,
    /// After a seek: the next packet's pts sets `pos`.
    resync_pos: bool,
    interleaved: Vec<f32>,
    bad_total: usize,
    bad_run: usize,
    eof: bool,
    /// The header's length was reached: the next read reports end of stream.
    eof_next: bool,
    opts: DecodeOptions,
}

impl std::fmt::Debug for SourceReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceReader")
            .field("info", &self.info)
            .field("pos", &self.pos)
            .finish()
    }
}

impl SourceReader {
    pub(crate) fn open(path: &Path, opts: DecodeOptions) -> Result<Self> {
        let mut file = File::open(path).map_err(|e| io_err(path, e))?;
        let file_size = file.metadata().map_err(|e| io_err(path, e))?.len();
        if file_size == 0 {
            return Err(AudioError::EmptyFile {
                path: path.to_path_buf(),
            });
        }
        if let Some(w) = check_wav(path, &mut file, file_size)? {
            if let Some(promised) = w.data_promised {
                let ba = w.block_align.max(1) as u64;
                // A ragged final block is tolerated; a missing chunk of audio is not.
                if !opts.allow_truncated && promised / ba > w.data_present / ba + 1 {
                    let rate = w.sample_rate.max(1) as f64;
                    return Err(AudioError::Truncated {
                        path: path.to_path_buf(),
                        decoded_s: (w.data_present / ba) as f64 / rate,
                        expected_s: (promised / ba) as f64 / rate,
                    });
                }
            }
        }
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| io_err(path, e))?;

        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let probed = guard_panic(path, "container probe", || {
            symphonia::default::get_probe().probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
        })?;
        let format = probed.map_err(|e| match e {
            SymError::IoError(ref io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                AudioError::UnrecognisedContainer {
                    path: path.to_path_buf(),
                }
            }
            SymError::IoError(io) => io_err(path, io),
            SymError::Unsupported(_) => AudioError::UnrecognisedContainer {
                path: path.to_path_buf(),
            },
            other => AudioError::MalformedHeader {
                path: path.to_path_buf(),
                reason: other.to_string(),
            },
        })?;

        let track = format
            .default_track(TrackType::Audio)
            .or_else(|| format.first_track_known_codec(TrackType::Audio))
            .ok_or_else(|| AudioError::NoAudioTrack {
                path: path.to_path_buf(),
            })?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| AudioError::NoAudioTrack {
                path: path.to_path_buf(),
            })?
            .clone();
        let channels = params.channels.as_ref().map(|c| c.count()).unwrap_or(0);
        let sample_rate = params.sample_rate.unwrap_or(0);
        if sample_rate == 0 {
            return Err(AudioError::ZeroSampleRate {
                path: path.to_path_buf(),
            });
        }
        if !(MIN_INPUT_RATE..=MAX_INPUT_RATE).contains(&sample_rate) {
            return Err(AudioError::UnsupportedLayout {
                path: path.to_path_buf(),
                reason: format!(
                    "sample rate {sample_rate} Hz outside {MIN_INPUT_RATE}..={MAX_INPUT_RATE} Hz"
                ),
            });
        }
        if channels > MAX_CHANNELS {
            return Err(AudioError::UnsupportedLayout {
                path: path.to_path_buf(),
                reason: format!("{channels} channels (max {MAX_CHANNELS})"),
            });
        }
        let registry = codec_registry();
        let codec = registry
            .get_audio_decoder(params.codec)
            .map(|d| d.codec.info.short_name.to_string());
        let Some(codec) = codec else {
            return Err(AudioError::UnsupportedCodec {
                path: path.to_path_buf(),
                codec: format!("codec id {}", params.codec),
            });
        };
        // Some containers (e.g. ADTS/MP3 before the first frame) do not state the channel
        // count; zero is only an error when the header explicitly provides a layout.
        if channels == 0 && params.channels.is_some() {
            return Err(AudioError::ZeroChannels {
                path: path.to_path_buf(),
            });
        }
        let decoder = registry
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| match e {
                SymError::Unsupported(what) => AudioError::UnsupportedCodec {
                    path: path.to_path_buf(),
                    codec: format!("{codec}: {what}"),
                },
                other => AudioError::MalformedHeader {
                    path: path.to_path_buf(),
                    reason: format!("cannot initialise {codec} decoder: {other}"),
                },
            })?;
        let track_id = track.id;
        let time_base = track.time_base;
        let header_frames = track.num_frames.or_else(|| {
            let tb = time_base?;
            let dur = track.duration?;
            let t = tb.calc_duration(dur)?;
            Some((t.as_secs_f64() * sample_rate as f64).round() as u64)
        });
        let info = AudioInfo {
            path: path.to_path_buf(),
            container: format.format_info().short_name.to_string(),
            codec,
            sample_rate,
            channels: channels.max(1),
            n_frames: header_frames.unwrap_or(0),
            duration_s: header_frames.unwrap_or(0) as f64 / sample_rate as f64,
            duration_from_header: header_frames.is_some(),
            bits_per_sample: params.bits_per_sample,
            file_size,
        };
        Ok(SourceReader {
            path: path.to_path_buf(),
            format,
            decoder,
            track_id,
            time_base,
            info,
            header_frames,
            pos: 0,
            decoded: 0,
            seeked: false,
            resync_pos: false,
            interleaved: Vec::new(),
            bad_total: 0,
            bad_run: 0,
            eof: false,
            eof_next: false,
            opts,
        })
    }

    /// Reading a part of the file: skip the whole-file length and "no audio" checks.
    pub(crate) fn mark_range_read(&mut self) {
        self.seeked = true;
    }

    fn ts_to_frames(&self, ts: Timestamp) -> u64 {
        let t = ts.get().max(0) as u64;
        match self.time_base {
            Some(tb) if !(tb.numer.get() == 1 && tb.denom.get() == self.info.sample_rate) => {
                let num = t as u128 * tb.numer.get() as u128 * self.info.sample_rate as u128;
                (num / tb.denom.get() as u128) as u64
            }
            _ => t,
        }
    }

    fn bad_packet(&mut self, what: &str) -> Result<()> {
        self.bad_total += 1;
        self.bad_run += 1;
        let limit = self.opts.max_bad_packets;
        if self.bad_total > limit || self.bad_run > limit.div_ceil(2).max(1) {
            return Err(AudioError::Corrupt {
                path: self.path.clone(),
                reason: format!(
                    "{} corrupt packets ({} in a row) near {:.2} s, last: {what}",
                    self.bad_total,
                    self.bad_run,
                    self.pos as f64 / self.info.sample_rate as f64
                ),
            });
        }
        Ok(())
    }

    /// Called at end of stream: checks that the stream was as long as promised.
    fn end_of_stream(&mut self) -> Result<()> {
        self.eof = true;
        if self.seeked {
            return Ok(());
        }
        if self.decoded == 0 {
            return Err(AudioError::NoAudio {
                path: self.path.clone(),
            });
        }
        if let Some(h) = self.header_frames {
            let tol = (h / 100).max(self.info.sample_rate as u64 / 10);
            if !self.opts.allow_truncated && self.decoded + tol < h {
                let sr = self.info.sample_rate as f64;
                return Err(AudioError::Truncated {
                    path: self.path.clone(),
                    decoded_s: self.decoded as f64 / sr,
                    expected_s: h as f64 / sr,
                });
            }
        }
        Ok(())
    }

    /// Decodes the next packet(s) and appends mono samples to `out`. Returns the number of
    /// frames appended; 0 means end of stream.
    pub(crate) fn read_packet(&mut self, out: &mut Vec<f32>) -> Result<usize> {
        if self.eof {
            return Ok(0);
        }
        if self.eof_next {
            self.eof_next = false;
            self.end_of_stream()?;
            return Ok(0);
        }
        let mut empty_run = 0usize;
        let mut foreign_run = 0usize;
        loop {
            let format = &mut self.format;
            let next = guard_panic(&self.path, "demuxer", || format.next_packet());
            let next = match next {
                Ok(n) => n,
                Err(e) => {
                    self.eof = true;
                    return Err(e);
                }
            };
            let packet = match next {
                Ok(Some(p)) => p,
                Ok(None) => {
                    self.end_of_stream()?;
                    return Ok(0);
                }
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    self.end_of_stream()?;
                    return Ok(0);
                }
                Err(SymError::IoError(e)) => return Err(io_err(&self.path, e)),
                Err(SymError::DecodeError(msg)) => {
                    self.bad_packet(msg)?;
                    continue;
                }
                Err(SymError::ResetRequired) => {
                    return Err(AudioError::UnsupportedLayout {
                        path: self.path.clone(),
                        reason: "stream changes its track layout mid-file (chained stream)".into(),
                    })
                }
                Err(other) => {
                    return Err(AudioError::Corrupt {
                        path: self.path.clone(),
                        reason: format!("demuxer error: {other}"),
                    })
                }
            };
            if packet.track_id != self.track_id {
                foreign_run += 1;
                if foreign_run > MAX_FOREIGN_PACKETS {
                    return Err(AudioError::Corrupt {
                        path: self.path.clone(),
                        reason: "no packets for the audio track".into(),
                    });
                }
                continue;
            }
            foreign_run = 0;
            let pts = packet.pts;
            let decoder = &mut self.decoder;
            // A panicking decoder is reported as corruption; the buffer is copied out inside
            // the guard so no borrow escapes it.
            let interleaved = &mut self.interleaved;
            let res = guard_panic(&self.path, "decoder", || {
                decoder.decode(&packet).map(|buf| {
                    let info = (
                        buf.frames(),
                        buf.spec().rate(),
                        buf.spec().channels().count(),
                    );
                    if info.0 > 0 {
                        buf.copy_to_vec_interleaved::<f32>(interleaved);
                    }
                    info
                })
            });
            let res = match res {
                Ok(r) => r,
                Err(e) => {
                    self.eof = true;
                    return Err(e);
                }
            };
            let (frames, spec_rate, n_ch) = match res {
                Ok(info) => info,
                Err(SymError::DecodeError(msg)) => {
                    self.bad_packet(msg)?;
                    continue;
                }
                Err(SymError::IoError(e)) => {
                    // Symphonia decoders report a short/garbled packet as an I/O error.
                    self.bad_packet(if e.kind() == std::io::ErrorKind::UnexpectedEof {
                        "packet ended early"
                    } else {
                        "packet read error"
                    })?;
                    continue;
                }
                Err(SymError::ResetRequired) => {
                    self.decoder.reset();
                    self.bad_packet("decoder reset required")?;
                    continue;
                }
                Err(other) => {
                    return Err(AudioError::Corrupt {
                        path: self.path.clone(),
                        reason: format!("decoder error: {other}"),
                    })
                }
            };
            self.bad_run = 0;
            if frames == 0 {
                empty_run += 1;
                if empty_run > MAX_EMPTY_PACKETS {
                    return Err(AudioError::Corrupt {
                        path: self.path.clone(),
                        reason: format!("decoder made no progress for {MAX_EMPTY_PACKETS} packets"),
                    });
                }
                continue;
            }
            if spec_rate != self.info.sample_rate {
                return Err(AudioError::UnsupportedLayout {
                    path: self.path.clone(),
                    reason: format!(
                        "sample rate changes mid-stream from {} to {spec_rate} Hz",
                        self.info.sample_rate
                    ),
                });
            }
            if n_ch == 0 {
                return Err(AudioError::ZeroChannels {
                    path: self.path.clone(),
                });
            }
            if n_ch > MAX_CHANNELS {
                return Err(AudioError::UnsupportedLayout {
                    path: self.path.clone(),
                    reason: format!("{n_ch} channels (max {MAX_CHANNELS})"),
                });
            }
            if self.resync_pos {
                self.resync_pos = false;
                self.pos = self.ts_to_frames(pts);
            }
            if let Some(i) = self.interleaved.iter().position(|x| !x.is_finite()) {
                return Err(AudioError::NonFiniteSample {
                    path: self.path.clone(),
                    at_s: (self.pos + (i / n_ch) as u64) as f64 / self.info.sample_rate as f64,
                });
            }
            let before = out.len();
            mix_to_mono_into(&self.interleaved, n_ch, out);
            let mut n = out.len() - before;
            // Never run past the length the header states: symphonia does not apply MP4 edit
            // lists, so AAC's last frame would otherwise add up to 1024 frames of padding.
            if let Some(h) = self.header_frames {
                if self.pos + n as u64 >= h {
                    let keep = h.saturating_sub(self.pos) as usize;
                    out.truncate(before + keep);
                    n = keep;
                    self.pos += n as u64;
                    self.decoded += n as u64;
                    if n == 0 {
                        self.end_of_stream()?;
                        return Ok(0);
                    }
                    self.eof_next = true;
                    return Ok(n);
                }
            }
            self.pos += n as u64;
            self.decoded += n as u64;
            return Ok(n);
        }
    }

    /// Positions the reader at or before native frame `frame` (accurate seek). Afterwards
    /// `pos` is the frame index of the next sample handed out.
    pub(crate) fn seek(&mut self, frame: u64) -> Result<()> {
        let sr = self.info.sample_rate;
        let secs = frame as f64 / sr as f64;
        let time = Time::try_from_secs_f64(secs).ok_or_else(|| AudioError::Seek {
            path: self.path.clone(),
            to_s: secs,
            reason: "time not representable".into(),
        })?;
        let seeked = self
            .format
            .seek(
                SeekMode::Accurate,
                SeekTo::Time {
                    time,
                    track_id: Some(self.track_id),
                },
            )
            .map_err(|e| AudioError::Seek {
                path: self.path.clone(),
                to_s: secs,
                reason: e.to_string(),
            })?;
        self.decoder.reset();
        self.seeked = true;
        self.eof = false;
        self.eof_next = false;
        self.bad_run = 0;
        self.pos = self.ts_to_frames(seeked.actual_ts);
        self.resync_pos = true;
        Ok(())
    }
}

/// A streaming decoder: yields mono 48 kHz chunks of a file with bounded memory.
///
/// Use [`read_chunk`](Self::read_chunk) to refill a caller-owned buffer, or iterate to get
/// owned `Vec<f32>` chunks (a few thousand samples each).
#[derive(Debug)]
pub struct MonoStream {
    reader: SourceReader,
    resampler: StreamResampler,
    native: Vec<f32>,
    done: bool,
    produced: u64,
}

impl MonoStream {
    /// Opens `path` with default (strict) options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, DecodeOptions::default())
    }

    /// Opens `path` with explicit decode options.
    pub fn open_with(path: impl AsRef<Path>, opts: DecodeOptions) -> Result<Self> {
        let reader = SourceReader::open(path.as_ref(), opts)?;
        let resampler = StreamResampler::new(reader.info.sample_rate).map_err(|e| {
            AudioError::UnsupportedLayout {
                path: reader.path.clone(),
                reason: e.to_string(),
            }
        })?;
        Ok(MonoStream {
            reader,
            resampler,
            native: Vec::with_capacity(NATIVE_CHUNK * 2),
            done: false,
            produced: 0,
        })
    }

    /// Header information about the source (duration fields are from the header, if any).
    pub fn info(&self) -> &AudioInfo {
        &self.reader.info
    }

    /// Samples at 48 kHz handed out so far.
    pub fn samples_produced(&self) -> u64 {
        self.produced
    }

    /// Replaces the contents of `out` with the next chunk of mono 48 kHz samples. Returns
    /// `Ok(false)` (and leaves `out` empty) at the end of the stream.
    pub fn read_chunk(&mut self, out: &mut Vec<f32>) -> Result<bool> {
        out.clear();
        while out.is_empty() {
            if self.done {
                return Ok(false);
            }
            self.native.clear();
            let mut at_end = false;
            while self.native.len() < NATIVE_CHUNK {
                if self.reader.read_packet(&mut self.native)? == 0 {
                    at_end = true;
                    break;
                }
            }
            let wrap = |e: AudioError| AudioError::Corrupt {
                path: self.reader.path.clone(),
                reason: e.to_string(),
            };
            self.resampler.push(&self.native, out).map_err(wrap)?;
            if at_end {
                let wrap = |e: AudioError| AudioError::Corrupt {
                    path: self.reader.path.clone(),
                    reason: e.to_string(),
                };
                self.resampler.finish(out).map_err(wrap)?;
                self.done = true;
            }
        }
        self.produced += out.len() as u64;
        Ok(true)
    }
}

impl Iterator for MonoStream {
    type Item = Result<Vec<f32>>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut v = Vec::new();
        match self.read_chunk(&mut v) {
            Ok(true) => Some(Ok(v)),
            Ok(false) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Streams a file as 3 s windows (see [`crate::window`]); memory stays bounded for any length.
#[derive(Debug)]
pub struct WindowStream {
    stream: MonoStream,
    windower: Windower,
    chunk: Vec<f32>,
    finished: bool,
    failed: bool,
}

impl WindowStream {
    /// Header information about the source.
    pub fn info(&self) -> &AudioInfo {
        self.stream.info()
    }

    /// Hands a window's buffer back for reuse.
    pub fn recycle(&mut self, window: Window) {
        self.windower.recycle(window);
    }
}

impl Iterator for WindowStream {
    type Item = Result<Window>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            if let Some(w) = self.windower.next_window() {
                return Some(Ok(w));
            }
            if self.finished {
                return None;
            }
            match self.stream.read_chunk(&mut self.chunk) {
                Ok(true) => self.windower.push(&self.chunk),
                Ok(false) => {
                    self.finished = true;
                    self.windower.finish();
                }
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Opens `path` and streams it as analysis windows with the given layout.
pub fn windows(path: impl AsRef<Path>, config: WindowConfig) -> Result<WindowStream> {
    windows_with(path, config, DecodeOptions::default())
}

/// [`windows`] with explicit decode options.
pub fn windows_with(
    path: impl AsRef<Path>,
    config: WindowConfig,
    opts: DecodeOptions,
) -> Result<WindowStream> {
    let windower = Windower::new(config)?;
    let stream = MonoStream::open_with(path, opts)?;
    Ok(WindowStream {
        stream,
        windower,
        chunk: Vec::new(),
        finished: false,
        failed: false,
    })
}

/// Decodes a whole (short) file to mono 48 kHz in memory. Use [`MonoStream`] for long files.
pub fn decode_mono_48k(path: impl AsRef<Path>) -> Result<Decoded> {
    let mut stream = MonoStream::open(path)?;
    let src_rate = stream.info().sample_rate;
    let src_ch = stream.info().channels;
    let cap = (stream.info().n_frames as f64 * TARGET_RATE as f64 / src_rate as f64) as usize;
    // Header sizes are only a hint: cap the up-front reservation at 10 minutes.
    let mut samples = Vec::with_capacity(cap.min(TARGET_RATE as usize * 600) + 16);
    let mut chunk = Vec::new();
    while stream.read_chunk(&mut chunk)? {
        samples.extend_from_slice(&chunk);
    }
    Ok(Decoded {
        duration_s: samples.len() as f64 / TARGET_RATE as f64,
        samples,
        sample_rate: TARGET_RATE,
        start_s: 0.0,
        source_sample_rate: src_rate,
        source_channels: src_ch,
    })
}

/// Reads native-rate mono samples `[from, to)` (frame indices) into `out`, seeking when
/// `from > 0`. Returns the frame index of `out[0]`: `from`, unless the stream had nothing there.
pub(crate) fn read_native_range(
    reader: &mut SourceReader,
    from: u64,
    to: u64,
    out: &mut Vec<f32>,
) -> Result<u64> {
    if from > 0 && reader.seek(from).is_err() {
        // Fall back to decoding from the start (reopen: a failed seek may leave odd state).
        let path = reader.path.clone();
        let opts = reader.opts;
        *reader = SourceReader::open(&path, opts)?;
    }
    // A range read never validates the whole-file length.
    reader.seeked = true;
    let mut tmp = Vec::with_capacity(8192);
    out.clear();
    let mut first: Option<u64> = None;
    loop {
        tmp.clear();
        let n = reader.read_packet(&mut tmp)?;
        if n == 0 {
            break;
        }
        let end = reader.pos;
        let start = end.saturating_sub(n as u64);
        if end <= from {
            continue;
        }
        let a = from.saturating_sub(start) as usize;
        let b = (to.min(end).saturating_sub(start) as usize).min(n);
        if a < b {
            first.get_or_insert(start + a as u64);
            out.extend_from_slice(&tmp[a..b]);
        }
        if end >= to {
            break;
        }
    }
    Ok(first.unwrap_or(from))
}

/// Decodes the time range `[start_s, end_s)` of a file to mono 48 kHz, seeking where the format
/// supports it. A range reaching past the end is clipped to the end of the file.
pub fn decode_range(path: impl AsRef<Path>, start_s: f64, end_s: f64) -> Result<Decoded> {
    let path = path.as_ref();
    let bad = |reason: &str| AudioError::InvalidRange {
        path: path.to_path_buf(),
        start_s,
        end_s,
        reason: reason.to_string(),
    };
    if !start_s.is_finite() || !end_s.is_finite() {
        return Err(bad("non-finite bound"));
    }
    if start_s < 0.0 {
        return Err(bad("negative start"));
    }
    if end_s <= start_s {
        return Err(bad("end must be after start"));
    }
    let mut reader = SourceReader::open(path, DecodeOptions::default())?;
    let sr = reader.info.sample_rate;
    let src_ch = reader.info.channels;
    // Decode a small margin either side so the resampler's filter has real context.
    let margin = (sr as u64 / 20).max(64);
    let from_exact = (start_s * sr as f64).round() as u64;
    let to_exact = (end_s * sr as f64).round() as u64;
    if reader.info.duration_from_header && from_exact >= reader.info.n_frames {
        return Err(bad(&format!(
            "starts past the end of the recording ({:.3} s)",
            reader.info.duration_s
        )));
    }
    let from = from_exact.saturating_sub(margin);
    let to = to_exact.saturating_add(margin);
    let mut native = Vec::new();
    let got_from = read_native_range(&mut reader, from, to, &mut native)?;
    if got_from > from {
        // The stream had no samples at the very start of the margin: pad with silence.
        let pad = ((got_from - from) as usize).min(to.saturating_sub(from) as usize);
        native.splice(0..0, std::iter::repeat_n(0.0f32, pad));
    }
    let lead = (from_exact - from) as usize;
    if native.len() <= lead {
        return Err(bad("starts past the end of the recording"));
    }
    let mut out = crate::resample::resample_to_48k(&native, sr).map_err(|e| {
        AudioError::UnsupportedLayout {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    })?;
    let lead48 = ((lead as u128 * TARGET_RATE as u128 + sr as u128 / 2) / sr as u128) as usize;
    let avail = native.len().min((to_exact - from) as usize) - lead;
    let want48 = ((avail as u128 * TARGET_RATE as u128 + sr as u128 / 2) / sr as u128) as usize;
    let lead48 = lead48.min(out.len());
    out.drain(..lead48);
    out.truncate(want48);
    Ok(Decoded {
        duration_s: out.len() as f64 / TARGET_RATE as f64,
        samples: out,
        sample_rate: TARGET_RATE,
        start_s: from_exact as f64 / sr as f64,
        source_sample_rate: sr,
        source_channels: src_ch,
    })
}

/// Reads a file's header and reports its format. If the header does not state the length, the
/// file is decoded (at native rate, without keeping samples) to count frames.
pub fn probe(path: impl AsRef<Path>) -> Result<AudioInfo> {
    let mut reader = SourceReader::open(path.as_ref(), DecodeOptions::default())?;
    if reader.info.duration_from_header {
        return Ok(reader.info.clone());
    }
    let mut tmp = Vec::with_capacity(8192);
    let mut frames = 0u64;
    loop {
        tmp.clear();
        let n = reader.read_packet(&mut tmp)?;
        if n == 0 {
            break;
        }
        frames += n as u64;
    }
    let mut info = reader.info.clone();
    info.n_frames = frames;
    info.duration_s = frames as f64 / info.sample_rate as f64;
    Ok(info)
}

#[cfg(test)]
mod tests {
    // Skip notes go straight to stderr with writeln!: libtest captures eprintln!, and a skip
    // must be seen.
    use super::*;
    use std::io::Write;

    fn tone(freq: f64, rate: u32, secs: f64, amp: f64) -> Vec<f64> {
        (0..(rate as f64 * secs).round() as usize)
            .map(|i| amp * (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin())
            .collect()
    }

    /// Writes `channels` interleaved copies (channel c scaled by 1/(c+1)) of `x`.
    fn write_wav(
        path: &Path,
        x: &[f64],
        rate: u32,
        channels: u16,
        fmt: (u16, hound::SampleFormat),
    ) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: fmt.0,
            sample_format: fmt.1,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for &v in x {
            for c in 0..channels {
                let v = v / (c as f64 + 1.0);
                match fmt {
                    (32, hound::SampleFormat::Float) => w.write_sample(v as f32).unwrap(),
                    (bits, hound::SampleFormat::Int) => {
                        let scale = (1i64 << (bits - 1)) as f64 - 1.0;
                        w.write_sample((v * scale).round() as i32).unwrap()
                    }
                    _ => unreachable!(),
                }
            }
        }
        w.finalize().unwrap();
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn wav_bit_depths_rates_and_channels_decode() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (8u16, hound::SampleFormat::Int, 22_050u32, 1u16),
            (16, hound::SampleFormat::Int, 44_100, 2),
            (24, hound::SampleFormat::Int, 96_000, 2),
            (32, hound::SampleFormat::Int, 16_000, 1),
            (32, hound::SampleFormat::Float, 48_000, 3),
        ];
        for (bits, sf, rate, ch) in cases {
            let p = dir.path().join(format!("t{bits}_{rate}_{ch}.wav"));
            let x = tone(1000.0, rate, 1.5, 0.5);
            write_wav(&p, &x, rate, ch, (bits, sf));
            let info = probe(&p).unwrap();
            assert_eq!(info.sample_rate, rate);
            assert_eq!(info.channels, ch as usize);
            assert_eq!(info.n_frames, x.len() as u64);
            assert!(info.duration_from_header);
            assert_eq!(info.container, "wave");
            let d = decode_mono_48k(&p).unwrap();
            assert_eq!(d.sample_rate, 48_000);
            assert_eq!(d.samples.len(), 72_000, "{bits}/{rate}/{ch}");
            // mean of channel scales 1, 1/2, 1/3 …
            let mean_scale: f64 = (0..ch).map(|c| 1.0 / (c as f64 + 1.0)).sum::<f64>() / ch as f64;
            let want = 0.5 * mean_scale / std::f64::consts::SQRT_2;
            let got = rms(&d.samples[4800..67_200]);
            let tol = if bits == 8 { 0.03 } else { 0.01 };
            assert!(
                (got / want - 1.0).abs() < tol,
                "{bits}/{rate}/{ch}: rms {got} vs {want}"
            );
        }
    }

    #[test]
    fn streaming_windows_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("long.wav");
        let mut x = tone(2000.0, 44_100, 10.0, 0.3);
        x[3 * 44_100..6 * 44_100].fill(0.0); // a silent stretch
        write_wav(&p, &x, 44_100, 1, (16, hound::SampleFormat::Int));
        let mut ws = windows(&p, WindowConfig::default()).unwrap();
        let mut got = Vec::new();
        while let Some(w) = ws.next() {
            let w = w.unwrap();
            got.push((w.index, w.start_s, w.end_s, w.silent));
            ws.recycle(w);
        }
        assert_eq!(got.len(), 4);
        assert_eq!(got[3].1, 9.0);
        assert!((got[3].2 - 10.0).abs() < 1e-9);
        // window 1 covers 3..6 s: silent apart from resampler ringing at the edges
        assert!(!got[0].3 && !got[2].3);
        let mut s = MonoStream::open(&p).unwrap();
        let mut n = 0;
        let mut buf = Vec::new();
        while s.read_chunk(&mut buf).unwrap() {
            n += buf.len();
        }
        assert_eq!(n, 480_000);
        assert_eq!(s.samples_produced(), 480_000);
    }

    #[test]
    fn decode_range_matches_full_decode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.wav");
        let x: Vec<f64> = tone(700.0, 44_100, 6.0, 0.4)
            .iter()
            .zip(tone(3100.0, 44_100, 6.0, 0.2))
            .map(|(a, b)| a + b)
            .collect();
        write_wav(&p, &x, 44_100, 2, (16, hound::SampleFormat::Int));
        let full = decode_mono_48k(&p).unwrap();
        let r = decode_range(&p, 2.5, 4.0).unwrap();
        assert_eq!(r.samples.len(), 72_000);
        assert!((r.start_s - 2.5).abs() < 1e-4);
        let off = 120_000;
        let maxdiff = r
            .samples
            .iter()
            .zip(&full.samples[off..off + 72_000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            maxdiff < 0.01,
            "range differs from full decode by {maxdiff}"
        );
        // clipped at the end, rejected past it / when inverted
        assert_eq!(decode_range(&p, 5.0, 9.0).unwrap().samples.len(), 48_000);
        assert!(matches!(
            decode_range(&p, 7.0, 8.0),
            Err(AudioError::InvalidRange { .. })
        ));
        assert!(matches!(
            decode_range(&p, 3.0, 2.0),
            Err(AudioError::InvalidRange { .. })
        ));
        assert!(matches!(
            decode_range(&p, f64::NAN, 2.0),
            Err(AudioError::InvalidRange { .. })
        ));
    }

    #[test]
    fn spectrogram_of_wav_file_finds_tone_with_and_without_seeking() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.wav");
        let mut x = tone(1500.0, 32_000, 20.0, 0.5);
        for (i, v) in x[10 * 32_000..].iter_mut().enumerate() {
            *v = 0.5 * (2.0 * std::f64::consts::PI * 6000.0 * i as f64 / 32_000.0).sin();
        }
        write_wav(&p, &x, 32_000, 1, (16, hound::SampleFormat::Int));
        let params = crate::SpectrogramParams {
            width: 40,
            height: 160,
            ..Default::default()
        };
        let s = crate::spectrogram_of_file(&p, &params).unwrap();
        assert_eq!(s.t1, 20.0);
        let mem = crate::spectrogram_of_samples(
            &x.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            32_000,
            &params,
        )
        .unwrap();
        let peak = |s: &crate::Spectrogram, c| {
            (0..s.height)
                .max_by(|&a, &b| s.get(a, c).unwrap().total_cmp(&s.get(b, c).unwrap()))
                .unwrap()
        };
        assert_eq!(peak(&s, 5), s.row_of_hz(1500.0).unwrap());
        assert_eq!(peak(&s, 35), s.row_of_hz(6000.0).unwrap());
        // file path (seeking) and in-memory path agree up to 16-bit quantisation
        for c in [5, 35] {
            let r = peak(&s, c);
            assert!((s.get(r, c).unwrap() - mem.get(r, c).unwrap()).abs() < 0.5);
        }
    }

    // ---------- bad input: every case is a typed error, never a panic or hang ----------

    fn raw_wav(
        fmt_tag: u16,
        channels: u16,
        rate: u32,
        bits: u16,
        data: &[u8],
        data_len: u32,
    ) -> Vec<u8> {
        let block = (channels.max(1) as u32 * bits as u32 / 8) as u16;
        let mut v = Vec::new();
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        v.extend_from_slice(b"WAVEfmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&fmt_tag.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&rate.wrapping_mul(block as u32).to_le_bytes());
        v.extend_from_slice(&block.to_le_bytes());
        v.extend_from_slice(&bits.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&data_len.to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    fn put(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        let mut f = File::create(&p).unwrap();
        f.write_all(bytes).unwrap();
        p
    }

    /// Every public entry point must fail the same way on the file.
    fn all_fail(p: &Path, check: impl Fn(&AudioError) -> bool) {
        all_fail_opt(p, true, check)
    }

    /// As `all_fail`; `spectrogram: false` leaves out `spectrogram_of_file`, which draws what a
    /// truncated file holds instead of failing.
    fn all_fail_opt(p: &Path, spectrogram: bool, check: impl Fn(&AudioError) -> bool) {
        let mut results = vec![
            probe(p).map(|_| ()),
            decode_mono_48k(p).map(|_| ()),
            decode_range(p, 0.5, 1.0).map(|_| ()),
            MonoStream::open(p)
                .and_then(|s| s.collect::<Result<Vec<_>>>())
                .map(|_| ()),
            windows(p, WindowConfig::default())
                .and_then(|w| w.collect::<Result<Vec<_>>>())
                .map(|_| ()),
        ];
        if spectrogram {
            results.push(
                crate::spectrogram_of_file(p, &crate::SpectrogramParams::default()).map(|_| ()),
            );
        }
        for (i, r) in results.iter().enumerate() {
            match r {
                Err(e) => {
                    assert!(
                        check(e),
                        "entry point {i} on {}: unexpected error {e:?}",
                        p.display()
                    );
                    assert_eq!(e.path(), Some(p), "error must carry the path");
                    assert!(e.to_string().contains(&*p.to_string_lossy()));
                }
                Ok(()) => panic!("entry point {i} accepted bad file {}", p.display()),
            }
        }
    }

    #[test]
    fn empty_file() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["empty.wav", "empty.mp3", "empty.flac"] {
            let p = put(dir.path(), name, &[]);
            all_fail(&p, |e| matches!(e, AudioError::EmptyFile { .. }));
        }
    }

    #[test]
    fn missing_file_is_io_error() {
        let e = probe("/nonexistent/dir/x.wav").unwrap_err();
        assert!(matches!(e, AudioError::Io { .. }), "{e:?}");
    }

    #[test]
    fn truncated_wav() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("trunc.wav");
        write_wav(
            &p,
            &tone(440.0, 16_000, 10.0, 0.5),
            16_000,
            1,
            (16, hound::SampleFormat::Int),
        );
        let bytes = std::fs::read(&p).unwrap();
        let p = put(dir.path(), "trunc.wav", &bytes[..bytes.len() / 2]);
        all_fail_opt(&p, false, |e| match e {
            AudioError::Truncated {
                decoded_s,
                expected_s,
                ..
            } => (*expected_s - 10.0).abs() < 1e-6 && (*decoded_s - 5.0).abs() < 0.01,
            _ => false,
        });
        let msg = probe(&p).unwrap_err().to_string();
        assert!(
            msg.contains("truncated file: stream ended at 5.00 s while header promised 10.00 s"),
            "{msg}"
        );
        // … but it can be drawn, and read on request
        let sp = crate::spectrogram_of_file(&p, &crate::SpectrogramParams::default()).unwrap();
        assert_eq!(sp.t1, 10.0);
        let mut s = MonoStream::open_with(
            &p,
            DecodeOptions {
                allow_truncated: true,
                ..Default::default()
            },
        )
        .unwrap();
        let mut n = 0;
        let mut buf = Vec::new();
        while s.read_chunk(&mut buf).unwrap() {
            n += buf.len();
        }
        assert!((n as i64 - 240_000).abs() < 100, "{n}");
    }

    #[test]
    fn truncated_flac_is_detected_by_length() {
        // Needs an encoder; sox is optional on dev machines, so skip clearly without it.
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("a.wav");
        let flac = dir.path().join("a.flac");
        write_wav(
            &wav,
            &tone(440.0, 16_000, 10.0, 0.5),
            16_000,
            1,
            (16, hound::SampleFormat::Int),
        );
        let ok = std::process::Command::new("sox")
            .arg(&wav)
            .arg(&flac)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED truncated_flac_is_detected_by_length: sox not installed"
            );
            return;
        }
        let bytes = std::fs::read(&flac).unwrap();
        let p = put(dir.path(), "cut.flac", &bytes[..bytes.len() / 2]);
        let e = decode_mono_48k(&p).unwrap_err();
        assert!(
            matches!(e, AudioError::Truncated { .. } | AudioError::Corrupt { .. }),
            "{e:?}"
        );
    }

    #[test]
    fn random_bytes_with_audio_extensions() {
        let dir = tempfile::tempdir().unwrap();
        // deterministic xorshift noise
        let mut s = 0x2545F4914F6CDD1Du64;
        let bytes: Vec<u8> = (0..100_000)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 24) as u8
            })
            .collect();
        for name in [
            "noise.mp3",
            "noise.wav",
            "noise.flac",
            "noise.ogg",
            "noise.m4a",
            "noise.opus",
            "noise",
        ] {
            let p = put(dir.path(), name, &bytes);
            all_fail(&p, |e| {
                matches!(
                    e,
                    AudioError::UnrecognisedContainer { .. }
                        | AudioError::MalformedHeader { .. }
                        | AudioError::Corrupt { .. }
                )
            });
        }
        // text file
        let p = put(dir.path(), "readme.wav", b"this is not audio at all\n");
        all_fail(&p, |e| {
            matches!(e, AudioError::UnrecognisedContainer { .. })
        });
    }

    #[test]
    fn absurd_wav_header_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let pcm = vec![0u8; 3200];
        // data chunk claiming ~2 GiB in a 3 KB file
        let p = put(
            dir.path(),
            "huge_data.wav",
            &raw_wav(1, 1, 16_000, 16, &pcm, 0x7FFF_FFF0),
        );
        all_fail_opt(&p, false, |e| matches!(e, AudioError::Truncated { .. }));
        let sp = crate::spectrogram_of_file(&p, &crate::SpectrogramParams::default());
        assert!(
            matches!(sp, Err(AudioError::MalformedHeader { .. })),
            "{sp:?}"
        );
        // a LIST chunk claiming 4 GiB before the data
        let mut v = raw_wav(1, 1, 16_000, 16, &pcm, pcm.len() as u32);
        let list_at = 36;
        let mut list = b"LIST".to_vec();
        list.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        v.splice(list_at..list_at, list);
        let p = put(dir.path(), "huge_list.wav", &v);
        all_fail(&p, |e| matches!(e, AudioError::MalformedHeader { .. }));
        // absurd channel count / sample rate
        let p = put(
            dir.path(),
            "many_ch.wav",
            &raw_wav(1, 60_000, 16_000, 16, &pcm, 3200),
        );
        all_fail(&p, |e| {
            matches!(
                e,
                AudioError::UnsupportedLayout { .. } | AudioError::MalformedHeader { .. }
            )
        });
        let p = put(
            dir.path(),
            "fast.wav",
            &raw_wav(1, 1, 4_000_000_000, 16, &pcm, 3200),
        );
        all_fail(&p, |e| {
            matches!(
                e,
                AudioError::UnsupportedLayout { .. } | AudioError::MalformedHeader { .. }
            )
        });
    }

    #[test]
    fn zero_channels_and_zero_rate() {
        let dir = tempfile::tempdir().unwrap();
        let pcm = vec![0u8; 3200];
        let p = put(dir.path(), "zc.wav", &raw_wav(1, 0, 16_000, 16, &pcm, 3200));
        all_fail(&p, |e| matches!(e, AudioError::ZeroChannels { .. }));
        assert!(probe(&p)
            .unwrap_err()
            .to_string()
            .ends_with("zero channels"));
        let p = put(dir.path(), "zr.wav", &raw_wav(1, 1, 0, 16, &pcm, 3200));
        all_fail(&p, |e| matches!(e, AudioError::ZeroSampleRate { .. }));
        assert!(probe(&p)
            .unwrap_err()
            .to_string()
            .ends_with("sample rate 0"));
    }

    #[test]
    fn nan_samples_in_float_wav() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nan.wav");
        let mut x = tone(440.0, 16_000, 4.0, 0.5);
        x[40_000] = f64::NAN; // 2.5 s
        write_wav(&p, &x, 16_000, 1, (32, hound::SampleFormat::Float));
        let e = decode_mono_48k(&p).unwrap_err();
        match &e {
            AudioError::NonFiniteSample { at_s, .. } => assert!((at_s - 2.5).abs() < 1e-6),
            other => panic!("{other:?}"),
        }
        assert!(
            e.to_string()
                .ends_with("non-finite sample (NaN/inf) at 2.50 s"),
            "{e}"
        );
        let mut x = tone(440.0, 16_000, 1.0, 0.5);
        x[100] = f64::INFINITY;
        write_wav(&p, &x, 16_000, 2, (32, hound::SampleFormat::Float));
        assert!(matches!(
            decode_mono_48k(&p),
            Err(AudioError::NonFiniteSample { .. })
        ));
    }

    #[test]
    fn header_only_wav_has_no_audio() {
        let dir = tempfile::tempdir().unwrap();
        let p = put(dir.path(), "h.wav", &raw_wav(1, 1, 16_000, 16, &[], 0));
        let e = decode_mono_48k(&p).unwrap_err();
        assert!(matches!(e, AudioError::NoAudio { .. }), "{e:?}");
    }

    /// Manual memory check: `SYRINX_STREAM_FILE=/tmp/long.wav cargo test -p syrinx-audio --
    /// --ignored --nocapture stream_file_from_env` under `/usr/bin/time -v`; peak RSS must stay
    /// flat however long the file is.
    #[test]
    #[ignore]
    fn stream_file_from_env() {
        let Some(p) = std::env::var_os("SYRINX_STREAM_FILE") else {
            let _ = writeln!(std::io::stderr(), "SKIPPED: set SYRINX_STREAM_FILE");
            return;
        };
        let t = std::time::Instant::now();
        let mut ws = windows(&p, WindowConfig::default()).unwrap();
        let (mut n, mut silent) = (0usize, 0usize);
        while let Some(w) = ws.next() {
            let w = w.unwrap();
            n += 1;
            silent += w.silent as usize;
            ws.recycle(w);
        }
        eprintln!("{n} windows ({silent} silent) in {:?}", t.elapsed());
    }

    /// Manual benchmark: `cargo test -p syrinx-audio --release -- --ignored --nocapture one_hour`
    /// Writes a 1-hour 48 kHz 16-bit mono WAV (≈ 330 MB) to a temp dir and times the overview.
    #[test]
    #[ignore]
    fn one_hour_overview_timing() {
        let dir = tempfile::tempdir_in(std::env::var("SYRINX_BENCH_DIR").unwrap_or("/tmp".into()))
            .unwrap();
        let p = dir.path().join("hour.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&p, spec).unwrap();
        let mut s = 1u32;
        for i in 0..48_000u64 * 3600 {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let chirp = if (i / 48_000) % 10 == 0 {
                (2.0 * std::f64::consts::PI * 3000.0 * i as f64 / 48_000.0).sin() * 8000.0
            } else {
                0.0
            };
            w.write_sample(((s >> 20) as i32 - 2048 + chirp as i32) as i16)
                .unwrap();
        }
        w.finalize().unwrap();
        let flac = dir.path().join("hour.flac");
        let have_flac = std::process::Command::new("sox")
            .arg(&p)
            .arg(&flac)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        let params = crate::SpectrogramParams {
            width: 1200,
            height: 256,
            ..Default::default()
        };
        let mut files = vec![p.clone()];
        if have_flac {
            files.push(flac);
        }
        for f in files {
            let t = std::time::Instant::now();
            let sp = crate::spectrogram_of_file(&f, &params).unwrap();
            let el = t.elapsed();
            eprintln!(
                "1-hour overview {}x{} of {}: {:?}",
                sp.width,
                sp.height,
                f.display(),
                el
            );
            assert!((sp.t1 - 3600.0).abs() < 1e-6);
        }
    }
}

//! Spectrogram tiles for display: a time range of a recording at a pixel size, quantised to one
//! byte per pixel (so a UI applies colour map and contrast itself without asking again), cached.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use syrinx_audio::{FreqScale, Spectrogram, SpectrogramParams};

use crate::error::{Result, SessionError};

/// dB mapped to byte 0 (everything below is 0); 0 dBFS maps to 255.
pub const FLOOR_DB: f32 = -120.0;

/// Largest tile side, in pixels.
pub const MAX_SIDE: usize = 4096;

/// What to draw.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct TileRequest {
    pub recording: i64,
    pub start_s: f64,
    pub end_s: f64,
    pub width: usize,
    pub height: usize,
    /// `linear` (default) or `mel`.
    #[serde(default)]
    pub scale: Option<String>,
    #[serde(default)]
    pub f_min: Option<f32>,
    #[serde(default)]
    pub f_max: Option<f32>,
}

/// A computed tile. `data` is `height * width` bytes, row-major, **row 0 at the top** (the
/// highest frequency), ready for an image: byte = (dB - FLOOR_DB) / -FLOOR_DB * 255.
#[derive(Clone, Debug, Serialize)]
pub struct Tile {
    pub width: usize,
    pub height: usize,
    pub t0: f64,
    pub t1: f64,
    pub f_min: f32,
    pub f_max: f32,
    pub data: Vec<u8>,
}

impl Tile {
    /// Binary form for a UI: 32-byte little-endian header (width u32, height u32, t0 f64, t1 f64,
    /// f_min f32, f_max f32) followed by the pixels.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(32 + self.data.len());
        v.extend_from_slice(&(self.width as u32).to_le_bytes());
        v.extend_from_slice(&(self.height as u32).to_le_bytes());
        v.extend_from_slice(&self.t0.to_le_bytes());
        v.extend_from_slice(&self.t1.to_le_bytes());
        v.extend_from_slice(&self.f_min.to_le_bytes());
        v.extend_from_slice(&self.f_max.to_le_bytes());
        v.extend_from_slice(&self.data);
        v
    }

    /// From a spectrogram (flips rows so that row 0 is the top).
    pub fn from_spectrogram(s: &Spectrogram) -> Tile {
        let mut data = vec![0u8; s.width * s.height];
        for r in 0..s.height {
            let src = &s.data[r * s.width..(r + 1) * s.width];
            let dst_row = s.height - 1 - r;
            for (d, &db) in data[dst_row * s.width..(dst_row + 1) * s.width]
                .iter_mut()
                .zip(src)
            {
                *d = quantise(db);
            }
        }
        Tile {
            width: s.width,
            height: s.height,
            t0: s.t0,
            t1: s.t1,
            f_min: s.f_min,
            f_max: s.f_max,
            data,
        }
    }
}

/// dB to a byte (see [`FLOOR_DB`]).
pub fn quantise(db: f32) -> u8 {
    if !db.is_finite() {
        return 0;
    }
    (((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0) * 255.0).round() as u8
}

pub(crate) fn params(req: &TileRequest) -> Result<SpectrogramParams> {
    if !(req.start_s.is_finite() && req.end_s.is_finite()) || req.end_s <= req.start_s {
        return Err(SessionError::Invalid(format!(
            "spectrogram range {}..{} s is empty",
            req.start_s, req.end_s
        )));
    }
    if req.width == 0 || req.height == 0 || req.width > MAX_SIDE || req.height > MAX_SIDE {
        return Err(SessionError::Invalid(format!(
            "spectrogram size {}x{} must be 1..={MAX_SIDE} on each side",
            req.width, req.height
        )));
    }
    let scale = match req.scale.as_deref().unwrap_or("linear") {
        "linear" => FreqScale::Linear,
        "mel" => FreqScale::Mel,
        other => {
            return Err(SessionError::Invalid(format!(
                "unknown frequency scale `{other}` (linear or mel)"
            )))
        }
    };
    Ok(SpectrogramParams {
        start_s: req.start_s.max(0.0),
        end_s: Some(req.end_s),
        width: req.width,
        height: req.height,
        scale,
        f_min: req.f_min.unwrap_or(0.0).max(0.0),
        f_max: req.f_max,
        fft_size: 0,
        frames_per_column: 4,
        floor_db: FLOOR_DB,
    })
}

/// Compute a tile from a file.
pub fn compute(path: &Path, req: &TileRequest) -> Result<Tile> {
    let p = params(req)?;
    let s = syrinx_audio::spectrogram_of_file(path, &p)?;
    Ok(Tile::from_spectrogram(&s))
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    rec: i64,
    start: u64,
    end: u64,
    w: usize,
    h: usize,
    scale: String,
    fmin: u32,
    fmax: u32,
}

impl Key {
    fn of(r: &TileRequest) -> Key {
        Key {
            rec: r.recording,
            start: r.start_s.to_bits(),
            end: r.end_s.to_bits(),
            w: r.width,
            h: r.height,
            scale: r.scale.clone().unwrap_or_default(),
            fmin: r.f_min.unwrap_or(0.0).to_bits(),
            fmax: r.f_max.unwrap_or(0.0).to_bits(),
        }
    }
}

/// A least-recently-used cache of tiles, bounded in bytes. At most `workers` tiles are computed
/// at once (one core is left to searches: a click's 20 thumbnails must not starve the next click).
pub struct TileCache {
    inner: Mutex<CacheInner>,
    max_bytes: usize,
    busy: Mutex<usize>,
    freed: std::sync::Condvar,
    workers: usize,
}

#[derive(Default)]
struct CacheInner {
    map: HashMap<Key, Arc<Tile>>,
    order: VecDeque<Key>,
    bytes: usize,
    hits: u64,
    misses: u64,
}

impl TileCache {
    pub fn new(max_bytes: usize) -> TileCache {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        TileCache {
            inner: Mutex::new(CacheInner::default()),
            max_bytes,
            busy: Mutex::new(0),
            freed: std::sync::Condvar::new(),
            workers: cores.saturating_sub(1).max(1),
        }
    }

    fn compute_limited(&self, path: &Path, req: &TileRequest) -> Result<Tile> {
        {
            let mut b = self.busy.lock().unwrap_or_else(|e| e.into_inner());
            while *b >= self.workers {
                b = self.freed.wait(b).unwrap_or_else(|e| e.into_inner());
            }
            *b += 1;
        }
        let r = compute(path, req);
        *self.busy.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        self.freed.notify_one();
        r
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached tile or a newly computed one.
    pub fn get_or_compute(&self, path: &Path, req: &TileRequest) -> Result<Arc<Tile>> {
        let key = Key::of(req);
        {
            let mut c = self.lock();
            if let Some(t) = c.map.get(&key).cloned() {
                c.hits += 1;
                if let Some(pos) = c.order.iter().position(|k| *k == key) {
                    c.order.remove(pos);
                }
                c.order.push_back(key);
                return Ok(t);
            }
            c.misses += 1;
        }
        let tile = Arc::new(self.compute_limited(path, req)?);
        let mut c = self.lock();
        let size = tile.data.len() + 64;
        if c.map.insert(key.clone(), tile.clone()).is_none() {
            c.bytes += size;
            c.order.push_back(key);
        }
        while c.bytes > self.max_bytes {
            let Some(old) = c.order.pop_front() else {
                break;
            };
            if let Some(t) = c.map.remove(&old) {
                c.bytes = c.bytes.saturating_sub(t.data.len() + 64);
            }
        }
        Ok(tile)
    }

    /// Forget the tiles of a recording (e.g. after it was relinked to another file).
    pub fn forget(&self, recording: i64) {
        let mut c = self.lock();
        c.map.retain(|k, _| k.rec != recording);
        let CacheInner { order, map, .. } = &mut *c;
        order.retain(|k| map.contains_key(k));
        c.bytes = c.map.values().map(|t| t.data.len() + 64).sum();
    }

    /// (hits, misses, bytes held).
    pub fn stats(&self) -> (u64, u64, usize) {
        let c = self.lock();
        (c.hits, c.misses, c.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantise_maps_floor_and_full_scale() {
        assert_eq!(quantise(FLOOR_DB), 0);
        assert_eq!(quantise(-500.0), 0);
        assert_eq!(quantise(0.0), 255);
        assert_eq!(quantise(f32::NAN), 0);
        assert_eq!(quantise(-60.0), 128);
    }

    #[test]
    fn rows_are_flipped_so_the_top_is_high_frequency() {
        let s = Spectrogram {
            width: 2,
            height: 2,
            data: vec![0.0, 0.0, FLOOR_DB, FLOOR_DB], // row 0 (low f) loud, row 1 quiet
            t0: 0.0,
            t1: 1.0,
            f_min: 0.0,
            f_max: 100.0,
            scale: FreqScale::Linear,
            sample_rate: 200,
            fft_size: 64,
        };
        let t = Tile::from_spectrogram(&s);
        assert_eq!(t.data, vec![0, 0, 255, 255]);
        let b = t.to_bytes();
        assert_eq!(b.len(), 32 + 4);
        assert_eq!(u32::from_le_bytes([b[0], b[1], b[2], b[3]]), 2);
    }

    #[test]
    fn bad_requests_are_clear_errors() {
        let mut r = TileRequest {
            recording: 1,
            start_s: 5.0,
            end_s: 5.0,
            width: 10,
            height: 10,
            scale: None,
            f_min: None,
            f_max: None,
        };
        assert!(params(&r).unwrap_err().to_string().contains("empty"));
        r.end_s = 6.0;
        r.width = 0;
        assert!(params(&r).unwrap_err().to_string().contains("size"));
        r.width = 10;
        r.scale = Some("bark".into());
        assert!(params(&r).unwrap_err().to_string().contains("bark"));
    }
}

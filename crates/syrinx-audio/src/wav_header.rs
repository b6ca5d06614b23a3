//! A cheap sanity check of RIFF/WAVE headers before handing the file to symphonia, so that
//! zero channels, a 0 Hz rate, absurd chunk sizes and truncated data chunks give specific errors
//! (and never a huge allocation).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::{AudioError, Result};
use crate::resample::{MAX_INPUT_RATE, MIN_INPUT_RATE};

/// What the header check learned about a WAV file.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WavFacts {
    /// Data chunk bytes actually present in the file, and bytes the header promised.
    pub data_present: u64,
    pub data_promised: Option<u64>,
    pub block_align: u16,
    pub sample_rate: u32,
}

fn malformed(path: &Path, reason: String) -> AudioError {
    AudioError::MalformedHeader {
        path: path.to_path_buf(),
        reason,
    }
}

/// Returns `Ok(None)` if the file is not RIFF/WAVE (other checks apply then).
pub(crate) fn check_wav<R: Read + Seek>(
    path: &Path,
    file: &mut R,
    file_size: u64,
) -> Result<Option<WavFacts>> {
    let io = |source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = [0u8; 12];
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    if file_size < 12 {
        return Ok(None);
    }
    file.read_exact(&mut head).map_err(io)?;
    if &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Ok(None);
    }
    let mut facts = WavFacts::default();
    let mut have_fmt = false;
    let mut pos = 12u64;
    // Bounded: each iteration advances by at least 8 bytes, and we stop after 10 000 chunks.
    for _ in 0..10_000 {
        if pos + 8 > file_size {
            break;
        }
        let mut ch = [0u8; 8];
        file.seek(SeekFrom::Start(pos)).map_err(io)?;
        file.read_exact(&mut ch).map_err(io)?;
        let tag = [ch[0], ch[1], ch[2], ch[3]];
        let len = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]) as u64;
        let body = pos + 8;
        let remaining = file_size - body;
        let name = String::from_utf8_lossy(&tag).into_owned();
        match &tag {
            b"fmt " => {
                if len < 16 {
                    return Err(malformed(
                        path,
                        format!("'fmt ' chunk is {len} bytes (< 16)"),
                    ));
                }
                if len > remaining || len > 1 << 16 {
                    return Err(malformed(
                        path,
                        format!("'fmt ' chunk claims {len} bytes but only {remaining} remain"),
                    ));
                }
                let mut f = [0u8; 16];
                file.read_exact(&mut f).map_err(io)?;
                let channels = u16::from_le_bytes([f[2], f[3]]);
                let rate = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
                let block_align = u16::from_le_bytes([f[12], f[13]]);
                if channels == 0 {
                    return Err(AudioError::ZeroChannels {
                        path: path.to_path_buf(),
                    });
                }
                if rate == 0 {
                    return Err(AudioError::ZeroSampleRate {
                        path: path.to_path_buf(),
                    });
                }
                if channels as usize > crate::decode::MAX_CHANNELS {
                    return Err(AudioError::UnsupportedLayout {
                        path: path.to_path_buf(),
                        reason: format!(
                            "{channels} channels (max {})",
                            crate::decode::MAX_CHANNELS
                        ),
                    });
                }
                if !(MIN_INPUT_RATE..=MAX_INPUT_RATE).contains(&rate) {
                    return Err(AudioError::UnsupportedLayout {
                        path: path.to_path_buf(),
                        reason: format!(
                            "sample rate {rate} Hz outside {MIN_INPUT_RATE}..={MAX_INPUT_RATE} Hz"
                        ),
                    });
                }
                let bits = u16::from_le_bytes([f[14], f[15]]);
                if bits == 0 || bits > 64 {
                    return Err(malformed(path, format!("{bits} bits per sample")));
                }
                if block_align == 0 {
                    return Err(malformed(path, "block align 0 in 'fmt ' chunk".into()));
                }
                facts.block_align = block_align;
                facts.sample_rate = rate;
                have_fmt = true;
            }
            b"data" => {
                if !have_fmt {
                    return Err(malformed(path, "'data' chunk before 'fmt ' chunk".into()));
                }
                // 0xFFFFFFFF is the conventional "unknown length" for streamed WAV.
                facts.data_promised = (len != u32::MAX as u64).then_some(len);
                facts.data_present = remaining.min(len);
                return Ok(Some(facts));
            }
            _ => {
                if len > remaining {
                    return Err(malformed(
                        path,
                        format!("chunk '{name}' claims {len} bytes but only {remaining} remain"),
                    ));
                }
            }
        }
        pos = body + len + (len & 1);
    }
    if have_fmt {
        Err(malformed(path, "no 'data' chunk".into()))
    } else {
        Err(malformed(path, "no 'fmt ' chunk".into()))
    }
}

//! Export a result set (or any selection) to CSV, a Raven selection table, Audacity label tracks,
//! JSON, and optionally a WAV clip and a PNG spectrogram per item. Never overwrites: an existing
//! name gets a ` (2)`, ` (3)`... suffix and the report lists each rename.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{io_err, Result};
use crate::labels::Label;
use crate::search::Hit;
use crate::{Library, LibraryError};

/// One exported selection.
#[derive(Clone, Debug, Serialize)]
pub struct ExportItem {
    pub recording_id: i64,
    pub path: PathBuf,
    pub start_s: f64,
    pub end_s: f64,
    pub scientific: Option<String>,
    pub common: Option<String>,
    /// Species score of the best species (model confidence).
    pub score: Option<f32>,
    /// Similarity to the query (search results).
    pub similarity: Option<f32>,
    pub label: Option<String>,
    pub verdict: Option<String>,
    /// Files written for this item (set by the export).
    pub clip: Option<PathBuf>,
    pub spectrogram: Option<PathBuf>,
}

impl From<&Hit> for ExportItem {
    fn from(h: &Hit) -> Self {
        ExportItem {
            recording_id: h.recording_id,
            path: h.path.clone(),
            start_s: h.start_s,
            end_s: h.end_s,
            scientific: h.scientific.clone(),
            common: h.common.clone(),
            score: h.species.map(|_| h.score),
            similarity: Some(h.similarity),
            label: None,
            verdict: None,
            clip: None,
            spectrogram: None,
        }
    }
}

/// Which files to write.
#[derive(Clone, Debug)]
pub struct ExportFormats {
    pub csv: bool,
    pub raven: bool,
    pub audacity: bool,
    pub json: bool,
    /// A WAV clip (mono 48 kHz, 16-bit) per item with this much padding each side (seconds).
    pub wav_padding_s: Option<f64>,
    /// A PNG spectrogram per item.
    pub png: bool,
}

impl Default for ExportFormats {
    fn default() -> Self {
        ExportFormats {
            csv: true,
            raven: true,
            audacity: true,
            json: true,
            wav_padding_s: None,
            png: false,
        }
    }
}

/// What an export wrote.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ExportReport {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// (wanted name, name written) where a file of the wanted name already existed.
    pub renamed: Vec<(PathBuf, PathBuf)>,
    /// Items whose clip or spectrogram could not be made (e.g. the audio is missing): (item, reason).
    pub item_errors: Vec<(usize, String)>,
}

/// Create `dir/name` without overwriting: on a clash try `stem (2).ext`, `stem (3).ext`...
pub fn create_unique(dir: &Path, name: &str, report: &mut ExportReport) -> Result<(File, PathBuf)> {
    let wanted = dir.join(name);
    let (stem, ext) = split_name(name);
    for n in 1..10_000 {
        let p = if n == 1 {
            wanted.clone()
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        match OpenOptions::new().write(true).create_new(true).open(&p) {
            Ok(f) => {
                if n > 1 {
                    report.renamed.push((wanted, p.clone()));
                }
                report.files.push(p.clone());
                return Ok((f, p));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(LibraryError::Io { path: p, source: e }),
        }
    }
    Err(LibraryError::Invalid(format!(
        "no free name for {}",
        wanted.display()
    )))
}

/// `a.selection.table.txt` → ("a", ".selection.table.txt"); `clip.wav` → ("clip", ".wav").
fn split_name(name: &str) -> (&str, &str) {
    for multi in [".selection.table.txt", ".audacity.txt"] {
        if let Some(s) = name.strip_suffix(multi) {
            return (s, &name[s.len()..]);
        }
    }
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn stem_of(p: &Path) -> String {
    sanitize(
        &p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "audio".into()),
    )
}

fn io<T>(p: &Path, r: std::io::Result<T>) -> Result<T> {
    r.map_err(io_err(p))
}

impl Library {
    /// Labels as export items (e.g. all positives of a label).
    pub fn label_items(&self, labels: &[Label]) -> Vec<ExportItem> {
        labels
            .iter()
            .map(|l| ExportItem {
                recording_id: l.recording_id,
                path: self
                    .recording(l.recording_id)
                    .map(|r| r.path)
                    .unwrap_or_default(),
                start_s: l.start_s,
                end_s: l.end_s,
                scientific: None,
                common: None,
                score: None,
                similarity: None,
                label: Some(l.label.clone()),
                verdict: Some(l.verdict.as_str().to_string()),
                clip: None,
                spectrogram: None,
            })
            .collect()
    }

    /// Write `items` into `dir` (created if needed) as `<base>.csv`, `<base>.selection.table.txt`,
    /// `<base>.json`, one `<base>_<recording>.audacity.txt` per recording, and optional clips and
    /// spectrograms. Existing files are never overwritten.
    pub fn export(
        &self,
        items: &[ExportItem],
        dir: &Path,
        base: &str,
        formats: &ExportFormats,
    ) -> Result<ExportReport> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let base = sanitize(base);
        let mut rep = ExportReport {
            dir: dir.to_path_buf(),
            ..Default::default()
        };
        let mut items: Vec<ExportItem> = items.to_vec();
        for (i, it) in items.iter_mut().enumerate() {
            let stem = stem_of(&it.path);
            if let Some(pad) = formats.wav_padding_s {
                let a = (it.start_s - pad.max(0.0)).max(0.0);
                let b = it.end_s + pad.max(0.0);
                match syrinx_audio::decode_range(&it.path, a, b) {
                    Ok(d) => {
                        let (f, p) = create_unique(
                            dir,
                            &format!("{base}_{:03}_{stem}_{:.2}s.wav", i + 1, it.start_s),
                            &mut rep,
                        )?;
                        let spec = hound::WavSpec {
                            channels: 1,
                            sample_rate: d.sample_rate,
                            bits_per_sample: 16,
                            sample_format: hound::SampleFormat::Int,
                        };
                        let res = (|| -> std::result::Result<(), hound::Error> {
                            let mut w = hound::WavWriter::new(BufWriter::new(f), spec)?;
                            for s in &d.samples {
                                w.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16)?;
                            }
                            w.finalize()
                        })();
                        match res {
                            Ok(()) => it.clip = Some(p),
                            Err(e) => rep.item_errors.push((i, format!("{}: {e}", p.display()))),
                        }
                    }
                    Err(e) => rep.item_errors.push((i, e.to_string())),
                }
            }
            if formats.png {
                let params = syrinx_audio::SpectrogramParams {
                    start_s: it.start_s,
                    end_s: Some(it.end_s),
                    width: 560,
                    height: 240,
                    ..Default::default()
                };
                match syrinx_audio::spectrogram_of_file(&it.path, &params) {
                    Ok(spec) => {
                        let (f, p) = create_unique(
                            dir,
                            &format!("{base}_{:03}_{stem}_{:.2}s.png", i + 1, it.start_s),
                            &mut rep,
                        )?;
                        drop(f);
                        let style = syrinx_plot::SpectrogramStyle {
                            width_px: 640,
                            height_px: 320,
                            title: format!("{}  {:.1}-{:.1} s", stem, it.start_s, it.end_s),
                            ..Default::default()
                        };
                        match syrinx_plot::spectrogram_png(&spec, &p, &style) {
                            Ok(()) => it.spectrogram = Some(p),
                            Err(e) => rep.item_errors.push((i, e.to_string())),
                        }
                    }
                    Err(e) => rep.item_errors.push((i, e.to_string())),
                }
            }
        }
        if formats.csv {
            let (f, p) = create_unique(dir, &format!("{base}.csv"), &mut rep)?;
            let mut w = csv::Writer::from_writer(BufWriter::new(f));
            let r = (|| -> csv::Result<()> {
                w.write_record([
                    "rank",
                    "recording_id",
                    "path",
                    "start_s",
                    "end_s",
                    "scientific",
                    "common",
                    "score",
                    "similarity",
                    "label",
                    "verdict",
                    "clip",
                    "spectrogram",
                ])?;
                for (i, it) in items.iter().enumerate() {
                    w.write_record([
                        (i + 1).to_string(),
                        it.recording_id.to_string(),
                        it.path.display().to_string(),
                        format!("{:.3}", it.start_s),
                        format!("{:.3}", it.end_s),
                        it.scientific.clone().unwrap_or_default(),
                        it.common.clone().unwrap_or_default(),
                        it.score.map(|s| format!("{s:.4}")).unwrap_or_default(),
                        it.similarity.map(|s| format!("{s:.4}")).unwrap_or_default(),
                        it.label.clone().unwrap_or_default(),
                        it.verdict.clone().unwrap_or_default(),
                        it.clip
                            .as_ref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                        it.spectrogram
                            .as_ref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                    ])?;
                }
                w.flush()?;
                Ok(())
            })();
            r.map_err(|e| LibraryError::Io {
                path: p.clone(),
                source: std::io::Error::other(e),
            })?;
        }
        if formats.raven {
            let (f, p) = create_unique(dir, &format!("{base}.selection.table.txt"), &mut rep)?;
            let mut w = BufWriter::new(f);
            io(&p, writeln!(w, "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\tBegin Path\tFile Offset (s)\tScientific Name\tCommon Name\tConfidence\tSimilarity\tLabel\tVerdict\tRecording ID"))?;
            for (i, it) in items.iter().enumerate() {
                io(
                    &p,
                    writeln!(
                        w,
                        "{}\tSpectrogram 1\t1\t{:.3}\t{:.3}\t0\t15000\t{}\t{:.3}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        i + 1,
                        it.start_s,
                        it.end_s,
                        it.path.display(),
                        it.start_s,
                        it.scientific.as_deref().unwrap_or(""),
                        it.common.as_deref().unwrap_or(""),
                        it.score.map(|s| format!("{s:.4}")).unwrap_or_default(),
                        it.similarity.map(|s| format!("{s:.4}")).unwrap_or_default(),
                        it.label.as_deref().unwrap_or(""),
                        it.verdict.as_deref().unwrap_or(""),
                        it.recording_id
                    ),
                )?;
            }
            io(&p, w.flush())?;
        }
        if formats.audacity {
            let mut by_rec: BTreeMap<i64, Vec<(usize, &ExportItem)>> = BTreeMap::new();
            for (i, it) in items.iter().enumerate() {
                by_rec.entry(it.recording_id).or_default().push((i, it));
            }
            for (rec, list) in by_rec {
                let stem = stem_of(&list[0].1.path);
                let (f, p) =
                    create_unique(dir, &format!("{base}_{rec}_{stem}.audacity.txt"), &mut rep)?;
                let mut w = BufWriter::new(f);
                for (i, it) in list {
                    let text = it
                        .label
                        .clone()
                        .map(|l| format!("{l} ({})", it.verdict.as_deref().unwrap_or("")))
                        .or_else(|| it.common.clone())
                        .unwrap_or_else(|| format!("hit {}", i + 1));
                    io(
                        &p,
                        writeln!(
                            w,
                            "{:.6}\t{:.6}\t{}",
                            it.start_s,
                            it.end_s,
                            text.replace(['\t', '\n'], " ")
                        ),
                    )?;
                }
                io(&p, w.flush())?;
            }
        }
        if formats.json {
            let (f, p) = create_unique(dir, &format!("{base}.json"), &mut rep)?;
            let mut w = BufWriter::new(f);
            serde_json::to_writer_pretty(&mut w, &items).map_err(|e| LibraryError::Io {
                path: p.clone(),
                source: e.into(),
            })?;
            io(&p, w.flush())?;
        }
        Ok(rep)
    }
}

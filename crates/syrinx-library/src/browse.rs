//! What a browser of the library needs: each recording's dominant species and the window track
//! (species per window) of one recording.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::Result;
use crate::{lock, read, Library, LibraryError, Recording, NO_SPECIES};

/// A window of a recording, as the species track under its spectrogram shows it.
#[derive(Clone, Debug, Serialize)]
pub struct WindowRow {
    pub idx: u32,
    pub start_s: f64,
    pub end_s: f64,
    pub silent: bool,
    /// None for silent windows (never embedded).
    pub vector_id: Option<u32>,
    /// Top species with their scores, best first: (label index, scientific, common, score).
    pub top: Vec<SpeciesScore>,
}

/// A species and the model's score for it.
#[derive(Clone, Debug, Serialize)]
pub struct SpeciesScore {
    pub species: u16,
    pub scientific: String,
    pub common: String,
    pub score: f32,
}

/// A recording with its dominant species (for lists).
#[derive(Clone, Debug, Serialize)]
pub struct RecordingSummary {
    #[serde(flatten)]
    pub recording: Recording,
    /// File name without folders.
    pub name: String,
    /// The species that is the best prediction of most of its windows scoring at least
    /// [`DOMINANT_MIN_SCORE`] (ties: the higher best score), if any.
    pub top_species: Option<SpeciesScore>,
    /// Windows that species won.
    pub top_species_windows: u32,
}

/// Score a window's best species needs to count towards its recording's dominant species.
pub const DOMINANT_MIN_SCORE: f32 = 0.25;

impl Library {
    fn species_score(&self, species: u16, score: f32) -> SpeciesScore {
        let (scientific, common) = self
            .species_name(species)
            .unwrap_or_else(|| (format!("#{species}"), format!("#{species}")));
        SpeciesScore {
            species,
            scientific,
            common,
            score,
        }
    }

    /// Every recording with its dominant species, ordered by id. Computed from the in-memory
    /// window map (no catalog query), so it is cheap even for large libraries.
    pub fn recording_summaries(&self) -> Vec<RecordingSummary> {
        // (rec, species) -> (windows won, best score)
        let mut tally: HashMap<(i64, u16), (u32, f32)> = HashMap::new();
        {
            let st = read(&self.state);
            for w in st.wins.iter().flatten() {
                if w.species != NO_SPECIES && w.score >= DOMINANT_MIN_SCORE {
                    let e = tally.entry((w.rec, w.species)).or_insert((0, 0.0));
                    e.0 += 1;
                    e.1 = e.1.max(w.score);
                }
            }
        }
        let mut best: HashMap<i64, (u16, u32, f32)> = HashMap::new();
        for ((rec, sp), (n, s)) in tally {
            let e = best.entry(rec).or_insert((sp, n, s));
            if (n, s) > (e.1, e.2) {
                *e = (sp, n, s);
            }
        }
        self.recordings()
            .into_iter()
            .map(|r| {
                let name = r
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| r.stored_path.clone());
                let b = best.get(&r.id).copied();
                RecordingSummary {
                    top_species: b.map(|(sp, _, s)| self.species_score(sp, s)),
                    top_species_windows: b.map(|(_, n, _)| n).unwrap_or(0),
                    name,
                    recording: r,
                }
            })
            .collect()
    }

    /// (recording, start, end) of a window, by vector id.
    pub fn window_span(&self, vector_id: u32) -> Option<(i64, f64, f64)> {
        read(&self.state)
            .win(vector_id)
            .map(|w| (w.rec, w.start_s as f64, w.end_s as f64))
    }

    /// The windows of a recording in time order, with their top species.
    pub fn recording_windows(&self, recording: i64) -> Result<Vec<WindowRow>> {
        if self.recording(recording).is_none() {
            return Err(LibraryError::Missing(format!("recording {recording}")));
        }
        let rows: Vec<(u32, f64, f64, bool, Option<i64>, String)> = {
            let conn = lock(&self.reader);
            let mut q = conn.prepare_cached(
                "SELECT idx, start_s, end_s, silent, vector_id, top FROM windows WHERE recording_id = ?1 ORDER BY start_s",
            )?;
            let v = q
                .query_map([recording], |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u32,
                        r.get(1)?,
                        r.get(2)?,
                        r.get::<_, i64>(3)? != 0,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            v
        };
        Ok(rows
            .into_iter()
            .map(|(idx, start_s, end_s, silent, vid, top)| {
                let top: Vec<(u16, f32)> = serde_json::from_str(&top).unwrap_or_default();
                WindowRow {
                    idx,
                    start_s,
                    end_s,
                    silent,
                    vector_id: vid.and_then(|v| u32::try_from(v).ok()),
                    top: top
                        .into_iter()
                        .map(|(sp, s)| self.species_score(sp, s))
                        .collect(),
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_recording_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lib = Library::create(dir.path().join("lib"), Default::default()).expect("create");
        let err = lib.recording_windows(42).expect_err("no such recording");
        assert!(err.to_string().contains("recording 42"), "{err}");
        assert!(lib.recording_summaries().is_empty());
    }
}

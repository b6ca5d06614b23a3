//! User labels: a window or a time range of a recording, a label name, a verdict, a note.

use std::collections::HashSet;

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::{catalog, lock, read, Library, LibraryError};

/// The user's verdict on a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Positive,
    Negative,
    Unsure,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Positive => "positive",
            Verdict::Negative => "negative",
            Verdict::Unsure => "unsure",
        }
    }
}

impl std::str::FromStr for Verdict {
    type Err = LibraryError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "positive" | "pos" | "yes" | "+" => Ok(Verdict::Positive),
            "negative" | "neg" | "no" | "-" => Ok(Verdict::Negative),
            "unsure" | "maybe" | "?" => Ok(Verdict::Unsure),
            _ => Err(LibraryError::Invalid(format!(
                "verdict must be positive, negative or unsure, not {s:?}"
            ))),
        }
    }
}

/// What a label is attached to.
#[derive(Clone, Debug)]
pub enum LabelTarget {
    /// A window (by vector id): the label covers its time span.
    Window(u32),
    /// A time range of a recording.
    Range {
        recording: i64,
        start_s: f64,
        end_s: f64,
    },
}

/// A stored label.
#[derive(Clone, Debug, Serialize)]
pub struct Label {
    pub id: i64,
    pub recording_id: i64,
    pub vector_id: Option<u32>,
    pub start_s: f64,
    pub end_s: f64,
    pub label: String,
    pub verdict: Verdict,
    pub note: String,
    pub created_at: i64,
}

/// Which labels to list.
#[derive(Clone, Debug, Default)]
pub struct LabelFilter {
    pub label: Option<String>,
    pub verdict: Option<Verdict>,
    pub recording: Option<i64>,
}

impl Library {
    /// Add a label; returns its id.
    pub fn add_label(
        &self,
        target: &LabelTarget,
        label: &str,
        verdict: Verdict,
        note: &str,
    ) -> Result<i64> {
        if label.trim().is_empty() {
            return Err(LibraryError::Invalid("empty label".into()));
        }
        let (rec, vid, s, e) = match *target {
            LabelTarget::Window(id) => {
                let st = read(&self.state);
                let w = st
                    .win(id)
                    .ok_or_else(|| LibraryError::Missing(format!("window with vector id {id}")))?;
                (w.rec, Some(id), w.start_s as f64, w.end_s as f64)
            }
            LabelTarget::Range {
                recording,
                start_s,
                end_s,
            } => {
                if !read(&self.state).recs.contains_key(&recording) {
                    return Err(LibraryError::Missing(format!("recording {recording}")));
                }
                if end_s.is_nan() || start_s.is_nan() || end_s <= start_s {
                    return Err(LibraryError::Invalid(
                        "the range must end after it starts".into(),
                    ));
                }
                (recording, None, start_s, end_s)
            }
        };
        let conn = lock(&self.writer);
        conn.execute(
            "INSERT INTO labels(recording_id, vector_id, start_s, end_s, label, verdict, note, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![rec, vid.map(i64::from), s, e, label.trim(), verdict.as_str(), note, catalog::now_s()],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Delete a label; false if there was none with that id.
    pub fn delete_label(&self, id: i64) -> Result<bool> {
        Ok(lock(&self.writer).execute("DELETE FROM labels WHERE id = ?1", [id])? > 0)
    }

    /// Labels matching the filter (ordered by recording and time).
    pub fn labels(&self, filter: &LabelFilter) -> Result<Vec<Label>> {
        let conn = lock(&self.reader);
        let mut q = conn.prepare_cached(
            "SELECT id, recording_id, vector_id, start_s, end_s, label, verdict, note, created_at FROM labels
             WHERE (?1 IS NULL OR label = ?1) AND (?2 IS NULL OR verdict = ?2) AND (?3 IS NULL OR recording_id = ?3)
             ORDER BY recording_id, start_s, id",
        )?;
        let rows = q.query_map(
            params![
                filter.label,
                filter.verdict.map(|v| v.as_str()),
                filter.recording
            ],
            |r| {
                let verdict: String = r.get(6)?;
                Ok(Label {
                    id: r.get(0)?,
                    recording_id: r.get(1)?,
                    vector_id: r.get::<_, Option<i64>>(2)?.map(|v| v as u32),
                    start_s: r.get(3)?,
                    end_s: r.get(4)?,
                    label: r.get(5)?,
                    verdict: verdict.parse().unwrap_or(Verdict::Unsure),
                    note: r.get(7)?,
                    created_at: r.get(8)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Distinct label names with their counts per verdict: (label, positive, negative, unsure).
    pub fn label_names(&self) -> Result<Vec<(String, u64, u64, u64)>> {
        let conn = lock(&self.reader);
        let mut q = conn.prepare(
            "SELECT label, SUM(verdict = 'positive'), SUM(verdict = 'negative'), SUM(verdict = 'unsure')
             FROM labels GROUP BY label ORDER BY label",
        )?;
        let rows = q.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
                r.get::<_, i64>(3)? as u64,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Vector ids of windows labelled `label` (directly, or overlapping a labelled range).
    pub(crate) fn labelled_vector_ids(
        &self,
        label: &str,
        verdict: Option<Verdict>,
    ) -> Result<HashSet<u32>> {
        let conn = lock(&self.reader);
        let mut q = conn.prepare_cached(
            "SELECT DISTINCT w.vector_id FROM labels l JOIN windows w
               ON w.recording_id = l.recording_id AND w.start_s < l.end_s AND w.end_s > l.start_s
             WHERE l.label = ?1 AND (?2 IS NULL OR l.verdict = ?2) AND w.vector_id IS NOT NULL
               AND (l.vector_id IS NULL OR l.vector_id = w.vector_id)",
        )?;
        let ids = q
            .query_map(params![label, verdict.map(|v| v.as_str())], |r| {
                r.get::<_, i64>(0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ids.into_iter().map(|i| i as u32).collect())
    }
}

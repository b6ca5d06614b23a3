//! What a front end sends and receives: plain serde types, so a UI in any language can call the
//! session (the desktop shell passes them through as JSON).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use syrinx_library::{Hit, QueryKind};

/// What to search by.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuerySpec {
    /// The click: a time point in a recording.
    Click { recording: i64, t_s: f64 },
    /// A drag-selected time range of a recording.
    Range {
        recording: i64,
        start_s: f64,
        end_s: f64,
    },
    /// A stored window (e.g. "more like this hit").
    Window { vector_id: u32 },
    /// Query by example: an outside file (optionally a range of it).
    File {
        path: PathBuf,
        #[serde(default)]
        start_s: Option<f64>,
        #[serde(default)]
        end_s: Option<f64>,
    },
    /// The last 3 s of the microphone take being recorded.
    Live,
}

fn default_k() -> usize {
    20
}

/// A search with its options and filters.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct SearchRequest {
    pub query: QuerySpec,
    #[serde(default = "default_k")]
    pub k: usize,
    #[serde(default)]
    pub ef: Option<usize>,
    #[serde(default)]
    pub exclude_self: bool,
    /// Only hits whose best species is this one (scientific or common name).
    #[serde(default)]
    pub species: Option<String>,
    #[serde(default)]
    pub min_score: Option<f32>,
    /// Only hits carrying this label (with `verdict`, if given).
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub verdict: Option<String>,
    #[serde(default)]
    pub recordings: Option<Vec<i64>>,
    #[serde(default)]
    pub folder: Option<PathBuf>,
    /// Only hits within this time range of their recording (seconds).
    #[serde(default)]
    pub time_range: Option<(f64, f64)>,
}

/// A hit as the results panel shows it.
#[derive(Clone, Debug, Serialize)]
pub struct HitRow {
    #[serde(flatten)]
    pub hit: Hit,
    /// File name of the recording.
    pub name: String,
    pub duration_s: f64,
    /// Labels already on this stretch: (label id, label, verdict).
    pub labels: Vec<(i64, String, String)>,
}

/// Results with what the query was.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResponse {
    pub kind: QueryKind,
    /// The queried stretch when the query was a recording's (for highlighting it).
    pub query_recording: Option<i64>,
    pub query_start_s: Option<f64>,
    pub query_end_s: Option<f64>,
    pub hits: Vec<HitRow>,
    /// Engine latency of the query (index + catalog + grouping; + embedding for clips).
    pub latency_us: u64,
}

/// One item to export (the results panel sends its hits, or a selection of them).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ExportItemIn {
    pub recording_id: i64,
    pub start_s: f64,
    pub end_s: f64,
    #[serde(default)]
    pub scientific: Option<String>,
    #[serde(default)]
    pub common: Option<String>,
    #[serde(default)]
    pub score: Option<f32>,
    #[serde(default)]
    pub similarity: Option<f32>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub verdict: Option<String>,
}

fn yes() -> bool {
    true
}

/// Which files an export writes.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ExportFormatsIn {
    #[serde(default = "yes")]
    pub csv: bool,
    #[serde(default = "yes")]
    pub raven: bool,
    #[serde(default = "yes")]
    pub audacity: bool,
    #[serde(default = "yes")]
    pub json: bool,
    /// Write a WAV clip per item with this padding (s).
    #[serde(default)]
    pub wav_padding_s: Option<f64>,
    #[serde(default)]
    pub png: bool,
}

/// An export.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ExportRequest {
    pub dir: PathBuf,
    /// File name stem (default `syrinx-results`).
    #[serde(default)]
    pub base: Option<String>,
    /// Items to export; if empty and `label` is set, the windows carrying that label.
    #[serde(default)]
    pub items: Vec<ExportItemIn>,
    #[serde(default)]
    pub label: Option<String>,
    pub formats: ExportFormatsIn,
}

/// Add a label to a stretch of a recording.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct LabelRequest {
    pub recording: i64,
    pub start_s: f64,
    pub end_s: f64,
    pub label: String,
    /// `positive`, `negative` or `unsure`.
    pub verdict: String,
    #[serde(default)]
    pub note: String,
}

/// Recordings list options.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct RecordingsQuery {
    /// Case-insensitive text matched against the file name, path and top species.
    #[serde(default)]
    pub text: Option<String>,
    /// `name`, `duration`, `added`, `species` (default `added`).
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub descending: bool,
}

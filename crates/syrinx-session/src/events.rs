//! Events a session publishes to its front end.

use serde::Serialize;
use syrinx_library::{IngestProgress, IngestReport};

use crate::error::ErrorInfo;

/// Something the UI should know without asking.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SessionEvent {
    /// A batch of files was queued for ingest.
    IngestQueued { job: u64, inputs: Vec<String> },
    /// A batch started (the model is loaded, scanning begins).
    IngestStarted { job: u64 },
    /// Progress of the running batch (throttled to a few per second).
    IngestProgress { job: u64, progress: IngestProgress },
    /// A batch ended: what was added, skipped and failed (also after a cancel), or why the whole
    /// batch could not run.
    IngestFinished {
        job: u64,
        report: Option<IngestReport>,
        error: Option<ErrorInfo>,
    },
    /// Recordings were added or removed.
    LibraryChanged,
    /// A line of output from preparing the model (see `Session::prepare_model`); `finished` with
    /// `ok` on the last event.
    ModelSetup {
        line: String,
        finished: bool,
        ok: bool,
    },
}

/// Where events go (the desktop shell forwards them to the window).
pub trait EventSink: Send + Sync + 'static {
    fn emit(&self, event: &SessionEvent);
}

/// Drops every event (for tests and the CLI).
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _: &SessionEvent) {}
}

impl<F: Fn(&SessionEvent) + Send + Sync + 'static> EventSink for F {
    fn emit(&self, event: &SessionEvent) {
        self(event)
    }
}

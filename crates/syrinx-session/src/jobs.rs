//! Ingest jobs: every drop or "add" becomes a job in one queue, run one after the other (the
//! library has one writer), with progress events, cancel, and a record of how each ended.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use syrinx_library::{IngestOptions, IngestProgress, IngestReport, Library};
use tokio::sync::mpsc;

use crate::error::{ErrorInfo, SessionError};
use crate::events::{EventSink, SessionEvent};
use crate::models::Models;

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Cancelled,
    Failed,
}

/// A job as the UI lists it.
#[derive(Clone, Debug, Serialize)]
pub struct JobInfo {
    pub id: u64,
    pub inputs: Vec<String>,
    pub state: JobState,
    pub progress: Option<IngestProgress>,
    pub report: Option<IngestReport>,
    pub error: Option<ErrorInfo>,
}

struct Job {
    id: u64,
    inputs: Vec<PathBuf>,
    cancel: Arc<AtomicBool>,
}

pub(crate) struct Jobs {
    next: AtomicU64,
    tx: mpsc::UnboundedSender<Job>,
    infos: Mutex<BTreeMap<u64, JobInfo>>,
    cancels: Mutex<BTreeMap<u64, Arc<AtomicBool>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Finished jobs kept for the UI.
const KEEP_FINISHED: usize = 50;

impl Jobs {
    /// Start the queue's worker on `rt`.
    pub fn start(
        rt: &tokio::runtime::Handle,
        lib: Arc<Library>,
        models: Arc<Models>,
        sink: Arc<dyn EventSink>,
        opts: IngestOptions,
    ) -> Arc<Jobs> {
        let (tx, rx) = mpsc::unbounded_channel();
        let jobs = Arc::new(Jobs {
            next: AtomicU64::new(1),
            tx,
            infos: Mutex::new(BTreeMap::new()),
            cancels: Mutex::new(BTreeMap::new()),
        });
        rt.spawn(worker(rx, jobs.clone(), lib, models, sink, opts));
        jobs
    }

    /// Queue a batch; returns its id at once.
    pub fn submit(&self, inputs: Vec<PathBuf>, sink: &dyn EventSink) -> crate::Result<u64> {
        if inputs.is_empty() {
            return Err(SessionError::Invalid("no files or folders to add".into()));
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let cancel = Arc::new(AtomicBool::new(false));
        let shown: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        lock(&self.infos).insert(
            id,
            JobInfo {
                id,
                inputs: shown.clone(),
                state: JobState::Queued,
                progress: None,
                report: None,
                error: None,
            },
        );
        lock(&self.cancels).insert(id, cancel.clone());
        sink.emit(&SessionEvent::IngestQueued {
            job: id,
            inputs: shown,
        });
        self.tx
            .send(Job { id, inputs, cancel })
            .map_err(|_| SessionError::Internal("the ingest queue has stopped".into()))?;
        Ok(id)
    }

    /// Cancel a queued or running job (finished files of a running job stay in the library).
    pub fn cancel(&self, id: u64) -> bool {
        match lock(&self.cancels).get(&id) {
            Some(c) => {
                c.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// All known jobs, newest last.
    pub fn list(&self) -> Vec<JobInfo> {
        lock(&self.infos).values().cloned().collect()
    }

    /// Whether any job is queued or running.
    pub fn busy(&self) -> bool {
        lock(&self.infos)
            .values()
            .any(|j| matches!(j.state, JobState::Queued | JobState::Running))
    }

    fn update(&self, id: u64, f: impl FnOnce(&mut JobInfo)) {
        if let Some(j) = lock(&self.infos).get_mut(&id) {
            f(j);
        }
    }

    fn finish(&self, id: u64) {
        lock(&self.cancels).remove(&id);
        let mut infos = lock(&self.infos);
        let finished: Vec<u64> = infos
            .values()
            .filter(|j| !matches!(j.state, JobState::Queued | JobState::Running))
            .map(|j| j.id)
            .collect();
        for old in finished
            .iter()
            .take(finished.len().saturating_sub(KEEP_FINISHED))
        {
            infos.remove(old);
        }
    }
}

async fn worker(
    mut rx: mpsc::UnboundedReceiver<Job>,
    jobs: Arc<Jobs>,
    lib: Arc<Library>,
    models: Arc<Models>,
    sink: Arc<dyn EventSink>,
    opts: IngestOptions,
) {
    while let Some(job) = rx.recv().await {
        let id = job.id;
        if job.cancel.load(Ordering::Relaxed) {
            jobs.update(id, |j| j.state = JobState::Cancelled);
            sink.emit(&SessionEvent::IngestFinished {
                job: id,
                report: None,
                error: None,
            });
            jobs.finish(id);
            continue;
        }
        jobs.update(id, |j| j.state = JobState::Running);
        sink.emit(&SessionEvent::IngestStarted { job: id });
        let m = models.clone();
        let embedder = match tokio::task::spawn_blocking(move || m.take()).await {
            Ok(Ok(e)) => e,
            Ok(Err(e)) => {
                fail(&jobs, &*sink, id, &e);
                continue;
            }
            Err(e) => {
                fail(&jobs, &*sink, id, &SessionError::Internal(e.to_string()));
                continue;
            }
        };
        let handle = lib.ingest_async(embedder, job.inputs, opts.clone());
        let mut progress = handle.progress.clone();
        let mut last_emit = Instant::now() - Duration::from_secs(1);
        loop {
            tokio::select! {
                changed = progress.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let p = progress.borrow_and_update().clone();
                    let is_final = p.phase == syrinx_library::IngestPhase::Done;
                    if is_final || last_emit.elapsed() >= Duration::from_millis(200) {
                        last_emit = Instant::now();
                        jobs.update(id, |j| j.progress = Some(p.clone()));
                        sink.emit(&SessionEvent::IngestProgress { job: id, progress: p });
                    }
                }
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
            if job.cancel.load(Ordering::Relaxed) {
                handle.cancel();
            }
        }
        match handle.wait().await {
            Ok((embedder, result)) => {
                models.give(embedder);
                match result {
                    Ok(report) => {
                        let cancelled = report.cancelled;
                        let added = !report.added.is_empty();
                        let p = progress.borrow().clone();
                        jobs.update(id, |j| {
                            j.state = if cancelled {
                                JobState::Cancelled
                            } else {
                                JobState::Done
                            };
                            j.progress = Some(p);
                            j.report = Some(report.clone());
                        });
                        if added {
                            sink.emit(&SessionEvent::LibraryChanged);
                        }
                        sink.emit(&SessionEvent::IngestFinished {
                            job: id,
                            report: Some(report),
                            error: None,
                        });
                        jobs.finish(id);
                    }
                    Err(e) => fail(&jobs, &*sink, id, &SessionError::Library(e)),
                }
            }
            Err(e) => fail(&jobs, &*sink, id, &SessionError::Library(e)),
        }
    }
}

fn fail(jobs: &Jobs, sink: &dyn EventSink, id: u64, e: &SessionError) {
    let info = ErrorInfo::from(e);
    jobs.update(id, |j| {
        j.state = JobState::Failed;
        j.error = Some(info.clone());
    });
    sink.emit(&SessionEvent::IngestFinished {
        job: id,
        report: None,
        error: Some(info),
    });
    jobs.finish(id);
}

//! The Syrinx desktop app: a thin shell. Each command below only translates between the web UI
//! and [`syrinx_session::Session`] (JSON in, JSON or bytes out); engine events are forwarded to the
//! window as `syrinx-event`, file drops as `syrinx-drop`. Nothing here decodes, embeds or indexes.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use syrinx_session::{
    ErrorInfo, EventSink, ExportRequest, LabelRequest, RecordingsQuery, SearchRequest, Session,
    SessionConfig, SessionEvent, TileRequest,
};
use tauri::{Emitter, Manager};
use tauri_plugin_dialog::DialogExt;

/// The session, or why it could not be opened (shown by the UI instead of a dead window).
struct AppState {
    session: Result<Arc<Session>, ErrorInfo>,
}

type CmdResult<T> = Result<T, ErrorInfo>;

fn session(state: &tauri::State<'_, AppState>) -> CmdResult<Arc<Session>> {
    state.session.clone()
}

/// Run blocking engine work off the UI and IPC threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> CmdResult<T> + Send + 'static,
) -> CmdResult<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| {
            Err(ErrorInfo {
                kind: "internal".into(),
                message: format!("the engine task failed: {e}"),
                detail: None,
            })
        })
}

macro_rules! engine {
    ($state:expr, |$s:ident| $body:expr) => {{
        let $s = session(&$state)?;
        blocking(move || $body.map_err(ErrorInfo::from)).await
    }};
}

#[tauri::command]
async fn overview(state: tauri::State<'_, AppState>) -> CmdResult<syrinx_session::Overview> {
    engine!(state, |s| s.overview())
}

#[tauri::command]
async fn recordings(
    state: tauri::State<'_, AppState>,
    query: RecordingsQuery,
) -> CmdResult<Vec<syrinx_session::library::RecordingSummary>> {
    engine!(state, |s| Ok::<_, syrinx_session::SessionError>(
        s.recordings(&query)
    ))
}

#[tauri::command]
async fn recording(
    state: tauri::State<'_, AppState>,
    id: i64,
) -> CmdResult<syrinx_session::RecordingDetail> {
    engine!(state, |s| s.recording(id))
}

#[tauri::command]
async fn remove_recordings(state: tauri::State<'_, AppState>, ids: Vec<i64>) -> CmdResult<usize> {
    engine!(state, |s| s.remove_recordings(&ids))
}

/// A spectrogram tile as raw bytes (see `Tile::to_bytes`), not JSON: ~4x smaller and no parsing.
#[tauri::command]
async fn tile(
    state: tauri::State<'_, AppState>,
    req: TileRequest,
) -> CmdResult<tauri::ipc::Response> {
    engine!(state, |s| s
        .tile(&req)
        .map(|t| tauri::ipc::Response::new(t.to_bytes())))
}

#[tauri::command]
async fn ingest(state: tauri::State<'_, AppState>, paths: Vec<PathBuf>) -> CmdResult<u64> {
    engine!(state, |s| s.ingest(paths))
}

#[tauri::command]
async fn cancel_ingest(state: tauri::State<'_, AppState>, job: u64) -> CmdResult<bool> {
    engine!(state, |s| Ok::<_, syrinx_session::SessionError>(
        s.cancel_ingest(job)
    ))
}

#[tauri::command]
async fn jobs(state: tauri::State<'_, AppState>) -> CmdResult<Vec<syrinx_session::JobInfo>> {
    engine!(state, |s| Ok::<_, syrinx_session::SessionError>(s.jobs()))
}

#[tauri::command]
async fn failed_files(
    state: tauri::State<'_, AppState>,
) -> CmdResult<Vec<syrinx_session::library::FailedFile>> {
    engine!(state, |s| s.failed_files())
}

#[tauri::command]
async fn search(
    state: tauri::State<'_, AppState>,
    req: SearchRequest,
) -> CmdResult<syrinx_session::SearchResponse> {
    engine!(state, |s| s.search(&req))
}

#[tauri::command]
async fn latency(
    state: tauri::State<'_, AppState>,
) -> CmdResult<Vec<syrinx_session::library::LatencySummary>> {
    engine!(state, |s| Ok::<_, syrinx_session::SessionError>(
        s.latency()
    ))
}

#[tauri::command]
async fn reset_latency(state: tauri::State<'_, AppState>) -> CmdResult<()> {
    engine!(state, |s| {
        s.reset_latency();
        Ok::<_, syrinx_session::SessionError>(())
    })
}

#[tauri::command]
async fn add_label(state: tauri::State<'_, AppState>, req: LabelRequest) -> CmdResult<i64> {
    engine!(state, |s| s.add_label(&req))
}

#[tauri::command]
async fn delete_label(state: tauri::State<'_, AppState>, id: i64) -> CmdResult<bool> {
    engine!(state, |s| s.delete_label(id))
}

#[tauri::command]
async fn labels(
    state: tauri::State<'_, AppState>,
    label: Option<String>,
    recording: Option<i64>,
) -> CmdResult<Vec<syrinx_session::library::Label>> {
    engine!(state, |s| s.labels(label, recording))
}

#[tauri::command]
async fn label_names(state: tauri::State<'_, AppState>) -> CmdResult<Vec<(String, u64, u64, u64)>> {
    engine!(state, |s| s.label_names())
}

#[tauri::command]
async fn export(
    state: tauri::State<'_, AppState>,
    req: ExportRequest,
) -> CmdResult<syrinx_session::library::ExportReport> {
    engine!(state, |s| s.export(&req))
}

#[tauri::command]
async fn play(
    state: tauri::State<'_, AppState>,
    recording: i64,
    start_s: f64,
    end_s: Option<f64>,
) -> CmdResult<syrinx_session::devices::PlaybackState> {
    engine!(state, |s| s.play(recording, start_s, end_s))
}

#[tauri::command]
async fn stop_playback(state: tauri::State<'_, AppState>) -> CmdResult<()> {
    engine!(state, |s| {
        s.stop_playback();
        Ok::<_, syrinx_session::SessionError>(())
    })
}

#[tauri::command]
async fn playback(
    state: tauri::State<'_, AppState>,
) -> CmdResult<syrinx_session::devices::PlaybackState> {
    engine!(state, |s| Ok::<_, syrinx_session::SessionError>(
        s.playback()
    ))
}

#[tauri::command]
async fn input_devices(
    state: tauri::State<'_, AppState>,
) -> CmdResult<Vec<syrinx_session::devices::DeviceInfo>> {
    engine!(state, |s| s.input_devices())
}

#[tauri::command]
async fn record_start(
    state: tauri::State<'_, AppState>,
    device: Option<String>,
) -> CmdResult<syrinx_session::RecordStarted> {
    engine!(state, |s| s.record_start(device.as_deref()))
}

#[tauri::command]
async fn record_poll(state: tauri::State<'_, AppState>) -> CmdResult<syrinx_session::LiveUpdate> {
    engine!(state, |s| s.record_poll())
}

#[tauri::command]
async fn record_stop(
    state: tauri::State<'_, AppState>,
    add: bool,
) -> CmdResult<syrinx_session::RecordStopped> {
    engine!(state, |s| s.record_stop(add))
}

#[derive(Serialize)]
struct AboutOut {
    #[serde(flatten)]
    about: Option<syrinx_session::About>,
    shell: String,
    webview: String,
    open_error: Option<ErrorInfo>,
}

#[tauri::command]
async fn about(state: tauri::State<'_, AppState>) -> CmdResult<AboutOut> {
    let (about, open_error) = match &state.session {
        Ok(s) => (Some(s.about()), None),
        Err(e) => (None, Some(e.clone())),
    };
    Ok(AboutOut {
        about,
        shell: format!("Tauri {}", tauri::VERSION),
        webview: tauri::webview_version().unwrap_or_else(|_| "unknown".into()),
        open_error,
    })
}

/// Where the model set-up script is: bundled beside the app, else (a build from a checkout) the
/// repository's scripts/.
fn prepare_script(app: &tauri::AppHandle) -> PathBuf {
    if let Ok(dir) = app.path().resource_dir() {
        let p = dir.join("prepare-model");
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scripts")
        .join("prepare-model")
}

/// Prepare the model in the cache (progress arrives as `model_setup` events).
#[tauri::command]
async fn prepare_model(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
) -> CmdResult<bool> {
    let script = prepare_script(&app);
    engine!(state, |s| s.prepare_model(script))
}

/// Native file chooser ("Add files..."); returns the chosen paths (empty if cancelled).
#[tauri::command]
async fn pick_files(app: tauri::AppHandle) -> CmdResult<Vec<PathBuf>> {
    let picked = app
        .dialog()
        .file()
        .set_title("Add recordings")
        .add_filter("Audio", syrinx_session::library::AUDIO_EXTENSIONS)
        .blocking_pick_files();
    Ok(picked
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.into_path().ok())
        .collect())
}

/// Native folder chooser ("Add folder...", "Export to...").
#[tauri::command]
async fn pick_folder(app: tauri::AppHandle, title: Option<String>) -> CmdResult<Option<PathBuf>> {
    let picked = app
        .dialog()
        .file()
        .set_title(title.unwrap_or_else(|| "Choose a folder".into()))
        .blocking_pick_folder();
    Ok(picked.and_then(|p| p.into_path().ok()))
}

/// Forwards engine events to the main window.
struct WindowSink(tauri::AppHandle);

impl EventSink for WindowSink {
    fn emit(&self, event: &SessionEvent) {
        let _ = self.0.emit_to("main", "syrinx-event", event);
    }
}

#[derive(Clone, Serialize)]
struct DropPayload {
    state: &'static str,
    paths: Vec<PathBuf>,
    job: Option<u64>,
    error: Option<ErrorInfo>,
}

fn config_from_env() -> SessionConfig {
    let dir = std::env::var_os("SYRINX_LIBRARY")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(syrinx_session::library::Library::default_dir);
    let mut c = SessionConfig::new(dir);
    if let Some(t) = std::env::var("SYRINX_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
    {
        c.threads = t;
    }
    c
}

fn main() {
    let ctx = tauri::generate_context!();
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            let sink = Arc::new(WindowSink(app.handle().clone()));
            let session = Session::open(config_from_env(), sink)
                .map(Arc::new)
                .map_err(|e| ErrorInfo::from(&e));
            if let Err(e) = &session {
                eprintln!("syrinx: could not open the library: {}", e.message);
            }
            app.manage(AppState { session });
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::DragDrop(dd) = event {
                let app = window.app_handle();
                let payload = match dd {
                    tauri::DragDropEvent::Enter { paths, .. } => DropPayload {
                        state: "enter",
                        paths: paths.clone(),
                        job: None,
                        error: None,
                    },
                    tauri::DragDropEvent::Leave => DropPayload {
                        state: "leave",
                        paths: Vec::new(),
                        job: None,
                        error: None,
                    },
                    tauri::DragDropEvent::Drop { paths, .. } => {
                        // Dropped paths go straight to the engine's queue (no UI round trip).
                        let state = app.state::<AppState>();
                        let (job, error) = match &state.session {
                            Ok(s) => match s.ingest(paths.clone()) {
                                Ok(j) => (Some(j), None),
                                Err(e) => (None, Some(ErrorInfo::from(&e))),
                            },
                            Err(e) => (None, Some(e.clone())),
                        };
                        DropPayload {
                            state: "drop",
                            paths: paths.clone(),
                            job,
                            error,
                        }
                    }
                    _ => return,
                };
                let _ = app.emit_to("main", "syrinx-drop", payload);
            }
        })
        .invoke_handler(tauri::generate_handler![
            overview,
            recordings,
            recording,
            remove_recordings,
            tile,
            ingest,
            cancel_ingest,
            jobs,
            failed_files,
            search,
            latency,
            reset_latency,
            add_label,
            delete_label,
            labels,
            label_names,
            export,
            play,
            stop_playback,
            playback,
            input_devices,
            record_start,
            record_poll,
            record_stop,
            about,
            pick_files,
            pick_folder,
            prepare_model,
        ])
        .run(ctx);
    if let Err(e) = result {
        eprintln!("syrinx: the app stopped with an error: {e}");
        std::process::exit(1);
    }
}

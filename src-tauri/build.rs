// Every command the UI may call is listed here, so that Tauri generates an `allow-<command>`
// permission for each and the capability file grants exactly these to the main window.
const COMMANDS: &[&str] = &[
    "overview",
    "recordings",
    "recording",
    "remove_recordings",
    "tile",
    "ingest",
    "cancel_ingest",
    "jobs",
    "failed_files",
    "search",
    "latency",
    "reset_latency",
    "add_label",
    "delete_label",
    "labels",
    "label_names",
    "export",
    "play",
    "stop_playback",
    "playback",
    "input_devices",
    "record_start",
    "record_poll",
    "record_stop",
    "about",
    "pick_files",
    "pick_folder",
    "prepare_model",
];

fn main() {
    let ui = std::path::Path::new("../ui/dist/index.html");
    println!("cargo:rerun-if-changed=../ui/dist");
    if !ui.is_file() {
        println!(
            "cargo:warning=ui/dist is missing: run `scripts/setup` (it builds the web UI with npm) before building the app"
        );
    }
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .unwrap_or_else(|e| panic!("tauri-build failed: {e:#}"));
}

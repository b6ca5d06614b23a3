// The engine's API as the UI sees it: typed wrappers over the shell's commands and events.
// Types mirror crates/syrinx-session (requests.rs, lib.rs) and syrinx-library.

import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { parseTile, type TileData } from './lib/tiles';

export interface ErrorInfo {
  kind: string;
  message: string;
  detail?: string | null;
}

/** Whatever an invoke rejected with, as an ErrorInfo. */
export function asError(e: unknown): ErrorInfo {
  if (e && typeof e === 'object' && 'message' in e) {
    const o = e as Partial<ErrorInfo>;
    return { kind: o.kind ?? 'internal', message: String(o.message), detail: o.detail ?? null };
  }
  return { kind: 'internal', message: String(e), detail: null };
}

export interface SpeciesScore {
  species: number;
  scientific: string;
  common: string;
  score: number;
}

export interface Recording {
  id: number;
  path: string;
  stored_path: string;
  content_hash: string;
  duration_s: number;
  sample_rate: number;
  channels: number;
  size_bytes: number;
  container: string;
  codec: string;
  added_at: number;
  status: string;
  n_windows: number;
}

export interface RecordingSummary extends Recording {
  name: string;
  top_species: SpeciesScore | null;
  top_species_windows: number;
}

export interface WindowRow {
  idx: number;
  start_s: number;
  end_s: number;
  silent: boolean;
  vector_id: number | null;
  top: SpeciesScore[];
}

export interface RecordingDetail {
  summary: RecordingSummary;
  windows: WindowRow[];
  hop_s: number;
}

export interface Hit {
  recording_id: number;
  path: string;
  start_s: number;
  end_s: number;
  distance: number;
  similarity: number;
  vector_id: number;
  species: number | null;
  scientific: string | null;
  common: string | null;
  score: number;
  members: number[];
  name: string;
  duration_s: number;
  labels: [number, string, string][];
}

export type QuerySpec =
  | { kind: 'click'; recording: number; t_s: number }
  | { kind: 'range'; recording: number; start_s: number; end_s: number }
  | { kind: 'window'; vector_id: number }
  | { kind: 'file'; path: string; start_s?: number; end_s?: number }
  | { kind: 'live' };

export interface SearchFilters {
  k: number;
  ef?: number | null;
  exclude_self: boolean;
  species?: string | null;
  min_score?: number | null;
  label?: string | null;
  verdict?: string | null;
  recordings?: number[] | null;
}

export interface SearchResponse {
  kind: string;
  query_recording: number | null;
  query_start_s: number | null;
  query_end_s: number | null;
  hits: Hit[];
  latency_us: number;
}

export interface LatencySummary {
  kind: string;
  count: number;
  mean_us: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
  buckets: { upper_us: number; count: number }[];
}

export interface FileProgress {
  path: string;
  windows_done: number;
  windows_expected: number;
}

export interface IngestProgress {
  phase: 'scanning' | 'hashing' | 'analyzing' | 'done';
  files_total: number;
  files_done: number;
  files_added: number;
  files_skipped: number;
  files_failed: number;
  windows_done: number;
  windows_total_estimate: number;
  audio_s_done: number;
  bytes_total: number;
  bytes_done: number;
  elapsed_s: number;
  windows_per_s: number;
  realtime_factor: number;
  eta_s: number | null;
  current_file: string | null;
  last_error: [string, string] | null;
  active: FileProgress[];
}

export interface IngestReport {
  added: { path: string; recording_id: number; windows: number; duration_s: number }[];
  skipped: { path: string; recording_id: number | null; reason: string }[];
  failed: { path: string; reason: string }[];
  windows: number;
  audio_s: number;
  elapsed_s: number;
  commits: number;
  cancelled: boolean;
}

export type JobState = 'queued' | 'running' | 'done' | 'cancelled' | 'failed';

export interface JobInfo {
  id: number;
  inputs: string[];
  state: JobState;
  progress: IngestProgress | null;
  report: IngestReport | null;
  error: ErrorInfo | null;
}

export type SessionEvent =
  | { type: 'ingest_queued'; job: number; inputs: string[] }
  | { type: 'ingest_started'; job: number }
  | { type: 'ingest_progress'; job: number; progress: IngestProgress }
  | { type: 'ingest_finished'; job: number; report: IngestReport | null; error: ErrorInfo | null }
  | { type: 'library_changed' }
  | { type: 'model_setup'; line: string; finished: boolean; ok: boolean };

export interface DropEvent {
  state: 'enter' | 'leave' | 'drop';
  paths: string[];
  job: number | null;
  error: ErrorInfo | null;
}

export interface ModelStatus {
  ready: boolean;
  model: string | null;
  ort_dylib: string | null;
  license: string | null;
  error: string | null;
}

export interface Stats {
  dir: string;
  recordings: number;
  missing_recordings: number;
  windows: number;
  silent_windows: number;
  vectors_live: number;
  vectors_deleted: number;
  audio_hours: number;
  labels: number;
  failed_files: number;
  index_memory: Record<string, number>;
  catalog_bytes: number;
}

export interface Overview {
  stats: Stats;
  model: ModelStatus;
  busy: boolean;
  recording: boolean;
  recovery: string[];
}

export interface PlaybackState {
  playing: boolean;
  tag: number;
  position_s: number;
  start_s: number;
  end_s: number;
  error: string | null;
}

export interface DeviceInfo {
  id: string;
  name: string;
  is_default: boolean;
  sample_rate: number;
  channels: number;
}

export interface RecordingStatus {
  device: string;
  path: string;
  sample_rate: number;
  elapsed_s: number;
  level_db: number;
  dropped_frames: number;
  error: string | null;
}

export interface LiveUpdate {
  status: RecordingStatus;
  columns: number[];
  n_columns: number;
  rows: number;
  column_s: number;
  f_max: number;
}

export interface Take {
  path: string;
  device: string;
  sample_rate: number;
  frames: number;
  duration_s: number;
  dropped_frames: number;
}

export interface ExportFormats {
  csv: boolean;
  raven: boolean;
  audacity: boolean;
  json: boolean;
  wav_padding_s: number | null;
  png: boolean;
}

export interface ExportItem {
  recording_id: number;
  start_s: number;
  end_s: number;
  scientific?: string | null;
  common?: string | null;
  score?: number | null;
  similarity?: number | null;
  label?: string | null;
  verdict?: string | null;
}

export interface ExportReport {
  dir: string;
  files: string[];
  renamed: [string, string][];
  item_errors: [number, string][];
}

export interface Label {
  id: number;
  recording_id: number;
  vector_id: number | null;
  start_s: number;
  end_s: number;
  label: string;
  verdict: 'positive' | 'negative' | 'unsure';
  note: string;
  created_at: number;
}

export interface About {
  app_version?: string;
  model?: string;
  model_attribution?: string;
  model_license_name?: string;
  model_license_text?: string | null;
  onnxruntime_version?: string;
  library_dir?: string;
  components?: [string, string][];
  shell: string;
  webview: string;
  open_error: ErrorInfo | null;
}

export interface TileRequest {
  recording: number;
  start_s: number;
  end_s: number;
  width: number;
  height: number;
  scale: 'linear' | 'mel';
  f_min: number;
  f_max: number;
}

export const api = {
  overview: () => invoke<Overview>('overview'),
  recordings: (query: { text?: string; sort?: string; descending?: boolean }) => invoke<RecordingSummary[]>('recordings', { query }),
  recording: (id: number) => invoke<RecordingDetail>('recording', { id }),
  removeRecordings: (ids: number[]) => invoke<number>('remove_recordings', { ids }),
  tile: async (req: TileRequest): Promise<TileData> => parseTile(await invoke<ArrayBuffer>('tile', { req })),
  ingest: (paths: string[]) => invoke<number>('ingest', { paths }),
  cancelIngest: (job: number) => invoke<boolean>('cancel_ingest', { job }),
  jobs: () => invoke<JobInfo[]>('jobs'),
  failedFiles: () => invoke<{ path: string; reason: string; attempted_at: number }[]>('failed_files'),
  search: (query: QuerySpec, f: SearchFilters) => invoke<SearchResponse>('search', { req: { query, ...f } }),
  latency: () => invoke<LatencySummary[]>('latency'),
  resetLatency: () => invoke<void>('reset_latency'),
  addLabel: (req: { recording: number; start_s: number; end_s: number; label: string; verdict: string; note?: string }) =>
    invoke<number>('add_label', { req: { note: '', ...req } }),
  deleteLabel: (id: number) => invoke<boolean>('delete_label', { id }),
  labels: (label?: string | null, recording?: number | null) => invoke<Label[]>('labels', { label: label ?? null, recording: recording ?? null }),
  labelNames: () => invoke<[string, number, number, number][]>('label_names'),
  export: (req: { dir: string; base?: string; items: ExportItem[]; label?: string | null; formats: ExportFormats }) =>
    invoke<ExportReport>('export', { req }),
  play: (recording: number, startS: number, endS?: number | null) => invoke<PlaybackState>('play', { recording, startS, endS: endS ?? null }),
  stopPlayback: () => invoke<void>('stop_playback'),
  playback: () => invoke<PlaybackState>('playback'),
  inputDevices: () => invoke<DeviceInfo[]>('input_devices'),
  recordStart: (device: string | null) => invoke<{ path: string; sample_rate: number }>('record_start', { device }),
  recordPoll: () => invoke<LiveUpdate>('record_poll'),
  recordStop: (add: boolean) => invoke<{ take: Take; job: number | null }>('record_stop', { add }),
  about: () => invoke<About>('about'),
  pickFiles: () => invoke<string[]>('pick_files'),
  prepareModel: () => invoke<boolean>('prepare_model'),
  pickFolder: (title?: string) => invoke<string | null>('pick_folder', { title: title ?? null }),
};

export function onSessionEvent(f: (e: SessionEvent) => void): Promise<UnlistenFn> {
  return listen<SessionEvent>('syrinx-event', (e) => f(e.payload));
}

export function onDrop(f: (e: DropEvent) => void): Promise<UnlistenFn> {
  return listen<DropEvent>('syrinx-drop', (e) => f(e.payload));
}

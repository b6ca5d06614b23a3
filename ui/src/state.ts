// Application state (Preact signals) and the actions that change it. Components read signals
// and call actions; only actions talk to the engine.

import { batch, signal } from '@preact/signals';
import {
  api,
  asError,
  type ErrorInfo,
  type Hit,
  type IngestProgress,
  type JobInfo,
  type LatencySummary,
  type Overview,
  type PlaybackState,
  type QuerySpec,
  type RecordingDetail,
  type RecordingSummary,
  type SearchFilters,
  type SearchResponse,
  type SessionEvent,
} from './api';
import type { ColormapName } from './lib/colormap';

export interface Display {
  colormap: ColormapName;
  floorDb: number;
  ceilDb: number;
  scale: 'linear' | 'mel';
  fMax: number;
}

export interface Toast {
  id: number;
  info: ErrorInfo;
  level: 'error' | 'info';
  at: number;
}

export const overview = signal<Overview | null>(null);
export const openError = signal<ErrorInfo | null>(null);
export const recordings = signal<RecordingSummary[]>([]);
export const libQuery = signal<{ text: string; sort: string; descending: boolean }>({ text: '', sort: 'added', descending: true });
export const current = signal<RecordingDetail | null>(null);
/** A time the recording view should bring into view once (set by "open hit"). */
export const focusRange = signal<{ start: number; end: number } | null>(null);
export const results = signal<SearchResponse | null>(null);
export const lastQuery = signal<QuerySpec | null>(null);
export const searching = signal(false);
export const filters = signal<SearchFilters>({ k: 20, exclude_self: false, species: null, min_score: null, label: null, verdict: null });
export const selectedHit = signal(-1);
export const labelName = signal('');
export const jobs = signal<JobInfo[]>([]);
export const latency = signal<LatencySummary[]>([]);
/** Recent ingest throughput samples for the live panel. */
export const throughput = signal<{ t: number; wps: number; rtf: number }[]>([]);
export const playback = signal<PlaybackState | null>(null);
export const toasts = signal<Toast[]>([]);
export const dialog = signal<null | 'export' | 'about' | 'help' | 'add' | 'record'>(null);
export const display = signal<Display>({ colormap: 'viridis', floorDb: -95, ceilDb: -25, scale: 'linear', fMax: 12000 });
export const dragOver = signal(false);
/** Client-side time from the click to the results being shown (ms), for the latency panel. */
export const clickToResults = signal<number[]>([]);

/** Output of a running model preparation (null when none ran). */
export const modelSetup = signal<{ lines: string[]; running: boolean; ok: boolean | null } | null>(null);

export async function prepareModel(): Promise<void> {
  modelSetup.value = { lines: ['starting…'], running: true, ok: null };
  try {
    await api.prepareModel();
  } catch (e) {
    modelSetup.value = { lines: [asError(e).message], running: false, ok: false };
  }
}

let toastId = 1;

export function showError(e: unknown, context?: string): void {
  const info = asError(e);
  const msg = context ? { ...info, message: `${context}: ${info.message}` } : info;
  toasts.value = [...toasts.value.slice(-4), { id: toastId++, info: msg, level: 'error', at: Date.now() }];
}

export function showInfo(message: string, detail?: string): void {
  toasts.value = [
    ...toasts.value.slice(-4),
    { id: toastId++, info: { kind: 'info', message, detail: detail ?? null }, level: 'info', at: Date.now() },
  ];
}

export function dismissToast(id: number): void {
  toasts.value = toasts.value.filter((t) => t.id !== id);
}

export async function refreshOverview(): Promise<void> {
  try {
    overview.value = await api.overview();
    openError.value = null;
  } catch (e) {
    const info = asError(e);
    openError.value = info;
  }
}

export async function refreshRecordings(): Promise<void> {
  try {
    const q = libQuery.value;
    recordings.value = await api.recordings({ text: q.text, sort: q.sort, descending: q.descending });
  } catch (e) {
    if (!openError.value) showError(e, 'Could not list the recordings');
  }
}

export async function refreshJobs(): Promise<void> {
  try {
    jobs.value = await api.jobs();
  } catch {
    /* the session may not be open; shown elsewhere */
  }
}

export async function refreshLatency(): Promise<void> {
  try {
    latency.value = await api.latency();
  } catch {
    /* ignore */
  }
}

export async function openRecording(id: number, focus?: { start: number; end: number }): Promise<void> {
  try {
    const d = await api.recording(id);
    batch(() => {
      current.value = d;
      focusRange.value = focus ?? null;
    });
  } catch (e) {
    showError(e, 'Could not open the recording');
  }
}

function defaultLabelFrom(r: SearchResponse): void {
  if (labelName.value.trim()) return;
  const top = r.hits[0];
  const cur = current.value;
  // The query's own predicted species is the natural label; fall back to the top hit's.
  let name: string | null = null;
  if (cur && r.query_recording === cur.summary.id && r.query_start_s != null) {
    const w = cur.windows.find((w) => !w.silent && w.start_s <= (r.query_start_s ?? 0) + 0.01 && w.end_s > (r.query_start_s ?? 0));
    name = w?.top[0]?.common ?? null;
  }
  labelName.value = name ?? top?.common ?? '';
}

export async function runSearch(q: QuerySpec): Promise<void> {
  const t0 = performance.now();
  searching.value = true;
  try {
    const r = await api.search(q, filters.value);
    batch(() => {
      results.value = r;
      lastQuery.value = q;
      selectedHit.value = r.hits.length ? 0 : -1;
      defaultLabelFrom(r);
    });
    // Measured when the results are in the DOM (next frame).
    requestAnimationFrame(() => {
      clickToResults.value = [...clickToResults.value.slice(-499), performance.now() - t0];
    });
    void refreshLatency();
  } catch (e) {
    showError(e, 'Search failed');
  } finally {
    searching.value = false;
  }
}

export async function rerunSearch(): Promise<void> {
  if (lastQuery.value) await runSearch(lastQuery.value);
}

export async function labelHit(i: number, verdict: 'positive' | 'negative' | 'unsure'): Promise<void> {
  const r = results.value;
  const h = r?.hits[i];
  if (!r || !h) return;
  const name = labelName.value.trim() || h.common || '';
  if (!name) {
    showError({ kind: 'invalid', message: 'Type a label name first (e.g. the species)' });
    return;
  }
  try {
    const id = await api.addLabel({ recording: h.recording_id, start_s: h.start_s, end_s: h.end_s, label: name, verdict });
    const hits = r.hits.map((x, j) => (j === i ? { ...x, labels: [...x.labels.filter((l) => l[1] !== name), [id, name, verdict] as [number, string, string]] } : x));
    results.value = { ...r, hits };
    void refreshOverview();
  } catch (e) {
    showError(e, 'Could not save the label');
  }
}

let pollTimer: number | undefined;

function pollPlayback(): void {
  if (pollTimer !== undefined) return;
  pollTimer = window.setInterval(async () => {
    try {
      const p = await api.playback();
      playback.value = p;
      if (!p.playing) {
        window.clearInterval(pollTimer);
        pollTimer = undefined;
        if (p.error) showError({ kind: 'device', message: p.error }, 'Playback');
      }
    } catch {
      window.clearInterval(pollTimer);
      pollTimer = undefined;
    }
  }, 40);
}

export async function play(recording: number, start: number, end?: number | null): Promise<void> {
  try {
    playback.value = await api.play(recording, start, end ?? null);
    pollPlayback();
  } catch (e) {
    showError(e, 'Could not play');
  }
}

export async function stopPlayback(): Promise<void> {
  try {
    await api.stopPlayback();
    playback.value = playback.value ? { ...playback.value, playing: false } : null;
  } catch (e) {
    showError(e);
  }
}

export function playHit(h: Hit): Promise<void> {
  return play(h.recording_id, h.start_s, h.end_s);
}

export async function addPaths(paths: string[]): Promise<void> {
  const clean = paths.map((p) => p.trim()).filter(Boolean);
  if (!clean.length) return;
  try {
    await api.ingest(clean);
    void refreshJobs();
  } catch (e) {
    showError(e, 'Could not add');
  }
}

export async function cancelJob(id: number): Promise<void> {
  try {
    await api.cancelIngest(id);
  } catch (e) {
    showError(e);
  }
}

let lastRecordingsRefresh = 0;

export function handleEvent(e: SessionEvent): void {
  switch (e.type) {
    case 'ingest_queued':
    case 'ingest_started':
      void refreshJobs();
      void refreshOverview();
      break;
    case 'ingest_progress': {
      updateJobProgress(e.job, e.progress);
      const now = Date.now();
      if (e.progress.windows_per_s > 0) {
        throughput.value = [...throughput.value.slice(-119), { t: now, wps: e.progress.windows_per_s, rtf: e.progress.realtime_factor }];
      }
      // Show new recordings while a long ingest runs, without hammering the engine.
      if (now - lastRecordingsRefresh > 3000 && e.progress.files_added > 0) {
        lastRecordingsRefresh = now;
        void refreshRecordings();
      }
      break;
    }
    case 'ingest_finished': {
      void refreshJobs();
      void refreshOverview();
      void refreshRecordings();
      if (e.error) showError(e.error, 'Adding recordings failed');
      else if (e.report) {
        const r = e.report;
        const parts = [`${r.added.length} added`];
        if (r.skipped.length) parts.push(`${r.skipped.length} already in the library`);
        if (r.failed.length) parts.push(`${r.failed.length} failed`);
        showInfo(`${r.cancelled ? 'Cancelled: ' : ''}${parts.join(', ')}`, r.failed.map((f) => `${f.path}: ${f.reason}`).join('\n') || undefined);
      }
      break;
    }
    case 'model_setup': {
      const cur = modelSetup.value ?? { lines: [], running: true, ok: null };
      modelSetup.value = { lines: [...cur.lines.slice(-200), e.line], running: !e.finished, ok: e.finished ? e.ok : null };
      if (e.finished) void refreshOverview();
      break;
    }
    case 'library_changed':
      void refreshRecordings();
      void refreshOverview();
      break;
  }
}

function updateJobProgress(id: number, p: IngestProgress): void {
  const list = jobs.value;
  const i = list.findIndex((j) => j.id === id);
  if (i < 0) {
    jobs.value = [...list, { id, inputs: [], state: 'running', progress: p, report: null, error: null }];
  } else {
    const copy = list.slice();
    copy[i] = { ...copy[i], state: 'running', progress: p };
    jobs.value = copy;
  }
}

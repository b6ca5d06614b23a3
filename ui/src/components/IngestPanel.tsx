// Adding recordings: a progress bar per batch and per file, cancel, and the files that failed.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { baseName, bytes, duration } from '../lib/format';
import { cancelJob, jobs, showError } from '../state';

function Bar({ frac, label, testid }: { frac: number; label?: string; testid?: string }) {
  const f = Math.min(1, Math.max(0, Number.isFinite(frac) ? frac : 0));
  return (
    <div class="bar" data-testid={testid} data-frac={f.toFixed(3)}>
      <div class="fill" style={{ width: `${(f * 100).toFixed(1)}%` }} />
      {label && <span>{label}</span>}
    </div>
  );
}

export function IngestPanel() {
  const list = jobs.value;
  const [failed, setFailed] = useState<{ path: string; reason: string }[]>([]);
  const [showFailed, setShowFailed] = useState(false);
  const active = list.filter((j) => j.state === 'running' || j.state === 'queued');
  const finished = list.filter((j) => j.state !== 'running' && j.state !== 'queued').slice(-3).reverse();
  useEffect(() => {
    api.failedFiles().then(setFailed, () => setFailed([]));
  }, [list.length, finished[0]?.id, finished[0]?.state]);
  return (
    <div class="ingest" data-testid="ingest-panel">
      {active.length === 0 && finished.length === 0 && <p class="muted">Nothing is being added. Drop files or folders on the window.</p>}
      {active.map((j) => {
        const p = j.progress;
        const frac = p ? (p.bytes_total > 0 ? p.bytes_done / p.bytes_total : p.files_total ? p.files_done / p.files_total : 0) : 0;
        return (
          <div class="job" data-testid="job" data-state={j.state} key={j.id}>
            <div class="job-head">
              <b>Batch {j.id}</b>
              <span class="muted">{j.state === 'queued' ? 'queued' : p?.phase ?? 'starting'}</span>
              {p && p.phase === 'scanning' && <span class="muted">looking for audio files…</span>}
              {p && p.phase !== 'scanning' && (
                <span>
                  {p.files_done}/{p.files_total} files · {p.windows_done} windows · {p.windows_per_s.toFixed(0)} windows/s ·{' '}
                  {p.realtime_factor.toFixed(0)}× real time{p.eta_s != null && p.phase !== 'done' ? ` · ${duration(p.eta_s)} left` : ''}
                </span>
              )}
              <button data-testid="cancel-job" onClick={() => cancelJob(j.id)}>
                Cancel
              </button>
            </div>
            <Bar frac={frac} testid="job-progress" label={p ? `${bytes(p.bytes_done)} of ${bytes(p.bytes_total)}` : ''} />
            {p?.active.map((f) => (
              <div class="file-progress" key={f.path}>
                <span class="fname" title={f.path}>{baseName(f.path)}</span>
                <Bar frac={f.windows_expected ? f.windows_done / f.windows_expected : 0} label={`${f.windows_done}/${f.windows_expected}`} />
              </div>
            ))}
            {p?.last_error && (
              <div class="err-line" title={p.last_error[1]}>
                ✗ {baseName(p.last_error[0])}: {withoutPath(p.last_error[1], p.last_error[0])}
              </div>
            )}
          </div>
        );
      })}
      {finished.map((j) => (
        <div class="job done" data-testid="job" data-state={j.state} key={j.id}>
          <b>Batch {j.id}</b> <span class={j.state === 'failed' ? 'err' : 'muted'}>{j.state}</span>{' '}
          {j.report && (
            <span>
              {j.report.added.length} added, {j.report.skipped.length} already there, {j.report.failed.length} failed ({duration(j.report.audio_s)} of audio in{' '}
              {duration(j.report.elapsed_s)})
            </span>
          )}
          {j.error && <span class="err"> {j.error.message}</span>}
        </div>
      ))}
      {failed.length > 0 && (
        <div class="failed">
          <button class="link" data-testid="toggle-failed" onClick={() => setShowFailed(!showFailed)}>
            {showFailed ? '▾' : '▸'} {failed.length} file{failed.length > 1 ? 's' : ''} could not be added
          </button>
          {showFailed && (
            <ul data-testid="failed-list">
              {failed.map((f) => (
                <li key={f.path}>
                  <span class="fname" title={f.path}>{f.path}</span>: <span class="err">{withoutPath(f.reason, f.path)}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

/** Engine reasons often start with the path; the list already shows it. */
export function withoutPath(reason: string, path: string): string {
  return reason.startsWith(`${path}: `) ? reason.slice(path.length + 2) : reason;
}

export function useJobsSummary(): string {
  const a = jobs.value.filter((j) => j.state === 'running' || j.state === 'queued');
  if (!a.length) return '';
  const p = a[0].progress;
  return p && p.phase !== 'scanning' ? `Adding ${p.files_done}/${p.files_total}` : 'Adding…';
}

export { Bar, showError };

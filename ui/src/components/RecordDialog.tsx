// Recording from a microphone: choose the input, watch a live scrolling spectrogram, search the
// last 3 s live, stop, and the take becomes a recording in the library.

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type DeviceInfo, type LiveUpdate } from '../api';
import { clock, hertz } from '../lib/format';
import { paintInto, setPalette } from '../render';
import { dialog, display, runSearch, showError, showInfo } from '../state';

const ROWS = 128;

export function RecordDialog() {
  const [devices, setDevices] = useState<DeviceInfo[] | null>(null);
  const [device, setDevice] = useState<string>('');
  const [recording, setRecording] = useState(false);
  const [status, setStatus] = useState<LiveUpdate['status'] | null>(null);
  const [add, setAdd] = useState(true);
  const [liveSearch, setLiveSearch] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const timer = useRef<number | undefined>(undefined);
  const lastLive = useRef(0);

  useEffect(() => {
    api.inputDevices().then(
      (d) => {
        setDevices(d);
        const def = d.find((x) => x.is_default) ?? d[0];
        if (def) setDevice(def.id);
      },
      (e) => {
        setDevices([]);
        setError((e as { message?: string })?.message ?? String(e));
      },
    );
    return () => window.clearInterval(timer.current);
  }, []);

  const draw = (u: LiveUpdate) => {
    const c = canvas.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx || u.n_columns === 0) return;
    const d = display.value;
    setPalette(d.colormap, d.floorDb, d.ceilDb);
    const n = Math.min(u.n_columns, c.width);
    // Scroll left by n columns, then paint the new columns (transposed) at the right edge.
    ctx.drawImage(c, n, 0, c.width - n, c.height, 0, 0, c.width - n, c.height);
    const bytes = new Uint8Array(n * u.rows);
    const skip = u.n_columns - n;
    for (let col = 0; col < n; col++) for (let r = 0; r < u.rows; r++) bytes[r * n + col] = u.columns[(skip + col) * u.rows + r];
    paintInto(ctx, bytes, n, u.rows, c.width - n, 0);
  };

  const start = async () => {
    setError(null);
    try {
      await api.recordStart(device || null);
      setRecording(true);
      const c = canvas.current;
      const ctx = c?.getContext('2d');
      if (c && ctx) {
        ctx.fillStyle = '#111a2e';
        ctx.fillRect(0, 0, c.width, c.height);
      }
      timer.current = window.setInterval(async () => {
        try {
          const u = await api.recordPoll();
          setStatus(u.status);
          draw(u);
          if (liveSearchRef.current && u.status.elapsed_s >= 3 && performance.now() - lastLive.current > 1500) {
            lastLive.current = performance.now();
            void runSearch({ kind: 'live' });
          }
        } catch (e) {
          window.clearInterval(timer.current);
          setError((e as { message?: string })?.message ?? String(e));
        }
      }, 100);
    } catch (e) {
      setError((e as { message?: string })?.message ?? String(e));
    }
  };
  const liveSearchRef = useRef(false);
  liveSearchRef.current = liveSearch;

  const stop = async () => {
    window.clearInterval(timer.current);
    try {
      const r = await api.recordStop(add);
      setRecording(false);
      showInfo(`Saved a ${clock(r.take.duration_s)} take${r.job ? ' and added it to the library' : ''}`, r.take.path);
      dialog.value = null;
    } catch (e) {
      setRecording(false);
      showError(e, 'Stopping the recording failed');
    }
  };

  return (
    <div class="modal" data-testid="record-dialog">
      <h3>Record from a microphone</h3>
      {error && (
        <p class="err" data-testid="record-error">
          {error}
        </p>
      )}
      <label>
        Input
        <select value={device} disabled={recording || !devices?.length} onChange={(e) => setDevice((e.currentTarget as HTMLSelectElement).value)} data-testid="record-device">
          {devices === null && <option>looking for devices…</option>}
          {devices?.length === 0 && <option>no input device</option>}
          {devices?.map((d) => (
            <option value={d.id}>
              {d.name}
              {d.is_default ? ' (default)' : ''} · {d.sample_rate / 1000} kHz
            </option>
          ))}
        </select>
      </label>
      <canvas ref={canvas} width={640} height={ROWS} class="live" data-testid="live-spectrogram" />
      <div class="live-axis muted">
        0 Hz – {hertz(12000)} · newest on the right
      </div>
      <div class="live-status" data-testid="record-status" data-elapsed={status?.elapsed_s ?? 0}>
        {status ? (
          <>
            <b>{clock(status.elapsed_s)}</b> · level {status.level_db.toFixed(0)} dBFS
            <span class="meter">
              <span style={{ width: `${Math.max(0, Math.min(100, (status.level_db + 60) * (100 / 60)))}%` }} />
            </span>
            {status.dropped_frames > 0 && <span class="warn"> · {status.dropped_frames} frames dropped</span>}
            {status.error && <span class="err"> · {status.error}</span>}
          </>
        ) : (
          <span class="muted">Not recording.</span>
        )}
      </div>
      <label>
        <input type="checkbox" checked={add} onChange={(e) => setAdd((e.currentTarget as HTMLInputElement).checked)} /> add the take to the library when I stop
      </label>
      <label>
        <input type="checkbox" checked={liveSearch} onChange={(e) => setLiveSearch((e.currentTarget as HTMLInputElement).checked)} /> search live with the last 3 s
      </label>
      <div class="buttons">
        {!recording ? (
          <button class="primary" data-testid="record-start" disabled={!devices?.length} onClick={start}>
            ● Record
          </button>
        ) : (
          <>
            <button data-testid="record-search" disabled={(status?.elapsed_s ?? 0) < 3} onClick={() => runSearch({ kind: 'live' })}>
              Search last 3 s
            </button>
            <button class="primary" data-testid="record-stop" onClick={stop}>
              ■ Stop
            </button>
          </>
        )}
        <button disabled={recording} onClick={() => (dialog.value = null)}>
          Close
        </button>
      </div>
    </div>
  );
}

// Export the current result set (or the windows carrying a label) through the engine's formats.

import { useState } from 'preact/hooks';
import { api, type ExportReport } from '../api';
import { baseName } from '../lib/format';
import { dialog, labelName, results, showError } from '../state';

export function ExportDialog() {
  const r = results.value;
  const [dir, setDir] = useState('');
  const [base, setBase] = useState('syrinx-results');
  const [what, setWhat] = useState<'results' | 'label'>('results');
  const [f, setF] = useState({ csv: true, raven: true, audacity: true, json: true, wav: false, png: false, pad: 0.5 });
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<ExportReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const choose = async () => {
    try {
      const p = await api.pickFolder('Export to');
      if (p) setDir(p);
    } catch (e) {
      showError(e);
    }
  };
  const run = async () => {
    setError(null);
    setBusy(true);
    try {
      const items =
        what === 'results' && r
          ? r.hits.map((h) => {
              const l = h.labels.find((x) => x[1] === labelName.value.trim());
              return {
                recording_id: h.recording_id,
                start_s: h.start_s,
                end_s: h.end_s,
                scientific: h.scientific,
                common: h.common,
                score: h.species != null ? h.score : null,
                similarity: h.similarity,
                label: l?.[1] ?? null,
                verdict: l?.[2] ?? null,
              };
            })
          : [];
      const rep = await api.export({
        dir: dir.trim(),
        base: base.trim() || 'syrinx-results',
        items,
        label: what === 'label' ? labelName.value.trim() || null : null,
        formats: { csv: f.csv, raven: f.raven, audacity: f.audacity, json: f.json, wav_padding_s: f.wav ? f.pad : null, png: f.png },
      });
      setReport(rep);
    } catch (e) {
      setError((e as { message?: string })?.message ?? String(e));
    } finally {
      setBusy(false);
    }
  };
  const tog = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.currentTarget as HTMLInputElement).checked });
  return (
    <div class="modal" data-testid="export-dialog">
      <h3>Export</h3>
      {report ? (
        <div data-testid="export-report">
          <p>
            Wrote <b>{report.files.length}</b> files into <code>{report.dir}</code>.
          </p>
          <ul class="files">
            {report.files.map((p) => (
              <li>{baseName(p)}</li>
            ))}
          </ul>
          {report.renamed.length > 0 && (
            <p class="warn">
              {report.renamed.length} name{report.renamed.length > 1 ? 's were' : ' was'} taken, so nothing was overwritten:{' '}
              {report.renamed.map(([a, b]) => `${baseName(a)} → ${baseName(b)}`).join(', ')}
            </p>
          )}
          {report.item_errors.length > 0 && (
            <p class="err">{report.item_errors.map(([i, m]) => `item ${i + 1}: ${m}`).join('; ')}</p>
          )}
          <div class="buttons">
            <button class="primary" onClick={() => (dialog.value = null)}>
              Done
            </button>
          </div>
        </div>
      ) : (
        <>
          <label>
            <input type="radio" checked={what === 'results'} onChange={() => setWhat('results')} /> the {r?.hits.length ?? 0} hits shown
          </label>
          <label>
            <input type="radio" checked={what === 'label'} onChange={() => setWhat('label')} /> every stretch labelled “{labelName.value || '…'}”
          </label>
          <div class="row">
            <input type="text" placeholder="folder" value={dir} data-testid="export-dir" onInput={(e) => setDir((e.currentTarget as HTMLInputElement).value)} />
            <button onClick={choose}>Choose folder…</button>
          </div>
          <label>
            File name <input type="text" value={base} onInput={(e) => setBase((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <fieldset>
            <legend>Formats</legend>
            <label><input type="checkbox" checked={f.csv} onChange={tog('csv')} /> CSV</label>
            <label><input type="checkbox" checked={f.raven} onChange={tog('raven')} /> Raven selection table</label>
            <label><input type="checkbox" checked={f.audacity} onChange={tog('audacity')} /> Audacity labels</label>
            <label><input type="checkbox" checked={f.json} onChange={tog('json')} /> JSON</label>
            <label>
              <input type="checkbox" checked={f.wav} onChange={tog('wav')} data-testid="export-wav" /> a WAV clip per hit, padded by{' '}
              <input type="number" min={0} max={10} step={0.1} value={f.pad} onInput={(e) => setF({ ...f, pad: +(e.currentTarget as HTMLInputElement).value })} /> s
            </label>
            <label><input type="checkbox" checked={f.png} onChange={tog('png')} /> a PNG spectrogram per hit</label>
          </fieldset>
          {error && (
            <p class="err" data-testid="export-error">
              {error}
            </p>
          )}
          <div class="buttons">
            <button class="primary" disabled={busy || !dir.trim()} onClick={run} data-testid="export-run">
              {busy ? 'Exporting…' : 'Export'}
            </button>
            <button onClick={() => (dialog.value = null)}>Cancel</button>
          </div>
        </>
      )}
    </div>
  );
}

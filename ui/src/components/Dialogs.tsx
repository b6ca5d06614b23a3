// Small dialogs: Add, About, keyboard shortcuts; and the toasts that carry errors and notices.

import { useEffect, useState } from 'preact/hooks';
import { api, type About } from '../api';
import { SHORTCUTS } from '../lib/keys';
import { addPaths, dialog, dismissToast, showError, toasts } from '../state';

export function AddDialog() {
  const [path, setPath] = useState('');
  const submit = async () => {
    if (!path.trim()) return;
    await addPaths(path.split('\n'));
    setPath('');
    dialog.value = null;
  };
  const pick = async (folder: boolean) => {
    try {
      const paths = folder ? [await api.pickFolder('Add a folder of recordings')].filter((p): p is string => !!p) : await api.pickFiles();
      if (paths.length) {
        await addPaths(paths);
        dialog.value = null;
      }
    } catch (e) {
      showError(e);
    }
  };
  return (
    <div class="modal" data-testid="add-dialog">
      <h3>Add recordings</h3>
      <p class="muted">Folders are searched recursively. Files already in the library are skipped; a file that cannot be read is listed with the reason and does not stop the others.</p>
      <div class="buttons left">
        <button class="primary" data-testid="pick-files" onClick={() => pick(false)}>Choose files…</button>
        <button class="primary" data-testid="pick-folder" onClick={() => pick(true)}>Choose folder…</button>
      </div>
      <label>
        or type / paste paths (one per line)
        <textarea
          rows={3}
          value={path}
          data-testid="add-path"
          placeholder="/home/me/field/2026-05-14"
          onInput={(e) => setPath((e.currentTarget as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              void submit();
            }
          }}
        />
      </label>
      <div class="buttons">
        <button class="primary" data-testid="add-submit" disabled={!path.trim()} onClick={submit}>
          Add
        </button>
        <button onClick={() => (dialog.value = null)}>Cancel</button>
      </div>
    </div>
  );
}

export function AboutDialog() {
  const [a, setA] = useState<About | null>(null);
  useEffect(() => {
    api.about().then(setA, (e) => showError(e));
  }, []);
  return (
    <div class="modal wide" data-testid="about-dialog">
      <h3>About Syrinx</h3>
      {a && (
        <>
          <p>
            Syrinx {a.app_version ?? ''} · {a.shell} · WebKitGTK {a.webview} · ONNX Runtime {a.onnxruntime_version ?? '–'}
          </p>
          <p>
            <b>Model:</b> {a.model}
          </p>
          <p>{a.model_attribution}</p>
          <p>
            <b>Licence:</b> {a.model_license_name}
          </p>
          {a.library_dir && (
            <p>
              <b>Library:</b> <code>{a.library_dir}</code>
            </p>
          )}
          {a.components && (
            <ul class="components">
              {a.components.map(([n, w]) => (
                <li>
                  {n}: {w}
                </li>
              ))}
            </ul>
          )}
          {a.model_license_text ? (
            <details>
              <summary>Model licence text</summary>
              <pre class="licence" data-testid="model-licence">{a.model_license_text}</pre>
            </details>
          ) : (
            <p class="warn">The model is not installed yet: its licence will show here once it is.</p>
          )}
          {a.open_error && <p class="err">{a.open_error.message}</p>}
        </>
      )}
      <div class="buttons">
        <button onClick={() => (dialog.value = null)}>Close</button>
      </div>
    </div>
  );
}

export function HelpDialog() {
  return (
    <div class="modal" data-testid="help-dialog">
      <h3>Keyboard shortcuts</h3>
      <table class="keys">
        {SHORTCUTS.map((s) => (
          <tr>
            <td>
              {s.keys.map((k) => (
                <kbd>{k === ' ' ? 'Space' : k}</kbd>
              ))}
            </td>
            <td>{s.what}</td>
          </tr>
        ))}
      </table>
      <p class="muted">On the spectrogram: click a call to search, drag to search a stretch, wheel to zoom, shift+wheel to scroll.</p>
      <div class="buttons">
        <button onClick={() => (dialog.value = null)}>Close</button>
      </div>
    </div>
  );
}

export function Toasts() {
  const list = toasts.value;
  useEffect(() => {
    const t = window.setInterval(() => {
      const now = Date.now();
      const keep = toasts.value.filter((x) => x.level === 'error' || now - x.at < 8000);
      if (keep.length !== toasts.value.length) toasts.value = keep;
    }, 1000);
    return () => window.clearInterval(t);
  }, []);
  return (
    <div class="toasts" data-testid="toasts">
      {list.map((t) => (
        <div class={`toast ${t.level}`} data-testid={t.level === 'error' ? 'error-toast' : 'info-toast'} key={t.id}>
          <div class="toast-head">
            <span>{t.info.message}</span>
            <button class="icon" onClick={() => dismissToast(t.id)} title="Dismiss">
              ×
            </button>
          </div>
          {t.info.detail && (
            <details>
              <summary>details</summary>
              <pre>{t.info.detail}</pre>
            </details>
          )}
        </div>
      ))}
    </div>
  );
}

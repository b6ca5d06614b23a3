// Similar calls: one card per hit with a spectrogram thumbnail, play and label buttons, and the
// search's filters.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { Hit } from '../api';
import { clock, micros } from '../lib/format';
import { speciesColour } from '../lib/species';
import { bitmap, setPalette, tileData } from '../render';
import {
  dialog,
  display,
  filters,
  labelHit,
  labelName,
  openRecording,
  playback,
  playHit,
  rerunSearch,
  results,
  searching,
  selectedHit,
  stopPlayback,
} from '../state';

const THUMB_W = 150;
const THUMB_H = 60;

function Thumb({ h }: { h: Hit }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [, setTick] = useState(0);
  const d = display.value;
  setPalette(d.colormap, d.floorDb, d.ceilDb);
  const pad = 0.25;
  const a = Math.max(0, h.start_s - pad);
  const b = Math.min(h.duration_s || h.end_s + pad, h.end_s + pad);
  const key = `th|${h.recording_id}|${a.toFixed(3)}|${b.toFixed(3)}|${d.fMax}|${d.scale}`;
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    const t = tileData(
      key,
      { recording: h.recording_id, start_s: a, end_s: Math.max(b, a + 0.1), width: THUMB_W, height: THUMB_H, scale: d.scale, f_min: 0, f_max: d.fMax },
      () => setTick((x) => x + 1),
    );
    ctx.fillStyle = '#111a2e';
    ctx.fillRect(0, 0, THUMB_W, THUMB_H);
    if (t) {
      ctx.drawImage(bitmap(key, t), 0, 0);
      c.dataset.loaded = '1';
    }
  });
  return <canvas ref={ref} width={THUMB_W} height={THUMB_H} class="thumb" />;
}

function HitCard({ h, i }: { h: Hit; i: number }) {
  const sel = selectedHit.value === i;
  const pb = playback.value;
  const playing = !!pb?.playing && pb.tag === h.recording_id && pb.start_s === h.start_s;
  const name = labelName.value.trim() || h.common || '';
  const mine = h.labels.find((l) => l[1] === name);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (sel) ref.current?.scrollIntoView({ block: 'nearest' });
  }, [sel]);
  return (
    <div
      ref={ref}
      class={`hit${sel ? ' selected' : ''}`}
      data-testid="hit"
      data-species={h.common ?? ''}
      data-recording={h.recording_id}
      data-path={h.path}
      onClick={() => (selectedHit.value = i)}
      onDblClick={() => openRecording(h.recording_id, { start: h.start_s, end: h.end_s })}
    >
      <div class="rank">{i + 1}</div>
      <Thumb h={h} />
      <div class="hit-body">
        <div class="hit-name" title={h.path}>
          {h.name}
        </div>
        <div class="hit-meta">
          {clock(h.start_s)}–{clock(h.end_s)} · <span class="sim" title="cosine similarity to the query">{h.similarity.toFixed(3)}</span>
        </div>
        <div class="hit-species">
          {h.common ? (
            <>
              <span class="dot" style={{ background: speciesColour(h.common) }} />
              <span class="species-name" title={h.scientific ?? ''}>{h.common}</span> <span class="score">{(h.score * 100).toFixed(0)}%</span>
            </>
          ) : (
            <span class="muted">no species above threshold</span>
          )}
        </div>
        {h.labels.length > 0 && (
          <div class="hit-labels">
            {h.labels.map(([, l, v]) => (
              <span class={`tag ${v}`}>{v === 'positive' ? '✓' : v === 'negative' ? '✗' : '?'} {l}</span>
            ))}
          </div>
        )}
      </div>
      <div class="hit-actions">
        <button
          class="icon"
          data-testid="hit-play"
          title="Play (Space)"
          onClick={(e) => {
            e.stopPropagation();
            selectedHit.value = i;
            void (playing ? stopPlayback() : playHit(h));
          }}
        >
          {playing ? '■' : '▶'}
        </button>
        <button
          class={`icon pos${mine?.[2] === 'positive' ? ' on' : ''}`}
          data-testid="label-positive"
          title={`Positive for “${name}” (y)`}
          onClick={(e) => {
            e.stopPropagation();
            void labelHit(i, 'positive');
          }}
        >
          ✓
        </button>
        <button
          class={`icon neg${mine?.[2] === 'negative' ? ' on' : ''}`}
          data-testid="label-negative"
          title={`Negative for “${name}” (n)`}
          onClick={(e) => {
            e.stopPropagation();
            void labelHit(i, 'negative');
          }}
        >
          ✗
        </button>
        <button
          class="icon"
          title="Open in the recording view (Enter)"
          onClick={(e) => {
            e.stopPropagation();
            void openRecording(h.recording_id, { start: h.start_s, end: h.end_s });
          }}
        >
          ↗
        </button>
      </div>
    </div>
  );
}

function Filters() {
  const f = filters.value;
  const set = (patch: Partial<typeof f>) => {
    filters.value = { ...f, ...patch };
    void rerunSearch();
  };
  return (
    <div class="filters" data-testid="filters">
      <label>
        k
        <select value={f.k} onChange={(e) => set({ k: +(e.currentTarget as HTMLSelectElement).value })}>
          {[10, 20, 50, 100, 200].map((k) => (
            <option value={k}>{k}</option>
          ))}
        </select>
      </label>
      <label title="Leave out hits from the query's own recording">
        <input type="checkbox" data-testid="exclude-self" checked={f.exclude_self} onChange={(e) => set({ exclude_self: (e.currentTarget as HTMLInputElement).checked })} /> other recordings only
      </label>
      <label>
        species
        <input
          type="text"
          placeholder="any"
          value={f.species ?? ''}
          size={12}
          onChange={(e) => set({ species: (e.currentTarget as HTMLInputElement).value || null })}
        />
      </label>
      <label title="Minimum score of the hit's best species">
        score ≥
        <select value={f.min_score ?? 0} onChange={(e) => set({ min_score: +(e.currentTarget as HTMLSelectElement).value || null })}>
          {[0, 0.1, 0.25, 0.5, 0.75, 0.9].map((s) => (
            <option value={s}>{s}</option>
          ))}
        </select>
      </label>
      <label title="Only hits carrying this label">
        label
        <input
          type="text"
          placeholder="any"
          size={10}
          value={f.label ?? ''}
          onChange={(e) => set({ label: (e.currentTarget as HTMLInputElement).value || null })}
        />
      </label>
    </div>
  );
}

export function ResultsPanel() {
  const r = results.value;
  return (
    <div class="results" data-testid="results">
      <div class="results-head">
        <h3>Similar calls</h3>
        {r && (
          <span class="meta" data-testid="results-meta">
            {r.hits.length} hits · {micros(r.latency_us)} {searching.value && '· searching…'}
          </span>
        )}
        <button disabled={!r || !r.hits.length} onClick={() => (dialog.value = 'export')} data-testid="open-export">
          Export…
        </button>
      </div>
      <Filters />
      <div class="label-row">
        <label>
          Label as
          <input
            type="text"
            data-testid="label-name"
            value={labelName.value}
            placeholder="label name (e.g. the species)"
            onInput={(e) => (labelName.value = (e.currentTarget as HTMLInputElement).value)}
          />
        </label>
      </div>
      <div class="hit-list">
        {!r && <p class="muted pad">Click a call on a spectrogram to find similar ones.</p>}
        {r && r.hits.length === 0 && <p class="muted pad">No hits match these filters.</p>}
        {r?.hits.map((h, i) => (
          <HitCard h={h} i={i} key={`${h.recording_id}:${h.start_s}`} />
        ))}
      </div>
    </div>
  );
}

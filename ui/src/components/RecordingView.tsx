// The recording view: overview strip, the tiled spectrogram with axes, the species track, the
// playback cursor, and click / drag-select to search.

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { RecordingDetail, TileRequest } from '../api';
import { clock, hertz } from '../lib/format';
import { scoreAlpha, speciesColour } from '../lib/species';
import { tilesFor, TILE_PX, type FreqSpec } from '../lib/tiles';
import * as V from '../lib/view';
import { bitmap, paletteBackground, setPalette, tileData, tileError } from '../render';
import { current, display, focusRange, playback, play, results, runSearch, selectedHit, stopPlayback } from '../state';
import { DisplayControls } from './DisplayControls';

const AXIS_W = 52;
const AXIS_H = 20;
const SPEC_H = 300;
const TILE_ROWS = 256;
const OVERVIEW_H = 44;
const TRACK_H = 26;

export function RecordingView() {
  const rec = current.value;
  if (!rec) {
    return (
      <div class="recording-empty" data-testid="recording-empty">
        <h2>No recording open</h2>
        <p>Drop audio files or folders anywhere on this window, or use <b>Add</b>. Then pick a recording on the left.</p>
        <p class="hint">Click a call on the spectrogram to find every similar call in the library; drag to search a stretch.</p>
      </div>
    );
  }
  return <Spectro key={rec.summary.id} rec={rec} />;
}

function freqSpec(rec: RecordingDetail): FreqSpec {
  const d = display.value;
  const nyq = rec.summary.sample_rate / 2;
  return { scale: d.scale, f_min: 0, f_max: Math.min(d.fMax, nyq), height: TILE_ROWS };
}

function Spectro({ rec }: { rec: RecordingDetail }) {
  const wrap = useRef<HTMLDivElement>(null);
  const main = useRef<HTMLCanvasElement>(null);
  const over = useRef<HTMLCanvasElement>(null);
  const track = useRef<HTMLCanvasElement>(null);
  const duration = rec.summary.duration_s;
  const [width, setWidth] = useState(800);
  const [view, setView] = useState<V.View>(() => V.fit(duration, 800));
  const [drag, setDrag] = useState<{ x0: number; x1: number } | null>(null);
  const [hover, setHover] = useState<string>('');
  const [, setTick] = useState(0);
  const redraw = () => setTick((t) => t + 1);
  const plotW = Math.max(50, width - AXIS_W);

  // Follow the container's width.
  useLayoutEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      const w = Math.floor(el.clientWidth);
      setWidth(w);
    });
    ro.observe(el);
    setWidth(Math.floor(el.clientWidth));
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    setView((v) => (v.width === plotW ? v : V.clamp({ ...v, width: plotW, spp: v.width > 60 ? (v.spp * v.width) / plotW : v.spp })));
  }, [plotW]);

  // First open: the whole recording, or the hit we were asked to show.
  useEffect(() => {
    const f = focusRange.value;
    setView((v) => (f ? V.show({ ...v, width: plotW }, f.start, f.end, 1.5) : V.fit(duration, plotW)));
  }, [rec.summary.id, focusRange.value]);

  const pb = playback.value;
  const playingHere = !!pb && pb.playing && pb.tag === rec.summary.id;
  // Keep the cursor in view while playing.
  useEffect(() => {
    if (playingHere && pb && (pb.position_s < view.t0 || pb.position_s > V.t1(view))) {
      setView((v) => V.clamp({ ...v, t0: pb.position_s - v.spp * v.width * 0.1 }));
    }
  }, [pb?.position_s, playingHere]);

  const fs = freqSpec(rec);
  const d = display.value;
  const paletteKey = setPalette(d.colormap, d.floorDb, d.ceilDb);

  // ---- main spectrogram ----
  useEffect(() => {
    const c = main.current;
    if (!c) return;
    const dpr = 1;
    c.width = width * dpr;
    c.height = (SPEC_H + AXIS_H) * dpr;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#0b1020';
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.fillStyle = paletteBackground();
    ctx.fillRect(AXIS_W, 0, plotW, SPEC_H);
    const specs = tilesFor(rec.summary.id, view.t0, V.t1(view), view.spp, duration, fs);
    let missing = 0;
    let error: string | undefined;
    ctx.imageSmoothingEnabled = true;
    for (const s of specs) {
      const req: TileRequest = { recording: rec.summary.id, start_s: s.start_s, end_s: s.end_s, width: s.width, height: fs.height, scale: fs.scale, f_min: fs.f_min, f_max: fs.f_max };
      const t = tileData(s.key, req, redraw);
      const x0 = AXIS_W + V.xAt(view, s.start_s);
      const x1 = AXIS_W + V.xAt(view, s.end_s);
      if (!t) {
        missing++;
        error = error ?? tileError(s.key);
        continue;
      }
      ctx.drawImage(bitmap(s.key, t), 0, 0, t.width, t.height, x0, 0, x1 - x0, SPEC_H);
    }
    // Right of the end of the recording.
    const endX = AXIS_W + V.xAt(view, duration);
    if (endX < width) {
      ctx.fillStyle = '#0b1020';
      ctx.fillRect(endX, 0, width - endX, SPEC_H);
    }
    // Query stretch and hits in this recording.
    const r = results.value;
    if (r) {
      r.hits.forEach((h, i) => {
        if (h.recording_id !== rec.summary.id) return;
        const a = AXIS_W + V.xAt(view, h.start_s);
        const b = AXIS_W + V.xAt(view, h.end_s);
        ctx.strokeStyle = i === selectedHit.value ? 'rgba(255,210,80,0.95)' : 'rgba(255,255,255,0.55)';
        ctx.lineWidth = i === selectedHit.value ? 2 : 1;
        ctx.strokeRect(a + 0.5, 1.5, Math.max(2, b - a - 1), SPEC_H - 3);
      });
      if (r.query_recording === rec.summary.id && r.query_start_s != null && r.query_end_s != null) {
        const a = AXIS_W + V.xAt(view, r.query_start_s);
        const b = AXIS_W + V.xAt(view, r.query_end_s);
        ctx.fillStyle = 'rgba(64,224,196,0.18)';
        ctx.fillRect(a, 0, b - a, SPEC_H);
        ctx.strokeStyle = 'rgba(64,224,196,0.9)';
        ctx.lineWidth = 1.5;
        ctx.strokeRect(a + 0.5, 0.5, Math.max(2, b - a - 1), SPEC_H - 1);
      }
    }
    if (drag) {
      const a = Math.min(drag.x0, drag.x1);
      const b = Math.max(drag.x0, drag.x1);
      ctx.fillStyle = 'rgba(255,255,255,0.15)';
      ctx.fillRect(AXIS_W + a, 0, b - a, SPEC_H);
    }
    if (pb && pb.tag === rec.summary.id && (pb.playing || pb.position_s > 0)) {
      const x = AXIS_W + V.xAt(view, pb.position_s);
      if (x >= AXIS_W && x <= width) {
        ctx.strokeStyle = pb.playing ? '#ff5d5d' : 'rgba(255,93,93,0.5)';
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(x, 0);
        ctx.lineTo(x, SPEC_H);
        ctx.stroke();
      }
    }
    // Frequency axis.
    ctx.fillStyle = '#0b1020';
    ctx.fillRect(0, 0, AXIS_W, SPEC_H + AXIS_H);
    ctx.fillStyle = '#9aa7bd';
    ctx.font = '11px sans-serif';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const fTicks = freqTicks(fs);
    for (const f of fTicks) {
      const y = SPEC_H - freqFrac(fs, f) * SPEC_H;
      ctx.fillText(hertz(f), AXIS_W - 6, Math.min(SPEC_H - 6, Math.max(6, y)));
      ctx.fillRect(AXIS_W - 4, y, 4, 1);
    }
    // Time axis.
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const { step, ticks } = V.timeTicks(view);
    for (const t of ticks) {
      const x = AXIS_W + V.xAt(view, t);
      ctx.fillRect(x, SPEC_H, 1, 4);
      if (x + 22 > width) continue;
      ctx.fillText(clock(t, step < 1 ? (step < 0.1 ? 2 : 1) : 0), x, SPEC_H + 5);
    }
    if (missing > 0) {
      ctx.fillStyle = error ? '#ff8080' : 'rgba(255,255,255,0.6)';
      ctx.textAlign = 'left';
      ctx.fillText(error ? `Cannot draw: ${error}` : 'drawing…', AXIS_W + 8, 8);
    }
    c.dataset.tilesMissing = String(missing);
    c.dataset.t0 = view.t0.toFixed(4);
    c.dataset.t1 = V.t1(view).toFixed(4);
  });

  // ---- overview strip ----
  useEffect(() => {
    const c = over.current;
    if (!c) return;
    c.width = width;
    c.height = OVERVIEW_H;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#0b1020';
    ctx.fillRect(0, 0, width, OVERVIEW_H);
    const ow = plotW;
    const key = `ov|${rec.summary.id}|${ow}|${fs.scale}|${fs.f_max}`;
    const t = tileData(key, { recording: rec.summary.id, start_s: 0, end_s: duration, width: Math.min(ow, 4096), height: 64, scale: fs.scale, f_min: 0, f_max: fs.f_max }, redraw);
    if (t) ctx.drawImage(bitmap(key, t), 0, 0, t.width, t.height, AXIS_W, 0, ow, OVERVIEW_H);
    if (main.current) main.current.dataset.overview = t ? '1' : '0';
    const a = AXIS_W + (view.t0 / duration) * ow;
    const b = AXIS_W + (Math.min(duration, V.t1(view)) / duration) * ow;
    ctx.strokeStyle = '#ffd250';
    ctx.lineWidth = 2;
    ctx.strokeRect(a + 1, 1, Math.max(3, b - a - 2), OVERVIEW_H - 2);
    if (pb && pb.tag === rec.summary.id && pb.playing) {
      const x = AXIS_W + (pb.position_s / duration) * ow;
      ctx.fillStyle = '#ff5d5d';
      ctx.fillRect(x - 1, 0, 2, OVERVIEW_H);
    }
  });

  // ---- species track ----
  useEffect(() => {
    const c = track.current;
    if (!c) return;
    c.width = width;
    c.height = TRACK_H;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#0b1020';
    ctx.fillRect(0, 0, width, TRACK_H);
    ctx.fillStyle = '#9aa7bd';
    ctx.font = '10px sans-serif';
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    ctx.fillText('species', AXIS_W - 6, TRACK_H / 2);
    ctx.textAlign = 'left';
    const hop = rec.hop_s;
    for (const w of rec.windows) {
      if (w.silent || !w.top.length) continue;
      const s = w.top[0];
      if (s.score < 0.1) continue;
      const a = AXIS_W + V.xAt(view, w.start_s);
      const b = AXIS_W + V.xAt(view, Math.min(w.start_s + hop, w.end_s));
      if (b < AXIS_W || a > width) continue;
      ctx.globalAlpha = scoreAlpha(s.score);
      ctx.fillStyle = speciesColour(s.common);
      ctx.fillRect(Math.max(AXIS_W, a), 3, Math.max(1, b - Math.max(AXIS_W, a) - 1), TRACK_H - 6);
      ctx.globalAlpha = 1;
      if (b - a > 70) {
        ctx.fillStyle = '#0b1020';
        ctx.fillText(s.common, Math.max(AXIS_W, a) + 4, TRACK_H / 2, b - Math.max(AXIS_W, a) - 8);
      }
    }
  });

  const xIn = (e: PointerEvent | MouseEvent) => {
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    return e.clientX - r.left - AXIS_W;
  };

  const onDown = (e: PointerEvent) => {
    if (e.button !== 0) return;
    const x = xIn(e);
    if (x < 0) return;
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    setDrag({ x0: x, x1: x });
  };
  const onMove = (e: PointerEvent) => {
    const x = xIn(e);
    if (drag) setDrag({ ...drag, x1: Math.max(0, Math.min(plotW, x)) });
    const t = V.timeAt(view, x);
    const w = rec.windows.find((w) => !w.silent && w.start_s <= t && t < w.start_s + rec.hop_s);
    setHover(x >= 0 ? `${clock(t, 2)}${w?.top[0] ? ` · ${w.top[0].common} ${(w.top[0].score * 100).toFixed(0)}%` : ''}` : '');
  };
  const onUp = (e: PointerEvent) => {
    if (!drag) return;
    const g = V.gesture(view, drag.x0, Math.max(0, Math.min(plotW, xIn(e))));
    setDrag(null);
    if (g.kind === 'click') void runSearch({ kind: 'click', recording: rec.summary.id, t_s: g.t });
    else if (g.end - g.start >= 0.05) void runSearch({ kind: 'range', recording: rec.summary.id, start_s: g.start, end_s: g.end });
  };
  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    const x = Math.max(0, xIn(e));
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) setView((v) => V.scrollBy(v, (e.deltaX || e.deltaY) * 0.8));
    else setView((v) => V.zoomAt(v, x, Math.exp(e.deltaY * 0.0015)));
  };
  const onOverview = (e: PointerEvent) => {
    if (e.buttons !== 1 && e.type !== 'pointerdown') return;
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const frac = (e.clientX - r.left - AXIS_W) / plotW;
    setView((v) => V.centreOn(v, frac * duration));
  };

  // Keyboard actions routed to this view.
  useEffect(() => {
    const h = (ev: Event) => {
      const a = (ev as CustomEvent<string>).detail;
      if (a === 'zoom-in') setView((v) => V.zoomAt(v, v.width / 2, 0.5));
      else if (a === 'zoom-out') setView((v) => V.zoomAt(v, v.width / 2, 2));
      else if (a === 'zoom-fit') setView((v) => V.fit(duration, v.width));
      else if (a === 'scroll-left') setView((v) => V.scrollBy(v, -v.width * 0.25));
      else if (a === 'scroll-right') setView((v) => V.scrollBy(v, v.width * 0.25));
      else if (a === 'play-view') {
        if (playingHere) void stopPlayback();
        else void play(rec.summary.id, view.t0, V.t1(view));
      }
    };
    window.addEventListener('syrinx-view', h);
    return () => window.removeEventListener('syrinx-view', h);
  });

  const s = rec.summary;
  // The window the model is most sure about (handy for a first click, and for tests).
  const best = rec.windows.reduce<(typeof rec.windows)[number] | undefined>(
    (b, w) => (!w.silent && w.top[0] && (!b || w.top[0].score > (b.top[0]?.score ?? 0)) ? w : b),
    undefined,
  );
  return (
    <div class="recording" ref={wrap} data-testid="recording-view" data-recording={s.id} data-palette={paletteKey}>
      <div class="rec-head">
        <div class="rec-title">
          <h2 title={s.path}>{s.name}</h2>
          <span class="meta">
            {clock(s.duration_s)} · {(s.sample_rate / 1000).toFixed(1)} kHz · {s.channels} ch · {s.codec}
            {s.status !== 'ok' && <b class="warn"> · file {s.status}</b>}
            {s.top_species && <> · mostly <b>{s.top_species.common}</b></>}
          </span>
        </div>
        <div class="rec-controls">
          <button data-testid="play-view" onClick={() => (playingHere ? stopPlayback() : play(s.id, view.t0, V.t1(view)))} title="Play what is shown (Space)">
            {playingHere ? '■ Stop' : '▶ Play'}
          </button>
          <button onClick={() => setView((v) => V.zoomAt(v, v.width / 2, 0.5))} title="Zoom in (i)">+</button>
          <button onClick={() => setView((v) => V.zoomAt(v, v.width / 2, 2))} title="Zoom out (x)">−</button>
          <button onClick={() => setView((v) => V.fit(duration, v.width))} title="Whole recording (f)">Fit</button>
          <span class="pos" data-testid="play-position">{pb && pb.tag === s.id ? clock(pb.position_s, 2) : clock(view.t0, 1)}</span>
        </div>
      </div>
      <DisplayControls />
      <canvas
        ref={over}
        class="overview"
        height={OVERVIEW_H}
        onPointerDown={onOverview}
        onPointerMove={onOverview}
        title="Overview: click or drag to move the view"
      />
      <canvas
        ref={main}
        class="spectrogram"
        data-testid="spectrogram"
        data-axis-w={AXIS_W}
        height={SPEC_H + AXIS_H}
        onPointerDown={onDown}
        onPointerMove={onMove}
        onPointerUp={onUp}
        onPointerLeave={() => setHover('')}
        onWheel={onWheel}
        title="Click a call to find similar ones; drag to search a stretch; wheel to zoom, shift+wheel to scroll"
      />
      <canvas
        ref={track}
        class="track"
        height={TRACK_H}
        data-testid="species-track"
        data-best-start={best?.start_s ?? ''}
        data-best-species={best?.top[0]?.common ?? ''}
      />
      <div class="hover-readout">{hover || `${clock(view.t0, 1)} – ${clock(Math.min(duration, V.t1(view)), 1)} shown · ${(TILE_PX * view.spp).toFixed(2)} s per 256 px`}</div>
    </div>
  );
}

function melOf(f: number): number {
  return 2595 * Math.log10(1 + f / 700);
}

function freqFrac(fs: FreqSpec, f: number): number {
  if (fs.scale === 'mel') return (melOf(f) - melOf(fs.f_min)) / (melOf(fs.f_max) - melOf(fs.f_min));
  return (f - fs.f_min) / (fs.f_max - fs.f_min);
}

function freqTicks(fs: FreqSpec): number[] {
  if (fs.scale === 'mel') return [0, 500, 1000, 2000, 4000, 8000, 16000, 24000].filter((f) => f <= fs.f_max);
  const step = fs.f_max > 16000 ? 4000 : fs.f_max > 8000 ? 2000 : 1000;
  const out: number[] = [];
  for (let f = 0; f <= fs.f_max + 1; f += step) out.push(f);
  return out;
}

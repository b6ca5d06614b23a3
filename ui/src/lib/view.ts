// The visible time window of a recording: pixel <-> time, zoom around a point, scroll, clamp,
// and telling a click from a drag.

export interface View {
  /** Time at the left edge (s). */
  t0: number;
  /** Seconds per pixel. */
  spp: number;
  /** Plot width in pixels. */
  width: number;
  /** Recording length (s). */
  duration: number;
}

export const MIN_SPP = 1 / 2000; // ~0.5 ms per pixel
export const MAX_SPP = 60; // a minute per pixel (a 20 h recording in 1200 px)

export function t1(v: View): number {
  return v.t0 + v.spp * v.width;
}

export function timeAt(v: View, x: number): number {
  return v.t0 + x * v.spp;
}

export function xAt(v: View, t: number): number {
  return (t - v.t0) / v.spp;
}

/** Keep the view inside the recording (or show all of a recording shorter than the view). */
export function clamp(v: View): View {
  const spp = Math.min(MAX_SPP, Math.max(MIN_SPP, v.spp));
  const span = spp * v.width;
  const t0 = span >= v.duration ? 0 : Math.min(Math.max(0, v.t0), v.duration - span);
  return { ...v, spp, t0 };
}

/** The whole recording in the view. */
export function fit(duration: number, width: number): View {
  return clamp({ t0: 0, spp: Math.max(duration, 0.001) / Math.max(1, width), width, duration });
}

/** Zoom by `factor` (<1 zooms in) keeping the time under pixel `x` fixed. */
export function zoomAt(v: View, x: number, factor: number): View {
  const t = timeAt(v, x);
  const spp = Math.min(MAX_SPP, Math.max(MIN_SPP, v.spp * factor));
  return clamp({ ...v, spp, t0: t - x * spp });
}

/** Scroll by `px` pixels (positive: later). */
export function scrollBy(v: View, px: number): View {
  return clamp({ ...v, t0: v.t0 + px * v.spp });
}

/** Centre the view on time `t` (keeping the zoom). */
export function centreOn(v: View, t: number): View {
  return clamp({ ...v, t0: t - (v.spp * v.width) / 2 });
}

/** Show [a, b] with a margin, zooming in only as far as `maxZoomSpp`... or out as needed. */
export function show(v: View, a: number, b: number, margin = 0.15): View {
  const span = Math.max(b - a, 0.01) * (1 + 2 * margin);
  const spp = Math.max(MIN_SPP, span / v.width);
  return clamp({ ...v, spp, t0: a - (span - (b - a)) / 2 });
}

/** A gesture on the spectrogram: a click (small movement) or a drag-selected range. */
export type Gesture = { kind: 'click'; t: number } | { kind: 'range'; start: number; end: number };

export const CLICK_SLOP_PX = 4;

export function gesture(v: View, xDown: number, xUp: number): Gesture {
  if (Math.abs(xUp - xDown) <= CLICK_SLOP_PX) {
    return { kind: 'click', t: Math.min(v.duration, Math.max(0, timeAt(v, xDown))) };
  }
  const a = Math.max(0, timeAt(v, Math.min(xDown, xUp)));
  const b = Math.min(v.duration, timeAt(v, Math.max(xDown, xUp)));
  return { kind: 'range', start: a, end: b };
}

/** Tick positions for a time axis: a "nice" step giving about one label per `minPx` pixels. */
export function timeTicks(v: View, minPx = 90): { step: number; ticks: number[] } {
  const raw = v.spp * minPx;
  const steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
  const step = steps.find((s) => s >= raw) ?? 3600 * Math.ceil(raw / 3600);
  const first = Math.ceil(v.t0 / step) * step;
  const ticks: number[] = [];
  for (let t = first; t <= t1(v) + 1e-9 && ticks.length < 200; t += step) ticks.push(Number(t.toFixed(6)));
  return { step, ticks };
}

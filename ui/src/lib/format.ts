// Formatting of times, durations, sizes and latencies for display.

/** `83.25` -> `1:23.3`; `3725` -> `1:02:05`; negative or non-finite -> `–`. */
export function clock(s: number, decimals = 1): string {
  if (!Number.isFinite(s) || s < 0) return '–';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const secStr =
    h > 0 ? Math.floor(sec).toString().padStart(2, '0') : sec.toFixed(decimals).padStart(decimals > 0 ? 3 + decimals : 2, '0');
  return h > 0 ? `${h}:${m.toString().padStart(2, '0')}:${secStr}` : `${m}:${secStr}`;
}

/** A duration in words: `45 s`, `12 min`, `3.4 h`. */
export function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '–';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${(s / 60).toFixed(s < 600 ? 1 : 0)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Microseconds as `850 µs`, `1.25 ms`, `3.4 s`. */
export function micros(us: number): string {
  if (!Number.isFinite(us) || us < 0) return '–';
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
  return `${(us / 1_000_000).toFixed(1)} s`;
}

/** Bytes as `512 B`, `1.5 MB`... (powers of 1000, as file managers show them). */
export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '–';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 || v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** Unix seconds as a local date and time `2026-12-01 20:15`. */
export function dateTime(unixS: number): string {
  const d = new Date(unixS * 1000);
  const p = (x: number) => x.toString().padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Hz as `800 Hz` or `12 kHz`. */
export function hertz(f: number): string {
  if (f >= 1000) return `${(f / 1000).toFixed(f % 1000 === 0 || f >= 10000 ? 0 : 1)} kHz`;
  return `${Math.round(f)} Hz`;
}

/** Last component of a path (either separator). */
export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 ? path.slice(i + 1) : path;
}

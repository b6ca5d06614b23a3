// The latency histogram panel's data: the engine's log-spaced buckets (x2 from 1 µs) as bars.

export interface Bucket {
  upper_us: number;
  count: number;
}

export interface Bar {
  /** Label of the bucket's upper bound, e.g. "256 µs". */
  label: string;
  lower_us: number;
  upper_us: number;
  count: number;
  /** Height relative to the tallest bar (0..1). */
  rel: number;
}

function us(v: number): string {
  if (v < 1000) return `${v} µs`;
  if (v < 1_000_000) return `${+(v / 1000).toFixed(1)} ms`;
  return `${+(v / 1_000_000).toFixed(1)} s`;
}

/** Bars from the first to the last non-empty bucket (at least `minBars`, padding on the left). */
export function bars(buckets: Bucket[], minBars = 8): Bar[] {
  const sorted = [...buckets].sort((a, b) => a.upper_us - b.upper_us);
  let first = sorted.findIndex((b) => b.count > 0);
  let last = sorted.length - 1 - [...sorted].reverse().findIndex((b) => b.count > 0);
  if (first < 0) return [];
  while (last - first + 1 < minBars && first > 0) first--;
  const slice = sorted.slice(first, last + 1);
  const max = Math.max(1, ...slice.map((b) => b.count));
  return slice.map((b, i) => ({
    label: us(b.upper_us),
    lower_us: i === 0 && first === 0 ? 0 : first + i > 0 ? sorted[first + i - 1].upper_us : 0,
    upper_us: b.upper_us,
    count: b.count,
    rel: b.count / max,
  }));
}

/** Merge per-kind bucket lists (same bounds) into one. */
export function merge(lists: Bucket[][]): Bucket[] {
  const m = new Map<number, number>();
  for (const l of lists) for (const b of l) m.set(b.upper_us, (m.get(b.upper_us) ?? 0) + b.count);
  return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([upper_us, count]) => ({ upper_us, count }));
}

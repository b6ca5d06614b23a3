// Live latency: every query's engine latency as a histogram with p50/p90/p99, the click-to-results
// time in this window, and ingest throughput while ingesting.

import { useEffect, useRef } from 'preact/hooks';
import { api } from '../api';
import { micros } from '../lib/format';
import { bars, merge } from '../lib/histogram';
import { clickToResults, jobs, latency, refreshLatency, throughput } from '../state';

function pct(v: number[], q: number): number {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function Sparkline({ values, testid }: { values: number[]; testid?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    ctx.clearRect(0, 0, c.width, c.height);
    if (values.length < 2) return;
    const max = Math.max(...values, 1);
    ctx.strokeStyle = '#40e0c4';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    values.forEach((v, i) => {
      const x = (i / (values.length - 1)) * (c.width - 2) + 1;
      const y = c.height - 2 - (v / max) * (c.height - 4);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
  });
  return <canvas ref={ref} width={220} height={36} class="spark" data-testid={testid} />;
}

export function LatencyPanel() {
  const l = latency.value;
  useEffect(() => {
    void refreshLatency();
  }, []);
  const total = l.reduce((s, k) => s + k.count, 0);
  const b = bars(merge(l.map((k) => k.buckets)));
  const c2r = clickToResults.value;
  const running = jobs.value.some((j) => j.state === 'running');
  const tp = throughput.value;
  return (
    <div class="latency" data-testid="latency-panel" data-count={total} data-click-to-screen={c2r.map((v) => v.toFixed(2)).join(',')}>
      <div class="lat-hist">
        <div class="bars">
          {b.map((x) => (
            <div class="bar-col" title={`${x.count} queries ≤ ${x.label}`}>
              <div class="b" style={{ height: `${Math.max(x.count ? 3 : 0, x.rel * 100)}%` }} />
              <span>{x.label}</span>
            </div>
          ))}
          {!b.length && <p class="muted">No queries yet.</p>}
        </div>
      </div>
      <table class="lat-table">
        <thead>
          <tr>
            <th>query</th>
            <th>n</th>
            <th>p50</th>
            <th>p90</th>
            <th>p99</th>
            <th>max</th>
          </tr>
        </thead>
        <tbody>
          {l.map((k) => (
            <tr data-testid={`latency-${k.kind}`} data-count={k.count}>
              <td>{k.kind}</td>
              <td>{k.count}</td>
              <td>{micros(k.p50_us)}</td>
              <td>{micros(k.p90_us)}</td>
              <td>{micros(k.p99_us)}</td>
              <td>{micros(k.max_us)}</td>
            </tr>
          ))}
          <tr class="ui-row" title="From the click to the results on screen, in this window">
            <td>click→screen</td>
            <td>{c2r.length}</td>
            <td>{c2r.length ? `${pct(c2r, 0.5).toFixed(1)} ms` : '–'}</td>
            <td>{c2r.length ? `${pct(c2r, 0.9).toFixed(1)} ms` : '–'}</td>
            <td>{c2r.length ? `${pct(c2r, 0.99).toFixed(1)} ms` : '–'}</td>
            <td>{c2r.length ? `${Math.max(...c2r).toFixed(1)} ms` : '–'}</td>
          </tr>
        </tbody>
      </table>
      <div class="throughput">
        <div>
          Ingest {running ? 'now' : 'last run'}: {tp.length ? `${tp[tp.length - 1].wps.toFixed(0)} windows/s · ${tp[tp.length - 1].rtf.toFixed(0)}× real time` : '–'}
        </div>
        <Sparkline values={tp.map((x) => x.wps)} testid="throughput-spark" />
        <button class="link" onClick={() => api.resetLatency().then(refreshLatency)}>
          reset
        </button>
      </div>
    </div>
  );
}

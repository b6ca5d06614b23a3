import { describe, expect, it } from 'vitest';
import { clamp, fit, gesture, scrollBy, show, t1, timeAt, timeTicks, xAt, zoomAt } from './view';

describe('view', () => {
  const v = { t0: 10, spp: 0.01, width: 1000, duration: 100 };
  it('maps pixels and times both ways', () => {
    expect(timeAt(v, 0)).toBe(10);
    expect(timeAt(v, 500)).toBeCloseTo(15);
    expect(xAt(v, 15)).toBeCloseTo(500);
    expect(t1(v)).toBeCloseTo(20);
  });
  it('zooms around the pointer', () => {
    const z = zoomAt(v, 250, 0.5);
    expect(timeAt(z, 250)).toBeCloseTo(timeAt(v, 250));
    expect(z.spp).toBeCloseTo(0.005);
  });
  it('clamps to the recording', () => {
    expect(scrollBy(v, -5000).t0).toBe(0);
    expect(t1(scrollBy(v, 1e6))).toBeCloseTo(100);
    const short = clamp({ t0: 3, spp: 0.01, width: 1000, duration: 4 });
    expect(short.t0).toBe(0);
  });
  it('fits a whole recording', () => {
    const f = fit(3600, 1200);
    expect(f.t0).toBe(0);
    expect(t1(f)).toBeCloseTo(3600);
  });
  it('shows a range with a margin', () => {
    const s = show(v, 40, 43);
    expect(s.t0).toBeLessThan(40);
    expect(t1(s)).toBeGreaterThan(43);
  });
  it('tells a click from a drag', () => {
    expect(gesture(v, 100, 102)).toEqual({ kind: 'click', t: 11 });
    const g = gesture(v, 300, 100);
    expect(g.kind).toBe('range');
    if (g.kind === 'range') {
      expect(g.start).toBeCloseTo(11);
      expect(g.end).toBeCloseTo(13);
    }
  });
  it('picks readable time ticks', () => {
    const { step, ticks } = timeTicks(v);
    expect(step).toBe(1);
    expect(ticks[0]).toBe(10);
    expect(ticks.length).toBe(11);
  });
});

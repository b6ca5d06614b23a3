import { describe, expect, it } from 'vitest';
import { BASE_SPP, levelFor, Lru, parseTile, sppOf, TILE_PX, tilesFor } from './tiles';

const f = { scale: 'linear' as const, f_min: 0, f_max: 12000, height: 256 };

describe('tile grid', () => {
  it('levels never upscale by more than 2x', () => {
    for (const spp of [BASE_SPP, BASE_SPP * 1.5, BASE_SPP * 3, 0.5, 10]) {
      const l = levelFor(spp);
      expect(sppOf(l)).toBeLessThanOrEqual(spp * (1 + 1e-9));
      expect(sppOf(l) * 2).toBeGreaterThan(spp);
    }
    expect(levelFor(BASE_SPP / 10)).toBe(0);
  });
  it('covers the view, clipped to the recording', () => {
    const spp = sppOf(2);
    const tileS = TILE_PX * spp;
    const t = tilesFor(7, tileS * 0.5, tileS * 2.5, spp, tileS * 2.2, f);
    expect(t.map((x) => x.index)).toEqual([0, 1, 2]);
    expect(t[0].start_s).toBe(0);
    expect(t[2].end_s).toBeCloseTo(tileS * 2.2);
    expect(t[2].width).toBe(Math.round(0.2 * TILE_PX));
    expect(new Set(t.map((x) => x.key)).size).toBe(3);
    expect(t[0].key).toContain('7|2|0|linear');
  });
  it('returns nothing outside the recording', () => {
    expect(tilesFor(1, 100, 200, 0.1, 50, f)).toEqual([]);
  });
  it('the same time maps to the same tiles when scrolling', () => {
    const spp = sppOf(3);
    const a = tilesFor(1, 10, 20, spp, 1000, f).map((x) => x.key);
    const b = tilesFor(1, 12, 22, spp, 1000, f).map((x) => x.key);
    expect(b.filter((k) => a.includes(k)).length).toBeGreaterThan(0);
  });
});

describe('parseTile', () => {
  it('reads the header and pixels', () => {
    const buf = new ArrayBuffer(32 + 6);
    const dv = new DataView(buf);
    dv.setUint32(0, 3, true);
    dv.setUint32(4, 2, true);
    dv.setFloat64(8, 1.5, true);
    dv.setFloat64(16, 4.5, true);
    dv.setFloat32(24, 0, true);
    dv.setFloat32(28, 24000, true);
    new Uint8Array(buf, 32).set([1, 2, 3, 4, 5, 6]);
    const t = parseTile(buf);
    expect([t.width, t.height, t.t0, t.t1, t.f_max]).toEqual([3, 2, 1.5, 4.5, 24000]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(parseTile(Array.from(new Uint8Array(buf))).width).toBe(3);
  });
  it('rejects a short or inconsistent buffer', () => {
    expect(() => parseTile(new ArrayBuffer(10))).toThrow(/too short/);
    const buf = new ArrayBuffer(33);
    new DataView(buf).setUint32(0, 5, true);
    new DataView(buf).setUint32(4, 5, true);
    expect(() => parseTile(buf)).toThrow(/pixel bytes/);
  });
});

describe('Lru', () => {
  it('evicts the least recently used', () => {
    const l = new Lru<string, number>(2);
    l.set('a', 1);
    l.set('b', 2);
    l.get('a');
    l.set('c', 3);
    expect(l.has('a')).toBe(true);
    expect(l.has('b')).toBe(false);
    expect(l.size).toBe(2);
  });
});

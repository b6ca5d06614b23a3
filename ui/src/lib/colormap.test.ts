import { describe, expect, it } from 'vitest';
import { autoContrast, levelMap, lut, paint } from './colormap';

describe('colormap', () => {
  it('grey maps bytes to equal RGB, opaque', () => {
    const t = lut('grey');
    expect(t[0] >>> 0).toBe(0xff000000);
    expect(t[255] >>> 0).toBe(0xffffffff);
    const inv = lut('grey-inverted');
    expect(inv[0] >>> 0).toBe(0xffffffff);
  });
  it('viridis starts dark purple and ends yellow', () => {
    const t = lut('viridis');
    expect(t[0] & 0xff).toBe(68);
    expect(t[255] & 0xff).toBe(253);
    expect((t[255] >> 8) & 0xff).toBe(231);
  });
  it('contrast clamps below the floor and above the ceiling', () => {
    const m = levelMap({ floorDb: -60, ceilDb: -20 });
    // byte for -90 dB is below the floor
    expect(m[Math.round(((-90 + 120) / 120) * 255)]).toBe(0);
    expect(m[255]).toBe(255);
    const mid = Math.round(((-40 + 120) / 120) * 255);
    expect(m[mid]).toBeGreaterThan(120);
    expect(m[mid]).toBeLessThan(135);
  });
  it('paint applies both tables', () => {
    const src = new Uint8Array([0, 255]);
    const dst = new Uint32Array(2);
    paint(src, dst, lut('grey'), levelMap({ floorDb: -120, ceilDb: 0 }));
    expect(dst[0] >>> 0).toBe(0xff000000);
    expect(dst[1] >>> 0).toBe(0xffffffff);
  });
  it('auto contrast puts the floor at the median', () => {
    const src = new Uint8Array(1000).fill(64);
    for (let i = 0; i < 10; i++) src[i] = 250;
    const c = autoContrast(src);
    expect(c.floorDb).toBe(Math.round(-120 + (64 / 255) * 120));
    expect(c.ceilDb).toBeGreaterThanOrEqual(c.floorDb + 20);
  });
});

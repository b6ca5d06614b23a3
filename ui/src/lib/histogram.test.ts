import { describe, expect, it } from 'vitest';
import { bars, merge } from './histogram';

describe('latency histogram', () => {
  const b = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024].map((u) => ({ upper_us: u, count: 0 }));
  it('is empty without queries', () => {
    expect(bars(b)).toEqual([]);
  });
  it('spans the non-empty buckets, padded to a minimum, scaled to the tallest', () => {
    const x = b.map((k) => ({ ...k, count: k.upper_us === 256 ? 10 : k.upper_us === 512 ? 5 : 0 }));
    const r = bars(x, 4);
    expect(r.map((y) => y.upper_us)).toEqual([64, 128, 256, 512]);
    expect(r[2].rel).toBe(1);
    expect(r[3].rel).toBe(0.5);
    expect(r[2].label).toBe('256 µs');
    expect(r[3].lower_us).toBe(256);
  });
  it('merges kinds', () => {
    const m = merge([[{ upper_us: 8, count: 1 }], [{ upper_us: 8, count: 2 }, { upper_us: 16, count: 1 }]]);
    expect(m).toEqual([{ upper_us: 8, count: 3 }, { upper_us: 16, count: 1 }]);
  });
});

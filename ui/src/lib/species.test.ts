import { describe, expect, it } from 'vitest';
import { scoreAlpha, speciesColour } from './species';

describe('species colours', () => {
  it('are stable and differ between species', () => {
    expect(speciesColour('Zebra Finch')).toBe(speciesColour('Zebra Finch'));
    expect(speciesColour('Zebra Finch')).not.toBe(speciesColour('Monk Parakeet'));
    expect(speciesColour('x')).toMatch(/^hsl\(\d+, \d+%, \d+%\)$/);
  });
  it('fade with low scores', () => {
    expect(scoreAlpha(0)).toBe(0.15);
    expect(scoreAlpha(0.5)).toBe(0.5);
    expect(scoreAlpha(2)).toBe(1);
  });
});

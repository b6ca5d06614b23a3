import { describe, expect, it } from 'vitest';
import { actionFor, SHORTCUTS } from './keys';

describe('shortcuts', () => {
  it('maps keys to actions', () => {
    expect(actionFor({ key: ' ' })).toBe('play-pause');
    expect(actionFor({ key: 'j' })).toBe('next-hit');
    expect(actionFor({ key: 'y' })).toBe('label-positive');
    expect(actionFor({ key: 'q' })).toBeUndefined();
  });
  it('ignores keys typed into fields and chords', () => {
    expect(actionFor({ key: 'j', target: { tagName: 'input' } })).toBeUndefined();
    expect(actionFor({ key: 'Escape', target: { tagName: 'INPUT' } })).toBe('escape');
    expect(actionFor({ key: 'j', ctrlKey: true })).toBeUndefined();
  });
  it('no key is bound twice', () => {
    const all = SHORTCUTS.flatMap((s) => s.keys);
    expect(new Set(all).size).toBe(all.length);
  });
});

import { describe, expect, it } from 'vitest';
import { baseName, bytes, clock, duration, hertz, micros } from './format';

describe('format', () => {
  it('clock', () => {
    expect(clock(0)).toBe('0:00.0');
    expect(clock(83.25)).toBe('1:23.3');
    expect(clock(3725)).toBe('1:02:05');
    expect(clock(-1)).toBe('–');
    expect(clock(NaN)).toBe('–');
    expect(clock(5, 0)).toBe('0:05');
  });
  it('duration', () => {
    expect(duration(4.25)).toBe('4.3 s');
    expect(duration(45)).toBe('45 s');
    expect(duration(90)).toBe('1.5 min');
    expect(duration(7200)).toBe('2.0 h');
  });
  it('micros', () => {
    expect(micros(250)).toBe('250 µs');
    expect(micros(1250)).toBe('1.25 ms');
    expect(micros(25_000)).toBe('25.0 ms');
    expect(micros(3_400_000)).toBe('3.4 s');
  });
  it('bytes and hertz', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1_500_000)).toBe('1.5 MB');
    expect(hertz(800)).toBe('800 Hz');
    expect(hertz(12000)).toBe('12 kHz');
    expect(hertz(1500)).toBe('1.5 kHz');
  });
  it('baseName', () => {
    expect(baseName('/a/b/c.wav')).toBe('c.wav');
    expect(baseName('C:\\x\\y.flac')).toBe('y.flac');
    expect(baseName('plain.mp3')).toBe('plain.mp3');
  });
});

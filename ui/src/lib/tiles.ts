// The tile grid: which spectrogram tiles cover a view, at which zoom level, and how to parse
// the engine's binary tile format.

/** Pixels per tile column run. */
export const TILE_PX = 256;

/** Seconds per pixel of zoom level 0 (finest: ~5 ms per pixel). */
export const BASE_SPP = 1 / 200;

/** Level whose seconds-per-pixel is the largest not above `spp` (so tiles are never upscaled by more than 2x). */
export function levelFor(spp: number): number {
  if (!(spp > 0)) return 0;
  return Math.max(0, Math.floor(Math.log2(spp / BASE_SPP) + 1e-9));
}

export function sppOf(level: number): number {
  return BASE_SPP * 2 ** level;
}

export interface TileSpec {
  key: string;
  level: number;
  index: number;
  start_s: number;
  end_s: number;
  /** Pixel width requested (shorter for the last tile of a recording). */
  width: number;
}

export interface FreqSpec {
  scale: 'linear' | 'mel';
  f_min: number;
  f_max: number;
  height: number;
}

export function freqKey(f: FreqSpec): string {
  return `${f.scale}:${f.f_min}:${f.f_max}:${f.height}`;
}

/** Tiles covering [t0, t1) of a recording of length `duration` at the level for `spp`. */
export function tilesFor(recording: number, t0: number, t1: number, spp: number, duration: number, f: FreqSpec): TileSpec[] {
  const level = levelFor(spp);
  const lspp = sppOf(level);
  const tileS = TILE_PX * lspp;
  const a = Math.max(0, t0);
  const b = Math.min(duration, t1);
  if (!(b > a)) return [];
  const first = Math.floor(a / tileS);
  const last = Math.floor((b - 1e-9) / tileS);
  const out: TileSpec[] = [];
  for (let i = first; i <= last; i++) {
    const start = i * tileS;
    const end = Math.min(duration, (i + 1) * tileS);
    const width = Math.max(1, Math.round((end - start) / lspp));
    out.push({ key: `${recording}|${level}|${i}|${freqKey(f)}`, level, index: i, start_s: start, end_s: end, width });
  }
  return out;
}

/** A tile as the engine sends it. `data` is row-major, row 0 = top (highest frequency). */
export interface TileData {
  width: number;
  height: number;
  t0: number;
  t1: number;
  f_min: number;
  f_max: number;
  data: Uint8Array;
}

/** Parse the engine's binary tile: 32-byte LE header (u32 w, u32 h, f64 t0, f64 t1, f32 fmin, f32 fmax) + pixels. */
export function parseTile(buf: ArrayBuffer | Uint8Array | number[]): TileData {
  const u8 = buf instanceof Uint8Array ? buf : Array.isArray(buf) ? Uint8Array.from(buf) : new Uint8Array(buf);
  if (u8.length < 32) throw new Error(`tile too short (${u8.length} bytes)`);
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const width = dv.getUint32(0, true);
  const height = dv.getUint32(4, true);
  const n = width * height;
  if (u8.length !== 32 + n) throw new Error(`tile of ${width}x${height} has ${u8.length - 32} pixel bytes`);
  return {
    width,
    height,
    t0: dv.getFloat64(8, true),
    t1: dv.getFloat64(16, true),
    f_min: dv.getFloat32(24, true),
    f_max: dv.getFloat32(28, true),
    data: u8.subarray(32),
  };
}

/** A small LRU map (insertion order = recency). */
export class Lru<K, V> {
  private map = new Map<K, V>();
  constructor(private capacity: number) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
    }
  }
  has(k: K): boolean {
    return this.map.has(k);
  }
  get size(): number {
    return this.map.size;
  }
  clear(): void {
    this.map.clear();
  }
}

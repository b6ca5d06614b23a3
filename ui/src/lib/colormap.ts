// Colour maps and contrast for spectrogram bytes (0..255 = -120..0 dBFS, see the engine's tiles).

export type ColormapName = 'viridis' | 'magma' | 'grey' | 'grey-inverted';

export const COLORMAPS: ColormapName[] = ['viridis', 'magma', 'grey', 'grey-inverted'];

/** Engine byte 0 = this many dB; byte 255 = 0 dBFS. */
export const FLOOR_DB = -120;

// Anchor colours sampled from matplotlib's maps (CC0), interpolated linearly between them.
const ANCHORS: Record<'viridis' | 'magma', [number, number, number][]> = {
  viridis: [
    [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
    [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37],
  ],
  magma: [
    [0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
    [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191], [252, 253, 191],
  ],
};

/** A 256-entry RGBA lookup table, packed as little-endian u32 (ImageData order on all targets we run). */
export function lut(name: ColormapName): Uint32Array {
  const out = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r: number, g: number, b: number;
    if (name === 'grey' || name === 'grey-inverted') {
      const v = name === 'grey' ? i : 255 - i;
      r = g = b = v;
    } else {
      const a = ANCHORS[name];
      const x = (i / 255) * (a.length - 1);
      const k = Math.min(Math.floor(x), a.length - 2);
      const f = x - k;
      r = Math.round(a[k][0] + (a[k + 1][0] - a[k][0]) * f);
      g = Math.round(a[k][1] + (a[k + 1][1] - a[k][1]) * f);
      b = Math.round(a[k][2] + (a[k + 1][2] - a[k][2]) * f);
    }
    out[i] = (255 << 24) | (b << 16) | (g << 8) | r;
  }
  return out;
}

/** Contrast: levels at or below `floorDb` are the map's first colour, at or above `ceilDb` its last. */
export interface Contrast {
  floorDb: number;
  ceilDb: number;
}

/** Byte (engine scale) -> LUT index, for a contrast setting. */
export function levelMap(c: Contrast): Uint8Array {
  const m = new Uint8Array(256);
  const span = Math.max(1, c.ceilDb - c.floorDb);
  for (let b = 0; b < 256; b++) {
    const db = FLOOR_DB + (b / 255) * -FLOOR_DB;
    const t = (db - c.floorDb) / span;
    m[b] = Math.round(Math.min(1, Math.max(0, t)) * 255);
  }
  return m;
}

/** Paint engine bytes into RGBA pixels. `dst` must hold `src.length` u32s. */
export function paint(src: Uint8Array, dst: Uint32Array, table: Uint32Array, levels: Uint8Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = table[levels[src[i]]];
}

/** Contrast that spreads the loudest part of a tile over the map: floor at the median, ceiling at the 99.5th percentile. */
export function autoContrast(src: Uint8Array): Contrast {
  if (src.length === 0) return { floorDb: -90, ceilDb: -20 };
  const hist = new Uint32Array(256);
  for (const b of src) hist[b]++;
  const at = (q: number) => {
    let acc = 0;
    const target = q * src.length;
    for (let b = 0; b < 256; b++) {
      acc += hist[b];
      if (acc >= target) return FLOOR_DB + (b / 255) * -FLOOR_DB;
    }
    return 0;
  };
  const floorDb = at(0.5);
  const ceilDb = Math.max(floorDb + 20, at(0.995));
  return { floorDb: Math.round(floorDb), ceilDb: Math.round(ceilDb) };
}

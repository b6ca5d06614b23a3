// Turning engine tiles into bitmaps (with the current colour map and contrast) and fetching
// tiles once, whoever asks.

import { api, type TileRequest } from './api';
import { levelMap, lut, paint, type ColormapName } from './lib/colormap';
import { Lru, type TileData } from './lib/tiles';

interface Painted {
  canvas: HTMLCanvasElement;
  paintKey: string;
}

const data = new Lru<string, TileData>(600);
const bitmaps = new Lru<string, Painted>(300);
const pending = new Map<string, Promise<TileData>>();
const failed = new Map<string, string>();

let tableKey = '';
let table = lut('viridis');
let levels = levelMap({ floorDb: -95, ceilDb: -25 });

export function setPalette(colormap: ColormapName, floorDb: number, ceilDb: number): string {
  const k = `${colormap}:${floorDb}:${ceilDb}`;
  if (k !== tableKey) {
    tableKey = k;
    table = lut(colormap);
    levels = levelMap({ floorDb, ceilDb });
  }
  return k;
}

/** The colour for the palette's lowest level (to fill areas without data). */
export function paletteBackground(): string {
  const c = table[levels[0]];
  return `rgb(${c & 0xff}, ${(c >> 8) & 0xff}, ${(c >> 16) & 0xff})`;
}

/** A tile's data if cached; otherwise starts fetching it and calls `onReady` when it arrives. */
export function tileData(key: string, req: TileRequest, onReady: () => void): TileData | undefined {
  const d = data.get(key);
  if (d) return d;
  if (failed.has(key)) return undefined;
  if (!pending.has(key)) {
    const p = api.tile(req);
    pending.set(key, p);
    p.then(
      (t) => {
        data.set(key, t);
        pending.delete(key);
        onReady();
      },
      (e) => {
        pending.delete(key);
        failed.set(key, String((e as { message?: string })?.message ?? e));
        onReady();
      },
    );
  }
  return undefined;
}

/** Why a tile could not be computed, if it failed. */
export function tileError(key: string): string | undefined {
  return failed.get(key);
}

export function forgetFailures(): void {
  failed.clear();
}

/** A canvas with the tile painted in the current palette. */
export function bitmap(key: string, t: TileData): HTMLCanvasElement {
  const b = bitmaps.get(key);
  if (b && b.paintKey === tableKey) return b.canvas;
  const canvas = b?.canvas ?? document.createElement('canvas');
  canvas.width = t.width;
  canvas.height = t.height;
  const ctx = canvas.getContext('2d');
  if (ctx) {
    const img = ctx.createImageData(t.width, t.height);
    paint(t.data, new Uint32Array(img.data.buffer), table, levels);
    ctx.putImageData(img, 0, 0);
  }
  bitmaps.set(key, { canvas, paintKey: tableKey });
  return canvas;
}

/** Paint bytes (row-major, top row first) into a canvas context at (x, y). */
export function paintInto(ctx: CanvasRenderingContext2D, bytes: Uint8Array, w: number, h: number, x: number, y: number): void {
  if (w <= 0 || h <= 0) return;
  const img = ctx.createImageData(w, h);
  paint(bytes, new Uint32Array(img.data.buffer), table, levels);
  ctx.putImageData(img, x, y);
}

// Colour map, contrast and frequency axis of the spectrograms.

import { COLORMAPS, type ColormapName } from '../lib/colormap';
import { display } from '../state';

export function DisplayControls() {
  const d = display.value;
  const set = (patch: Partial<typeof d>) => (display.value = { ...d, ...patch });
  return (
    <div class="display-controls">
      <label>
        Colours
        <select value={d.colormap} onChange={(e) => set({ colormap: (e.currentTarget as HTMLSelectElement).value as ColormapName })}>
          {COLORMAPS.map((c) => (
            <option value={c}>{c}</option>
          ))}
        </select>
      </label>
      <label title="Levels below this are drawn as background">
        Floor {d.floorDb} dB
        <input
          type="range"
          min={-120}
          max={-30}
          value={d.floorDb}
          onInput={(e) => set({ floorDb: Math.min(+(e.currentTarget as HTMLInputElement).value, d.ceilDb - 10) })}
        />
      </label>
      <label title="Levels above this are drawn at full colour">
        Ceiling {d.ceilDb} dB
        <input
          type="range"
          min={-80}
          max={0}
          value={d.ceilDb}
          onInput={(e) => set({ ceilDb: Math.max(+(e.currentTarget as HTMLInputElement).value, d.floorDb + 10) })}
        />
      </label>
      <label>
        Scale
        <select value={d.scale} onChange={(e) => set({ scale: (e.currentTarget as HTMLSelectElement).value as 'linear' | 'mel' })}>
          <option value="linear">linear</option>
          <option value="mel">mel</option>
        </select>
      </label>
      <label>
        Up to
        <select value={d.fMax} onChange={(e) => set({ fMax: +(e.currentTarget as HTMLSelectElement).value })}>
          {[4000, 8000, 12000, 16000, 24000, 96000].map((f) => (
            <option value={f}>{f >= 96000 ? 'Nyquist' : `${f / 1000} kHz`}</option>
          ))}
        </select>
      </label>
    </div>
  );
}

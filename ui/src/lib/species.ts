// A stable colour per species for the species track and hit badges.

/** FNV-1a hash of a string. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** An HSL colour for a species name, readable on a dark background. */
export function speciesColour(name: string): string {
  const h = hash(name);
  return `hsl(${h % 360}, ${55 + (h >> 9) % 25}%, ${50 + (h >> 17) % 15}%)`;
}

/** Alpha for a score: faint below 0.1, solid at 1. */
export function scoreAlpha(score: number): number {
  return Math.min(1, Math.max(0.15, score));
}

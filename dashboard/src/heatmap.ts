import type { Heatmap } from "./types";

function parseHex(c: string): [number, number, number] {
  const m = /^#?([0-9a-f]{6})$/i.exec(c.trim());
  if (!m) return [0, 0, 0];
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Colour ramp lo -> mid -> hi as 256 RGB triples. */
export function ramp(lo: string, mid: string, hi: string): Uint8ClampedArray {
  const a = parseHex(lo);
  const b = parseHex(mid);
  const c = parseHex(hi);
  const out = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const [from, to, f] = t < 0.5 ? [a, b, t * 2] : [b, c, (t - 0.5) * 2];
    for (let k = 0; k < 3; k++) out[i * 3 + k] = from[k] + (to[k] - from[k]) * f;
  }
  return out;
}

/** Value range of a heatmap, on a log scale when every value is positive and they span >2 decades. */
export function heatScale(values: (number | null)[][]): { lo: number; hi: number; log: boolean } {
  let lo = Infinity;
  let hi = -Infinity;
  let positive = true;
  for (const row of values)
    for (const v of row) {
      if (v == null || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (v <= 0) positive = false;
    }
  if (!Number.isFinite(lo)) return { lo: 0, hi: 1, log: false };
  const log = positive && hi / lo > 100;
  return log ? { lo: Math.log10(lo), hi: Math.log10(hi), log } : { lo, hi, log };
}

/** Draws one cell per (layer, step) onto the canvas, scaled to fill it (crisp, no smoothing). */
export function drawHeatmap(canvas: HTMLCanvasElement, hm: Heatmap, colors: Uint8ClampedArray, empty: string): void {
  const nx = hm.steps.length;
  const ny = hm.layers.length;
  canvas.width = Math.max(1, nx);
  canvas.height = Math.max(1, ny);
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  if (nx === 0 || ny === 0) {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    return;
  }
  const { lo, hi, log } = heatScale(hm.values);
  const span = hi - lo || 1;
  const img = ctx.createImageData(nx, ny);
  const [er, eg, eb] = parseHex(empty);
  for (let y = 0; y < ny; y++) {
    const row = hm.values[y] ?? [];
    for (let x = 0; x < nx; x++) {
      const raw = row[x];
      const o = (y * nx + x) * 4;
      if (raw == null || !Number.isFinite(raw) || (log && raw <= 0)) {
        img.data[o] = er;
        img.data[o + 1] = eg;
        img.data[o + 2] = eb;
      } else {
        const v = log ? Math.log10(raw) : raw;
        const i = Math.max(0, Math.min(255, Math.round(((v - lo) / span) * 255)));
        img.data[o] = colors[i * 3];
        img.data[o + 1] = colors[i * 3 + 1];
        img.data[o + 2] = colors[i * 3 + 2];
      }
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** Left edge of the cursor line, as a fraction of the heatmap width, centred on the step's cell. */
export function cursorFraction(steps: number[], step: number): number {
  if (!steps.length) return 0;
  return (nearestIndex(steps, step) + 0.5) / steps.length;
}

/** Index of the last step <= target (or 0). */
export function nearestIndex(steps: number[], target: number): number {
  let lo = 0;
  let hi = steps.length - 1;
  if (hi < 0) return 0;
  if (target <= steps[0]) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (steps[mid] <= target) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

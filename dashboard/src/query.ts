// Builds metric queries: each chart asks for as many points as it has pixels, over the
// range it shows, so the server's downsampling (which keeps extremes) decides what to drop.

export type XMode = "step" | "time" | "rel";

export interface RangeQuery {
  keys: string[];
  maxPoints: number;
  /** Visible x range in the chart's own units; omitted = everything. */
  xMin?: number;
  xMax?: number;
  xMode?: XMode;
  /** Unix seconds of the run's first point, to turn relative time back into wall time. */
  timeOrigin?: number;
  method?: "lttb" | "minmax";
}

export const MIN_POINTS = 32;
export const MAX_POINTS = 8192;

export function pointsForWidth(cssWidth: number, dpr = 1): number {
  const px = Math.round((Number.isFinite(cssWidth) ? cssWidth : 0) * Math.min(Math.max(dpr, 1), 2));
  return Math.min(MAX_POINTS, Math.max(MIN_POINTS, px));
}

export function buildMetricsQuery(q: RangeQuery): string {
  const p = new URLSearchParams();
  if (q.keys.length) p.set("keys", q.keys.join(","));
  p.set("max_points", String(Math.max(1, Math.floor(q.maxPoints))));
  if (q.method) p.set("method", q.method);
  const mode = q.xMode ?? "step";
  if (q.xMin != null && q.xMax != null && Number.isFinite(q.xMin) && Number.isFinite(q.xMax)) {
    const lo = Math.min(q.xMin, q.xMax);
    const hi = Math.max(q.xMin, q.xMax);
    if (mode === "step") {
      p.set("step_min", String(Math.max(0, Math.floor(lo))));
      p.set("step_max", String(Math.ceil(hi)));
    } else {
      const origin = mode === "rel" ? q.timeOrigin ?? 0 : 0;
      p.set("time_min", String(lo + origin));
      p.set("time_max", String(hi + origin));
    }
  }
  return p.toString();
}

/** A gap of steps to refetch after the server dropped part of a slow client's backlog. */
export function gapQuery(key: string, afterStep: number, beforeStep: number, maxPoints: number): string | null {
  if (!(beforeStep > afterStep + 1)) return null;
  const p = new URLSearchParams();
  p.set("keys", key);
  p.set("step_min", String(afterStep + 1));
  p.set("step_max", String(beforeStep - 1));
  p.set("max_points", String(maxPoints));
  return p.toString();
}

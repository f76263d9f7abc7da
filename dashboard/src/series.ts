import type { MetricUpdate, Series } from "./types";
import { gapQuery } from "./query";

/** One (run, key) series as a chart holds it: a downsampled base plus the live tail. */
export interface SeriesBuf {
  steps: number[];
  values: number[];
  times: number[];
  /** Points the server has in the fetched range (before downsampling). */
  total: number;
  downsampled: boolean;
  /** Pixels the chart has; the buffer is compacted back to about this many points. */
  maxPoints: number;
  /** Zoomed into a past range: live points are not appended (the range is refetched on reset). */
  frozen: boolean;
  /** Bumped on every change, so renderers can skip unchanged series. */
  version: number;
}

export function fromSeries(s: Series | undefined, maxPoints: number): SeriesBuf {
  return {
    steps: s ? s.steps.slice() : [],
    values: s ? s.values.slice() : [],
    times: s ? s.times.slice() : [],
    total: s?.total ?? 0,
    downsampled: s?.downsampled ?? false,
    maxPoints,
    frozen: false,
    version: 1,
  };
}

export function lastStep(buf: SeriesBuf): number {
  return buf.steps.length ? buf.steps[buf.steps.length - 1] : -1;
}

/** Adds one point in step order; the same step again replaces its value (idempotent replay). */
export function insertPoint(buf: SeriesBuf, step: number, value: number, time: number): void {
  const n = buf.steps.length;
  if (n === 0 || step > buf.steps[n - 1]) {
    buf.steps.push(step);
    buf.values.push(value);
    buf.times.push(time);
    buf.total++;
  } else {
    const i = lowerBound(buf.steps, step);
    if (buf.steps[i] === step) {
      buf.values[i] = value;
      buf.times[i] = time;
    } else {
      buf.steps.splice(i, 0, step);
      buf.values.splice(i, 0, value);
      buf.times.splice(i, 0, time);
      buf.total++;
    }
  }
  buf.version++;
}

/** Replaces the points of buf within [lo, hi] by those of s (a refetched range). */
export function mergeRange(buf: SeriesBuf, s: Series, lo: number, hi: number): void {
  const a = lowerBound(buf.steps, lo);
  let b = lowerBound(buf.steps, hi);
  if (b < buf.steps.length && buf.steps[b] === hi) b++;
  buf.steps.splice(a, b - a, ...s.steps);
  buf.values.splice(a, b - a, ...s.values);
  buf.times.splice(a, b - a, ...s.times);
  buf.total += s.total - (b - a);
  if (s.downsampled) buf.downsampled = true;
  buf.version++;
}

/**
 * Keeps a live buffer near its pixel budget: once it holds more than 3x maxPoints, everything but
 * the newest maxPoints is folded into min/max pairs per bucket, so peaks survive.
 */
export function compact(buf: SeriesBuf): boolean {
  const n = buf.steps.length;
  const budget = Math.max(16, buf.maxPoints);
  if (n <= budget * 3) return false;
  const keepTail = budget;
  const head = n - keepTail;
  const buckets = Math.max(1, Math.floor(budget / 2));
  const size = head / buckets;
  const steps: number[] = [];
  const values: number[] = [];
  const times: number[] = [];
  for (let k = 0; k < buckets; k++) {
    const from = Math.floor(k * size);
    const to = Math.min(head, Math.floor((k + 1) * size));
    if (to <= from) continue;
    let lo = from;
    let hi = from;
    for (let i = from + 1; i < to; i++) {
      if (buf.values[i] < buf.values[lo]) lo = i;
      if (buf.values[i] > buf.values[hi]) hi = i;
    }
    const first = Math.min(lo, hi);
    const second = Math.max(lo, hi);
    steps.push(buf.steps[first]);
    values.push(buf.values[first]);
    times.push(buf.times[first]);
    if (second !== first) {
      steps.push(buf.steps[second]);
      values.push(buf.values[second]);
      times.push(buf.times[second]);
    }
  }
  buf.steps = steps.concat(buf.steps.slice(head));
  buf.values = values.concat(buf.values.slice(head));
  buf.times = times.concat(buf.times.slice(head));
  buf.downsampled = true;
  buf.version++;
  return true;
}

export interface GapRequest {
  runId: string;
  key: string;
  query: string;
  lo: number;
  hi: number;
}

/**
 * Holds the series the charts show and applies the WebSocket's coalesced metric updates to
 * them: new points are appended, and a backlog the server dropped becomes a REST refetch.
 */
export class LiveStore {
  readonly series = new Map<string, Map<string, SeriesBuf>>();
  /** Newest step seen per run, for progress in the run list. */
  readonly newestStep = new Map<string, number>();

  set(runId: string, key: string, buf: SeriesBuf): void {
    let byKey = this.series.get(runId);
    if (!byKey) this.series.set(runId, (byKey = new Map()));
    byKey.set(key, buf);
  }

  get(runId: string, key: string): SeriesBuf | undefined {
    return this.series.get(runId)?.get(key);
  }

  drop(runId: string, key?: string): void {
    if (key == null) this.series.delete(runId);
    else this.series.get(runId)?.delete(key);
  }

  /** Returns the ranges to refetch (empty unless the server reported dropped points). */
  apply(msg: MetricUpdate, nowS: number = Date.now() / 1000): { changed: boolean; refetch: GapRequest[] } {
    const points =
      msg.points && msg.points.length ? msg.points : [{ step: msg.step, timestamp: msg.timestamp, metrics: msg.metrics }];
    const prevNewest = this.newestStep.get(msg.run_id) ?? -1;
    let newest = prevNewest;
    for (const p of points) if (p.step > newest) newest = p.step;
    if (msg.step > newest) newest = msg.step;
    this.newestStep.set(msg.run_id, newest);

    const byKey = this.series.get(msg.run_id);
    const refetch: GapRequest[] = [];
    let changed = false;
    if (!byKey) return { changed, refetch };
    const firstStep = points[0].step;
    for (const [key, buf] of byKey) {
      if (buf.frozen) continue;
      if (msg.dropped && msg.dropped > 0) {
        const q = gapQuery(key, lastStep(buf), firstStep, buf.maxPoints);
        if (q) refetch.push({ runId: msg.run_id, key, query: q, lo: lastStep(buf) + 1, hi: firstStep - 1 });
      }
      for (const p of points) {
        const v = p.metrics[key];
        if (typeof v !== "number") continue;
        insertPoint(buf, p.step, v, p.timestamp ?? msg.timestamp ?? nowS);
        changed = true;
      }
      compact(buf);
    }
    return { changed, refetch };
  }
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

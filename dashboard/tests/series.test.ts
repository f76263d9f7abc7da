import { describe, expect, it } from "vitest";
import { LiveStore, compact, fromSeries, insertPoint, mergeRange } from "../src/series";
import type { MetricUpdate, Series } from "../src/types";

const series = (steps: number[], values = steps.map((s) => s * 10)): Series => ({
  steps,
  values,
  times: steps.map((s) => 1000 + s),
  total: steps.length,
  downsampled: false,
});

const update = (run: string, points: [number, Record<string, number>][], dropped = 0): MetricUpdate => ({
  type: "metric_update",
  run_id: run,
  step: points[points.length - 1][0],
  metrics: points[points.length - 1][1],
  timestamp: 2000,
  points: points.map(([step, metrics]) => ({ step, timestamp: 2000 + step, metrics })),
  dropped,
});

describe("WS metric_update handling", () => {
  it("appends every coalesced point of a message, not only the newest", () => {
    const live = new LiveStore();
    live.set("r1", "loss", fromSeries(series([1, 2, 3]), 100));
    const { changed, refetch } = live.apply(update("r1", [[4, { loss: 0.4 }], [5, { loss: 0.5 }], [6, { loss: 0.6 }]]));
    expect(changed).toBe(true);
    expect(refetch).toEqual([]);
    const buf = live.get("r1", "loss")!;
    expect(buf.steps).toEqual([1, 2, 3, 4, 5, 6]);
    expect(buf.values.slice(3)).toEqual([0.4, 0.5, 0.6]);
    expect(buf.times[5]).toBe(2006);
  });

  it("only touches the keys a chart holds, and ignores runs nobody charts", () => {
    const live = new LiveStore();
    live.set("r1", "loss", fromSeries(series([1]), 100));
    live.apply(update("r1", [[2, { lr: 0.1 }]]));
    expect(live.get("r1", "loss")!.steps).toEqual([1]);
    const other = live.apply(update("r2", [[7, { loss: 1 }]]));
    expect(other.changed).toBe(false);
    expect(live.newestStep.get("r2")).toBe(7);
  });

  it("a replayed step replaces its value instead of duplicating it", () => {
    const live = new LiveStore();
    live.set("r1", "loss", fromSeries(series([1, 2, 3]), 100));
    live.apply(update("r1", [[2, { loss: -1 }]]));
    const buf = live.get("r1", "loss")!;
    expect(buf.steps).toEqual([1, 2, 3]);
    expect(buf.values[1]).toBe(-1);
  });

  it("a late point is inserted in step order", () => {
    const buf = fromSeries(series([1, 3]), 100);
    insertPoint(buf, 2, 5, 0);
    expect(buf.steps).toEqual([1, 2, 3]);
    expect(buf.values).toEqual([10, 5, 30]);
  });

  it("dropped > 0 asks to refetch the gap between what it holds and the first new point", () => {
    const live = new LiveStore();
    live.set("r1", "loss", fromSeries(series([1, 2, 3]), 100));
    live.set("r1", "lr", fromSeries(series([1, 2, 3]), 50));
    const { refetch } = live.apply(update("r1", [[40, { loss: 1, lr: 2 }], [41, { loss: 1, lr: 2 }]], 36));
    expect(refetch.map((r) => [r.key, r.lo, r.hi])).toEqual([
      ["loss", 4, 39],
      ["lr", 4, 39],
    ]);
    const q = new URLSearchParams(refetch[0].query);
    expect(q.get("step_min")).toBe("4");
    expect(q.get("step_max")).toBe("39");
    expect(q.get("max_points")).toBe("100");
  });

  it("the refetched gap is merged in place", () => {
    const live = new LiveStore();
    live.set("r1", "loss", fromSeries(series([1, 2, 3]), 100));
    live.apply(update("r1", [[10, { loss: 1 }]], 6));
    const buf = live.get("r1", "loss")!;
    mergeRange(buf, series([4, 6, 9]), 4, 9);
    expect(buf.steps).toEqual([1, 2, 3, 4, 6, 9, 10]);
  });

  it("a zoomed (frozen) chart does not receive live points", () => {
    const live = new LiveStore();
    const buf = fromSeries(series([1, 2]), 100);
    buf.frozen = true;
    live.set("r1", "loss", buf);
    expect(live.apply(update("r1", [[3, { loss: 1 }]])).changed).toBe(false);
    expect(buf.steps).toEqual([1, 2]);
  });

  it("a message without points uses its step and metrics", () => {
    const live = new LiveStore();
    live.set("r1", "loss", fromSeries(series([1]), 100));
    live.apply({ type: "metric_update", run_id: "r1", step: 5, metrics: { loss: 9 }, timestamp: 3 });
    expect(live.get("r1", "loss")!.steps).toEqual([1, 5]);
  });

  it("a long live tail is compacted back near the pixel budget, keeping the peaks", () => {
    const live = new LiveStore();
    live.set("r1", "loss", fromSeries(series([]), 50));
    for (let s = 0; s < 1000; s++) live.apply(update("r1", [[s, { loss: s === 123 ? 1e6 : s === 321 ? -1e6 : Math.sin(s) }]]));
    const buf = live.get("r1", "loss")!;
    expect(buf.steps.length).toBeLessThanOrEqual(150);
    expect(buf.values).toContain(1e6);
    expect(buf.values).toContain(-1e6);
    expect(buf.steps[buf.steps.length - 1]).toBe(999);
    for (let i = 1; i < buf.steps.length; i++) expect(buf.steps[i]).toBeGreaterThan(buf.steps[i - 1]);
  });

  it("compaction leaves buffers within budget alone", () => {
    const buf = fromSeries(series([1, 2, 3]), 50);
    expect(compact(buf)).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { metricColumns, nextSort, sortCheckpoints } from "../src/sort";
import type { Checkpoint } from "../src/types";

const ck = (id: string, step: number, metrics: Record<string, number>, created: string, is_best = false): Checkpoint => ({
  id,
  run_id: "r",
  filepath: `/ckpt/${id}.pt`,
  step,
  metrics,
  metadata: {},
  is_best,
  created_at: created,
});

const rows = [
  ck("ckpt_2", 2000, { loss: 0.3, acc: 0.9 }, "2025-01-01T00:02:00Z"),
  ck("ckpt_10", 10000, { loss: 0.1 }, "2025-01-01T00:10:00Z", true),
  ck("ckpt_1", 1000, { loss: 0.5, acc: 0.8 }, "2025-01-01T00:01:00Z"),
];
const ids = (r: Checkpoint[]) => r.map((c) => c.id);

describe("checkpoint sorting", () => {
  it("by step both ways", () => {
    expect(ids(sortCheckpoints(rows, { column: "step", dir: "asc" }))).toEqual(["ckpt_1", "ckpt_2", "ckpt_10"]);
    expect(ids(sortCheckpoints(rows, { column: "step", dir: "desc" }))).toEqual(["ckpt_10", "ckpt_2", "ckpt_1"]);
  });

  it("by a metric column", () => {
    expect(ids(sortCheckpoints(rows, { column: "m:loss", dir: "asc" }))).toEqual(["ckpt_10", "ckpt_2", "ckpt_1"]);
  });

  it("a checkpoint without the metric goes last in both directions", () => {
    expect(ids(sortCheckpoints(rows, { column: "m:acc", dir: "desc" }))).toEqual(["ckpt_2", "ckpt_1", "ckpt_10"]);
    expect(ids(sortCheckpoints(rows, { column: "m:acc", dir: "asc" }))).toEqual(["ckpt_1", "ckpt_2", "ckpt_10"]);
  });

  it("ids sort naturally (ckpt_2 before ckpt_10)", () => {
    expect(ids(sortCheckpoints(rows, { column: "id", dir: "asc" }))).toEqual(["ckpt_1", "ckpt_2", "ckpt_10"]);
  });

  it("by creation time", () => {
    expect(ids(sortCheckpoints(rows, { column: "created_at", dir: "desc" }))).toEqual(["ckpt_10", "ckpt_2", "ckpt_1"]);
  });

  it("does not reorder the input", () => {
    sortCheckpoints(rows, { column: "step", dir: "asc" });
    expect(ids(rows)).toEqual(["ckpt_2", "ckpt_10", "ckpt_1"]);
  });

  it("clicking the sorted column flips it, another column starts descending", () => {
    expect(nextSort({ column: "step", dir: "desc" }, "step")).toEqual({ column: "step", dir: "asc" });
    expect(nextSort({ column: "step", dir: "asc" }, "m:loss")).toEqual({ column: "m:loss", dir: "desc" });
    expect(nextSort({ column: "step", dir: "asc" }, "id")).toEqual({ column: "id", dir: "asc" });
  });

  it("metric columns are the most common keys", () => {
    expect(metricColumns(rows)).toEqual(["loss", "acc"]);
    expect(metricColumns(rows, 1)).toEqual(["loss"]);
  });
});

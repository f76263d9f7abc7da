import type { Checkpoint } from "./types";

export type SortDir = "asc" | "desc";
export interface SortSpec {
  column: string;
  dir: SortDir;
}

/** Value of a checkpoint table column: fixed columns, or "m:<key>" for a metric. */
export function columnValue(c: Checkpoint, column: string): string | number | boolean | null {
  switch (column) {
    case "id":
      return c.id;
    case "step":
      return c.step;
    case "created_at":
      return Date.parse(c.created_at) || 0;
    case "filepath":
      return c.filepath;
    case "is_best":
      return c.is_best;
  }
  if (column.startsWith("m:")) {
    const v = c.metrics?.[column.slice(2)];
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  }
  return null;
}

/** Stable sort; missing values always go last, whichever the direction. */
export function sortCheckpoints(rows: readonly Checkpoint[], spec: SortSpec): Checkpoint[] {
  const sign = spec.dir === "asc" ? 1 : -1;
  return rows
    .map((c, i) => ({ c, i, v: columnValue(c, spec.column) }))
    .sort((a, b) => {
      if (a.v == null && b.v == null) return a.i - b.i;
      if (a.v == null) return 1;
      if (b.v == null) return -1;
      const d = compareValues(a.v, b.v);
      return d !== 0 ? d * sign : a.i - b.i;
    })
    .map((x) => x.c);
}

/** Clicking the sorted column flips it; another column starts descending for numbers. */
export function nextSort(current: SortSpec, column: string): SortSpec {
  if (current.column === column) return { column, dir: current.dir === "asc" ? "desc" : "asc" };
  return { column, dir: column === "id" || column === "filepath" ? "asc" : "desc" };
}

function compareValues(a: string | number | boolean, b: string | number | boolean): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  return String(a).localeCompare(String(b), "en", { numeric: true });
}

/** Metric keys shown as columns: those present in most checkpoints, loss-like first. */
export function metricColumns(rows: readonly Checkpoint[], max = 3): string[] {
  const count = new Map<string, number>();
  for (const c of rows) for (const k of Object.keys(c.metrics ?? {})) count.set(k, (count.get(k) ?? 0) + 1);
  return [...count.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, max)
    .map(([k]) => k);
}

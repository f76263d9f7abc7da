// The runs panel's filter and paging: the server filters and pages (GET /api/runs?status=&tag=&q=&limit=&offset=);
// this module builds that query, parses the command line's `filter ...`, and tells whether a run pushed
// over the WebSocket belongs in the filtered list.
import type { Run, RunStatus } from "./types";

export const RUN_STATUSES: readonly RunStatus[] = ["running", "completed", "failed", "interrupted", "cancelled"];
export const PAGE_SIZE = 100;

export interface RunFilter {
  status: RunStatus | "";
  /** Exact tag (the server matches tags exactly). */
  tag: string;
  /** Case-insensitive name substring. */
  q: string;
}

export const NO_FILTER: RunFilter = Object.freeze({ status: "", tag: "", q: "" });

export function isEmptyFilter(f: RunFilter): boolean {
  return !f.status && !f.tag && !f.q;
}

export function sameFilter(a: RunFilter, b: RunFilter): boolean {
  return a.status === b.status && a.tag === b.tag && a.q === b.q;
}

/** The query string of GET /api/runs for one page of the filtered list, newest first. */
export function runsQuery(f: RunFilter, offset: number, limit = PAGE_SIZE): string {
  const p = new URLSearchParams();
  if (f.status) p.set("status", f.status);
  if (f.tag) p.set("tag", f.tag);
  if (f.q) p.set("q", f.q);
  p.set("sort", "created_desc");
  p.set("limit", String(Math.max(1, Math.min(1000, Math.floor(limit)))));
  p.set("offset", String(Math.max(0, Math.floor(offset))));
  return p.toString();
}

/** What the server would answer for this run under the filter (same rules as run_listing.hpp). */
export function matchesFilter(run: Pick<Run, "status" | "tags" | "name">, f: RunFilter): boolean {
  if (f.status && run.status !== f.status) return false;
  if (f.tag && !(run.tags ?? []).includes(f.tag)) return false;
  if (f.q && !run.name.toLowerCase().includes(f.q.toLowerCase())) return false;
  return true;
}

export type FilterParse = { filter: RunFilter } | { error: string };

/**
 * `status:running tag:x resnet` -> {status: running, tag: x, q: "resnet"}. Words without a prefix
 * (or `name:`/`q:`) form the name substring; `clear`, `off`, `none` or nothing clears the filter.
 * A status may be abbreviated to a unique prefix (`status:run`).
 */
export function parseFilter(text: string): FilterParse {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (!words.length || (words.length === 1 && ["clear", "off", "none", "*"].includes(words[0].toLowerCase()))) return { filter: { ...NO_FILTER } };
  const out: RunFilter = { ...NO_FILTER };
  const names: string[] = [];
  for (const w of words) {
    const m = /^([a-z]+):(.*)$/i.exec(w);
    const key = m?.[1].toLowerCase();
    if (!m || !["status", "tag", "name", "q"].includes(key!)) {
      names.push(w);
      continue;
    }
    const value = m[2];
    if (!value) return { error: `'${key}:' needs a value` };
    if (key === "status") {
      const v = value.toLowerCase();
      const hits = RUN_STATUSES.filter((s) => s.startsWith(v));
      const exact = RUN_STATUSES.find((s) => s === v);
      if (!exact && hits.length !== 1) return { error: `status is one of ${RUN_STATUSES.join(", ")} (not '${value}')` };
      out.status = exact ?? hits[0];
    } else if (key === "tag") out.tag = value;
    else names.push(value);
  }
  out.q = names.join(" ");
  return { filter: out };
}

/** The filter in the command line's own words ("" when empty). */
export function filterText(f: RunFilter): string {
  return [f.status && `status:${f.status}`, f.tag && `tag:${f.tag}`, f.q].filter(Boolean).join(" ");
}

/** "1–100 of 2345", "0 of 0". */
export function pageLabel(offset: number, shown: number, total: number): string {
  if (!shown) return `0 of ${total}`;
  return `${offset + 1}–${offset + shown} of ${total}`;
}

/** The offset of the page before / after, or null at the ends. */
export function pageOffset(offset: number, total: number, dir: -1 | 1, limit = PAGE_SIZE): number | null {
  if (dir < 0) return offset > 0 ? Math.max(0, offset - limit) : null;
  return offset + limit < total ? offset + limit : null;
}

/** After runs vanished (deleted, filter narrowed), the last page that still has any. */
export function clampOffset(offset: number, total: number, limit = PAGE_SIZE): number {
  if (offset < total) return Math.max(0, offset);
  return Math.max(0, Math.floor((Math.max(total, 1) - 1) / limit) * limit);
}

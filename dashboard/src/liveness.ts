// Stale runs: a running run whose trainer went silent. Its clock stops at last_seen, so the
// elapsed time, ETA and cost shown for it stop growing until the trainer reports again.
import type { Run } from "./types";

type Timed = Pick<Run, "status" | "start_time" | "created_at" | "end_time" | "updated_at" | "stale" | "last_seen">;

export function isStale(run: Pick<Run, "status" | "stale">): boolean {
  return run.status === "running" && run.stale === true;
}

/** Where a run's elapsed time ends (ms since epoch): now while it runs, last_seen while it is stale, its end once finished. */
export function runEndMs(run: Timed, nowMs: number): number {
  if (run.status === "running") {
    if (isStale(run) && run.last_seen) {
      const seen = Date.parse(run.last_seen);
      if (Number.isFinite(seen)) return Math.min(seen, nowMs);
    }
    return nowMs;
  }
  const end = Date.parse(run.end_time ?? run.updated_at);
  return Number.isFinite(end) ? end : nowMs;
}

/** Hours from start to runEndMs; 0 when the times cannot be read or run backwards. */
export function runElapsedHours(run: Timed, nowMs: number): number {
  const start = Date.parse(run.start_time ?? run.created_at);
  const end = runEndMs(run, nowMs);
  if (!Number.isFinite(start) || end < start) return 0;
  return (end - start) / 3_600_000;
}

/** Applies a WS run_stale message to the run in place; true when anything shown changed. */
export function applyRunStale(run: Run | undefined, msg: { stale: boolean; last_seen?: string | null }): boolean {
  if (!run) return false;
  const stale = msg.stale === true;
  const seen = msg.last_seen ?? run.last_seen ?? null;
  if (run.stale === stale && run.last_seen === seen) return false;
  run.stale = stale;
  run.last_seen = seen;
  return true;
}

/** "12s", "4m05s", "2h03m", "3d" since last_seen; "" without one. */
export function silentFor(lastSeen: string | null | undefined, nowMs: number): string {
  if (!lastSeen) return "";
  const t = Date.parse(lastSeen);
  if (!Number.isFinite(t)) return "";
  const s = Math.max(0, Math.floor((nowMs - t) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d`;
}

import { describe, expect, it } from "vitest";
import { applyRunStale, isStale, runElapsedHours, runEndMs, silentFor } from "../src/liveness";
import { etaSeconds } from "../src/format";
import type { Run } from "../src/types";

const T0 = Date.parse("2026-01-01T10:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

function run(patch: Partial<Run> = {}): Run {
  return {
    id: "run_a",
    name: "a",
    status: "running",
    config: {},
    tags: [],
    notes: "",
    start_time: iso(T0),
    end_time: null,
    created_at: iso(T0),
    updated_at: iso(T0),
    total_steps: 1000,
    last_step: 250,
    progress: 0.25,
    ...patch,
  };
}

describe("stale runs", () => {
  it("only a running run can be stale", () => {
    expect(isStale(run({ stale: true }))).toBe(true);
    expect(isStale(run({ stale: false }))).toBe(false);
    expect(isStale(run({}))).toBe(false); // older server: no field
    expect(isStale(run({ stale: true, status: "completed" }))).toBe(false);
  });

  it("a live run's clock runs to now; a stale one stops at last_seen", () => {
    const now = T0 + 2 * 3600_000;
    expect(runEndMs(run(), now)).toBe(now);
    expect(runElapsedHours(run(), now)).toBe(2);
    const stale = run({ stale: true, last_seen: iso(T0 + 3600_000) });
    expect(runEndMs(stale, now)).toBe(T0 + 3600_000);
    expect(runElapsedHours(stale, now)).toBe(1);
    // an hour later nothing grew
    expect(runElapsedHours(stale, now + 3600_000)).toBe(1);
  });

  it("ETA and cost of a stale run stop growing", () => {
    const stale = run({ stale: true, last_seen: iso(T0 + 1000_000) });
    const at = (now: number) => {
      const h = runElapsedHours(stale, now);
      return { eta: etaSeconds(stale.last_step, stale.total_steps, h * 3600), cost: h * 2.5 };
    };
    const a = at(T0 + 2000_000);
    const b = at(T0 + 9000_000);
    expect(b).toEqual(a);
    expect(a.eta).toBe(3000); // 250 steps in 1000 s, 750 to go
    // the same run, live: both grow
    const live = run({ stale: false, last_seen: iso(T0 + 1000_000) });
    expect(runElapsedHours(live, T0 + 9000_000)).toBeGreaterThan(runElapsedHours(live, T0 + 2000_000));
  });

  it("a stale run without a readable last_seen keeps the live clock; a last_seen in the future never goes past now", () => {
    expect(runEndMs(run({ stale: true, last_seen: null }), T0 + 5)).toBe(T0 + 5);
    expect(runEndMs(run({ stale: true, last_seen: "garbage" }), T0 + 5)).toBe(T0 + 5);
    expect(runEndMs(run({ stale: true, last_seen: iso(T0 + 99_000) }), T0 + 5)).toBe(T0 + 5);
  });

  it("a finished run ends at end_time, else updated_at; times running backwards give 0", () => {
    expect(runEndMs(run({ status: "completed", end_time: iso(T0 + 60_000) }), T0 + 1e9)).toBe(T0 + 60_000);
    expect(runEndMs(run({ status: "failed", end_time: null, updated_at: iso(T0 + 30_000) }), T0 + 1e9)).toBe(T0 + 30_000);
    expect(runElapsedHours(run({ status: "completed", end_time: iso(T0 - 1000) }), T0)).toBe(0);
    expect(runElapsedHours(run({ start_time: null, created_at: iso(T0) }), T0 + 3600_000)).toBe(1);
  });

  it("applies run_stale messages in place", () => {
    const r = run();
    expect(applyRunStale(r, { stale: true, last_seen: iso(T0 + 10_000) })).toBe(true);
    expect(r.stale).toBe(true);
    expect(r.last_seen).toBe(iso(T0 + 10_000));
    expect(applyRunStale(r, { stale: true, last_seen: iso(T0 + 10_000) })).toBe(false); // repeated: nothing to redraw
    expect(applyRunStale(r, { stale: false, last_seen: iso(T0 + 20_000) })).toBe(true);
    expect(isStale(r)).toBe(false);
    expect(applyRunStale(r, { stale: true })).toBe(true); // no last_seen: keep the one known
    expect(r.last_seen).toBe(iso(T0 + 20_000));
    expect(applyRunStale(undefined, { stale: true, last_seen: null })).toBe(false); // a run not on this page
  });

  it("says how long the trainer has been silent", () => {
    expect(silentFor(iso(T0), T0 + 12_000)).toBe("12s");
    expect(silentFor(iso(T0), T0 + 125_000)).toBe("2m05s");
    expect(silentFor(iso(T0), T0 + 2 * 3600_000 + 3 * 60_000)).toBe("2h03m");
    expect(silentFor(iso(T0), T0 + 3 * 86400_000)).toBe("3d");
    expect(silentFor(null, T0)).toBe("");
    expect(silentFor("x", T0)).toBe("");
    expect(silentFor(iso(T0 + 5000), T0)).toBe("0s");
  });
});

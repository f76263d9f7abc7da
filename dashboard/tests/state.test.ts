import { describe, expect, it } from "vitest";
import { loadView } from "../src/prefs";
import { MAX_EVENTS, MAX_SAMPLES, State, failed, loading, ready, valueOr } from "../src/state";
import type { Checkpoint, Run, TmonEvent } from "../src/types";

const ev = (id: number): TmonEvent => ({ id, run_id: null, timestamp: "2026-01-01T00:00:00Z", type: "x", message: String(id) });
const ck = (id: string): Checkpoint => ({ id, run_id: "a", filepath: "/f", step: 1, metrics: {}, metadata: {}, is_best: false, created_at: "" });
const run = (id: string, last_step: number | null): Run => ({
  id, name: id, status: "running", config: {}, tags: [], notes: "", start_time: null, end_time: null,
  created_at: "", updated_at: "", total_steps: null, last_step, progress: null,
});

describe("state", () => {
  it("a Loadable is loading, ready with a value, or an error with a reason", () => {
    expect(valueOr(loading<number[]>(), [])).toEqual([]);
    expect(valueOr(ready([1]), [])).toEqual([1]);
    const e = failed<number[]>("500 disk full");
    expect(e.state === "error" && e.error).toBe("500 disk full");
    expect(valueOr(e, [])).toEqual([]);
  });

  it("events merge once each, oldest first, capped", () => {
    const s = new State();
    s.mergeEvents([ev(3), ev(1)]);
    s.mergeEvents([ev(2), ev(3)]);
    expect(s.events.map((e) => e.id)).toEqual([1, 2, 3]);
    s.mergeEvents(Array.from({ length: MAX_EVENTS + 10 }, (_, i) => ev(100 + i)));
    expect(s.events.length).toBe(MAX_EVENTS);
    expect(s.events.at(-1)!.id).toBe(100 + MAX_EVENTS + 9);
  });

  it("a run re-read from the server never moves its step behind what the socket showed", () => {
    const s = new State();
    s.live.newestStep.set("a", 50);
    s.upsertRun(run("a", 40));
    expect(s.runs.get("a")!.last_step).toBe(50);
    s.upsertRun(run("a", 60));
    expect(s.runs.get("a")!.last_step).toBe(60);
  });

  it("the actions act on the clicked checkpoint, else the first listed; none while loading or failed", () => {
    const s = new State();
    expect(s.actionCkpt()).toBeUndefined();
    s.checkpoints = ready([ck("c1"), ck("c2")]);
    expect(s.actionCkpt()!.id).toBe("c1");
    s.selectedCkpt = "c2";
    expect(s.actionCkpt()!.id).toBe("c2");
    s.checkpoints = failed("503 busy");
    expect(s.actionCkpt()).toBeUndefined();
  });

  it("live server samples make the host history ready, capped", () => {
    const s = new State();
    expect(s.serverSys.state).toBe("loading");
    for (let t = 0; t < MAX_SAMPLES * 2; t++) s.addServerSample({ timestamp: t, cpu_percent: 1, memory_percent: 1 });
    expect(s.serverSys.state).toBe("ready");
    expect(s.serverSamples().length).toBeLessThanOrEqual(MAX_SAMPLES * 1.5);
    expect(s.serverSamples().at(-1)!.timestamp).toBe(MAX_SAMPLES * 2 - 1);
  });

  it("settings default when localStorage is missing (tests, private mode)", () => {
    expect(loadView()).toEqual({ smoothing: 0.6, logY: false, xMode: "step" });
    expect(new State().theme).toBe("dark");
  });
});

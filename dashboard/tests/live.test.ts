import { describe, expect, it } from "vitest";
import { applyMessage } from "../src/live";
import { fromSeries } from "../src/series";
import { State } from "../src/state";
import type { Run, ServerMessage } from "../src/types";

function run(id: string, patch: Partial<Run> = {}): Run {
  return {
    id, name: id, status: "running", config: {}, tags: [], notes: "", start_time: null, end_time: null,
    created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", total_steps: null, last_step: null, progress: null,
    ...patch,
  };
}

/** A state showing page [b, a] with `a` selected. */
function shown(): State {
  const s = new State();
  for (const r of [run("b"), run("a", { total_steps: 100, last_step: 10 })]) s.runs.set(r.id, r);
  s.list.setPage([s.runs.get("b")!, s.runs.get("a")!], 2, 0);
  s.selected = "a";
  s.keys = ["loss"];
  return s;
}

const NOW = Date.parse("2026-03-01T12:00:00Z");
const kinds = (o: ReturnType<typeof applyMessage>) => o.effects.map((e) => e.kind);

describe("live: server messages applied to the state", () => {
  it("metric_update moves the run's step and progress, adds new keys of the selected run", () => {
    const s = shown();
    const o = applyMessage(s, { type: "metric_update", run_id: "a", step: 40, metrics: { loss: 1, acc: 0.5 } }, NOW);
    expect(s.runs.get("a")!.last_step).toBe(40);
    expect(s.runs.get("a")!.progress).toBeCloseTo(0.4);
    expect([...o.soon].sort()).toEqual(["config", "runs"]);
    expect(s.keys).toEqual(["acc", "loss"]);
    expect(kinds(o)).toEqual(["new-keys"]);
    expect(s.stats.metricUpdates).toBe(1);
    // an older step never moves it back; another run's keys are not the selected run's
    applyMessage(s, { type: "metric_update", run_id: "a", step: 5, metrics: { loss: 2 } }, NOW);
    expect(s.runs.get("a")!.last_step).toBe(40);
    expect(kinds(applyMessage(s, { type: "metric_update", run_id: "b", step: 1, metrics: { other: 1 } }, NOW))).toEqual([]);
    expect(s.keys).toEqual(["acc", "loss"]);
  });

  it("metric_update appends to a charted series and turns dropped points into a refetch", () => {
    const s = shown();
    s.live.set("a", "loss", fromSeries({ steps: [0, 1, 2], values: [3, 2, 1], times: [0, 1, 2], total: 3, downsampled: false }, 800));
    const o = applyMessage(s, { type: "metric_update", run_id: "a", step: 50, metrics: { loss: 0.5 }, dropped: 40 }, NOW);
    expect(o.mark.has("charts")).toBe(true);
    expect(s.live.get("a", "loss")!.steps.at(-1)).toBe(50);
    const gap = o.effects.find((e) => e.kind === "refetch-gap");
    expect(gap && gap.kind === "refetch-gap" ? [gap.gap.lo, gap.gap.hi] : null).toEqual([3, 49]);
  });

  it("run_created lists a matching run at once, selects it when nothing is selected, and is kept during a page load", () => {
    const s = shown();
    s.selected = null;
    s.createdInFlight = [];
    const r = run("c", { created_at: "2026-02-01T00:00:00Z" });
    const o = applyMessage(s, { type: "run_created", run_id: "c", run: r }, NOW);
    expect(s.list.ids).toEqual(["c", "b", "a"]);
    expect(o.effects).toContainEqual({ kind: "select", runId: "c" });
    expect(kinds(o)).toContain("reload-runs");
    expect(s.createdInFlight.map((x) => x.id)).toEqual(["c"]);
    expect(o.mark.has("runs")).toBe(true);
  });

  it("status_change ends a run (end_time now) and a restart clears it", () => {
    const s = shown();
    const o = applyMessage(s, { type: "status_change", run_id: "a", old_status: "running", new_status: "failed" }, NOW);
    expect(s.runs.get("a")!.status).toBe("failed");
    expect(s.runs.get("a")!.end_time).toBe("2026-03-01T12:00:00.000Z");
    expect([...o.mark].sort()).toEqual(["actions", "config", "runs"]);
    applyMessage(s, { type: "status_change", run_id: "a", old_status: "failed", new_status: "running" }, NOW);
    expect(s.runs.get("a")!.end_time).toBeNull();
    expect(applyMessage(s, { type: "status_change", run_id: "zz", old_status: "running", new_status: "failed" }, NOW).mark.size).toBe(0);
  });

  it("run_deleted of the selected run selects the next listed one and drops its overlay and series", () => {
    const s = shown();
    s.selected = "b";
    s.live.set("b", "loss", fromSeries({ steps: [1], values: [1], times: [1], total: 1, downsampled: false }, 100));
    const o = applyMessage(s, { type: "run_deleted", run_id: "b" }, NOW);
    expect(s.runs.has("b")).toBe(false);
    expect(s.live.get("b", "loss")).toBeUndefined();
    expect(s.list.ids).toEqual(["a"]);
    expect(o.effects).toContainEqual({ kind: "select", runId: "a" });
    const s2 = shown();
    s2.overlays = ["b"];
    applyMessage(s2, { type: "run_deleted", run_id: "b" }, NOW);
    expect(s2.overlays).toEqual([]);
  });

  it("run_stale marks the run STALE and freezes at last_seen; a repeat changes nothing", () => {
    const s = shown();
    const m: ServerMessage = { type: "run_stale", run_id: "a", stale: true, last_seen: "2026-03-01T11:59:00Z" };
    expect(applyMessage(s, m, NOW).mark.has("runs")).toBe(true);
    expect(s.runs.get("a")!.stale).toBe(true);
    expect(applyMessage(s, m, NOW).mark.size).toBe(0);
  });

  it("system samples of the selected run group by host; another run's are ignored", () => {
    const s = shown();
    const sample = (host: string, rank: number, t: number) => ({ host, rank, timestamp: t, cpu_percent: 5, memory_percent: 10 });
    let o = applyMessage(s, { type: "system", run_id: "a", sample: sample("n1", 0, 1) }, NOW);
    expect(s.hostSys?.size).toBe(1);
    expect([...o.mark].sort()).toEqual(["config", "system"]);
    o = applyMessage(s, { type: "system", run_id: "a", sample: sample("n1", 0, 2) }, NOW);
    expect([...o.mark]).toEqual(["system"]); // same host: no new row in the detail
    expect(applyMessage(s, { type: "system", run_id: "b", sample: sample("n9", 0, 1) }, NOW).mark.size).toBe(0);
    expect(s.hostSys?.size).toBe(1);
    applyMessage(s, { type: "system_update", timestamp: 1, cpu_percent: 1, memory_percent: 2 }, NOW);
    expect(s.serverSys).toEqual({ state: "ready", value: [{ timestamp: 1, cpu_percent: 1, memory_percent: 2 }] });
  });

  it("checkpoint and layer messages ask to reload only for the selected run (layers only in the layer view)", () => {
    const s = shown();
    expect(applyMessage(s, { type: "best_changed", run_id: "a", checkpoint_id: "c1" }, NOW).effects).toEqual([{ kind: "load-checkpoints", runId: "a" }]);
    expect(applyMessage(s, { type: "checkpoint_saved", run_id: "b", checkpoint_id: "c2" }, NOW).effects).toEqual([]);
    expect(applyMessage(s, { type: "layer_update", run_id: "a", step: 3 }, NOW).effects).toEqual([]);
    s.mode = "layers";
    expect(applyMessage(s, { type: "layer_update", run_id: "a", step: 3 }, NOW).effects).toEqual([{ kind: "load-layers" }]);
  });

  it("command, subscribed, unsubscribed and pong are handled, not ignored", () => {
    const s = shown();
    const o = applyMessage(s, { type: "command", run_id: "a", command: { id: 7, type: "load_checkpoint", checkpoint_id: "ck1" } }, NOW);
    expect(s.commands.get("a")).toEqual({ id: 7, type: "load_checkpoint", checkpoint_id: "ck1" });
    expect([...o.mark]).toEqual(["actions"]);
    applyMessage(s, { type: "command", run_id: "b", command: "garbage" }, NOW);
    expect(s.commands.get("b")).toEqual({ id: undefined, type: "command", checkpoint_id: undefined });
    applyMessage(s, { type: "subscribed", run_id: "*" }, NOW);
    expect([...s.subscriptions]).toEqual(["*"]);
    applyMessage(s, { type: "unsubscribed", run_id: "*" }, NOW);
    expect(s.subscriptions.size).toBe(0);
    applyMessage(s, { type: "pong" }, NOW);
    expect(s.lastPong).toBe(NOW);
    expect(applyMessage(s, { type: "error", message: "bad subscribe" }, NOW).effects).toEqual([{ kind: "say", text: "server: bad subscribe", error: true }]);
    const ev = { id: 1, run_id: "a", timestamp: "2026-03-01T12:00:00Z", type: "run_started", message: "hi" };
    expect([...applyMessage(s, { type: "event", event: ev }, NOW).mark]).toEqual(["events"]);
    expect(s.pendingEvents).toEqual([ev]);
    expect(s.stats.wsMessages).toBe(7);
  });

  it("a message type this dashboard does not know (a newer server) changes nothing and does not throw", () => {
    const s = shown();
    const o = applyMessage(s, { type: "from_the_future", run_id: "a" } as unknown as ServerMessage, NOW);
    expect(o.mark.size + o.soon.size + o.effects.length).toBe(0);
  });
});

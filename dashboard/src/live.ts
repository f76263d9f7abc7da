// What each WebSocket message does to the state: pure (no DOM, no network), so every message type is
// unit-tested. The caller redraws `mark` now, `soon` within 250 ms, and performs the `effects`.
import { HostSamples } from "./hosts";
import { applyRunStale } from "./liveness";
import type { GapRequest } from "./series";
import type { PanelId, State } from "./state";
import type { HostSample, ServerMessage, SystemSample } from "./types";

/** Work a message asks for that needs the network or the charts. */
export type Effect =
  | { kind: "refetch-gap"; gap: GapRequest }
  /** the list changed in place; re-read the page shortly for the server's order and total */
  | { kind: "reload-runs" }
  | { kind: "select"; runId: string | null }
  | { kind: "load-checkpoints"; runId: string }
  /** per-layer statistics arrived for the selected run (layer view open) */
  | { kind: "load-layers" }
  /** the selected run has new metric keys; a chart without one may take it */
  | { kind: "new-keys" }
  | { kind: "say"; text: string; error: boolean };

export interface Outcome {
  mark: Set<PanelId>;
  /** text that changes with every live point (steps, progress): redrawn at most 4 times a second */
  soon: Set<PanelId>;
  effects: Effect[];
}

export function applyMessage(s: State, m: ServerMessage, now: number = Date.now()): Outcome {
  const out: Outcome = { mark: new Set(), soon: new Set(), effects: [] };
  const mark = (...ids: PanelId[]) => ids.forEach((id) => out.mark.add(id));
  s.stats.wsMessages++;
  switch (m.type) {
    case "metric_update": {
      s.stats.metricUpdates++;
      const { changed, refetch } = s.live.apply(m, now / 1000);
      const run = s.runs.get(m.run_id);
      if (run) {
        const newest = s.live.newestStep.get(m.run_id) ?? m.step;
        if (run.last_step == null || newest > run.last_step) {
          run.last_step = newest;
          if (run.total_steps) run.progress = Math.min(1, newest / run.total_steps);
        }
        out.soon.add("runs");
        if (m.run_id === s.selected) out.soon.add("config");
      }
      if (m.run_id === s.selected) {
        let added = false;
        for (const k of Object.keys(m.metrics)) added = s.addKey(k) || added;
        if (added) {
          out.effects.push({ kind: "new-keys" });
          mark("toolbar", "charts");
        }
      }
      for (const gap of refetch) out.effects.push({ kind: "refetch-gap", gap });
      if (changed) mark("charts");
      break;
    }
    case "run_created":
    case "run_updated":
      if (m.run) {
        s.upsertRun(m.run);
        mark("runs", "config", "actions");
        if (m.type === "run_created") {
          // shown at once; the page is re-read shortly after for the server's order and total
          if (s.list.onCreated(m.run)) out.effects.push({ kind: "reload-runs" });
          s.createdInFlight?.push(m.run);
        } else s.list.onUpdated(m.run);
      }
      if (m.type === "run_created" && !s.selected && s.list.has(m.run_id)) out.effects.push({ kind: "select", runId: m.run_id });
      break;
    case "status_change": {
      const run = s.runs.get(m.run_id);
      if (!run) break;
      run.status = m.new_status;
      if (m.new_status !== "running" && !run.end_time) run.end_time = new Date(now).toISOString();
      if (m.new_status === "running") run.end_time = null;
      s.list.onUpdated(run);
      mark("runs", "config", "actions");
      break;
    }
    case "run_stale":
      if (applyRunStale(s.runs.get(m.run_id), m)) mark("runs", "config", "actions");
      break;
    case "system": {
      if (m.run_id !== s.selected || !m.sample) break;
      const hs = s.hostSys?.runId === m.run_id ? s.hostSys : new HostSamples(m.run_id);
      const groups = hs.size;
      if (!hs.add(m.sample as HostSample)) break;
      s.hostSys = hs;
      mark("system");
      if (hs.size !== groups) mark("config"); // a new host for the detail's list
      break;
    }
    case "system_update": {
      const { type: _t, ...sample } = m;
      void _t;
      s.addServerSample(sample as SystemSample);
      mark("system");
      break;
    }
    case "run_deleted": {
      if (s.list.onDeleted(m.run_id)) out.effects.push({ kind: "reload-runs" });
      s.forgetRun(m.run_id);
      s.commands.delete(m.run_id);
      if (s.selected === m.run_id) out.effects.push({ kind: "select", runId: s.sortedRuns()[0]?.id ?? null });
      mark("runs", "charts", "toolbar");
      break;
    }
    case "checkpoint_saved":
    case "best_changed":
    case "checkpoint_deleted":
      if (m.run_id === s.selected) out.effects.push({ kind: "load-checkpoints", runId: m.run_id });
      break;
    case "layer_update":
      if (m.run_id === s.selected && s.mode === "layers") out.effects.push({ kind: "load-layers" });
      break;
    case "command": {
      // a command queued for a training process (load_checkpoint, stop...): the actions panel shows it
      const c = (m.command ?? {}) as { id?: unknown; type?: unknown; checkpoint_id?: unknown };
      s.commands.set(m.run_id, {
        id: typeof c.id === "number" ? c.id : undefined,
        type: typeof c.type === "string" ? c.type : "command",
        checkpoint_id: typeof c.checkpoint_id === "string" ? c.checkpoint_id : undefined,
      });
      if (m.run_id === s.selected) mark("actions");
      break;
    }
    case "event":
      s.pendingEvents.push(m.event);
      mark("events");
      break;
    case "subscribed":
      s.subscriptions.add(m.run_id);
      break;
    case "unsubscribed":
      s.subscriptions.delete(m.run_id);
      break;
    case "pong":
      s.lastPong = now;
      break;
    case "error":
      out.effects.push({ kind: "say", text: `server: ${m.message}`, error: true });
      break;
    default:
      unhandled(m);
  }
  return out;
}

/** Compile error when a ServerMessage type has no case above; at run time a newer server's type is ignored. */
function unhandled(m: never): void {
  void m;
}

// Everything the dashboard shows, in one place, with no DOM and no network: app.ts loads into it,
// live.ts applies the WebSocket's messages to it, and the panels render from it.
import type { ChartView } from "./chart";
import type { HostSamples } from "./hosts";
import { loadRate, loadTheme, loadView, type ThemeName } from "./prefs";
import { RunList } from "./runlist";
import { LiveStore } from "./series";
import type { SortSpec } from "./sort";
import type { Checkpoint, Heatmap, LayerSnapshot, Run, SystemSample, TmonEvent } from "./types";
import type { ConnState } from "./ws";

/** Something fetched from the server: loading, there, or why not. */
export type Loadable<T> = { state: "loading" } | { state: "ready"; value: T } | { state: "error"; error: string };

export const loading = <T>(): Loadable<T> => ({ state: "loading" });
export const ready = <T>(value: T): Loadable<T> => ({ state: "ready", value });
export const failed = <T>(error: string): Loadable<T> => ({ state: "error", error });
/** The value when ready, else the fallback. */
export const valueOr = <T>(l: Loadable<T>, fallback: T): T => (l.state === "ready" ? l.value : fallback);

export const MAX_EVENTS = 300;
export const MAX_SAMPLES = 300;

/** What the dashboard redraws: one id per panel. */
export type PanelId = "toolbar" | "runs" | "system" | "events" | "charts" | "config" | "checkpoints" | "actions" | "layers";

/** A command the server queued for a training process (WS `command`). */
export interface QueuedCommand {
  id?: number;
  type: string;
  checkpoint_id?: string;
}

export class State {
  /** Series the charts show, and the newest step seen per run. */
  readonly live = new LiveStore();
  /** Every run the page knows (the listed page, the selected run, overlays); the list itself is `list`. */
  readonly runs = new Map<string, Run>();
  readonly list = new RunList();
  /** The run list's page load (the ids and total live in `list`). */
  runsLoad: Loadable<true> = loading();
  /** Runs created while a page was being loaded: the reply may predate them. */
  createdInFlight: Run[] | null = null;
  selected: string | null = null;
  overlays: string[] = [];
  /** Metric keys of the selected run. */
  keys: string[] = [];
  checkpoints: Loadable<Checkpoint[]> = loading();
  ckptSort: SortSpec = { column: "step", dir: "desc" };
  selectedCkpt: string | null = null;
  /** The newest command queued per run (WS `command`), shown in the actions panel. */
  readonly commands = new Map<string, QueuedCommand>();
  events: TmonEvent[] = [];
  /** Events from the socket, merged into `events` at the next render. */
  pendingEvents: TmonEvent[] = [];
  /** The server's own host history, live; an error only when there is nothing to show. */
  serverSys: Loadable<SystemSample[]> = loading();
  /** The selected run's own hosts (samples remote trainers posted); null until loaded or when it has none. */
  hostSys: HostSamples | null = null;
  view: ChartView = loadView();
  rate = loadRate();
  theme: ThemeName = loadTheme();
  mode: "charts" | "layers" = "charts";
  conn: ConnState = "connecting";
  /** Run ids the socket confirmed (`subscribed` / `unsubscribed`), and when the last `pong` came. */
  readonly subscriptions = new Set<string>();
  lastPong: number | null = null;
  confirmDelete = false;
  heatStat = "gradients.std";
  heat: Loadable<Heatmap> = loading();
  layerStep: number | null = null;
  layerSnap: LayerSnapshot | null = null;
  readonly stats = { wsMessages: 0, metricUpdates: 0, renders: 0, lastRenderMs: 0, workMs: 0, refetches: 0 };

  selectedRun(): Run | undefined {
    return this.selected ? this.runs.get(this.selected) : undefined;
  }

  /** The listed runs, in the server's order (newest first). */
  sortedRuns(): Run[] {
    const out: Run[] = [];
    for (const id of this.list.ids) {
      const r = this.runs.get(id);
      if (r) out.push(r);
    }
    return out;
  }

  /** The selected run, then its overlays: the runs every chart draws. */
  chartRuns(): string[] {
    return this.selected ? [this.selected, ...this.overlays] : [];
  }

  serverSamples(): SystemSample[] {
    return valueOr(this.serverSys, []);
  }

  /** A live sample of the server's host, capped. */
  addServerSample(sample: SystemSample): void {
    let all = this.serverSamples();
    all.push(sample);
    if (all.length > MAX_SAMPLES * 1.5) all = all.slice(-MAX_SAMPLES);
    this.serverSys = ready(all);
  }

  ckpts(): Checkpoint[] {
    return valueOr(this.checkpoints, []);
  }

  /** The checkpoint the actions act on: the clicked one, else the newest listed. */
  actionCkpt(): Checkpoint | undefined {
    const all = this.ckpts();
    return all.find((c) => c.id === this.selectedCkpt) ?? all[0];
  }

  /** A run as the server sent it, never moving its step back behind what the socket already showed. */
  upsertRun(run: Run): void {
    const known = this.live.newestStep.get(run.id);
    if (known != null && (run.last_step == null || run.last_step < known)) run.last_step = known;
    this.runs.set(run.id, run);
  }

  /** A run that is gone leaves the list, the charts and the overlays. */
  forgetRun(id: string): void {
    this.runs.delete(id);
    this.live.drop(id);
    this.overlays = this.overlays.filter((x) => x !== id);
  }

  /** Inserts a metric key of the selected run; false when it was known. */
  addKey(k: string): boolean {
    if (this.keys.includes(k)) return false;
    this.keys = [...this.keys, k].sort();
    return true;
  }

  /** Merges events (from a load or the socket), oldest first, capped. */
  mergeEvents(events: readonly TmonEvent[]): void {
    const seen = new Set(this.events.map((e) => e.id));
    const fresh = events.filter((e) => !seen.has(e.id));
    if (!fresh.length) return;
    this.events = [...this.events, ...fresh].sort((a, b) => a.id - b.id).slice(-MAX_EVENTS);
  }
}

import { Api, ApiError, wsUrl } from "./api";
import { COMMAND_HELP, parseCommand, type Command } from "./command";
import { MetricChart, Sparkline, cssVar, esc, themeColors, type ChartView } from "./chart";
import { cursorFraction, drawHeatmap, nearestIndex, ramp } from "./heatmap";
import { formatBytes, formatClock, formatCost, formatDuration, formatEta, formatStep, formatTime, formatValue } from "./format";
import { HostSamples, hostBoxes, hostLabel, mergeHosts, serverBoxes, systemQueries, type SysBox } from "./hosts";
import { applyRunStale, isStale, runElapsedHours, silentFor } from "./liveness";
import { progressView, stepLine } from "./progress";
import { RunList } from "./runlist";
import { RUN_STATUSES, filterText, pageLabel, pageOffset, runsQuery, sameFilter, clampOffset, type RunFilter } from "./runfilter";
import { buildMetricsQuery, pointsForWidth, type XMode } from "./query";
import { LiveStore, fromSeries, mergeRange, type GapRequest } from "./series";
import { metricColumns, nextSort, sortCheckpoints, type SortSpec } from "./sort";
import type { Checkpoint, Heatmap, HostSample, LayerSnapshot, Run, ServerMessage, SystemSample, TmonEvent } from "./types";
import { LiveSocket, type ConnState } from "./ws";

const MAX_EVENTS = 300;
const MAX_SAMPLES = 300;
const SERIES_COLORS = 8;
const STATUS_BADGE: Record<string, string> = {
  running: "● RUNNING",
  completed: "✓ COMPLETED",
  failed: "✗ FAILED",
  interrupted: "‖ INTERRUPTED",
  cancelled: "■ CANCELLED",
};

const store = {
  get(k: string): string | null {
    try {
      return localStorage.getItem("tmon." + k);
    } catch {
      return null;
    }
  },
  set(k: string, v: string): void {
    try {
      localStorage.setItem("tmon." + k, v);
    } catch {
      /* private mode: settings just do not persist */
    }
  },
};

type Dirty = "runs" | "charts" | "events" | "system" | "config" | "ckpt" | "actions" | "toolbar" | "layers";

export class App {
  api = new Api();
  live = new LiveStore();
  /** Every run the page knows (the listed page, the selected run, overlays); the list itself is `list`. */
  runs = new Map<string, Run>();
  list = new RunList();
  runsLoaded = false;
  runsError = "";
  selected: string | null = null;
  overlays: string[] = [];
  keys: string[] = [];
  checkpoints: Checkpoint[] = [];
  ckptLoaded = false;
  ckptSort: SortSpec = { column: "step", dir: "desc" };
  selectedCkpt: string | null = null;
  events: TmonEvent[] = [];
  pendingEvents: TmonEvent[] = [];
  samples: SystemSample[] = [];
  systemError = "";
  /** The selected run's own hosts (samples remote trainers posted); null until loaded or when it has none. */
  hostSys: HostSamples | null = null;
  view: ChartView = { smoothing: Number(store.get("smoothing") ?? 0.6), logY: store.get("logY") === "1", xMode: (store.get("xMode") as XMode) || "step" };
  rate = Number(store.get("rate") ?? 2.5);
  theme: "dark" | "light" = store.get("theme") === "light" ? "light" : "dark";
  mode: "charts" | "layers" = "charts";
  conn: ConnState = "connecting";
  confirmDelete = false;
  heatStat = "gradients.std";
  heat: Heatmap | null = null;
  heatError = "";
  layerStep: number | null = null;
  layerSnap: LayerSnapshot | null = null;
  charts: MetricChart[] = [];
  sparks = new Map<string, Sparkline>();
  socket!: LiveSocket;
  stats = { wsMessages: 0, metricUpdates: 0, renders: 0, lastRenderMs: 0, workMs: 0, refetches: 0 };
  private dirty = new Set<Dirty>();
  private frame = 0;
  private loadSeq = 0;
  private runsSeq = 0;
  /** j/k went past the page: the row to select once the new page is shown. */
  private selectOnPage: "first" | "last" | null = null;
  /** Runs created while a page was being loaded: the reply may predate them. */
  private createdInFlight: Run[] | null = null;
  private hostSysSeq = 0;
  private filterTimer: ReturnType<typeof setTimeout> | null = null;
  private heatTimer: ReturnType<typeof setTimeout> | null = null;
  private layerReq = 0;
  private heatDrawn: Heatmap | null = null;

  constructor(private root: HTMLElement) {}

  // ---- lifecycle ------------------------------------------------------------------------------

  start(): void {
    document.documentElement.dataset.theme = this.theme;
    this.root.innerHTML = LAYOUT;
    this.charts = [0, 1].map((i) => {
      const panel = this.$(i === 0 ? "#p-chart-a" : "#p-chart-b");
      return new MetricChart(panel.querySelector(".chart-body")!, panel.querySelector(".chart")!, panel.querySelector(".legend")!, {
        onZoom: (c, lo, hi) => this.zoom(c, lo, hi),
        onResetZoom: (c) => this.resetZoom(c),
      });
    });
    this.bindEvents();
    this.socket = new LiveSocket({
      url: wsUrl(location, this.api.token),
      subscriptions: () => ["*"],
      onMessage: (m) => this.onMessage(m),
      onState: (s, d) => this.onConnState(s, d.reconnected, d.retryInMs),
    });
    this.socket.start();
    void this.loadRuns(true);
    void this.loadEvents();
    void this.loadSystem();
    setInterval(() => {
      this.$("#clock").textContent = formatClock(Date.now() / 1000);
      this.mark("runs", "config");
    }, 1000);
    new ResizeObserver(() => {
      for (const c of this.charts) c.resize();
      this.mark("system", "layers");
    }).observe(this.$("#grid"));
    this.mark("toolbar", "actions", "charts", "config", "ckpt", "system", "events");
    // the bench and e2e read stats and the live store; a normal page exposes nothing
    if (new URLSearchParams(location.search).has("debug")) (window as any).__tmon = this;
  }

  private $<T extends HTMLElement = HTMLElement>(sel: string): T {
    return this.root.querySelector<T>(sel)!;
  }

  /** Batches DOM work: every change marks a region, one animation frame redraws them all. */
  mark(...parts: Dirty[]): void {
    for (const p of parts) this.dirty.add(p);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  /** For text that changes with every live point (steps, progress): at most 4 redraws a second. */
  private soon = new Set<Dirty>();
  private soonTimer: ReturnType<typeof setTimeout> | null = null;
  markSoon(part: Dirty): void {
    this.soon.add(part);
    if (this.soonTimer) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = null;
      this.mark(...this.soon);
      this.soon.clear();
    }, 250);
  }

  private flush(): void {
    this.frame = 0;
    const t0 = performance.now();
    const d = new Set(this.dirty);
    this.dirty.clear();
    if (d.has("toolbar")) this.renderToolbar();
    if (d.has("runs")) this.renderRuns();
    if (d.has("events")) this.renderEvents();
    if (d.has("system")) this.renderSystem();
    if (d.has("charts")) this.renderCharts();
    if (d.has("config")) this.renderConfig();
    if (d.has("ckpt")) this.renderCheckpoints();
    if (d.has("actions")) this.renderActions();
    if (d.has("layers")) this.renderLayers();
    this.stats.renders++;
    // uPlot draws in a microtask queued during the renders above; this one runs after it.
    queueMicrotask(() => {
      this.stats.lastRenderMs = performance.now() - t0;
      this.stats.workMs += this.stats.lastRenderMs;
    });
  }

  // ---- data loading -----------------------------------------------------------------------------

  /** Loads the current page of the (filtered) run list from the server. */
  async loadRuns(selectFirst: boolean): Promise<void> {
    const seq = ++this.runsSeq;
    const filter = { ...this.list.filter };
    this.createdInFlight = [];
    try {
      let offset = this.list.offset;
      let reply = await this.api.runs(runsQuery(filter, offset, this.list.limit));
      if (!reply.runs.length && offset > 0 && reply.total > 0) {
        // runs vanished since this page was loaded: show the last page that still has any
        offset = clampOffset(offset, reply.total, this.list.limit);
        reply = await this.api.runs(runsQuery(filter, offset, this.list.limit));
      }
      if (seq !== this.runsSeq) return;
      const keep = new Set([this.selected, ...this.overlays, ...(this.createdInFlight ?? []).map((r) => r.id)]);
      for (const id of [...this.runs.keys()]) if (!keep.has(id)) this.runs.delete(id);
      for (const r of reply.runs) {
        this.runs.set(r.id, r);
        if (r.last_step != null) this.live.newestStep.set(r.id, Math.max(r.last_step, this.live.newestStep.get(r.id) ?? -1));
      }
      this.list.setPage(reply.runs, reply.total, offset);
      for (const c of this.createdInFlight ?? []) {
        const r = this.runs.get(c.id); // the newest copy; gone when deleted meanwhile
        if (r && !this.list.has(r.id)) this.list.onCreated(r);
      }
      this.createdInFlight = null;
      this.runsLoaded = true;
      this.runsError = "";
      if (this.selectOnPage && this.list.ids.length) {
        const id = this.selectOnPage === "first" ? this.list.ids[0] : this.list.ids[this.list.ids.length - 1];
        this.selectOnPage = null;
        void this.select(id);
        requestAnimationFrame(() => this.root.querySelector(`[data-run-id="${CSS.escape(id)}"]`)?.scrollIntoView({ block: "nearest" }));
      }
      // runs kept off this page (selected, overlays) may have changed or gone: ask for them by id
      for (const id of [this.selected, ...this.overlays]) if (id && !this.list.has(id)) void this.refreshRun(id);
      if (!this.selected && selectFirst && this.list.ids.length) await this.select(this.list.ids[0]);
    } catch (e) {
      if (seq !== this.runsSeq) return;
      this.createdInFlight = null;
      this.runsError = errText(e);
    }
    this.mark("runs", "config", "actions");
  }

  /** Re-reads one run; one that is gone leaves the selection and the overlays. */
  private async refreshRun(id: string): Promise<void> {
    try {
      this.upsertRun(await this.api.run(id));
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) return;
      this.runs.delete(id);
      this.overlays = this.overlays.filter((x) => x !== id);
      if (this.selected === id) await this.select(this.list.ids[0] ?? null);
      this.mark("runs", "toolbar", "charts");
    }
  }

  /** A run by name on the server (exact name first, then the newest whose name contains the text), or null. */
  private async lookupRun(text: string): Promise<Run | null> {
    try {
      const { runs } = await this.api.runs(runsQuery({ status: "", tag: "", q: text }, 0, 50));
      const t = text.toLowerCase();
      const r = runs.find((x) => x.id.toLowerCase() === t || x.name.toLowerCase() === t) ?? runs.find((x) => x.name.toLowerCase().startsWith(t)) ?? runs[0];
      const hit = r ?? (await this.api.run(text).catch(() => null)); // an id of a run on another page
      if (!hit) return null;
      this.upsertRun(hit);
      return hit;
    } catch {
      return null;
    }
  }

  private reloadTimer: ReturnType<typeof setTimeout> | null = null;
  /** One page reload after a burst of creations / deletions (the list is already updated in place). */
  private reloadRunsSoon(): void {
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      void this.loadRuns(false);
    }, 1000);
  }

  /** New filter or page: back to the server. */
  setFilter(filter: RunFilter): void {
    if (sameFilter(filter, this.list.filter)) return;
    this.selectOnPage = null;
    this.list.filter = { ...filter };
    this.list.offset = 0;
    this.syncFilterRow();
    void this.loadRuns(false);
  }

  turnPage(dir: -1 | 1): boolean {
    const next = pageOffset(this.list.offset, this.list.total, dir, this.list.limit);
    if (next == null) return false;
    this.selectOnPage = null;
    this.list.offset = next;
    void this.loadRuns(false);
    return true;
  }

  private syncFilterRow(): void {
    const f = this.list.filter;
    const set = (sel: string, v: string) => {
      const el = this.root.querySelector<HTMLInputElement | HTMLSelectElement>(sel);
      if (el && el.value !== v) el.value = v;
    };
    set("#f-status", f.status);
    set("#f-tag", f.tag);
    set("#f-q", f.q);
  }

  private filterFromRow(): RunFilter {
    const v = (sel: string) => this.root.querySelector<HTMLInputElement | HTMLSelectElement>(sel)?.value.trim() ?? "";
    return { status: v("#f-status") as RunFilter["status"], tag: v("#f-tag"), q: v("#f-q") };
  }

  /** The selected run's per-host system samples; none (or an older server) falls back to the server's own host. */
  async loadHostSystem(): Promise<void> {
    const id = this.selected;
    const seq = ++this.hostSysSeq;
    if (!id) {
      this.hostSys = null;
      this.mark("system");
      return;
    }
    const queries = systemQueries(this.runs.get(id)?.hosts);
    try {
      const replies = await Promise.all(queries.map((q) => this.api.runSystem(id, q)));
      if (seq !== this.hostSysSeq || id !== this.selected) return;
      const hs = new HostSamples(id);
      for (const r of replies) hs.addAll(r.samples ?? []);
      // a live sample may have arrived while loading: keep it
      if (this.hostSys?.runId === id) for (const g of this.hostSys.sorted()) for (const smp of g.samples) hs.add({ ...smp, host: g.host, rank: g.rank });
      this.hostSys = hs.size ? hs : null;
    } catch {
      if (seq !== this.hostSysSeq) return;
      this.hostSys = null;
    }
    this.mark("system");
  }

  async loadEvents(): Promise<void> {
    try {
      const { events } = await this.api.events(200);
      const seen = new Set(this.events.map((e) => e.id));
      this.events = [...this.events, ...events.filter((e) => !seen.has(e.id))].sort((a, b) => a.id - b.id).slice(-MAX_EVENTS);
    } catch {
      /* the event log stays as it is; the banner tells about the connection */
    }
    this.mark("events");
  }

  async loadSystem(): Promise<void> {
    try {
      const { samples } = await this.api.systemHistory(MAX_SAMPLES);
      this.samples = samples.slice(-MAX_SAMPLES);
      this.systemError = "";
    } catch (e) {
      this.systemError = e instanceof ApiError && e.status === 404 ? "" : errText(e);
    }
    this.mark("system");
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

  async select(runId: string | null): Promise<void> {
    if (runId === this.selected && runId != null) return;
    this.selected = runId;
    this.overlays = this.overlays.filter((id) => id !== runId);
    this.selectedCkpt = null;
    this.confirmDelete = false;
    this.checkpoints = [];
    this.ckptLoaded = false;
    this.keys = [];
    this.heat = null;
    this.layerSnap = null;
    this.layerStep = null;
    for (const c of this.charts) c.zoom = null;
    if (this.hostSys?.runId !== runId) this.hostSys = null;
    this.mark("runs", "config", "ckpt", "actions", "charts", "events", "layers", "system");
    void this.loadHostSystem();
    if (runId) void this.refreshRun(runId); // hosts, last_seen, stale as of now
    if (runId) await this.loadSelected();
  }

  /** Full (re)load of what the selected run shows: after selecting it and after a reconnect. */
  async loadSelected(): Promise<void> {
    const id = this.selected;
    if (!id) return;
    const seq = ++this.loadSeq;
    const [keys] = await Promise.all([this.api.keys(id).catch(() => ({ keys: [] as string[] })), this.loadCheckpoints(id)]);
    if (seq !== this.loadSeq) return;
    this.keys = keys.keys;
    this.chooseChartKeys();
    await this.reloadCharts();
    if (this.mode === "layers") void this.loadLayers();
  }

  private chooseChartKeys(): void {
    const [a, b] = this.charts;
    const pick = (prefs: string[], not?: string) =>
      prefs.find((k) => this.keys.includes(k) && k !== not) ?? this.keys.find((k) => k !== not) ?? "";
    if (!this.keys.includes(a.key)) a.key = pick(["loss", "train_loss", "train/loss"]);
    if (!this.keys.includes(b.key) || b.key === a.key) b.key = pick(["lr", "learning_rate", "train/lr"], a.key);
    this.mark("charts", "toolbar");
  }

  async loadCheckpoints(id: string): Promise<void> {
    try {
      const { checkpoints } = await this.api.checkpoints(id);
      if (id !== this.selected) return;
      this.checkpoints = checkpoints;
      this.ckptLoaded = true;
    } catch (e) {
      if (id === this.selected) this.checkpoints = [];
      this.ckptLoaded = true;
      void e;
    }
    this.mark("ckpt", "actions");
  }

  chartRuns(): string[] {
    return this.selected ? [this.selected, ...this.overlays] : [];
  }

  /** Fetches every chart's series for every shown run at the chart's pixel width. */
  async reloadCharts(): Promise<void> {
    const runIds = this.chartRuns();
    const wanted = new Set(runIds);
    for (const id of [...this.live.series.keys()]) if (!wanted.has(id)) this.live.drop(id);
    for (const chart of this.charts) this.syncChartRuns(chart);
    await Promise.all(this.charts.flatMap((c) => runIds.map((id) => this.fetchSeries(c, id))));
    this.mark("charts");
  }

  private syncChartRuns(chart: MetricChart): void {
    const ids = this.chartRuns();
    const prev = new Map(chart.runs.map((r) => [r.runId, r]));
    chart.runs = ids.map((id, i) => ({
      runId: id,
      name: this.runs.get(id)?.name ?? id,
      color: cssVar(`--series-${i % SERIES_COLORS}`),
      visible: prev.get(id)?.visible ?? true,
    }));
  }

  private async fetchSeries(chart: MetricChart, runId: string): Promise<void> {
    const key = chart.key;
    if (!key) return;
    const maxPoints = pointsForWidth(chart.width());
    const buf = this.live.get(runId, key);
    if (buf && !chart.zoom && this.charts.some((c) => c !== chart && c.key === key && !c.zoom) && buf.version > 0 && buf.steps.length) return;
    const q = buildMetricsQuery({
      keys: [key],
      maxPoints,
      xMin: chart.zoom?.min,
      xMax: chart.zoom?.max,
      xMode: this.view.xMode,
      timeOrigin: this.live.get(runId, key)?.times[0],
    });
    chart.setNote("loading…");
    try {
      const reply = await this.api.metrics(runId, q);
      if (chart.key !== key || !this.chartRuns().includes(runId)) return;
      const fresh = fromSeries(reply.series[key], maxPoints);
      fresh.frozen = chart.zoom != null;
      if (chart.zoom) this.zoomed.set(chartSlot(chart, runId), fresh);
      else this.live.set(runId, key, fresh);
    } catch (e) {
      chart.setNote(`error: ${errText(e)}`);
    }
    this.mark("charts");
  }

  /** Zoomed charts keep their own buffers so live tails of the full view stay intact. */
  private zoomed = new Map<string, ReturnType<typeof fromSeries>>();

  private async zoom(chart: MetricChart, lo: number, hi: number): Promise<void> {
    if (!(hi > lo)) return;
    chart.zoom = { min: lo, max: hi };
    await Promise.all(this.chartRuns().map((id) => this.fetchSeries(chart, id)));
    this.mark("charts");
  }

  private resetZoom(chart?: MetricChart): void {
    for (const c of chart ? [chart] : this.charts) {
      if (!c.zoom) continue;
      c.zoom = null;
      for (const id of this.chartRuns()) this.zoomed.delete(chartSlot(c, id));
      c.invalidate();
      void Promise.all(this.chartRuns().map((id) => this.fetchSeries(c, id)));
    }
    this.mark("charts");
  }

  private async refetchGap(g: GapRequest): Promise<void> {
    this.stats.refetches++;
    try {
      const reply = await this.api.metrics(g.runId, g.query);
      const buf = this.live.get(g.runId, g.key);
      const s = reply.series[g.key];
      if (buf && s) mergeRange(buf, s, g.lo, g.hi);
    } catch {
      /* the next reconnect resyncs */
    }
    this.mark("charts");
  }

  // ---- live updates -----------------------------------------------------------------------------

  private onConnState(s: ConnState, reconnected: boolean, retryInMs?: number): void {
    this.conn = s;
    const el = this.$("#conn");
    el.className = s;
    el.textContent = s === "open" ? "● LIVE" : s === "connecting" ? "◌ CONNECTING" : "○ OFFLINE";
    const banner = this.$("#banner");
    if (s === "closed") {
      banner.hidden = false;
      banner.className = "";
      banner.textContent = `DISCONNECTED from the tmon server — retrying in ${Math.round((retryInMs ?? 0) / 1000)}s (data shown may be stale)`;
      banner.dataset.state = "disconnected";
    } else if (s === "open" && reconnected) {
      banner.hidden = false;
      banner.className = "recovered";
      banner.textContent = "RECONNECTED — resynchronised";
      banner.dataset.state = "recovered";
      void this.resync();
      setTimeout(() => {
        if (this.conn === "open") banner.hidden = true;
      }, 3000);
    } else if (s === "open") {
      banner.hidden = true;
      banner.dataset.state = "open";
    }
  }

  /** After a reconnect, anything may have happened: reload everything the page shows. */
  private async resync(): Promise<void> {
    const sel = this.selected;
    await this.loadRuns(!sel);
    void this.loadEvents();
    void this.loadSystem();
    void this.loadHostSystem();
    if (this.selected && this.selected === sel) {
      for (const c of this.charts) c.zoom = null;
      this.zoomed.clear();
      for (const id of this.chartRuns()) this.live.drop(id);
      await this.loadSelected();
    }
  }

  onMessage(m: ServerMessage): void {
    this.stats.wsMessages++;
    switch (m.type) {
      case "metric_update": {
        this.stats.metricUpdates++;
        const { changed, refetch } = this.live.apply(m);
        const run = this.runs.get(m.run_id);
        if (run) {
          const newest = this.live.newestStep.get(m.run_id) ?? m.step;
          if (run.last_step == null || newest > run.last_step) {
            run.last_step = newest;
            if (run.total_steps) run.progress = Math.min(1, newest / run.total_steps);
          }
          this.markSoon("runs");
          if (m.run_id === this.selected) this.markSoon("config");
        }
        if (m.run_id === this.selected) for (const k of Object.keys(m.metrics)) if (!this.keys.includes(k)) this.addKey(k);
        for (const g of refetch) void this.refetchGap(g);
        if (changed) this.mark("charts");
        break;
      }
      case "run_created":
      case "run_updated":
        if (m.run) {
          this.upsertRun(m.run);
          if (m.type === "run_created") {
            // shown at once; the page is re-read shortly after for the server's order and total
            if (this.list.onCreated(m.run)) this.reloadRunsSoon();
            this.createdInFlight?.push(m.run);
          }
          else this.list.onUpdated(m.run);
        }
        if (m.type === "run_created" && !this.selected && this.list.has(m.run_id)) void this.select(m.run_id);
        break;
      case "status_change": {
        const run = this.runs.get(m.run_id);
        if (run) {
          run.status = m.new_status;
          if (m.new_status !== "running" && !run.end_time) run.end_time = new Date().toISOString();
          if (m.new_status === "running") run.end_time = null;
          this.list.onUpdated(run);
          this.mark("runs", "config", "actions");
        }
        break;
      }
      case "run_stale":
        if (applyRunStale(this.runs.get(m.run_id), m)) this.mark("runs", "config");
        break;
      case "system":
        if (m.run_id === this.selected && m.sample) {
          const hs = this.hostSys?.runId === m.run_id ? this.hostSys : new HostSamples(m.run_id);
          const groups = hs.size;
          if (hs.add(m.sample as HostSample)) {
            this.hostSys = hs;
            this.mark("system");
            if (hs.size !== groups) this.mark("config"); // a new host for the detail's list
          }
        }
        break;
      case "run_deleted":
        if (this.list.onDeleted(m.run_id)) this.reloadRunsSoon();
        this.runs.delete(m.run_id);
        this.live.drop(m.run_id);
        this.overlays = this.overlays.filter((id) => id !== m.run_id);
        if (this.selected === m.run_id) void this.select(this.sortedRuns()[0]?.id ?? null);
        this.mark("runs", "charts", "toolbar");
        break;
      case "checkpoint_saved":
      case "best_changed":
      case "checkpoint_deleted":
        if (m.run_id === this.selected) void this.loadCheckpoints(m.run_id);
        break;
      case "layer_update":
        if (m.run_id === this.selected && this.mode === "layers") this.scheduleHeatmap();
        break;
      case "event":
        this.pendingEvents.push(m.event);
        this.mark("events");
        break;
      case "system_update": {
        const { type: _t, ...sample } = m;
        void _t;
        this.samples.push(sample as SystemSample);
        if (this.samples.length > MAX_SAMPLES * 1.5) this.samples = this.samples.slice(-MAX_SAMPLES);
        this.systemError = "";
        this.mark("system");
        break;
      }
      case "error":
        this.say(`server: ${m.message}`, true);
        break;
    }
  }

  private addKey(k: string): void {
    this.keys = [...this.keys, k].sort();
    if (!this.charts[0].key || !this.charts[1].key) {
      this.chooseChartKeys();
      void this.reloadCharts();
    }
    this.mark("toolbar", "charts");
  }

  private upsertRun(run: Run): void {
    const known = this.live.newestStep.get(run.id);
    if (known != null && (run.last_step == null || run.last_step < known)) run.last_step = known;
    this.runs.set(run.id, run);
    this.mark("runs", "config", "actions");
  }

  // ---- user actions -----------------------------------------------------------------------------

  private say(text: string, error = false): void {
    const el = this.$("#cmd-msg");
    el.textContent = text;
    el.className = error ? "err" : "";
  }

  async runCommand(c: Command): Promise<void> {
    const run = this.selected ? this.runs.get(this.selected) : undefined;
    const needRun = (): Run | null => {
      if (!run) this.say("no run selected", true);
      return run ?? null;
    };
    const ckpt = (): Checkpoint | null => {
      const chosen = this.checkpoints.find((x) => x.id === this.selectedCkpt) ?? this.checkpoints[0];
      if (!chosen) this.say("no checkpoint to act on", true);
      return chosen ?? null;
    };
    try {
      switch (c.kind) {
        case "help":
          this.toggleHelp(true);
          break;
        case "select":
          await this.select(c.runId);
          this.say(`selected ${this.runs.get(c.runId)?.name ?? c.runId}`);
          break;
        case "metric":
          await this.setChartKey(this.charts[0].key === c.key ? 0 : 1, c.key);
          this.say(`charting ${c.key}`);
          break;
        case "stop": {
          const r = needRun();
          if (!r) break;
          this.upsertRun(await this.api.updateRun(r.id, { status: c.status }));
          this.say(`${r.name}: ${c.status}`);
          break;
        }
        case "best": {
          const k = ckpt();
          if (!k) break;
          await this.api.markBest(k.id);
          await this.loadCheckpoints(k.run_id);
          this.say(`★ ${k.id} is best`);
          break;
        }
        case "load": {
          const k = ckpt();
          if (!k) break;
          await this.api.load(k.id);
          this.say(`load of ${k.id} sent to the training process`);
          break;
        }
        case "delete":
          if (!needRun()) break;
          this.confirmDelete = true;
          this.mark("actions");
          this.say("confirm the delete in the ACTIONS panel");
          break;
        case "export": {
          const r = needRun();
          if (!r) break;
          const a = document.createElement("a");
          a.href = this.api.exportUrl(r.id, c.format);
          a.download = `${r.name}.${c.format}`;
          a.click();
          break;
        }
        case "theme":
          this.setTheme(c.theme ?? (this.theme === "dark" ? "light" : "dark"));
          break;
        case "view":
          this.setMode(c.view);
          break;
        case "log":
          this.setView({ logY: !this.view.logY });
          break;
        case "smooth":
          this.setView({ smoothing: c.weight });
          break;
        case "xaxis":
          this.setView({ xMode: c.mode });
          break;
        case "rate":
          this.rate = c.rate;
          store.set("rate", String(c.rate));
          this.mark("runs", "config", "toolbar");
          break;
        case "reset":
          this.resetZoom();
          break;
        case "filter":
          this.setFilter(c.filter);
          this.say(filterText(c.filter) ? `filter: ${filterText(c.filter)}` : "filter cleared");
          break;
        case "page":
          if (!this.turnPage(c.dir)) this.say(c.dir > 0 ? "this is the last page" : "this is the first page");
          break;
        case "overlay":
          this.toggleOverlay(c.runId);
          break;
        case "clear":
          this.overlays = [];
          void this.reloadCharts();
          this.mark("toolbar", "runs");
          break;
        case "error": {
          const found = c.lookup ? await this.lookupRun(c.lookup.text) : null;
          if (!found || !c.lookup) {
            this.say(c.message, true);
            break;
          }
          if (c.lookup.then === "overlay") this.toggleOverlay(found.id);
          else await this.select(found.id);
          this.say(`${c.lookup.then === "overlay" ? "overlaid" : "selected"} ${found.name} (not on this page of the list)`);
          break;
        }
      }
    } catch (e) {
      this.say(errText(e), true);
    }
  }

  async setChartKey(i: number, key: string): Promise<void> {
    const chart = this.charts[i];
    chart.key = key;
    chart.zoom = null;
    chart.invalidate();
    this.mark("charts", "toolbar");
    await Promise.all(this.chartRuns().map((id) => this.fetchSeries(chart, id)));
  }

  toggleOverlay(runId: string): void {
    if (runId === this.selected) return;
    this.overlays = this.overlays.includes(runId) ? this.overlays.filter((x) => x !== runId) : [...this.overlays, runId];
    for (const c of this.charts) c.invalidate();
    void this.reloadCharts();
    this.mark("toolbar", "runs");
  }

  setView(patch: Partial<ChartView>): void {
    const old = this.view;
    this.view = { ...old, ...patch };
    store.set("smoothing", String(this.view.smoothing));
    store.set("logY", this.view.logY ? "1" : "0");
    store.set("xMode", this.view.xMode);
    if (patch.logY !== undefined || patch.xMode !== undefined || (patch.smoothing !== undefined && (old.smoothing === 0) !== (this.view.smoothing === 0))) {
      for (const c of this.charts) c.invalidate();
    }
    if (patch.xMode !== undefined && patch.xMode !== old.xMode) this.resetZoom();
    this.mark("charts", "toolbar");
  }

  setTheme(t: "dark" | "light"): void {
    this.theme = t;
    document.documentElement.dataset.theme = t;
    store.set("theme", t);
    for (const c of this.charts) {
      c.invalidate();
      this.syncChartRuns(c);
    }
    for (const s of this.sparks.values()) s.destroy();
    this.sparks.clear();
    this.$("#p-system .body").innerHTML = "";
    this.mark("charts", "toolbar", "system", "layers", "runs");
  }

  setMode(m: "charts" | "layers"): void {
    this.mode = m;
    this.$("#grid").classList.toggle("layers", m === "layers");
    if (m === "layers") void this.loadLayers();
    else for (const c of this.charts) c.invalidate();
    this.mark("toolbar", "layers", "charts");
  }

  async moveSelection(delta: number): Promise<void> {
    const runs = this.sortedRuns();
    if (!runs.length) return;
    const i = runs.findIndex((r) => r.id === this.selected);
    // past the first / last row: on to the page before / after
    const dir = delta > 0 ? 1 : -1;
    const edge = i >= 0 && (dir > 0 ? i === runs.length - 1 : i === 0);
    if (edge && pageOffset(this.list.offset, this.list.total, dir, this.list.limit) != null) {
      this.list.offset = pageOffset(this.list.offset, this.list.total, dir, this.list.limit)!;
      this.selectOnPage = dir > 0 ? "first" : "last"; // whichever load of that page lands
      await this.loadRuns(false);
      return;
    }
    const next = runs[Math.max(0, Math.min(runs.length - 1, i < 0 ? 0 : i + delta))];
    void this.select(next.id);
    this.root.querySelector(`[data-run-id="${CSS.escape(next.id)}"]`)?.scrollIntoView({ block: "nearest" });
  }

  toggleHelp(show?: boolean): void {
    const h = this.$("#help");
    h.hidden = show === undefined ? !h.hidden : !show;
  }

  // ---- layers -----------------------------------------------------------------------------------

  private scheduleHeatmap(): void {
    if (this.heatTimer) return;
    this.heatTimer = setTimeout(() => {
      this.heatTimer = null;
      void this.loadLayers();
    }, 1000);
  }

  async loadLayers(): Promise<void> {
    const id = this.selected;
    if (!id) return;
    const canvasWrap = this.root.querySelector<HTMLElement>(".heat-canvas-wrap");
    const maxSteps = Math.max(50, Math.min(2000, canvasWrap?.clientWidth ?? 400));
    try {
      const hm = await this.api.heatmap(id, this.heatStat, maxSteps);
      if (id !== this.selected) return;
      this.heat = hm;
      this.heatError = "";
      const latest = hm.steps[hm.steps.length - 1];
      if (this.layerStep == null && latest != null) void this.loadLayerStep(latest);
    } catch (e) {
      this.heat = null;
      this.heatError = e instanceof ApiError && e.status === 404 ? "no per-layer statistics for this run (POST /api/v1/metrics/layerwise)" : errText(e);
    }
    this.mark("layers");
  }

  async loadLayerStep(step: number): Promise<void> {
    const id = this.selected;
    if (!id) return;
    this.layerStep = step;
    const req = ++this.layerReq;
    this.mark("layers");
    try {
      const snap = await this.api.layerStep(id, step);
      if (req === this.layerReq) this.layerSnap = snap;
    } catch (e) {
      if (req === this.layerReq) this.layerSnap = null;
      void e;
    }
    this.mark("layers");
  }

  // ---- rendering ------------------------------------------------------------------------------------

  private renderToolbar(): void {
    const v = this.view;
    const el = this.$("#toolbar");
    const overlays = this.overlays
      .map((id, i) => `<span class="chip" data-overlay="${esc(id)}" title="remove overlay"><i class="swatch" style="background:${cssVar(`--series-${(i + 1) % SERIES_COLORS}`)}"></i>${esc(this.runs.get(id)?.name ?? id)} ✕</span>`)
      .join("");
    el.innerHTML = `
      <span class="group">VIEW <button data-mode="charts" class="${this.mode === "charts" ? "on" : ""}">CHARTS</button><button data-mode="layers" class="${this.mode === "layers" ? "on" : ""}">LAYERS</button></span>
      <label title="EMA smoothing ([ and ])">SMOOTH <input id="smooth" type="range" min="0" max="0.99" step="0.01" value="${v.smoothing}"><b>${v.smoothing.toFixed(2)}</b></label>
      <span class="group"><button data-toggle="log" class="${v.logY ? "on" : ""}" title="log-scale y (l)">LOG Y</button></span>
      <span class="group">X <button data-x="step" class="${v.xMode === "step" ? "on" : ""}">STEP</button><button data-x="time" class="${v.xMode === "time" ? "on" : ""}">TIME</button><button data-x="rel" class="${v.xMode === "rel" ? "on" : ""}">REL</button></span>
      <span class="group"><button data-act="reset" title="reset zoom (r)">RESET ZOOM</button></span>
      <span class="group">OVERLAY ${overlays || '<span class="muted">none (o on a run)</span>'}</span>
      <label title="hourly price for the cost column">RATE $<input id="rate" type="number" min="0" step="0.01" value="${this.rate}">/h</label>
      <span class="group"><button data-act="theme" title="toggle theme (t)">${this.theme === "dark" ? "LIGHT" : "DARK"}</button><button data-act="help" title="shortcuts (?)">?</button></span>`;
  }

  private renderRuns(): void {
    const body = this.$("#p-runs .body");
    const count = this.$("#p-runs .count");
    if (!this.runsLoaded) {
      body.innerHTML = `<div class="state${this.runsError ? " error" : ""}">${this.runsError ? "cannot load runs: " + esc(this.runsError) : "loading runs…"}</div>`;
      return;
    }
    const runs = this.sortedRuns();
    const now = Date.now();
    let totalCost = 0;
    const rows = runs.map((r) => {
      // a stale run's clock stops at last_seen: its ETA and cost stop growing
      const hours = runElapsedHours(r, now);
      const cost = hours * this.rate;
      totalCost += cost;
      const progress = progressView(r.last_step, r.total_steps, r.progress);
      const elapsed = hours * 3600;
      const overlayIdx = this.overlays.indexOf(r.id);
      const sw = r.id === this.selected ? 0 : overlayIdx >= 0 ? overlayIdx + 1 : -1;
      return `<tr class="row${r.id === this.selected ? " selected" : ""}${isStale(r) ? " stale" : ""}" data-run-id="${esc(r.id)}">
        <td>${this.badges(r, now)}</td>
        <td class="runname" title="${esc(r.id)}">${sw >= 0 ? `<i class="swatch" style="background:var(--series-${sw})"></i> ` : ""}${esc(r.name)}</td>
        <td class="num">${formatStep(r.last_step)}${r.total_steps ? "/" + formatStep(r.total_steps) : ""}</td>
        <td class="progress${progress?.over ? " over" : ""}">${progress ? `<span class="bar"><i style="width:${(progress.fraction * 100).toFixed(1)}%"></i></span> ${esc(progress.label)}` : ""}</td>
        <td class="num">${r.status === "running" ? formatEta(r.last_step, r.total_steps, elapsed) : formatDuration(elapsed)}</td>
        <td class="num">${formatCost(cost)}</td></tr>`;
    });
    const l = this.list;
    count.textContent = `${pageLabel(l.offset, runs.length, l.total)} · ${formatCost(totalCost)} shown`;
    const pager = this.$("#p-runs .pager");
    const prev = pageOffset(l.offset, l.total, -1, l.limit);
    const next = pageOffset(l.offset, l.total, 1, l.limit);
    pager.hidden = prev == null && next == null;
    pager.querySelector<HTMLButtonElement>('[data-act="page-prev"]')!.disabled = prev == null;
    pager.querySelector<HTMLButtonElement>('[data-act="page-next"]')!.disabled = next == null;
    const filtered = filterText(l.filter);
    body.innerHTML = runs.length
      ? `<table><thead><tr><th>STATUS</th><th>NAME</th><th class="num">STEP</th><th>PROGRESS</th><th class="num">ETA/DUR</th><th class="num">COST</th></tr></thead><tbody>${rows.join("")}</tbody></table>`
      : filtered
        ? `<div class="state" data-no-match>no run matches <b>${esc(filtered)}</b> — <button data-act="clear-filter">CLEAR FILTER</button></div>`
        : `<div class="state">no runs yet — start one with tmon::server, tmon::monitor or POST /api/runs</div>`;
  }

  /** Status badge, plus STALE while a running run's trainer is silent. */
  private badges(r: Run, now: number): string {
    return `<span class="badge ${r.status}">[${STATUS_BADGE[r.status] ?? r.status.toUpperCase()}]</span> ${staleBadge(r, now)}`;
  }

  private renderEvents(): void {
    const body = this.$("#p-events .body");
    if (this.pendingEvents.length) {
      const seen = new Set(this.events.slice(-50).map((e) => e.id));
      for (const e of this.pendingEvents) if (!seen.has(e.id)) this.events.push(e);
      this.pendingEvents = [];
      if (this.events.length > MAX_EVENTS) this.events = this.events.slice(-MAX_EVENTS);
    }
    if (!this.events.length) {
      body.innerHTML = `<div class="state">no events yet</div>`;
      return;
    }
    const html: string[] = [];
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i];
      const name = e.run_id ? this.runs.get(e.run_id)?.name ?? e.run_id : "";
      html.push(
        `<div class="ev ${esc(e.type)}${e.run_id && e.run_id === this.selected ? " mine" : ""}" title="${esc(e.message)}"><span class="t">${formatTime(e.timestamp).slice(11)}</span> <span class="k">${esc(e.type)}</span> ${esc(name)} ${esc(e.message)}</div>`,
      );
    }
    body.innerHTML = html.join("");
  }

  private renderSystem(): void {
    const body = this.$("#p-system .body");
    const src = this.$("#p-system .sys-src");
    const hs = this.hostSys && this.hostSys.runId === this.selected && this.hostSys.size ? this.hostSys : null;
    const boxes: SysBox[] = hs ? hostBoxes(hs.sorted()) : serverBoxes(this.samples);
    const runName = hs ? this.runs.get(hs.runId)?.name ?? hs.runId : "";
    src.textContent = hs ? `${runName} · ${hs.size} host${hs.size === 1 ? "" : "s"}` : "server host";
    src.dataset.src = hs ? "run" : "server";
    if (!boxes.length) {
      body.innerHTML = `<div class="state${this.systemError ? " error" : ""}">${this.systemError ? esc(this.systemError) : "no system samples yet"}</div>`;
      for (const s of this.sparks.values()) s.destroy();
      this.sparks.clear();
      return;
    }
    const ids = (hs ? "run:" : "srv:") + boxes.map((b) => `${b.group ?? ""}/${b.id}`).join(",");
    let wrap = body.querySelector<HTMLElement>(".syswrap");
    if (!wrap || wrap.dataset.ids !== ids) {
      for (const s of this.sparks.values()) s.destroy();
      this.sparks.clear();
      const box = (b: SysBox) => `<div class="sysbox" data-sys="${esc(b.id)}"${b.title ? ` title="${esc(b.title)}"` : ""}><div class="label"><span>${esc(b.label)}</span><b></b></div><div class="spark"></div></div>`;
      let html = "";
      if (hs) {
        // one row per host: its CPU+MEM box, then its GPUs
        const groups: [string, SysBox[]][] = [];
        for (const b of boxes) {
          if (groups.length && groups[groups.length - 1][0] === b.group) groups[groups.length - 1][1].push(b);
          else groups.push([b.group ?? "", [b]]);
        }
        html = groups
          .map(([label, bs]) => `<div class="hostrow" data-host-row="${esc(label)}"><div class="hostname">${esc(label)}${bs.length === 1 ? ' <span class="muted">no GPU</span>' : ""}</div><div class="sys">${bs.map(box).join("")}</div></div>`)
          .join("");
      } else {
        const gpus = boxes.length > 2;
        html = `<div class="sys">${boxes.map(box).join("")}</div>` + (gpus ? "" : `<div class="nogpu" data-nogpu>NO GPU detected (NVML not available) — CPU only</div>`);
      }
      body.innerHTML = `<div class="syswrap" data-ids="${esc(ids)}">${html}</div><div class="muted sysfoot"></div>`;
      wrap = body.querySelector<HTMLElement>(".syswrap")!;
    }
    const theme = themeColors();
    for (const b of boxes) {
      const el = wrap.querySelector<HTMLElement>(`[data-sys="${CSS.escape(b.id)}"]`)!;
      el.querySelector("b")!.textContent = b.value;
      let spark = this.sparks.get(b.id);
      if (!spark) this.sparks.set(b.id, (spark = new Sparkline(el.querySelector(".spark")!, b.cols.map((_, i) => `${b.id}${i}`), b.colors.map((c) => cssVar(`--series-${c}`)))));
      spark.render([b.xs, ...b.cols] as any, theme);
    }
    const foot = body.querySelector(".sysfoot")!;
    if (hs) {
      const t = hs.newest();
      foot.textContent = `reported by the run's trainers${t != null ? ` · newest ${formatClock(t)}` : ""}`;
    } else {
      const last = this.samples[this.samples.length - 1];
      foot.textContent = last.process_rss != null ? `server RSS ${formatBytes(last.process_rss)} · sampled ${formatClock(last.timestamp)}` : `sampled ${formatClock(last.timestamp)}`;
    }
  }

  private renderCharts(): void {
    const theme = themeColors();
    const ids = this.chartRuns();
    this.charts.forEach((chart, i) => {
      if (chart.runs.length !== ids.length || chart.runs.some((r, j) => r.runId !== ids[j])) this.syncChartRuns(chart);
      const panel = this.$(i === 0 ? "#p-chart-a" : "#p-chart-b");
      const select = panel.querySelector<HTMLSelectElement>("select")!;
      const opts = this.keys.map((k) => `<option${k === chart.key ? " selected" : ""}>${esc(k)}</option>`).join("");
      if (select.dataset.opts !== opts) {
        select.innerHTML = opts || "<option>—</option>";
        select.dataset.opts = opts;
      }
      panel.querySelector<HTMLElement>(".zoomflag")!.textContent = chart.zoom ? "ZOOMED (dbl-click/r resets)" : "";
      if (this.mode !== "charts") return;
      if (!this.selected) {
        chart.key = "";
        chart.render([], this.view, theme);
        chart.setNote(this.runsLoaded ? "select a run" : "loading…");
        return;
      }
      const bufs = ids.map((id) => (chart.zoom ? this.zoomed.get(chartSlot(chart, id)) : this.live.get(id, chart.key)));
      chart.render(bufs, this.view, theme);
    });
  }

  private renderConfig(): void {
    const body = this.$("#p-config .body");
    const r = this.selected ? this.runs.get(this.selected) : undefined;
    if (!r) {
      body.innerHTML = `<div class="state">${this.runsLoaded ? "no run selected (j/k or type a name)" : "loading…"}</div>`;
      return;
    }
    const now = Date.now();
    const hours = runElapsedHours(r, now);
    const stale = isStale(r);
    const hosts = mergeHosts(r.hosts, this.hostSys?.runId === r.id ? this.hostSys.sorted() : []);
    const meta: [string, string][] = [
      ["id", esc(r.id)],
      ["status", this.badges(r, now)],
      ["started", formatTime(r.start_time ?? r.created_at)],
      ["ended", formatTime(r.end_time)],
      ["last seen", r.last_seen ? `${formatTime(r.last_seen)}${r.status === "running" ? ` <span class="muted">(${silentFor(r.last_seen, now)} ago)</span>` : ""}` : "--"],
      ["duration", formatDuration(hours * 3600) + (stale ? ' <span class="muted">(frozen at last seen)</span>' : "")],
      ["step", esc(stepLine(r.last_step, r.total_steps))],
      ["eta", r.status === "running" ? formatEta(r.last_step, r.total_steps, hours * 3600) + (stale ? ' <span class="muted">(stale)</span>' : "") : "--"],
      ["cost", `${formatCost(hours * this.rate)} <span class="muted">(${hours.toFixed(2)} h × $${this.rate}/h)</span>`],
      [
        "hosts",
        hosts.length
          ? `<span data-hosts="${hosts.length}">${hosts.length}</span> <span class="muted">·</span> ${hosts
              .map((h) => `<span class="host" title="last seen ${esc(formatTime(h.last_seen))}">${esc(hostLabel(h.host, h.rank))}</span>`)
              .join(", ")}`
          : "--",
      ],
      ["tags", esc((r.tags ?? []).join(", ") || "--")],
    ];
    if (r.notes) meta.push(["notes", esc(r.notes)]);
    const cfg = flatten(r.config ?? {});
    body.innerHTML =
      `<table class="kv">${meta.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join("")}</table>` +
      `<div class="sub">CONFIG</div>` +
      (cfg.length ? `<table class="kv">${cfg.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join("")}</table>` : `<div class="state">empty config</div>`);
  }

  private renderCheckpoints(): void {
    const body = this.$("#p-ckpt .body");
    const head = this.$("#p-ckpt .count");
    if (!this.selected) {
      body.innerHTML = `<div class="state">no run selected</div>`;
      head.textContent = "";
      return;
    }
    if (!this.ckptLoaded) {
      body.innerHTML = `<div class="state">loading checkpoints…</div>`;
      return;
    }
    head.textContent = String(this.checkpoints.length);
    if (!this.checkpoints.length) {
      body.innerHTML = `<div class="state">no checkpoints for this run yet</div>`;
      return;
    }
    const mcols = metricColumns(this.checkpoints);
    const cols: [string, string, boolean][] = [
      ["id", "ID", false],
      ["step", "STEP", true],
      ...mcols.map((k): [string, string, boolean] => [`m:${k}`, k.toUpperCase(), true]),
      ["created_at", "CREATED", false],
      ["filepath", "FILE", false],
    ];
    const arrow = (c: string) => (this.ckptSort.column === c ? (this.ckptSort.dir === "asc" ? " ▲" : " ▼") : "");
    const rows = sortCheckpoints(this.checkpoints, this.ckptSort).map(
      (c) => `<tr class="row${c.id === this.selectedCkpt ? " selected" : ""}" data-ckpt-id="${esc(c.id)}">
        <td>${esc(c.id)}${c.is_best ? ' <span class="star" title="best">★</span>' : ""}</td>
        <td class="num">${c.step}</td>
        ${mcols.map((k) => `<td class="num">${formatValue(c.metrics?.[k])}</td>`).join("")}
        <td>${formatTime(c.created_at)}</td><td class="muted" title="${esc(c.filepath)}">${esc(shorten(c.filepath, 40))}</td></tr>`,
    );
    const sel = this.checkpoints.find((c) => c.id === this.selectedCkpt);
    body.innerHTML =
      `<table data-sort="${esc(this.ckptSort.column)}:${this.ckptSort.dir}"><thead><tr>${cols
        .map(([c, label, num]) => `<th class="sortable${num ? " num" : ""}${this.ckptSort.column === c ? " sorted" : ""}" data-sort-col="${esc(c)}">${esc(label)}${arrow(c)}</th>`)
        .join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>` +
      (sel ? `<div class="sub">CHECKPOINT ${esc(sel.id)}</div><pre class="detail" data-ckpt-detail>${esc(JSON.stringify({ filepath: sel.filepath, step: sel.step, is_best: sel.is_best, metrics: sel.metrics, metadata: sel.metadata }, null, 1))}</pre>` : "");
  }

  private renderActions(): void {
    const body = this.$("#p-actions .body");
    const r = this.selected ? this.runs.get(this.selected) : undefined;
    if (!r) {
      body.innerHTML = `<div class="state">select a run to act on it</div>`;
      return;
    }
    const ck = this.checkpoints.find((c) => c.id === this.selectedCkpt) ?? this.checkpoints[0];
    const live = r.status === "running";
    body.innerHTML = `
      <div class="sub">RUN ${esc(r.name)} ${staleBadge(r, Date.now())}</div>
      <div class="actions">
        <button data-act="stop" ${live ? "" : "disabled"} title="PUT status cancelled">STOP</button>
        <button data-act="interrupt" ${live ? "" : "disabled"} title="PUT status interrupted">INTERRUPT</button>
        <button data-act="delete" class="danger">DELETE RUN</button>
      </div>
      ${this.confirmDelete ? `<div class="confirm" data-confirm>Delete ${esc(r.name)} with all its metrics, checkpoints and events? <button data-act="confirm-delete" class="danger">YES, DELETE</button> <button data-act="cancel-delete">NO</button></div>` : ""}
      <div class="sub">CHECKPOINT ${ck ? esc(ck.id) + (ck.is_best ? " ★" : "") : "—"}</div>
      <div class="actions">
        <button data-act="best" ${ck ? "" : "disabled"}>MARK BEST</button>
        <button data-act="load" ${ck ? "" : "disabled"}>LOAD</button>
      </div>
      <div class="sub">EXPORT</div>
      <div class="actions">
        <a href="${esc(this.api.exportUrl(r.id, "csv"))}" download data-export="csv">CSV</a>
        <a href="${esc(this.api.exportUrl(r.id, "json"))}" download data-export="json">JSON</a>
        <a href="${esc(this.api.exportUrl(r.id, "jsonl"))}" download data-export="jsonl">JSONL</a>
      </div>
      <div class="sub">COMPARE</div>
      <div class="actions"><span class="muted">o on a run row (or overlay &lt;name&gt;) overlays it</span></div>`;
  }

  private renderLayers(): void {
    if (this.mode !== "layers") return;
    const body = this.$("#p-layers .body");
    if (!body.querySelector(".layers-wrap")) {
      body.innerHTML = `<div class="layers-wrap">
        <div class="heat-wrap"><div class="heat-labels"></div><div class="heat-canvas-wrap"><canvas class="heat"></canvas><div class="heat-cursor" hidden></div><div class="chart-note heat-note"></div></div></div>
        <div class="scrub"><span class="muted">STEP</span><input type="range" id="scrub" min="0" max="0" value="0"><b id="scrub-step">--</b><span class="muted" id="heat-range"></span></div>
        <div class="layer-table"></div></div>`;
    }
    const note = body.querySelector<HTMLElement>(".heat-note")!;
    const canvas = body.querySelector<HTMLCanvasElement>("canvas.heat")!;
    const labels = body.querySelector<HTMLElement>(".heat-labels")!;
    const scrub = body.querySelector<HTMLInputElement>("#scrub")!;
    const cursor = body.querySelector<HTMLElement>(".heat-cursor")!;
    const stat = this.$("#heat-stat") as HTMLSelectElement;
    if (stat.value !== this.heatStat) stat.value = this.heatStat;
    const hm = this.heat;
    if (!this.selected) note.textContent = "select a run";
    else if (this.heatError) note.textContent = this.heatError;
    else if (!hm) note.textContent = "loading…";
    else if (!hm.steps.length) note.textContent = "no per-layer statistics yet";
    else note.textContent = "";
    canvas.dataset.cells = hm ? String(hm.steps.length * hm.layers.length) : "0";
    if (hm && hm.steps.length) {
      const key = `${hm.stat}|${hm.steps.length}|${hm.steps[hm.steps.length - 1]}|${hm.layers.length}|${this.theme}`;
      if (canvas.dataset.drawn !== key || this.heatDrawn !== hm) {
        drawHeatmap(canvas, hm, ramp(cssVar("--heat-lo"), cssVar("--heat-mid"), cssVar("--heat-hi")), cssVar("--bg-secondary"));
        canvas.dataset.drawn = key;
        this.heatDrawn = hm;
      }
      cursor.hidden = this.layerStep == null;
      if (this.layerStep != null) cursor.style.left = `${(cursorFraction(hm.steps, this.layerStep) * 100).toFixed(3)}%`;
      const h = labels.clientHeight || 1;
      const rowH = h / hm.layers.length;
      const every = Math.max(1, Math.ceil(11 / rowH));
      labels.innerHTML = hm.layers
        .map((l, i) => (i % every === 0 ? `<div style="top:${(i * rowH + rowH / 2 - 6).toFixed(1)}px">${esc(l)}</div>` : ""))
        .join("");
      scrub.max = String(hm.steps.length - 1);
      const idx = this.layerStep == null ? hm.steps.length - 1 : nearestIndex(hm.steps, this.layerStep);
      if (document.activeElement !== scrub) scrub.value = String(idx);
      body.querySelector("#heat-range")!.textContent = `${hm.steps[0]}…${hm.steps[hm.steps.length - 1]} · ${hm.layers.length} layers`;
    } else {
      canvas.width = 1;
      canvas.height = 1;
      canvas.dataset.drawn = "";
      cursor.hidden = true;
      labels.innerHTML = "";
    }
    body.querySelector("#scrub-step")!.textContent = this.layerStep == null ? "--" : String(this.layerSnap?.step ?? this.layerStep);
    const table = body.querySelector<HTMLElement>(".layer-table")!;
    const snap = this.layerSnap;
    if (!snap) {
      table.innerHTML = this.heat?.steps.length ? `<div class="state">pick a step (drag the scrubber or click the heatmap)</div>` : "";
      return;
    }
    const cell = (s: LayerSnapshot["layers"][number]["gradients"]) =>
      s ? `<td class="num">${formatValue(s.mean)}</td><td class="num">${formatValue(s.std)}</td><td class="num">${formatValue(s.min)}</td><td class="num">${formatValue(s.max)}</td><td>${hist(s.histogram?.counts)}</td>` : `<td colspan="5" class="muted">--</td>`;
    table.innerHTML = `<table data-layer-step="${snap.step}"><thead><tr><th>LAYER @ ${snap.step}</th>
      <th class="num">ACT μ</th><th class="num">σ</th><th class="num">min</th><th class="num">max</th><th>hist</th>
      <th class="num">GRAD μ</th><th class="num">σ</th><th class="num">min</th><th class="num">max</th><th>hist</th>
      <th class="num">PARAM μ</th><th class="num">σ</th><th class="num">min</th><th class="num">max</th><th>hist</th></tr></thead><tbody>${snap.layers
        .map((l) => `<tr><td>${esc(l.name)}</td>${cell(l.activations)}${cell(l.gradients)}${cell(l.parameters)}</tr>`)
        .join("")}</tbody></table>`;
  }

  // ---- input ------------------------------------------------------------------------------------------

  private bindEvents(): void {
    const cmd = this.$<HTMLInputElement>("#cmd");
    cmd.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        const text = cmd.value;
        const c = parseCommand(text, { runs: this.sortedRuns(), keys: this.keys });
        if (c.kind !== "error") cmd.value = "";
        void this.runCommand(c);
      } else if (e.key === "Escape") {
        cmd.value = "";
        cmd.blur();
      }
    });
    document.addEventListener("keydown", (e) => this.onKey(e));
    for (const sel of ["#f-tag", "#f-q"])
      this.$(sel).addEventListener("keydown", (e) => {
        if (e.key !== "Enter") return;
        if (this.filterTimer) clearTimeout(this.filterTimer);
        this.filterTimer = null;
        this.setFilter(this.filterFromRow());
      });
    this.root.addEventListener("click", (e) => this.onClick(e));
    this.root.addEventListener("input", (e) => {
      const t = e.target as HTMLInputElement;
      if (t.id === "f-tag" || t.id === "f-q") {
        // typing: ask the server once the user pauses
        if (this.filterTimer) clearTimeout(this.filterTimer);
        this.filterTimer = setTimeout(() => {
          this.filterTimer = null;
          this.setFilter(this.filterFromRow());
        }, 250);
      } else if (t.id === "smooth") this.setView({ smoothing: Number(t.value) });
      else if (t.id === "scrub" && this.heat) {
        const step = this.heat.steps[Number(t.value)];
        if (step != null) void this.loadLayerStep(step);
      }
    });
    this.root.addEventListener("change", (e) => {
      const t = e.target as HTMLInputElement | HTMLSelectElement;
      if (t.id === "rate") void this.runCommand({ kind: "rate", rate: Math.max(0, Number(t.value) || 0) });
      else if (t.id === "f-status") this.setFilter(this.filterFromRow());
      else if (t.dataset.chart != null) void this.setChartKey(Number(t.dataset.chart), t.value);
      else if (t.id === "heat-stat") {
        this.heatStat = t.value;
        void this.loadLayers();
      }
    });
  }

  private onClick(e: MouseEvent): void {
    const t = e.target as HTMLElement;
    const runRow = t.closest<HTMLElement>("[data-run-id]");
    if (runRow) {
      if (e.shiftKey || e.ctrlKey || e.metaKey) this.toggleOverlay(runRow.dataset.runId!);
      else void this.select(runRow.dataset.runId!);
      return;
    }
    const sortTh = t.closest<HTMLElement>("[data-sort-col]");
    if (sortTh) {
      this.ckptSort = nextSort(this.ckptSort, sortTh.dataset.sortCol!);
      this.mark("ckpt");
      return;
    }
    const ckRow = t.closest<HTMLElement>("[data-ckpt-id]");
    if (ckRow) {
      this.selectedCkpt = ckRow.dataset.ckptId === this.selectedCkpt ? null : ckRow.dataset.ckptId!;
      this.mark("ckpt", "actions");
      return;
    }
    const ov = t.closest<HTMLElement>("[data-overlay]");
    if (ov) return this.toggleOverlay(ov.dataset.overlay!);
    if (t.closest("canvas.heat") && this.heat?.steps.length) {
      const rect = (t as HTMLCanvasElement).getBoundingClientRect();
      const i = Math.floor(((e.clientX - rect.left) / rect.width) * this.heat.steps.length);
      void this.loadLayerStep(this.heat.steps[Math.max(0, Math.min(this.heat.steps.length - 1, i))]);
      return;
    }
    const btn = t.closest<HTMLElement>("button");
    if (!btn) return;
    if (btn.dataset.mode) return this.setMode(btn.dataset.mode as "charts" | "layers");
    if (btn.dataset.x) return this.setView({ xMode: btn.dataset.x as XMode });
    if (btn.dataset.toggle === "log") return this.setView({ logY: !this.view.logY });
    if (btn.dataset.resetChart != null) return this.resetZoom(this.charts[Number(btn.dataset.resetChart)]);
    switch (btn.dataset.act) {
      case "reset":
        return this.resetZoom();
      case "page-prev":
        return void this.turnPage(-1);
      case "page-next":
        return void this.turnPage(1);
      case "clear-filter":
        return this.setFilter({ status: "", tag: "", q: "" });
      case "theme":
        return void this.runCommand({ kind: "theme" });
      case "help":
        return this.toggleHelp(true);
      case "close-help":
        return this.toggleHelp(false);
      case "stop":
        return void this.runCommand({ kind: "stop", status: "cancelled" });
      case "interrupt":
        return void this.runCommand({ kind: "stop", status: "interrupted" });
      case "best":
        return void this.runCommand({ kind: "best" });
      case "load":
        return void this.runCommand({ kind: "load" });
      case "delete":
        return void this.runCommand({ kind: "delete" });
      case "cancel-delete":
        this.confirmDelete = false;
        return this.mark("actions");
      case "confirm-delete":
        return void this.deleteSelected();
    }
  }

  private async deleteSelected(): Promise<void> {
    const id = this.selected;
    if (!id) return;
    this.confirmDelete = false;
    try {
      await this.api.deleteRun(id);
      this.runs.delete(id);
      this.live.drop(id);
      this.say(`deleted ${id}`);
      await this.select(this.sortedRuns()[0]?.id ?? null);
    } catch (e) {
      this.say(errText(e), true);
    }
    this.mark("runs", "actions");
  }

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement;
    const typing = target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA";
    if (e.key === "Escape") {
      this.toggleHelp(false);
      if (this.confirmDelete) {
        this.confirmDelete = false;
        this.mark("actions");
      }
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const actions: Record<string, () => void> = {
      "/": () => this.$<HTMLInputElement>("#cmd").focus(),
      "?": () => this.toggleHelp(),
      j: () => void this.moveSelection(1),
      k: () => void this.moveSelection(-1),
      ArrowDown: () => void this.moveSelection(1),
      ArrowUp: () => void this.moveSelection(-1),
      t: () => void this.runCommand({ kind: "theme" }),
      l: () => this.setView({ logY: !this.view.logY }),
      x: () => this.setView({ xMode: this.view.xMode === "step" ? "time" : this.view.xMode === "time" ? "rel" : "step" }),
      v: () => this.setMode(this.mode === "charts" ? "layers" : "charts"),
      r: () => this.resetZoom(),
      "[": () => this.setView({ smoothing: Math.max(0, +(this.view.smoothing - 0.1).toFixed(2)) }),
      "]": () => this.setView({ smoothing: Math.min(0.99, +(this.view.smoothing + 0.1).toFixed(2)) }),
      b: () => void this.runCommand({ kind: "best" }),
      o: () => {
        const runs = this.sortedRuns();
        const next = runs.find((r) => r.id !== this.selected && !this.overlays.includes(r.id));
        if (next) this.toggleOverlay(next.id);
      },
      c: () => void this.runCommand({ kind: "clear" }),
    };
    const f = actions[e.key];
    if (f) {
      e.preventDefault();
      f();
    }
  }
}

export const SHORTCUTS: [string, string][] = [
  ["/", "focus the command line"],
  ["j / k, ↓ / ↑", "next / previous run (on to the next / previous page at the ends)"],
  ["?", "this help"],
  ["Esc", "close help, leave the command line"],
  ["t", "dark / light theme"],
  ["l", "log-scale y"],
  ["x", "x axis: step → time → relative"],
  ["[ / ]", "less / more smoothing"],
  ["drag, dbl-click, r", "zoom a chart (re-queried at full detail), reset"],
  ["v", "charts / layer heatmap"],
  ["o / c, shift-click", "overlay another run / clear overlays / overlay that run"],
  ["b", "mark the selected checkpoint best"],
];

const LAYOUT = `
<header id="top"><span class="brand">TMON</span><span class="prompt">&gt;</span>
  <input id="cmd" autocomplete="off" spellcheck="false" placeholder="run name, metric key or command (help) — press / to focus, ? for shortcuts">
  <span id="cmd-msg"></span><span id="conn" class="connecting">◌ CONNECTING</span><span id="clock"></span></header>
<div id="banner" hidden></div>
<nav id="toolbar"></nav>
<main id="grid">
  <section class="panel" id="p-runs"><h2>RUNS <span class="spacer"></span><span class="count muted"></span><span class="pager" hidden><button data-act="page-prev" title="previous page (prev)">◀</button><button data-act="page-next" title="next page (next)">▶</button></span></h2>
    <div class="runfilter"><select id="f-status" title="status"><option value="">all statuses</option>${RUN_STATUSES.map((st) => `<option value="${st}">${st}</option>`).join("")}</select><input id="f-tag" placeholder="tag" autocomplete="off" spellcheck="false" title="exact tag"><input id="f-q" placeholder="name contains" autocomplete="off" spellcheck="false" title="name substring (case-insensitive)"><button data-act="clear-filter" title="show every run">✕</button></div>
    <div class="body"></div></section>
  <section class="panel" id="p-system"><h2>SYSTEM <span class="spacer"></span><span class="sys-src muted"></span></h2><div class="body"></div></section>
  <section class="panel" id="p-events"><h2>EVENT LOG</h2><div class="body" id="events"></div></section>
  ${[0, 1].map((i) => `<section class="panel" id="p-chart-${i ? "b" : "a"}"><h2>${i ? "CHART B" : "CHART A"} <select data-chart="${i}" title="metric key"></select><span class="zoomflag muted"></span><span class="spacer"></span><button data-reset-chart="${i}" title="reset zoom">⟲</button></h2><div class="legend"></div><div class="chart-body"><div class="chart"></div></div></section>`).join("")}
  <section class="panel" id="p-config"><h2>RUN CONFIG</h2><div class="body"></div></section>
  <section class="panel" id="p-ckpt"><h2>CHECKPOINTS <span class="count muted"></span><span class="spacer"></span><span class="muted">click a header to sort, a row for details</span></h2><div class="body"></div></section>
  <section class="panel" id="p-actions"><h2>ACTIONS</h2><div class="body"></div></section>
  <section class="panel" id="p-layers"><h2>LAYERS <select id="heat-stat">${["activations", "gradients", "parameters"]
    .flatMap((g) => ["mean", "std", "min", "max"].map((s) => `${g}.${s}`))
    .map((s) => `<option>${s}</option>`)
    .join("")}</select><span class="spacer"></span><span class="muted">click the heatmap or drag the scrubber to travel in time</span></h2><div class="body"></div></section>
</main>
<div id="help" hidden><div class="box"><h3>KEYBOARD</h3><table class="kv">${SHORTCUTS.map(([k, d]) => `<tr><td><kbd>${esc(k)}</kbd></td><td>${esc(d)}</td></tr>`).join("")}</table>
  <h3>COMMAND LINE</h3><table class="kv">${COMMAND_HELP.map(([k, d]) => `<tr><td><kbd>${esc(k)}</kbd></td><td>${esc(d)}</td></tr>`).join("")}</table>
  <p class="muted">Esc closes · <button data-act="close-help">CLOSE</button></p></div></div>`;

function chartSlot(chart: MetricChart, runId: string): string {
  return `${chart.key}\u0000${runId}\u0000${chart.plotEl.parentElement?.parentElement?.id}`;
}

/** "◌ STALE" while a running run's trainer is silent, else "". */
function staleBadge(r: Run, now: number): string {
  if (!isStale(r)) return "";
  const quiet = silentFor(r.last_seen, now);
  return `<span class="badge stale" data-stale title="no report from the trainer${quiet ? " for " + quiet : ""} (last seen ${esc(formatTime(r.last_seen))}); ETA and cost are frozen">◌ STALE</span>`;
}

function errText(e: unknown): string {
  if (e instanceof ApiError) return `${e.status} ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

function flatten(obj: Record<string, unknown>, prefix = "", out: [string, string][] = []): [string, string][] {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v) && out.length < 200) flatten(v as Record<string, unknown>, key, out);
    else out.push([key, typeof v === "string" ? v : JSON.stringify(v)]);
  }
  return out;
}

function shorten(s: string, n: number): string {
  return s.length <= n ? s : "…" + s.slice(s.length - n + 1);
}

function hist(counts: number[] | undefined): string {
  if (!counts || !counts.length) return "";
  const max = Math.max(...counts) || 1;
  const step = Math.max(1, Math.ceil(counts.length / 16));
  const bins: number[] = [];
  for (let i = 0; i < counts.length; i += step) bins.push(counts.slice(i, i + step).reduce((a, b) => a + b, 0));
  const bmax = Math.max(...bins) || max;
  return `<span class="hist">${bins.map((c) => `<i style="height:${Math.max(1, Math.round((12 * c) / bmax))}px"></i>`).join("")}</span>`;
}

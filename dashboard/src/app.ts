// Start-up, the render scheduler and the socket wiring. What is shown lives in state.ts, what the
// server's messages do in live.ts, each panel (markup, drawing, clicks, its own loading) in
// panels/<name>.ts, the command line's commands in actions.ts and the keyboard in keys.ts.
import { runCommand } from "./actions";
import { Api, wsUrl } from "./api";
import { esc, type ChartView } from "./chart";
import { parseCommand, type Command } from "./command";
import { formatClock } from "./format";
import { helpHtml, shortcutFor } from "./keys";
import { applyMessage, type Effect } from "./live";
import { saveRate, saveTheme, saveView, type ThemeName } from "./prefs";
import { State, loading, type PanelId } from "./state";
import type { ServerMessage } from "./types";
import { LiveSocket, type ConnState } from "./ws";
import { actionsPanel } from "./panels/actions";
import { ChartsPanel } from "./panels/charts";
import { checkpointsPanel } from "./panels/checkpoints";
import { configPanel } from "./panels/config";
import { eventsPanel } from "./panels/events";
import { LayersPanel } from "./panels/layers";
import type { Panel } from "./panels/panel";
import { RunsPanel } from "./panels/runs";
import { SystemPanel } from "./panels/system";
import { toolbarPanel } from "./panels/toolbar";

export class App {
  readonly api = new Api();
  readonly state = new State();
  readonly runsPanel = new RunsPanel(this);
  readonly system = new SystemPanel(this);
  readonly charts = new ChartsPanel(this);
  readonly layers = new LayersPanel(this);
  readonly checkpoints = checkpointsPanel;
  /** Every panel: the grid's in layout order (the toolbar sits above it); rendered in this order. */
  readonly panels: Panel[] = [toolbarPanel, this.runsPanel, this.system, eventsPanel, this.charts, configPanel, checkpointsPanel, actionsPanel, this.layers];
  socket!: LiveSocket;
  private dirty = new Set<PanelId>();
  private frame = 0;
  private soon = new Set<PanelId>();
  private soonTimer: ReturnType<typeof setTimeout> | null = null;
  private loadSeq = 0;

  constructor(private root: HTMLElement) {}

  // ---- start-up ---------------------------------------------------------------------------------

  start(): void {
    const s = this.state;
    document.documentElement.dataset.theme = s.theme;
    this.root.innerHTML = this.layout();
    for (const p of this.panels) p.mount?.(this);
    this.bindEvents();
    this.socket = new LiveSocket({
      url: wsUrl(location, this.api.token),
      subscriptions: () => ["*"],
      onMessage: (m) => this.onMessage(m),
      onState: (st, d) => this.onConnState(st, d.reconnected, d.retryInMs),
    });
    this.socket.start();
    void this.runsPanel.load(true);
    void eventsPanel.load(this);
    void this.system.loadServer();
    setInterval(() => {
      this.$("#clock").textContent = formatClock(Date.now() / 1000);
      this.mark("runs", "config"); // elapsed time, ETA and cost move with the clock
    }, 1000);
    new ResizeObserver(() => {
      this.charts.resize();
      this.mark("system", "layers");
    }).observe(this.$("#grid"));
    this.mark(...this.panels.map((p) => p.id));
    // the bench and e2e read stats and the live store; a normal page exposes nothing
    if (new URLSearchParams(location.search).has("debug")) (window as any).__tmon = { app: this, state: s, stats: s.stats, live: s.live };
  }

  /** The page: the command line, the toolbar, the grid assembled from the panels, the help overlay. */
  private layout(): string {
    const grid = this.panels.filter((p) => p !== toolbarPanel);
    return `
<header id="top"><span class="brand">TMON</span><span class="prompt">&gt;</span>
  <input id="cmd" autocomplete="off" spellcheck="false" placeholder="run name, metric key or command (help) — press / to focus, ? for shortcuts">
  <span id="cmd-msg"></span><span id="conn" class="connecting">◌ CONNECTING</span><span id="clock"></span></header>
<div id="banner" hidden></div>
${toolbarPanel.html()}
<main id="grid">${grid.map((p) => p.html()).join("\n")}</main>
${helpHtml(esc)}`;
  }

  $<T extends HTMLElement = HTMLElement>(sel: string): T {
    return this.root.querySelector<T>(sel)!;
  }

  // ---- the render scheduler ------------------------------------------------------------------------

  /** Batches DOM work: every change marks panels, one animation frame redraws them all. */
  mark(...ids: PanelId[]): void {
    for (const id of ids) this.dirty.add(id);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  /** For text that changes with every live point (steps, progress): at most 4 redraws a second. */
  markSoon(...ids: PanelId[]): void {
    for (const id of ids) this.soon.add(id);
    if (this.soonTimer || !this.soon.size) return;
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
    for (const p of this.panels) if (d.has(p.id)) p.render(this);
    const stats = this.state.stats;
    stats.renders++;
    // uPlot draws in a microtask queued during the renders above; this one runs after it.
    queueMicrotask(() => {
      stats.lastRenderMs = performance.now() - t0;
      stats.workMs += stats.lastRenderMs;
    });
  }

  // ---- socket wiring --------------------------------------------------------------------------------

  onMessage(m: ServerMessage): void {
    const out = applyMessage(this.state, m);
    if (out.mark.size) this.mark(...out.mark);
    if (out.soon.size) this.markSoon(...out.soon);
    for (const e of out.effects) this.perform(e);
  }

  private perform(e: Effect): void {
    switch (e.kind) {
      case "refetch-gap":
        return void this.charts.refetchGap(e.gap);
      case "reload-runs":
        return this.runsPanel.reloadSoon();
      case "select":
        return void this.select(e.runId);
      case "load-checkpoints":
        return void this.checkpoints.load(this, e.runId);
      case "load-layers":
        return this.layers.loadSoon();
      case "new-keys":
        return this.charts.onNewKeys();
      case "say":
        return this.say(e.text, e.error);
    }
  }

  private onConnState(st: ConnState, reconnected: boolean, retryInMs?: number): void {
    this.state.conn = st;
    const el = this.$("#conn");
    el.className = st;
    el.textContent = st === "open" ? "● LIVE" : st === "connecting" ? "◌ CONNECTING" : "○ OFFLINE";
    const banner = this.$("#banner");
    if (st === "closed") {
      banner.hidden = false;
      banner.className = "";
      banner.textContent = `DISCONNECTED from the tmon server — retrying in ${Math.round((retryInMs ?? 0) / 1000)}s (data shown may be stale)`;
      banner.dataset.state = "disconnected";
    } else if (st === "open" && reconnected) {
      banner.hidden = false;
      banner.className = "recovered";
      banner.textContent = "RECONNECTED — resynchronised";
      banner.dataset.state = "recovered";
      void this.resync();
      setTimeout(() => {
        if (this.state.conn === "open") banner.hidden = true;
      }, 3000);
    } else if (st === "open") {
      banner.hidden = true;
      banner.dataset.state = "open";
    }
  }

  /** After a reconnect, anything may have happened: reload everything the page shows. */
  private async resync(): Promise<void> {
    const s = this.state;
    const sel = s.selected;
    await this.runsPanel.load(!sel);
    void eventsPanel.load(this);
    void this.system.loadServer();
    void this.system.loadRunHosts();
    if (s.selected && s.selected === sel) {
      this.charts.forgetZoom();
      for (const id of s.chartRuns()) s.live.drop(id);
      await this.loadSelected();
    }
  }

  // ---- selection and view -----------------------------------------------------------------------------

  async select(runId: string | null): Promise<void> {
    const s = this.state;
    if (runId === s.selected && runId != null) return;
    s.selected = runId;
    s.overlays = s.overlays.filter((id) => id !== runId);
    s.selectedCkpt = null;
    s.confirmDelete = false;
    s.checkpoints = loading();
    s.keys = [];
    this.layers.clear();
    this.charts.forgetZoom();
    if (s.hostSys?.runId !== runId) s.hostSys = null;
    this.mark("runs", "config", "checkpoints", "actions", "charts", "events", "layers", "system");
    void this.system.loadRunHosts();
    if (runId) void this.runsPanel.refreshRun(runId); // hosts, last_seen, stale as of now
    if (runId) await this.loadSelected();
  }

  /** Full (re)load of what the selected run shows: after selecting it and after a reconnect. */
  async loadSelected(): Promise<void> {
    const s = this.state;
    const id = s.selected;
    if (!id) return;
    const seq = ++this.loadSeq;
    const [keys] = await Promise.all([this.api.keys(id).catch(() => ({ keys: [] as string[] })), this.checkpoints.load(this, id)]);
    if (seq !== this.loadSeq) return;
    s.keys = keys.keys;
    this.charts.chooseKeys();
    await this.charts.reload();
    if (s.mode === "layers") void this.layers.load();
  }

  toggleOverlay(runId: string): void {
    const s = this.state;
    if (runId === s.selected) return;
    s.overlays = s.overlays.includes(runId) ? s.overlays.filter((x) => x !== runId) : [...s.overlays, runId];
    this.charts.invalidate();
    void this.charts.reload();
    this.mark("toolbar", "runs");
  }

  setView(patch: Partial<ChartView>): void {
    const s = this.state;
    const old = s.view;
    s.view = { ...old, ...patch };
    saveView(s.view);
    if (patch.logY !== undefined || patch.xMode !== undefined || (patch.smoothing !== undefined && (old.smoothing === 0) !== (s.view.smoothing === 0))) this.charts.invalidate();
    if (patch.xMode !== undefined && patch.xMode !== old.xMode) this.charts.resetZoom();
    this.mark("charts", "toolbar");
  }

  setTheme(t: ThemeName): void {
    this.state.theme = t;
    document.documentElement.dataset.theme = t;
    saveTheme(t);
    this.charts.invalidate();
    this.system.reset();
    this.mark("charts", "toolbar", "system", "layers", "runs");
  }

  setMode(m: "charts" | "layers"): void {
    this.state.mode = m;
    this.$("#grid").classList.toggle("layers", m === "layers");
    if (m === "layers") void this.layers.load();
    else this.charts.invalidate();
    this.mark("toolbar", "layers", "charts");
  }

  setRate(rate: number): void {
    this.state.rate = rate;
    saveRate(rate);
    this.mark("runs", "config", "toolbar");
  }

  cancelDelete(): void {
    if (!this.state.confirmDelete) return;
    this.state.confirmDelete = false;
    this.mark("actions");
  }

  toggleHelp(show?: boolean): void {
    const h = this.$("#help");
    h.hidden = show === undefined ? !h.hidden : !show;
  }

  /** The line next to the command line. */
  say(text: string, error = false): void {
    const el = this.$("#cmd-msg");
    el.textContent = text;
    el.className = error ? "err" : "";
  }

  run(c: Command): Promise<void> {
    return runCommand(this, c);
  }

  // ---- input ----------------------------------------------------------------------------------------------

  private bindEvents(): void {
    const cmd = this.$<HTMLInputElement>("#cmd");
    cmd.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        const c = parseCommand(cmd.value, { runs: this.state.sortedRuns(), keys: this.state.keys });
        if (c.kind !== "error") cmd.value = "";
        void this.run(c);
      } else if (e.key === "Escape") {
        cmd.value = "";
        cmd.blur();
      }
    });
    document.addEventListener("keydown", (e) => {
      const t = e.target as HTMLElement;
      const typing = t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA";
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const f = shortcutFor(e.key, typing);
      if (!f) return;
      if (e.key !== "Escape") e.preventDefault();
      f(this);
    });
    // each event goes to the panel it happened in
    const panelOf = (t: HTMLElement) => {
      const id = t.closest<HTMLElement>("[data-panel]")?.dataset.panel;
      return this.panels.find((p) => p.id === id);
    };
    this.root.addEventListener("click", (e) => {
      const t = e.target as HTMLElement;
      if (t.closest('[data-act="close-help"]')) return this.toggleHelp(false);
      panelOf(t)?.onClick?.(this, t, e);
    });
    this.root.addEventListener("input", (e) => {
      const t = e.target as HTMLInputElement;
      panelOf(t)?.onInput?.(this, t);
    });
    this.root.addEventListener("change", (e) => {
      const t = e.target as HTMLInputElement | HTMLSelectElement;
      panelOf(t)?.onChange?.(this, t);
    });
  }
}

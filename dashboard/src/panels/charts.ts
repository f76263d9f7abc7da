// CHART A and CHART B: any metric key of the selected run plus overlays (uPlot). Each asks the server
// for max_points = its pixel width, then appends what metric_update pushes; a zoom is re-queried at
// full detail into its own buffers so the live tails of the full view stay intact.
import { errText } from "../api";
import type { App } from "../app";
import { MetricChart, cssVar, esc, themeColors } from "../chart";
import { buildMetricsQuery, pointsForWidth } from "../query";
import { fromSeries, mergeRange, type GapRequest, type SeriesBuf } from "../series";
import type { Panel } from "./panel";
import { SERIES_COLORS } from "./toolbar";

const SLOTS = ["a", "b"] as const;

export class ChartsPanel implements Panel {
  readonly id = "charts";
  charts: MetricChart[] = [];
  /** Zoomed charts keep their own buffers, by chart slot, key and run. */
  private zoomed = new Map<string, SeriesBuf>();

  constructor(private app: App) {}

  html(): string {
    return SLOTS.map(
      (slot, i) =>
        `<section class="panel" id="p-chart-${slot}" data-panel="charts"><h2>CHART ${slot.toUpperCase()} <select data-chart="${i}" title="metric key"></select><span class="zoomflag muted"></span><span class="spacer"></span><button data-reset-chart="${i}" title="reset zoom">⟲</button></h2><div class="legend"></div><div class="chart-body"><div class="chart"></div></div></section>`,
    ).join("");
  }

  mount(app: App): void {
    this.charts = SLOTS.map((slot) => {
      const panel = app.$(`#p-chart-${slot}`);
      return new MetricChart(panel.querySelector(".chart-body")!, panel.querySelector(".chart")!, panel.querySelector(".legend")!, {
        onZoom: (c, lo, hi) => void this.zoom(c, lo, hi),
        onResetZoom: (c) => this.resetZoom(c),
      });
    });
  }

  render(app: App): void {
    const s = app.state;
    const theme = themeColors();
    const ids = s.chartRuns();
    this.charts.forEach((chart, i) => {
      if (chart.runs.length !== ids.length || chart.runs.some((r, j) => r.runId !== ids[j])) this.syncRuns(chart);
      const panel = app.$(`#p-chart-${SLOTS[i]}`);
      const select = panel.querySelector<HTMLSelectElement>("select")!;
      const opts = s.keys.map((k) => `<option${k === chart.key ? " selected" : ""}>${esc(k)}</option>`).join("");
      if (select.dataset.opts !== opts) {
        select.innerHTML = opts || "<option>—</option>";
        select.dataset.opts = opts;
      }
      panel.querySelector<HTMLElement>(".zoomflag")!.textContent = chart.zoom ? "ZOOMED (dbl-click/r resets)" : "";
      if (s.mode !== "charts") return;
      if (!s.selected) {
        chart.key = "";
        chart.render([], s.view, theme);
        chart.setNote(s.list.loaded ? "select a run" : "loading…");
        return;
      }
      const bufs = ids.map((id) => (chart.zoom ? this.zoomed.get(this.slot(chart, id)) : s.live.get(id, chart.key)));
      chart.render(bufs, s.view, theme);
    });
  }

  onClick(_app: App, t: HTMLElement): boolean {
    const btn = t.closest<HTMLElement>("button[data-reset-chart]");
    if (!btn) return false;
    this.resetZoom(this.charts[Number(btn.dataset.resetChart)]);
    return true;
  }

  onChange(_app: App, t: HTMLInputElement | HTMLSelectElement): void {
    if (t.dataset.chart != null) void this.setKey(Number(t.dataset.chart), t.value);
  }

  /** Redraw from scratch (new axes, theme, smoothing on/off): colours and scales are rebuilt. */
  invalidate(): void {
    for (const c of this.charts) {
      c.invalidate();
      this.syncRuns(c);
    }
  }

  resize(): void {
    for (const c of this.charts) c.resize();
  }

  /** A new run selected: its own keys, no zoom. */
  forgetZoom(): void {
    for (const c of this.charts) c.zoom = null;
    this.zoomed.clear();
  }

  /** Keeps each chart's key when the run has it, else picks loss / lr (or the first keys). */
  chooseKeys(): void {
    const keys = this.app.state.keys;
    const [a, b] = this.charts;
    const pick = (prefs: string[], not?: string) => prefs.find((k) => keys.includes(k) && k !== not) ?? keys.find((k) => k !== not) ?? "";
    if (!keys.includes(a.key)) a.key = pick(["loss", "train_loss", "train/loss"]);
    if (!keys.includes(b.key) || b.key === a.key) b.key = pick(["lr", "learning_rate", "train/lr"], a.key);
    this.app.mark("charts", "toolbar");
  }

  /** The selected run gained keys: a chart that shows nothing yet takes one. */
  onNewKeys(): void {
    if (this.charts.every((c) => c.key)) return;
    this.chooseKeys();
    void this.reload();
  }

  async setKey(i: number, key: string): Promise<void> {
    const chart = this.charts[i];
    chart.key = key;
    chart.zoom = null;
    chart.invalidate();
    this.app.mark("charts", "toolbar");
    await Promise.all(this.app.state.chartRuns().map((id) => this.fetch(chart, id)));
  }

  /** The index of the chart showing `key`, else the second one. */
  slotFor(key: string): number {
    return this.charts[0].key === key ? 0 : 1;
  }

  /** Fetches every chart's series for every shown run at the chart's pixel width. */
  async reload(): Promise<void> {
    const s = this.app.state;
    const runIds = s.chartRuns();
    const wanted = new Set(runIds);
    for (const id of [...s.live.series.keys()]) if (!wanted.has(id)) s.live.drop(id);
    for (const chart of this.charts) this.syncRuns(chart);
    await Promise.all(this.charts.flatMap((c) => runIds.map((id) => this.fetch(c, id))));
    this.app.mark("charts");
  }

  resetZoom(chart?: MetricChart): void {
    const runs = this.app.state.chartRuns();
    for (const c of chart ? [chart] : this.charts) {
      if (!c.zoom) continue;
      c.zoom = null;
      for (const id of runs) this.zoomed.delete(this.slot(c, id));
      c.invalidate();
      void Promise.all(runs.map((id) => this.fetch(c, id)));
    }
    this.app.mark("charts");
  }

  /** The server dropped points for a slow client: fetch exactly the missing steps. */
  async refetchGap(g: GapRequest): Promise<void> {
    const s = this.app.state;
    s.stats.refetches++;
    try {
      const reply = await this.app.api.metrics(g.runId, g.query);
      const buf = s.live.get(g.runId, g.key);
      const series = reply.series[g.key];
      if (buf && series) mergeRange(buf, series, g.lo, g.hi);
    } catch {
      /* the next reconnect resyncs */
    }
    this.app.mark("charts");
  }

  private async zoom(chart: MetricChart, lo: number, hi: number): Promise<void> {
    if (!(hi > lo)) return;
    chart.zoom = { min: lo, max: hi };
    await Promise.all(this.app.state.chartRuns().map((id) => this.fetch(chart, id)));
    this.app.mark("charts");
  }

  private syncRuns(chart: MetricChart): void {
    const s = this.app.state;
    const prev = new Map(chart.runs.map((r) => [r.runId, r]));
    chart.runs = s.chartRuns().map((id, i) => ({
      runId: id,
      name: s.runs.get(id)?.name ?? id,
      color: cssVar(`--series-${i % SERIES_COLORS}`),
      visible: prev.get(id)?.visible ?? true,
    }));
  }

  private async fetch(chart: MetricChart, runId: string): Promise<void> {
    const s = this.app.state;
    const key = chart.key;
    if (!key) return;
    const maxPoints = pointsForWidth(chart.width());
    const buf = s.live.get(runId, key);
    // the other chart already loaded this key for the full view: share its buffer
    if (buf && !chart.zoom && this.charts.some((c) => c !== chart && c.key === key && !c.zoom) && buf.version > 0 && buf.steps.length) return;
    const q = buildMetricsQuery({ keys: [key], maxPoints, xMin: chart.zoom?.min, xMax: chart.zoom?.max, xMode: s.view.xMode, timeOrigin: buf?.times[0] });
    chart.setNote("loading…");
    try {
      const reply = await this.app.api.metrics(runId, q);
      if (chart.key !== key || !s.chartRuns().includes(runId)) return;
      const fresh = fromSeries(reply.series[key], maxPoints);
      fresh.frozen = chart.zoom != null;
      if (chart.zoom) this.zoomed.set(this.slot(chart, runId), fresh);
      else s.live.set(runId, key, fresh);
    } catch (e) {
      chart.setNote(`error: ${errText(e)}`);
    }
    this.app.mark("charts");
  }

  private slot(chart: MetricChart, runId: string): string {
    return `${this.charts.indexOf(chart)}\u0000${chart.key}\u0000${runId}`;
  }
}

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { ema } from "./ema";
import { formatDuration, formatValue } from "./format";
import type { XMode } from "./query";
import type { SeriesBuf } from "./series";

export interface ChartRun {
  runId: string;
  name: string;
  color: string;
  visible: boolean;
}

export interface ChartView {
  smoothing: number;
  logY: boolean;
  xMode: XMode;
}

export interface Theme {
  text: string;
  muted: string;
  grid: string;
}

export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function themeColors(): Theme {
  return { text: cssVar("--text-primary"), muted: cssVar("--text-muted"), grid: cssVar("--grid-color") };
}

/** `#rrggbb` at some opacity, for the faint raw line behind the smoothed one. */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const a = Math.round(alpha * 255)
    .toString(16)
    .padStart(2, "0");
  return `#${m[1]}${a}`;
}

/** x values of a buffer in the chosen mode (relative time counts from the run's first point). */
export function xValues(buf: SeriesBuf, mode: XMode): number[] {
  if (mode === "step") return buf.steps;
  if (mode === "time") return buf.times;
  const t0 = buf.times.length ? buf.times[0] : 0;
  return buf.times.map((t) => t - t0);
}

/** Aligned uPlot data: x, then per run a raw and a smoothed series (nulls where a run has no point). */
export function buildData(bufs: (SeriesBuf | undefined)[], view: ChartView): uPlot.AlignedData {
  const tables: uPlot.AlignedData[] = bufs.map((buf) => {
    if (!buf || buf.steps.length === 0) return [[], [], []] as unknown as uPlot.AlignedData;
    const xs = xValues(buf, view.xMode);
    let ys: (number | null)[] = buf.values;
    if (view.logY) ys = ys.map((v) => (v != null && v > 0 ? v : null));
    const smooth = view.smoothing > 0 ? ema(ys, view.smoothing) : ys;
    return [xs, ys, smooth] as unknown as uPlot.AlignedData;
  });
  if (tables.length === 1) return tables[0];
  const nonEmpty = tables.filter((t) => (t[0] as number[]).length > 0);
  if (nonEmpty.length === 0) return [[], ...tables.flatMap(() => [[], []])] as unknown as uPlot.AlignedData;
  // uPlot.join needs every table non-empty; empty runs get all-null columns afterwards.
  const joined = uPlot.join(nonEmpty);
  const xs = joined[0] as number[];
  const out: (number | null)[][] = [xs as (number | null)[]];
  let j = 1;
  for (const t of tables) {
    if ((t[0] as number[]).length === 0) {
      out.push(new Array(xs.length).fill(null), new Array(xs.length).fill(null));
    } else {
      out.push(joined[j] as (number | null)[], joined[j + 1] as (number | null)[]);
      j += 2;
    }
  }
  return out as unknown as uPlot.AlignedData;
}

export interface MetricChartHooks {
  onZoom: (chart: MetricChart, xMin: number, xMax: number) => void;
  onResetZoom: (chart: MetricChart) => void;
}

/** One metric key over one or more runs (the first is the selected run, the rest overlays). */
export class MetricChart {
  key = "";
  runs: ChartRun[] = [];
  zoom: { min: number; max: number } | null = null;
  private plot: uPlot | null = null;
  private signature = "";
  private versions = "";
  private legendEl: HTMLElement;
  private noteEl: HTMLElement;
  private lastData: uPlot.AlignedData | null = null;

  constructor(readonly host: HTMLElement, readonly plotEl: HTMLElement, legendEl: HTMLElement, private hooks: MetricChartHooks) {
    this.legendEl = legendEl;
    this.noteEl = document.createElement("div");
    this.noteEl.className = "chart-note";
    host.appendChild(this.noteEl);
    this.legendEl.addEventListener("click", (e) => {
      const chip = (e.target as HTMLElement).closest<HTMLElement>("[data-legend-run]");
      if (!chip) return;
      const run = this.runs.find((r) => r.runId === chip.dataset.legendRun);
      if (run) {
        run.visible = !run.visible;
        this.applyVisibility();
        this.renderLegend(null);
      }
    });
    plotEl.addEventListener("dblclick", () => this.hooks.onResetZoom(this));
  }

  /** Pixel width of the plotting area: the number of points worth asking for. */
  width(): number {
    return Math.max(50, this.plotEl.clientWidth - 60);
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
    this.signature = "";
  }

  /** Forces the next render to rebuild uPlot (theme, log scale or x mode changed). */
  invalidate(): void {
    this.destroy();
  }

  setNote(text: string): void {
    this.noteEl.textContent = text;
  }

  render(bufs: (SeriesBuf | undefined)[], view: ChartView, theme: Theme): void {
    const versions = bufs.map((b) => (b ? b.version + ":" + b.steps.length : "-")).join(",") + `|${view.smoothing}`;
    const signature = `${this.key}|${this.runs.map((r) => r.runId + r.color).join(",")}|${view.logY}|${view.xMode}`;
    const points = bufs.reduce((n, b) => n + (b ? b.steps.length : 0), 0);
    this.host.dataset.points = String(points);
    this.host.dataset.key = this.key;
    this.host.dataset.lastStep = String(bufs.reduce((m, b) => (b && b.steps.length ? Math.max(m, b.steps[b.steps.length - 1]) : m), -1));
    this.host.dataset.zoomed = this.zoom ? "1" : "0";
    if (!this.key) {
      this.setNote("no metric selected");
      this.legendEl.innerHTML = ""; // no stale legend of the run shown before
      this.destroy();
      return;
    }
    this.setNote(points === 0 ? `no points for '${this.key}' yet` : "");
    if (signature === this.signature && versions === this.versions && this.plot) return;
    const data = buildData(bufs, view);
    this.lastData = data;
    if (signature !== this.signature || !this.plot) {
      this.plot?.destroy();
      this.plot = new uPlot(this.options(view, theme), data, this.plotEl);
      this.signature = signature;
      this.applyVisibility();
    } else {
      this.plot.setData(data, this.zoom == null);
    }
    if (this.zoom) this.plot.setScale("x", { min: this.zoom.min, max: this.zoom.max });
    this.versions = versions;
    this.renderLegend(null);
  }

  resize(): void {
    if (!this.plot) return;
    const w = this.plotEl.clientWidth;
    const h = this.plotEl.clientHeight;
    if (w > 0 && h > 0 && (w !== this.plot.width || h !== this.plot.height)) this.plot.setSize({ width: w, height: h });
  }

  private applyVisibility(): void {
    if (!this.plot) return;
    this.runs.forEach((r, i) => {
      this.plot!.setSeries(1 + 2 * i, { show: r.visible }, false);
      this.plot!.setSeries(2 + 2 * i, { show: r.visible }, false);
    });
  }

  private renderLegend(idx: number | null): void {
    const data = this.lastData;
    const parts = this.runs.map((r, i) => {
      const col = data ? (data[2 + 2 * i] as (number | null)[] | undefined) : undefined;
      let v: number | null | undefined = null;
      if (col && col.length) {
        if (idx != null) v = col[idx];
        else for (let k = col.length - 1; k >= 0 && v == null; k--) v = col[k];
      }
      return `<span class="chip${r.visible ? "" : " off"}" data-legend-run="${esc(r.runId)}" title="click to show/hide"><i class="swatch" style="background:${r.color}"></i>${esc(r.name)} <b>${formatValue(v ?? null)}</b></span>`;
    });
    this.legendEl.innerHTML = parts.join("");
  }

  private options(view: ChartView, theme: Theme): uPlot.Options {
    const axis = (): uPlot.Axis => ({
      stroke: theme.muted,
      grid: { stroke: theme.grid, width: 1 },
      ticks: { stroke: theme.grid, width: 1, size: 3 },
      font: "10px monospace",
    });
    const xAxis = axis();
    if (view.xMode === "rel") xAxis.values = (_u, vals) => vals.map((v) => formatDuration(v));
    else if (view.xMode === "step") xAxis.values = (_u, vals) => vals.map((v) => (Math.abs(v) >= 1e4 ? `${+(v / 1000).toFixed(1)}k` : String(v)));
    const yAxis = axis();
    yAxis.size = 52;
    yAxis.values = (_u, vals) => vals.map((v) => formatValue(v));
    const series: uPlot.Series[] = [{}];
    for (const r of this.runs) {
      series.push({ label: r.name + " raw", stroke: withAlpha(r.color, view.smoothing > 0 ? 0.28 : 1), width: 1, spanGaps: true, points: { show: false } });
      series.push({ label: r.name, stroke: r.color, width: 1.5, spanGaps: true, points: { show: false }, show: true });
    }
    if (view.smoothing === 0) for (let i = 2; i < series.length; i += 2) series[i].width = 0;
    return {
      width: Math.max(100, this.plotEl.clientWidth),
      height: Math.max(60, this.plotEl.clientHeight),
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      scales: { x: { time: view.xMode === "time" }, y: { distr: view.logY ? 3 : 1 } },
      axes: [xAxis, yAxis],
      series,
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const lo = u.posToVal(u.select.left, "x");
            const hi = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            this.hooks.onZoom(this, lo, hi);
          },
        ],
        setCursor: [(u) => this.renderLegend(u.cursor.idx ?? null)],
      },
    };
  }
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** A small live chart of percentages (CPU, memory, one GPU) over wall time. */
export class Sparkline {
  private plot: uPlot | null = null;
  constructor(private el: HTMLElement, private labels: string[], private colors: string[]) {}

  render(data: uPlot.AlignedData, theme: Theme): void {
    const w = this.el.clientWidth;
    const h = this.el.clientHeight;
    if (w <= 0 || h <= 0) return;
    if (!this.plot) {
      this.plot = new uPlot(
        {
          width: w,
          height: h,
          legend: { show: false },
          cursor: { show: false },
          scales: { x: { time: true }, y: { range: [0, 100] } },
          axes: [{ show: false }, { show: false }],
          series: [{}, ...this.labels.map((label, i) => ({ label, stroke: this.colors[i], width: 1, points: { show: false } }))],
          padding: [2, 0, 2, 0],
        },
        data,
        this.el,
      );
      void theme;
    } else {
      if (w !== this.plot.width || h !== this.plot.height) this.plot.setSize({ width: w, height: h });
      this.plot.setData(data);
    }
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
  }
}

// LAYERS (the `v` view, in place of the charts): a heatmap of one per-layer statistic over layers x
// steps, and a step scrubber showing that step's per-layer stats with small histograms.
import { ApiError, errText } from "../api";
import type { App } from "../app";
import { cssVar, esc } from "../chart";
import { formatValue } from "../format";
import { cursorFraction, drawHeatmap, nearestIndex, ramp } from "../heatmap";
import { failed, loading, ready } from "../state";
import type { Heatmap, LayerSnapshot } from "../types";
import type { Panel } from "./panel";

const STATS = ["activations", "gradients", "parameters"].flatMap((g) => ["mean", "std", "min", "max"].map((s) => `${g}.${s}`));

export class LayersPanel implements Panel {
  readonly id = "layers";
  private drawn: Heatmap | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stepReq = 0;

  constructor(private app: App) {}

  html(): string {
    return `<section class="panel" id="p-layers" data-panel="layers"><h2>LAYERS <select id="heat-stat">${STATS.map((s) => `<option>${s}</option>`).join("")}</select><span class="spacer"></span><span class="muted">click the heatmap or drag the scrubber to travel in time</span></h2><div class="body"></div></section>`;
  }

  render(app: App): void {
    const s = app.state;
    if (s.mode !== "layers") return;
    const body = app.$("#p-layers .body");
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
    const stat = app.$<HTMLSelectElement>("#heat-stat");
    if (stat.value !== s.heatStat) stat.value = s.heatStat;
    const hm = s.heat.state === "ready" ? s.heat.value : null;
    if (!s.selected) note.textContent = "select a run";
    else if (s.heat.state === "error") note.textContent = s.heat.error;
    else if (!hm) note.textContent = "loading…";
    else if (!hm.steps.length) note.textContent = "no per-layer statistics yet";
    else note.textContent = "";
    canvas.dataset.cells = hm ? String(hm.steps.length * hm.layers.length) : "0";
    if (hm && hm.steps.length) {
      const key = `${hm.stat}|${hm.steps.length}|${hm.steps[hm.steps.length - 1]}|${hm.layers.length}|${s.theme}`;
      if (canvas.dataset.drawn !== key || this.drawn !== hm) {
        drawHeatmap(canvas, hm, ramp(cssVar("--heat-lo"), cssVar("--heat-mid"), cssVar("--heat-hi")), cssVar("--bg-secondary"));
        canvas.dataset.drawn = key;
        this.drawn = hm;
      }
      cursor.hidden = s.layerStep == null;
      if (s.layerStep != null) cursor.style.left = `${(cursorFraction(hm.steps, s.layerStep) * 100).toFixed(3)}%`;
      const h = labels.clientHeight || 1;
      const rowH = h / hm.layers.length;
      const every = Math.max(1, Math.ceil(11 / rowH));
      labels.innerHTML = hm.layers
        .map((l, i) => (i % every === 0 ? `<div style="top:${(i * rowH + rowH / 2 - 6).toFixed(1)}px">${esc(l)}</div>` : ""))
        .join("");
      scrub.max = String(hm.steps.length - 1);
      const idx = s.layerStep == null ? hm.steps.length - 1 : nearestIndex(hm.steps, s.layerStep);
      if (document.activeElement !== scrub) scrub.value = String(idx);
      body.querySelector("#heat-range")!.textContent = `${hm.steps[0]}…${hm.steps[hm.steps.length - 1]} · ${hm.layers.length} layers`;
    } else {
      canvas.width = 1;
      canvas.height = 1;
      canvas.dataset.drawn = "";
      cursor.hidden = true;
      labels.innerHTML = "";
    }
    body.querySelector("#scrub-step")!.textContent = s.layerStep == null ? "--" : String(s.layerSnap?.step ?? s.layerStep);
    const table = body.querySelector<HTMLElement>(".layer-table")!;
    const snap = s.layerSnap;
    if (!snap) {
      table.innerHTML = hm?.steps.length ? `<div class="state">pick a step (drag the scrubber or click the heatmap)</div>` : "";
      return;
    }
    const cell = (st: LayerSnapshot["layers"][number]["gradients"]) =>
      st ? `<td class="num">${formatValue(st.mean)}</td><td class="num">${formatValue(st.std)}</td><td class="num">${formatValue(st.min)}</td><td class="num">${formatValue(st.max)}</td><td>${hist(st.histogram?.counts)}</td>` : `<td colspan="5" class="muted">--</td>`;
    table.innerHTML = `<table data-layer-step="${snap.step}"><thead><tr><th>LAYER @ ${snap.step}</th>
      <th class="num">ACT μ</th><th class="num">σ</th><th class="num">min</th><th class="num">max</th><th>hist</th>
      <th class="num">GRAD μ</th><th class="num">σ</th><th class="num">min</th><th class="num">max</th><th>hist</th>
      <th class="num">PARAM μ</th><th class="num">σ</th><th class="num">min</th><th class="num">max</th><th>hist</th></tr></thead><tbody>${snap.layers
        .map((l) => `<tr><td>${esc(l.name)}</td>${cell(l.activations)}${cell(l.gradients)}${cell(l.parameters)}</tr>`)
        .join("")}</tbody></table>`;
  }

  onClick(app: App, t: HTMLElement, e: MouseEvent): boolean {
    const hm = app.state.heat.state === "ready" ? app.state.heat.value : null;
    if (!t.closest("canvas.heat") || !hm?.steps.length) return false;
    const rect = (t as HTMLCanvasElement).getBoundingClientRect();
    const i = Math.floor(((e.clientX - rect.left) / rect.width) * hm.steps.length);
    void this.loadStep(hm.steps[Math.max(0, Math.min(hm.steps.length - 1, i))]);
    return true;
  }

  onInput(app: App, t: HTMLInputElement): void {
    if (t.id !== "scrub" || app.state.heat.state !== "ready") return;
    const step = app.state.heat.value.steps[Number(t.value)];
    if (step != null) void this.loadStep(step);
  }

  onChange(app: App, t: HTMLInputElement | HTMLSelectElement): void {
    if (t.id !== "heat-stat") return;
    app.state.heatStat = t.value;
    void this.load();
  }

  /** New per-layer statistics: one reload a second at most. */
  loadSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.load();
    }, 1000);
  }

  async load(): Promise<void> {
    const s = this.app.state;
    const id = s.selected;
    if (!id) return;
    const wrap = this.app.$("#p-layers").querySelector<HTMLElement>(".heat-canvas-wrap");
    const maxSteps = Math.max(50, Math.min(2000, wrap?.clientWidth ?? 400));
    try {
      const hm = await this.app.api.heatmap(id, s.heatStat, maxSteps);
      if (id !== s.selected) return;
      s.heat = ready(hm);
      const latest = hm.steps[hm.steps.length - 1];
      if (s.layerStep == null && latest != null) void this.loadStep(latest);
    } catch (e) {
      if (id !== s.selected) return;
      s.heat = failed(e instanceof ApiError && e.status === 404 ? "no per-layer statistics for this run (POST /api/v1/metrics/layerwise)" : errText(e));
    }
    this.app.mark("layers");
  }

  /** A run was selected: nothing of the previous one's layers stays. */
  clear(): void {
    const s = this.app.state;
    s.heat = loading();
    s.layerSnap = null;
    s.layerStep = null;
  }

  async loadStep(step: number): Promise<void> {
    const s = this.app.state;
    const id = s.selected;
    if (!id) return;
    s.layerStep = step;
    const req = ++this.stepReq;
    this.app.mark("layers");
    try {
      const snap = await this.app.api.layerStep(id, step);
      if (req === this.stepReq) s.layerSnap = snap;
    } catch {
      if (req === this.stepReq) s.layerSnap = null;
    }
    this.app.mark("layers");
  }
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
